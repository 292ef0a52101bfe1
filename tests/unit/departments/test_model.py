"""The departments domain: who keeps the conversation, what a consultation records, overdue once, answer stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.conversations.model import Conversation, Status
from careline.departments.events import ConsultationAnswered, ConsultationOverdue, ConsultationRequested
from careline.departments.model import (
    MAX_REASON,
    Consultation,
    ConsultationState,
    Department,
    answer_stats,
    quantile,
)
from careline.kernel.errors import Conflict, InvalidInput

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def conversation(assignee: str | None = "agt_owner", status: Status = Status.OPEN) -> Conversation:
    return Conversation(
        id="cnv_1",
        channel_account_id="acc_1",
        customer_id="cus_1",
        thread_key="msg:1",
        queue_id="que_1",
        created_at=T0,
        last_message_at=T0,
        status=status,
        assignee_id=assignee,
    )


def department(target: int = 600) -> Department:
    return Department.create(
        id="dep_1", name=" Billing ", answer_target_seconds=target, members=["agt_x"], at=T0, actor="agent:adm"
    )


def consult(kind: str = "consult", at: datetime = T0, **fields: object) -> Consultation:
    values: dict[str, object] = {
        "id": "cns_1",
        "conversation": conversation(),
        "department": department(),
        "kind": kind,
        "reason": "refund over the agent's limit",
        "question": "may we refund 400 EUR?",
        "asked_by": "agt_owner",
        "at": at,
    }
    values.update(fields)
    return Consultation.request(**values)  # type: ignore[arg-type]


def test_a_department_is_created_with_its_event_and_a_trimmed_name() -> None:
    made = department()
    assert made.name == "Billing" and made.members == frozenset({"agt_x"})
    [event] = made.events
    assert event.name == "department.created" and event.data()["members"] == ["agt_x"]


@pytest.mark.parametrize(("name", "target"), [("", 60), ("x" * 101, 60), ("Legal", 0), ("Legal", True)])
def test_a_department_needs_a_name_and_a_positive_target(name: str, target: int) -> None:
    with pytest.raises(InvalidInput):
        Department.create(id="d", name=name, answer_target_seconds=target, members=[], at=T0, actor="system:t")


@pytest.mark.parametrize("kind", ["consult", "transfer"])
def test_a_consultation_keeps_the_owner_and_is_due_after_the_department_target(kind: str) -> None:
    asked = consult(kind)
    assert asked.owner_id == "agt_owner" and asked.kind.value == kind
    assert asked.due_at == T0 + timedelta(seconds=600)
    assert asked.state is ConsultationState.OPEN
    [event] = asked.pull_events()
    assert isinstance(event, ConsultationRequested) and event.conversation_id == "cnv_1" and event.kind == kind
    assert asked.events == []


def test_a_resolved_or_unassigned_conversation_cannot_be_escalated() -> None:
    with pytest.raises(Conflict, match="resolved"):
        consult(conversation=conversation(status=Status.RESOLVED))
    with pytest.raises(Conflict, match="no assignee"):
        consult(conversation=conversation(assignee=None))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "  "}, "reason is required"),
        ({"reason": "x" * (MAX_REASON + 1)}, "limited to 500"),
        ({"kind": "forward"}, "consult or transfer"),
        ({"question": "q" * 10_001}, "question"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        consult(**fields)


def test_an_answer_is_recorded_once_with_its_time_against_target() -> None:
    asked = consult()
    asked.pull_events()
    asked.record_answer("yes, refund it", by="agt_x", note_message_id="msg_n", at=T0 + timedelta(seconds=300))
    assert asked.state is ConsultationState.ANSWERED and asked.within_target is True
    [event] = asked.pull_events()
    assert isinstance(event, ConsultationAnswered)
    assert event.answer_seconds == 300 and event.within_target and event.note_message_id == "msg_n"
    with pytest.raises(Conflict, match="answered already"):
        asked.record_answer("again", by="agt_x", note_message_id="msg_m", at=T0 + timedelta(seconds=400))


def test_an_empty_answer_is_refused() -> None:
    with pytest.raises(InvalidInput, match="answer is required"):
        consult().record_answer(" ", by="agt_x", note_message_id="msg_n", at=T0)


def test_overdue_is_marked_once_and_only_past_due_and_unanswered() -> None:
    asked = consult()
    asked.pull_events()
    assert not asked.mark_overdue(T0 + timedelta(seconds=599))
    assert asked.mark_overdue(T0 + timedelta(seconds=600))
    assert not asked.mark_overdue(T0 + timedelta(seconds=900))
    assert asked.state is ConsultationState.OVERDUE
    assert [type(e) for e in asked.pull_events()] == [ConsultationOverdue]
    asked.record_answer("late", by="agt_x", note_message_id="msg_n", at=T0 + timedelta(seconds=1000))
    assert asked.state is ConsultationState.ANSWERED and asked.within_target is False

    answered = consult()
    answered.record_answer("on time", by="agt_x", note_message_id="msg_n", at=T0 + timedelta(seconds=10))
    assert not answered.mark_overdue(T0 + timedelta(hours=1))


def test_quantile_interpolates_between_ranks() -> None:
    assert quantile([10, 20, 30, 40], 0.5) == 25
    assert quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == pytest.approx(91)
    assert quantile([42], 0.9) == 42


def test_answer_stats_count_waiting_past_due_against_the_target() -> None:
    answers = [60, 120, 300, 900]  # target 600: three in time, one late
    items = []
    for i, seconds in enumerate(answers):
        asked = consult(id=f"cns_{i}")
        asked.record_answer("ok", by="agt_x", note_message_id=f"msg_{i}", at=T0 + timedelta(seconds=seconds))
        items.append(asked)
    late_waiting = consult(id="cns_late")  # due at T0 + 600: past due at "now"
    fresh = consult(id="cns_fresh", at=T0 + timedelta(seconds=3000))  # within its target at "now"
    stats = answer_stats([*items, late_waiting, fresh], now=T0 + timedelta(seconds=3100))
    assert (stats.asked, stats.answered, stats.waiting, stats.overdue) == (6, 4, 2, 1)
    assert stats.p50_seconds == 210 and stats.p90_seconds == pytest.approx(720)
    assert stats.within_target_share == pytest.approx(3 / 5)


def test_answer_stats_of_nothing_say_nothing() -> None:
    stats = answer_stats([], now=T0)
    assert stats.asked == 0 and stats.p50_seconds is None and stats.within_target_share is None
