"""The report summary over the event log after a scripted day at the desk, on a real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from careline.agents.model import Agent
from careline.conversations import commands as cmd
from integration.support import START, Desk


@pytest.fixture
def scripted(desk: Desk) -> Desk:
    """Four conversations with known first responses (10, 15 and 90 minutes; one never answered).

    c1 general, answered in 10 min (target 60) -> within; resolved.
    c2 billing (target 10), moved to general at 12 min, answered in 15 -> within general's target; resolved.
    c3 general, answered in 90 -> missed; moved to billing afterwards; resolved, then the customer writes again.
    c4 general, by email, never answered.
    """
    desk.queue("billing", keywords=("refund",), first_response_target_seconds=600, rank=10)
    desk.account("help@acme.example", kind="email")
    bo: Agent = desk.agent("bo")
    queues = {name: queue.id for name, queue in desk.queues.items()}

    def at(minutes: float) -> None:
        desk.clock.now = START + timedelta(minutes=minutes)

    def say(text: str, **fields: Any) -> str:
        return desk.conversation_of(desk.ingest(desk.message(text, **fields)))

    def reply(conversation_id: str, text: str = "On it!") -> None:
        desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text=text))

    at(0)
    c1 = say("my parcel is late", author_id="cust-1")
    at(2)
    c2 = say("I want a refund", author_id="cust-2")
    at(5)
    c3 = say("the app crashes at login", author_id="cust-3")
    at(6)
    say("invoice question", author_id="cust-4@mail.example", channel="email", account="help@acme.example")
    at(10)
    reply(c1)
    at(12)
    desk.app.handle(cmd.TransferConversation(conversation_id=c2, agent_id=bo.id, queue_id=queues["general"]))
    at(17)
    reply(c2)
    at(30)
    reply(c1, "Anything else?")
    at(40)
    desk.app.handle(cmd.ResolveConversation(conversation_id=c1, agent_id=bo.id))
    desk.app.handle(cmd.ResolveConversation(conversation_id=c2, agent_id=bo.id))
    at(95)
    reply(c3)
    at(96)
    desk.app.handle(cmd.TransferConversation(conversation_id=c3, agent_id=bo.id, queue_id=queues["billing"]))
    at(100)
    desk.app.handle(cmd.ResolveConversation(conversation_id=c3, agent_id=bo.id))
    at(110)
    say("it crashes again", author_id="cust-3", reply_to="p3")
    return desk


def test_the_summary_of_a_scripted_day(scripted: Desk) -> None:
    report = scripted.app.reports.summary()

    assert report["first_response_minutes"] == {"count": 3, "p50": 15.0, "p90": 75.0, "mean": 38.33}
    assert report["service_level"] == {"answered": 3, "within_target": 2, "rate": 0.6667}
    assert report["conversations"] == {
        "total": 4,
        "resolved": 2,
        "open_backlog": 2,
        "resolution_rate": 0.5,
        "by_queue": {"billing": 1, "general": 3},
    }
    assert report["messages"] == {
        "inbound": 5,
        "outbound": 4,
        "by_channel": {"email": {"inbound": 1, "outbound": 0}, "x": {"inbound": 4, "outbound": 4}},
    }
    assert report["window"] == {"since": None, "until": None}


def test_a_window_counts_the_conversations_created_in_it(scripted: Desk) -> None:
    since, until = START + timedelta(minutes=3), START + timedelta(minutes=6)

    report = scripted.app.reports.summary(since=since, until=until)

    assert report["conversations"]["total"] == 1  # c3 only: c4 was created at the window's (open) end
    assert report["first_response_minutes"]["p50"] == 90.0
    assert report["service_level"] == {"answered": 1, "within_target": 0, "rate": 0.0}
    assert report["window"] == {"since": since.isoformat(), "until": until.isoformat()}


def test_an_empty_desk_reports_nothing_yet(desk: Desk) -> None:
    report = desk.app.reports.summary()
    assert report["conversations"]["total"] == 0
    assert report["first_response_minutes"]["p50"] is None
    assert report["service_level"]["rate"] is None
