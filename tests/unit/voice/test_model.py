"""The call state machine: events in any order, any number of times (docs/channels.md#voice--cti)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from careline.kernel.errors import InvalidInput
from careline.voice.model import Call, CallDirection, CallEventType, CallReport, CallState, next_state
from careline.voice.numbers import e164

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
R, A, E, M = CallEventType.RINGING, CallEventType.ANSWERED, CallEventType.ENDED, CallEventType.MISSED


def new_call(direction: CallDirection = CallDirection.INBOUND) -> Call:
    return Call("cal_1", "acc_1", "pbx-1", direction, "+14155550123", "+18005550100", T0)


def report(event: CallEventType, seconds: float = 0, **fields: str) -> CallReport:
    return CallReport(event=event, at=T0 + timedelta(seconds=seconds), **fields)  # type: ignore[arg-type]


def run(*events: CallEventType) -> Call:
    """Apply the events in order, each a minute after the previous."""
    call = new_call()
    for minute, event in enumerate(events):
        call.apply(report(event, 60 * minute))
    return call


def names(call: Call) -> list[str]:
    return [e.name for e in call.events]


def test_ringing_answered_ended_is_a_call_with_its_talk_time() -> None:
    call = new_call()
    assert call.apply(report(R, queue="billing"))
    assert call.apply(report(A, 5, agent_id="agt_1", agent_email="ana@acme.example", agent_name="Ana"))
    assert call.apply(report(E, 5 + 192, recording_url="https://pbx.example/rec/1.mp3"))
    assert call.state is CallState.ENDED
    assert call.duration_seconds == 192
    assert (call.queue, call.agent_id, call.recording_url) == ("billing", "agt_1", "https://pbx.example/rec/1.mp3")
    assert names(call) == ["call.ringing", "call.answered", "call.ended"]
    assert call.events[-1].data()["duration_seconds"] == 192
    assert call.summary() == (
        "Call from +14155550123, answered by Ana, 3 min 12 s, recording: https://pbx.example/rec/1.mp3"
    )


def test_ringing_then_missed() -> None:
    call = run(R, M)
    assert call.state is CallState.MISSED
    assert call.duration_seconds is None
    assert names(call) == ["call.ringing", "call.missed"]
    assert call.summary() == "Missed call from +14155550123"


def test_ended_before_anyone_answered_counts_as_missed() -> None:
    call = run(R, E)
    assert call.state is CallState.MISSED
    assert call.events[-1].data()["reported_as"] == "ended"


def test_answered_after_ended_changes_nothing_but_is_recorded() -> None:
    call = run(R, E)  # ended unanswered: missed
    ended_at = call.ended_at
    assert not call.apply(report(A, 600, agent_id="agt_2"))
    assert call.state is CallState.MISSED and call.ended_at == ended_at and call.agent_id is None
    assert names(call) == ["call.ringing", "call.missed", "call.event_ignored"]
    assert call.events[-1].data()["event"] == "answered" and call.events[-1].data()["state"] == "missed"
    assert call.received == ["ringing", "ended", "answered"]


def test_a_late_event_on_an_ended_call_is_recorded_once() -> None:
    call = run(A, E)
    assert not call.apply(report(R, 900))
    assert not call.apply(report(R, 901))
    assert call.state is CallState.ENDED
    assert names(call) == ["call.answered", "call.ended", "call.event_ignored"]


def test_missed_after_answered_is_ignored_and_the_call_waits_for_its_end() -> None:
    call = run(R, A, M)
    assert call.state is CallState.ANSWERED
    call.apply(report(E, 600))
    assert call.state is CallState.ENDED


@pytest.mark.parametrize("event", list(CallEventType))
def test_a_repeated_event_changes_nothing_and_records_nothing(event: CallEventType) -> None:
    call = new_call()
    call.apply(report(event))
    before = (call.state, list(call.received), len(call.events), call.ended_at)
    assert not call.apply(report(event, 30))
    assert (call.state, list(call.received), len(call.events), call.ended_at) == before


def test_the_first_event_may_be_any_of_them() -> None:
    assert run(A).state is CallState.ANSWERED
    assert run(A, E).state is CallState.ENDED
    assert run(E).state is CallState.MISSED
    assert run(M).state is CallState.MISSED


def expected_final(order: tuple[CallEventType, ...]) -> CallState:
    """The rule in words: answered before any end -> ended (once an end comes); else missed."""
    position = {event: index for index, event in enumerate(order)}
    first_end = min(position[E], position[M])
    return CallState.ENDED if position[A] < first_end and position[E] > position[A] else CallState.MISSED


@pytest.mark.parametrize("order", list(itertools.permutations([R, A, E, M])), ids=lambda o: "-".join(o))
def test_every_order_of_the_four_events_ends_in_one_final_state(order: tuple[CallEventType, ...]) -> None:
    call = run(*order, *order)  # and each one twice
    assert call.state is expected_final(order)
    assert sorted(call.received) == sorted(e.value for e in order)
    finals = [n for n in names(call) if n in ("call.ended", "call.missed")]
    assert len(finals) == 1  # the history is filed once, whatever the order
    assert len(call.events) == 4  # each event type recorded once: applied or ignored


@pytest.mark.parametrize("order", list(itertools.permutations([R, A, E])), ids=lambda o: "-".join(o))
def test_orders_without_missed(order: tuple[CallEventType, ...]) -> None:
    call = run(*order)
    answered_first = order.index(A) < order.index(E)
    assert call.state is (CallState.ENDED if answered_first else CallState.MISSED)


def test_the_transition_table() -> None:
    assert next_state(None, R) is CallState.RINGING
    assert next_state(CallState.DIALING, R) is CallState.RINGING
    assert next_state(CallState.ANSWERED, R) is None
    assert next_state(CallState.DIALING, E) is CallState.MISSED
    for final in (CallState.ENDED, CallState.MISSED):
        assert all(next_state(final, event) is None for event in CallEventType)


def test_an_end_reported_before_the_answer_time_never_gives_a_negative_duration() -> None:
    call = new_call()
    call.apply(report(A, 60))
    call.apply(report(E, 30))
    assert call.duration_seconds == 0


def test_click_to_call_dials_then_follows_the_pbx() -> None:
    call = new_call(CallDirection.OUTBOUND)
    call.agent_name = "Ana"
    call.dial(agent_id="agt_1", at=T0)
    assert call.state is CallState.DIALING and names(call) == ["call.dial_requested"]
    call.apply(report(R, 1))
    call.apply(report(A, 5))
    call.apply(report(E, 65))
    assert call.state is CallState.ENDED
    assert call.summary() == "Call to +14155550123, by Ana, 1 min 0 s"
    with pytest.raises(InvalidInput):
        call.dial(agent_id="agt_1", at=T0)


def test_unanswered_outbound_call() -> None:
    call = new_call(CallDirection.OUTBOUND)
    call.dial(agent_id="agt_1", at=T0)
    call.apply(report(E, 40))
    assert call.state is CallState.MISSED
    assert call.summary() == "Unanswered call to +14155550123"


def test_filing_names_the_conversation_in_the_pending_events() -> None:
    call = run(R, A, E)
    call.file_as("cnv_1")
    assert {e.conversation_id for e in call.events} == {"cnv_1"}


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-0123", None, "+14155550123"),
        ("(415) 555-0123", None, None),  # no country code and no region: not understood
        ("(415) 555-0123", "us", "+14155550123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("anonymous", "US", None),
        ("", None, None),
        (None, None, None),
        ("+1", None, None),
    ],
)
def test_numbers_are_read_into_e164(raw: str | None, region: str | None, expected: str | None) -> None:
    assert e164(raw, region) == expected


def test_the_hand_over_of_a_dial_request_is_recorded_and_leaves_the_call_dialing() -> None:
    taken, refused = new_call(CallDirection.OUTBOUND), new_call(CallDirection.OUTBOUND)
    for call in (taken, refused):
        call.dial(agent_id="agt_1", at=T0)
    taken.dial_handed_over(at=T0)
    refused.dial_failed("the telephony system answered 503", at=T0)
    assert names(taken) == ["call.dial_requested", "call.dial_handed_over"]
    assert names(refused) == ["call.dial_requested", "call.dial_failed"]
    assert refused.events[-1].data()["reason"] == "the telephony system answered 503"
    assert taken.state is refused.state is CallState.DIALING
