"""The message bus: one handler per command, subscribers called once per commit, failures contained."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from careline.conversations.events import ConversationReopened, ConversationResolved, MessageSent
from careline.kernel.bus import MessageBus
from careline.kernel.events import Event

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class CloseTickets:
    ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class DoNothing:
    pass


def resolved(conversation_id: str) -> ConversationResolved:
    return ConversationResolved(occurred_at=T0, actor="agent:a", conversation_id=conversation_id)


def close_tickets(command: CloseTickets) -> tuple[int, list[Event]]:
    return len(command.ids), [resolved(i) for i in command.ids]


class Recorder:
    """A subscriber that remembers every call it gets."""

    def __init__(self, returns: list[Event] | None = None) -> None:
        self.calls: list[list[Event]] = []
        self._returns = returns

    def __call__(self, events: Sequence[Event]) -> list[Event] | None:
        self.calls.append(list(events))
        returns, self._returns = self._returns, None
        return returns


@pytest.fixture
def bus() -> MessageBus:
    bus = MessageBus()
    bus.register(CloseTickets, close_tickets)
    return bus


def test_a_command_runs_its_handler_and_returns_its_result(bus: MessageBus) -> None:
    assert bus.handle(CloseTickets(ids=("c1", "c2"))) == 2


def test_a_command_type_gets_exactly_one_handler(bus: MessageBus) -> None:
    with pytest.raises(ValueError, match="CloseTickets already has a handler"):
        bus.register(CloseTickets, close_tickets)


def test_a_command_without_a_handler_is_an_error(bus: MessageBus) -> None:
    with pytest.raises(LookupError, match="no handler for DoNothing"):
        bus.handle(DoNothing())


def test_a_subscriber_gets_one_call_per_commit_with_every_matching_event(bus: MessageBus) -> None:
    recorder = Recorder()
    bus.subscribe(recorder, ConversationResolved)

    bus.handle(CloseTickets(ids=("c1", "c2", "c3")))
    bus.handle(CloseTickets(ids=("c4",)))

    assert [[e.conversation_id for e in call] for call in recorder.calls] == [["c1", "c2", "c3"], ["c4"]]


def test_a_subscriber_gets_only_the_types_it_asked_for() -> None:
    bus = MessageBus()
    sent = MessageSent(
        occurred_at=T0, actor="agent:a", conversation_id="c9", message_id="m", channel_account_id="acc",
        visibility="public", agent_id="a", first_response=True,
    )
    bus.register(DoNothing, lambda _c: (None, [resolved("c1"), sent, resolved("c2")]))
    resolutions, everything, reopenings = Recorder(), Recorder(), Recorder()
    bus.subscribe(resolutions, ConversationResolved)
    bus.subscribe(everything, ConversationResolved, MessageSent)
    bus.subscribe(reopenings, ConversationReopened)

    bus.handle(DoNothing())

    assert resolutions.calls == [[resolved("c1"), resolved("c2")]]
    assert everything.calls == [[resolved("c1"), sent, resolved("c2")]]
    assert reopenings.calls == []


def test_a_commit_without_matching_events_calls_nobody() -> None:
    bus = MessageBus()
    bus.register(DoNothing, lambda _c: (None, []))
    recorder = Recorder()
    bus.subscribe(recorder, ConversationResolved)
    bus.handle(DoNothing())
    assert recorder.calls == []


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    bus: MessageBus, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_events: Sequence[Event]) -> None:
        raise RuntimeError("search index is down")

    before, after = Recorder(), Recorder()
    bus.subscribe(before, ConversationResolved)
    bus.subscribe(broken, ConversationResolved)
    bus.subscribe(after, ConversationResolved)

    with caplog.at_level(logging.ERROR, logger="careline.kernel.bus"):
        assert bus.handle(CloseTickets(ids=("c1",))) == 1

    assert len(before.calls) == 1 and len(after.calls) == 1
    [record] = caplog.records
    assert "failed" in record.getMessage() and record.exc_info is not None
    assert "search index is down" in str(record.exc_info[1])


def test_events_a_subscriber_returns_are_published_in_turn(bus: MessageBus) -> None:
    reopened = ConversationReopened(occurred_at=T0, actor="system:x", conversation_id="c1")
    reacts = Recorder(returns=[reopened])
    follow_up = Recorder()
    bus.subscribe(reacts, ConversationResolved)
    bus.subscribe(follow_up, ConversationReopened)

    bus.handle(CloseTickets(ids=("c1",)))

    assert follow_up.calls == [[reopened]]
    assert len(reacts.calls) == 1


def test_nothing_is_published_when_the_handler_fails() -> None:
    bus = MessageBus()

    def failing(_c: Any) -> tuple[Any, list[Event]]:
        raise ValueError("rolled back")

    bus.register(DoNothing, failing)
    recorder = Recorder()
    bus.subscribe(recorder, ConversationResolved)
    with pytest.raises(ValueError, match="rolled back"):
        bus.handle(DoNothing())
    assert recorder.calls == []
