"""Calls on real databases: matching the caller (screen pop), the call in the customer's history, idempotency,
click-to-call through the outbox (docs/channels.md#voice--cti)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents.commands import SetRoutingProfile
from careline.contacts.commands import MergeCustomers
from careline.kernel.errors import InvalidInput, NotFound
from careline.voice import queries
from careline.voice.commands import ConfigureVoiceAccount, RecordCallEvent, StartOutboundCall
from careline.voice.handlers import DialRequest
from careline.voice.model import Call
from integration.support import Desk

NUMBER = "+14155550123"


@pytest.fixture
def voice(desk: Desk) -> Desk:
    desk.account("switchboard", kind="voice")
    return desk


def event(desk: Desk, call_id: str, kind: str, **fields: Any) -> Call:
    values: dict[str, Any] = {"account": "switchboard", "call_id": call_id, "event": kind, "caller": NUMBER}
    values.update(fields)
    call: Call = desk.app.handle(RecordCallEvent(**values))
    return call


def pop(desk: Desk, call: Call) -> dict[str, Any]:
    return queries.screen_pop(desk.app.engine, call.id)


def test_an_unknown_number_becomes_a_customer_found_again_on_the_next_call(voice: Desk) -> None:
    first = event(voice, "c1", "ringing", caller="+1 (415) 555-0123", caller_name="Casey Jones")
    second = event(voice, "c2", "ringing", caller="+14155550123")

    assert first.customer_id is not None and second.customer_id == first.customer_id
    [identity] = voice.rows(t.identities, t.identities.c.customer_id == first.customer_id)
    assert (identity.channel, identity.external_id, identity.handle) == ("voice", NUMBER, "Casey Jones")
    created = voice.events(None, "customer.created")
    assert [row.data["external_id"] for row in created] == [NUMBER]
    assert pop(voice, second)["customer"]["display_name"] == "Casey Jones"


def test_the_screen_pop_shows_the_customer_and_their_open_conversations_on_every_channel(voice: Desk) -> None:
    # The customer wrote on X, and (through a connector whose ids are phone numbers) on the API channel.
    voice.account("default", kind="api")
    on_x = voice.conversation_of(voice.ingest(voice.message("my parcel never came", author_id="casey")))
    by_phone = voice.ingest(
        voice.message("still waiting for a refund", channel="api", account="default", author_id=NUMBER)
    )
    api_conversation = voice.conversation_of(by_phone)
    [api_identity] = voice.rows(t.identities, t.identities.c.external_id == NUMBER)
    customer_id = api_identity.customer_id
    x_customer = voice.conversation(on_x).customer_id
    voice.app.handle(
        MergeCustomers(source_customer_id=x_customer, target_customer_id=customer_id, agent_id=_admin(voice))
    )
    resolved = voice.conversation_of(voice.ingest(voice.message("thanks, all good", author_id="casey")))
    with voice.app.engine.begin() as db:
        db.execute(sa.update(t.conversations).where(t.conversations.c.id == resolved).values(status="resolved"))

    call = event(voice, "c1", "ringing", queue="billing")

    screen = pop(voice, call)
    assert screen["call"]["state"] == "ringing" and screen["call"]["number"] == NUMBER
    assert screen["customer"]["id"] == customer_id
    assert {(i["channel"], i["external_id"]) for i in screen["customer"]["identities"]} == {
        ("api", NUMBER),
        ("x", "casey"),
        ("voice", NUMBER),  # the number is now the customer's voice identity too
    }
    conversations = {c["id"]: c for c in screen["open_conversations"]}
    assert set(conversations) == {on_x, api_conversation}  # the resolved one is not open
    assert conversations[on_x]["channel"] == "x"
    assert conversations[on_x]["last_message"] == "my parcel never came"
    assert conversations[api_conversation]["channel"] == "api"
    assert voice.events(None, "customer.created")[-1].data["channel"] != "voice"  # no new customer for the call


def _admin(desk: Desk) -> str:
    return desk.agent("boss", role="admin").id


def test_a_call_merged_away_pops_the_surviving_customer(voice: Desk) -> None:
    call = event(voice, "c1", "ringing")
    written = voice.conversation_of(voice.ingest(voice.message("hello", author_id="casey")))
    survivor = voice.conversation(written).customer_id
    assert call.customer_id is not None
    voice.app.handle(
        MergeCustomers(source_customer_id=call.customer_id, target_customer_id=survivor, agent_id=_admin(voice))
    )

    assert pop(voice, call)["customer"]["id"] == survivor
    assert event(voice, "c2", "ringing").customer_id == survivor


def test_an_answered_call_that_ended_is_in_the_customers_history_and_reports(voice: Desk) -> None:
    voice.agent("ana")
    call = event(voice, "c1", "ringing", queue="general")
    voice.clock.advance(seconds=4)
    event(voice, "c1", "answered", agent_email="ana@acme.example")
    assert pop(voice, call)["call"]["conversation_id"] is None  # not over yet: nothing filed
    voice.clock.advance(seconds=192)
    ended = event(voice, "c1", "ended", recording_url="https://pbx.example/rec/c1.mp3")

    assert ended.conversation_id is not None
    conversation = voice.conversation(ended.conversation_id)
    assert (conversation.customer_id, conversation.status) == (call.customer_id, "resolved")
    [message] = voice.rows(t.messages, t.messages.c.conversation_id == ended.conversation_id)
    assert (message.direction, message.visibility, message.platform_message_id) == ("inbound", "private", "call:c1")
    assert message.text == (
        f"Call from {NUMBER}, answered by ana, 3 min 12 s, recording: https://pbx.example/rec/c1.mp3"
    )
    history = voice.rows(t.conversations, t.conversations.c.customer_id == call.customer_id)
    assert [row.id for row in history] == [ended.conversation_id]
    call_events = [row.type for row in voice.events(None) if row.type.startswith("call.")]
    assert call_events == ["call.ringing", "call.answered", "call.ended"]
    [ended_event] = voice.events(ended.conversation_id, "call.ended")
    assert ended_event.data["duration_seconds"] == 192
    assert voice.event_types(ended.conversation_id) == [
        "call.ended",
        "conversation.created",
        "conversation.triaged",
        "message.received",
        "conversation.resolved",
    ]
    summary = voice.app.reports.summary()
    assert summary["messages"]["by_channel"]["voice"] == {"inbound": 1, "outbound": 0}
    assert summary["conversations"]["resolved"] == 1
    tickets = voice.rows(t.routing_tickets, t.routing_tickets.c.conversation_id == ended.conversation_id)
    assert all(not ticket.waiting for ticket in tickets)  # history, never work to route


def test_repeated_and_late_events_file_the_call_once(voice: Desk) -> None:
    for kind in ("ringing", "ringing", "ended", "ended", "answered", "missed"):
        call = event(voice, "c1", kind)
    assert call.state.value == "missed"
    [row] = voice.rows(t.calls)
    assert (row.state, sorted(row.received)) == ("missed", ["answered", "ended", "missed", "ringing"])
    [conversation] = voice.rows(t.conversations)
    [message] = voice.rows(t.messages)
    assert message.text == f"Missed call from {NUMBER}"
    types = [r.type for r in voice.events(None) if r.type.startswith("call.")]
    assert types == ["call.ringing", "call.missed", "call.event_ignored", "call.event_ignored"]
    assert conversation.id == row.conversation_id


def test_a_withheld_number_is_kept_without_a_customer(voice: Desk) -> None:
    call = event(voice, "c1", "ringing", caller="anonymous")
    event(voice, "c1", "missed")
    screen = pop(voice, call)
    assert screen["customer"] is None and screen["open_conversations"] == []
    assert screen["call"]["state"] == "missed"
    assert voice.rows(t.conversations) == [] and voice.rows(t.customers) == []


def test_bad_events_are_refused(voice: Desk) -> None:
    with pytest.raises(InvalidInput):
        event(voice, "c1", "hung-up")
    with pytest.raises(NotFound):
        event(voice, "c1", "ringing", account="nobody")
    assert voice.rows(t.calls) == []


def test_two_events_of_a_new_call_at_once_make_one_call_and_one_customer(voice: Desk) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(kind: str) -> None:
        barrier.wait()
        try:
            event(voice, "c1", kind)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(kind,)) for kind in ("ringing", "answered")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    [row] = voice.rows(t.calls)
    assert row.state == "answered" and sorted(row.received) == ["answered", "ringing"]
    assert len(voice.rows(t.customers)) == 1


def test_click_to_call_records_a_dialing_call_and_answers_the_dial_request(voice: Desk) -> None:
    agent = voice.agent("ana")
    voice.app.handle(SetRoutingProfile(agent_id=agent.id, attributes=(("extension", "204"),)))
    voice.app.handle(ConfigureVoiceAccount(account="switchboard", agent_id=agent.id, region="US", line="+18005550100"))

    dial: DialRequest = voice.app.handle(
        StartOutboundCall(account="switchboard", number="(415) 555-0123", agent_id=agent.id)
    )

    assert dial.request["number"] == NUMBER and dial.request["call_id"] == dial.call.id
    assert dial.request["agent"] == {"id": agent.id, "email": "ana@acme.example", "name": "ana", "extension": "204"}
    assert voice.rows(t.outbox) == []  # nothing is sent by Careline itself
    assert dial.call.customer_id == voice.rows(t.identities, t.identities.c.external_id == NUMBER)[0].customer_id
    stored = queries.get_call(voice.app.engine, dial.call.id)
    assert (stored["state"], stored["direction"], stored["line"]) == ("dialing", "outbound", "+18005550100")

    # The PBX reports the call under the id it was given; the answered call lands in the history as outbound.
    event(voice, dial.call.id, "answered", caller="+18005550100", called=NUMBER)
    voice.clock.advance(seconds=75)
    done = event(voice, dial.call.id, "ended")
    [message] = voice.rows(t.messages, t.messages.c.conversation_id == done.conversation_id)
    assert (message.direction, message.agent_id, message.text) == (
        "outbound",
        agent.id,
        f"Call to {NUMBER}, by ana, 1 min 15 s",
    )


def test_click_to_call_refuses_what_is_not_a_number(voice: Desk) -> None:
    agent = voice.agent("ana")
    with pytest.raises(InvalidInput):
        voice.app.handle(StartOutboundCall(account="switchboard", number="555-0123", agent_id=agent.id))
