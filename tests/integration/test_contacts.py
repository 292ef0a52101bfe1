"""Customers on a real database: one identity per (channel, author), and merging two customers into one.

There is no merge command yet (docs/ARCHITECTURE.md names contacts/handlers.py); the merge path below is the
one the domain and the repository offer today, run inside a real unit of work.
"""

from __future__ import annotations

import pytest

from careline.adapters.db import tables as t
from careline.kernel.errors import Conflict
from integration.support import Desk


def customer_of(desk: Desk, conversation_id: str) -> str:
    customer_id: str = desk.conversation(conversation_id).customer_id
    return customer_id


def test_one_author_on_one_channel_is_one_customer_across_batches_and_accounts(desk: Desk) -> None:
    desk.account("acme-uk")

    first = desk.ingest(desk.message("hi", author_name="Ada L."), desk.message("hello again", thread_key="t2"))
    second = desk.ingest(desk.message("and from the UK account", account="acme-uk"))

    assert (first.customers_created, second.customers_created) == (1, 0)
    [customer] = desk.rows(t.customers)
    assert customer.display_name == "Ada L."
    [identity] = desk.rows(t.identities)
    assert (identity.channel, identity.external_id, identity.customer_id, identity.handle) == (
        "x", "cust-1", customer.id, "Ada L.",
    )
    conversations = {desk.conversation_of(first, 0), desk.conversation_of(first, 1), desk.conversation_of(second)}
    assert len(conversations) == 3
    assert {customer_of(desk, c) for c in conversations} == {customer.id}


def test_the_same_author_id_on_another_channel_is_another_identity(desk: Desk) -> None:
    desk.account("help@acme.example", kind="email")

    result = desk.ingest(
        desk.message("on x"), desk.message("by mail", channel="email", account="help@acme.example")
    )

    assert result.customers_created == 2
    assert sorted((i.channel, i.external_id) for i in desk.rows(t.identities)) == [("email", "cust-1"), ("x", "cust-1")]
    assert customer_of(desk, desk.conversation_of(result, 0)) != customer_of(desk, desk.conversation_of(result, 1))


def test_different_authors_are_different_customers(desk: Desk) -> None:
    result = desk.ingest(desk.message("a", author_id="111"), desk.message("b", author_id="222"))
    assert result.customers_created == 2 and len(desk.rows(t.identities)) == 2


def test_a_merged_customer_brings_identities_conversations_and_messages_and_keeps_them(desk: Desk) -> None:
    desk.account("help@acme.example", kind="email")
    on_x = desk.conversation_of(desk.ingest(desk.message("tweet", author_id="ada_x")))
    by_mail = desk.conversation_of(
        desk.ingest(desk.message("mail", channel="email", account="help@acme.example", author_id="ada@mail.example"))
    )
    source, target = customer_of(desk, by_mail), customer_of(desk, on_x)

    with desk.app.uow() as uow:
        uow.customers.get(source).merge_into(uow.customers.get(target), at=desk.clock(), actor="agent:sup")
        uow.customers.move_everything(source, target)
        uow.commit()

    [merged] = desk.rows(t.customers, t.customers.c.id == source)
    assert merged.merged_into_id == target
    assert {i.customer_id for i in desk.rows(t.identities)} == {target}
    assert customer_of(desk, by_mail) == target
    assert {m.customer_id for m in desk.rows(t.messages)} == {target}
    [event] = desk.events(None, "customer.merged")
    assert event.data == {"source_customer_id": source, "target_customer_id": target}
    assert event.actor == "agent:sup"

    follow_up = desk.ingest(
        desk.message("me again", channel="email", account="help@acme.example", author_id="ada@mail.example")
    )
    assert follow_up.customers_created == 0
    assert customer_of(desk, desk.conversation_of(follow_up)) == target


def test_merging_into_itself_or_into_a_merged_customer_is_a_conflict(desk: Desk) -> None:
    result = desk.ingest(
        desk.message("a", author_id="1"), desk.message("b", author_id="2"), desk.message("c", author_id="3")
    )
    first, second, third = (customer_of(desk, desk.conversation_of(result, i)) for i in range(3))
    with desk.app.uow() as uow:
        uow.customers.get(first).merge_into(uow.customers.get(second), at=desk.clock(), actor="agent:sup")
        uow.customers.move_everything(first, second)
        uow.commit()

    with desk.app.uow() as uow:
        with pytest.raises(Conflict):
            uow.customers.get(third).merge_into(uow.customers.get(third), at=desk.clock(), actor="agent:sup")
        with pytest.raises(Conflict):
            uow.customers.get(third).merge_into(uow.customers.get(first), at=desk.clock(), actor="agent:sup")
    assert [c.merged_into_id for c in desk.rows(t.customers, t.customers.c.id == third)] == [None]
