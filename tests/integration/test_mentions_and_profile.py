"""@mentions in notes and customers' notes and CRM fields, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from careline.adapters.db import tables as t
from careline.contacts.commands import UpdateCustomerProfile
from careline.conversations import commands as cmd
from careline.kernel.errors import InvalidInput
from integration.support import Desk


def test_a_note_mentioning_colleagues_records_who_until_they_open_it(desk: Desk) -> None:
    ana, bo = desk.agent("ana"), desk.agent("bo")
    desk.agent("feed", role="integration")
    conversation_id = desk.conversation_of(desk.ingest(desk.message("my refund?")))
    desk.app.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=ana.id, text="@bo @feed @ana see this"))

    [mention] = desk.rows(t.mentions)
    assert (mention.agent_id, mention.conversation_id, mention.seen_at) == (bo.id, conversation_id, None)
    [event] = desk.events(conversation_id, "note.mentioned")
    assert event.data["agent_ids"] == [bo.id]  # not the author, not an integration account

    desk.app.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=ana.id, text="no one this time"))
    assert len(desk.rows(t.mentions)) == 1 and len(desk.events(conversation_id, "note.mentioned")) == 1


def test_a_customers_notes_and_details_are_kept(desk: Desk) -> None:
    ana = desk.agent("ana")
    conversation_id = desk.conversation_of(desk.ingest(desk.message("hello")))
    [conversation] = desk.rows(t.conversations, t.conversations.c.id == conversation_id)
    desk.app.handle(
        UpdateCustomerProfile(
            customer_id=conversation.customer_id,
            agent_id=ana.id,
            notes="Frequent flyer, prefers DMs.",
            fields=(("plan", "gold"), ("account number", "A-77")),
        )
    )
    [customer] = desk.rows(t.customers, t.customers.c.id == conversation.customer_id)
    assert customer.notes == "Frequent flyer, prefers DMs."
    assert customer.fields == {"plan": "gold", "account number": "A-77"}
    assert [e.data["fields"] for e in desk.events(None, "customer.profile_changed")] == [["account number", "plan"]]
    with pytest.raises(InvalidInput):
        desk.app.handle(
            UpdateCustomerProfile(customer_id=conversation.customer_id, agent_id=ana.id, fields=(("", "x"),))
        )
