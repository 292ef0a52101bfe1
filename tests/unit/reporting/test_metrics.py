"""Report math over hand-made event logs: percentiles, first response, service level, resolution, volumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careline.reporting.metrics import LoggedEvent, percentile, summarise

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
TARGETS = {"que_general": 3600, "que_vip": 600}
NAMES = {"que_general": "general", "que_vip": "vip"}
KINDS = {"acc_x": "x", "acc_mail": "email"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Log:
    """Builds a log the way the domain writes it: one helper per event type."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []

    def add(self, type: str, conversation: str | None, minutes: float, **data: Any) -> Log:
        self.events.append(LoggedEvent(type, conversation, at(minutes), data))
        return self

    def created(self, c: str, minutes: float, *, account: str = "acc_x", queue: str = "que_general") -> Log:
        self.add("conversation.created", c, minutes, channel_account_id=account, customer_id="cus", thread_key=c)
        return self.add("conversation.triaged", c, minutes, queue_id=queue, priority=50.0)

    def received(self, c: str, minutes: float, *, account: str = "acc_x") -> Log:
        return self.add("message.received", c, minutes, channel_account_id=account, message_id=f"in-{minutes}")

    def sent(self, c: str, minutes: float, *, first: bool, account: str = "acc_x") -> Log:
        return self.add("message.sent", c, minutes, channel_account_id=account, first_response=first)

    def summary(self) -> dict[str, Any]:
        return summarise(self.events, TARGETS, NAMES, KINDS)


# -- percentile -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 90, 3.7),
        ([1, 2, 3, 4], 0, 1),
        ([1, 2, 3, 4], 100, 4),
        ([10, 20, 30, 40, 50], 50, 30),
        ([15, 20, 35, 40, 50], 40, 29),
        ([7], 90, 7),
    ],
)
def test_percentile_interpolates_between_closest_ranks(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_sorts_its_input_and_is_none_without_values() -> None:
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([], 50) is None


# -- summarise --------------------------------------------------------------------------------------------


def test_an_empty_log_reports_zeros_and_no_rates() -> None:
    report = Log().summary()
    assert report["conversations"] == {
        "total": 0, "resolved": 0, "open_backlog": 0, "resolution_rate": None, "by_queue": {}
    }
    assert report["first_response_minutes"] == {"count": 0, "p50": None, "p90": None, "mean": None}
    assert report["service_level"] == {"answered": 0, "within_target": 0, "rate": None}


def test_first_response_is_first_inbound_to_the_flagged_reply() -> None:
    log = (
        Log()
        .created("c1", 0).received("c1", 0).sent("c1", 10, first=True).sent("c1", 90, first=False)
        .created("c2", 5).received("c2", 5).received("c2", 6).sent("c2", 35, first=True)
        .created("c3", 8).received("c3", 8).sent("c3", 48, first=True)
        .created("c4", 9).received("c4", 9)  # never answered
    )

    frt = log.summary()["first_response_minutes"]

    assert frt == {"count": 3, "p50": 30.0, "p90": 38.0, "mean": pytest.approx(26.67)}


def test_the_earliest_inbound_counts_even_if_logged_later() -> None:
    log = Log().created("c1", 0).received("c1", 20).received("c1", 5).sent("c1", 25, first=True)
    assert log.summary()["first_response_minutes"]["p50"] == 20.0


def test_service_level_uses_the_target_of_the_queue_at_the_time_of_the_response() -> None:
    log = (
        Log()
        # general (60 min): answered in 45 -> within.
        .created("c1", 0).received("c1", 0).sent("c1", 45, first=True)
        # general: answered in 70 -> missed.
        .created("c2", 0).received("c2", 0).sent("c2", 70, first=True)
        # moved to vip (10 min) before the answer in 20 -> missed against vip's target.
        .created("c3", 0).received("c3", 0).add("conversation.transferred", "c3", 2, to_queue_id="que_vip")
        .sent("c3", 20, first=True)
        # answered in general within 30, moved to vip afterwards -> still within (general's target applied).
        .created("c4", 0).received("c4", 0).sent("c4", 30, first=True)
        .add("conversation.transferred", "c4", 40, to_queue_id="que_vip")
        # vip from triage, answered in exactly 10 minutes -> within (the target is inclusive).
        .created("c5", 0, queue="que_vip").received("c5", 0).sent("c5", 10, first=True)
    )

    report = log.summary()

    assert report["service_level"] == {"answered": 5, "within_target": 3, "rate": 0.6}
    assert report["conversations"]["by_queue"] == {"general": 2, "vip": 3}


def test_a_queue_without_a_target_never_counts_as_within() -> None:
    log = Log().created("c1", 0, queue="que_gone").received("c1", 0).sent("c1", 1, first=True)
    report = log.summary()
    assert report["service_level"] == {"answered": 1, "within_target": 0, "rate": 0.0}
    assert report["conversations"]["by_queue"] == {"unknown": 1}


def test_resolution_follows_the_latest_resolve_or_reopen() -> None:
    log = (
        Log()
        .created("c1", 0).add("conversation.resolved", "c1", 10)
        .created("c2", 0).add("conversation.resolved", "c2", 10).add("conversation.reopened", "c2", 20)
        .created("c3", 0).add("conversation.resolved", "c3", 5).add("conversation.reopened", "c3", 6)
        .add("conversation.resolved", "c3", 7)
        .created("c4", 0)
    )

    assert log.summary()["conversations"] == {
        "total": 4, "resolved": 2, "open_backlog": 2, "resolution_rate": 0.5, "by_queue": {"general": 4}
    }


def test_messages_are_counted_by_channel_kind() -> None:
    log = (
        Log()
        .created("c1", 0).received("c1", 0).sent("c1", 3, first=True).received("c1", 4)
        .created("c2", 0, account="acc_mail").received("c2", 0, account="acc_mail")
        .sent("c2", 9, first=True, account="acc_mail").sent("c2", 10, first=False, account="acc_mail")
        .created("c3", 0, account="acc_gone").received("c3", 0, account="acc_gone")
    )

    messages = log.summary()["messages"]

    assert messages == {
        "inbound": 4,
        "outbound": 3,
        "by_channel": {
            "email": {"inbound": 1, "outbound": 2},
            "unknown": {"inbound": 1, "outbound": 0},
            "x": {"inbound": 2, "outbound": 1},
        },
    }


def test_events_without_a_conversation_are_ignored() -> None:
    log = Log().add("agent.status_changed", None, 0, agent_id="agt", status="online", previous_status="offline")
    assert log.summary()["conversations"]["total"] == 0
