"""Departments and consultations: escalation paths to experts outside the contact center (docs/departments.md).

Pure domain. A consultation never moves the customer-facing conversation: its assignee (the owner) keeps it
whatever the kind; the department answers internally, against its own answer target.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from careline.conversations.model import Conversation, Status
from careline.departments import events as ev
from careline.kernel.errors import Conflict, InvalidInput
from careline.kernel.events import Event

MAX_NAME = 100
MAX_TARGET_SECONDS = 10**8  # about three years, as queues' targets
MAX_REASON = 500
MAX_TEXT = 10_000  # a question or an answer, as a note


class ConsultationKind(StrEnum):
    CONSULT = "consult"  # the owner asks and answers the customer themself
    TRANSFER = "transfer"  # the department owns the answer's content; the owner still relays it


class ConsultationState(StrEnum):
    OPEN = "open"  # waiting for the department, within its target
    OVERDUE = "overdue"  # waiting, and past its target (marked once by the sweep)
    ANSWERED = "answered"


@dataclasses.dataclass
class Department:
    id: str
    name: str
    answer_target_seconds: int
    members: frozenset[str]
    created_at: datetime
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls, *, id: str, name: str, answer_target_seconds: int, members: Iterable[str], at: datetime, actor: str
    ) -> Department:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(f"a department needs a name of 1 to {MAX_NAME} characters")
        target = answer_target_seconds
        if isinstance(target, bool) or not isinstance(target, int) or not 0 < target <= MAX_TARGET_SECONDS:
            raise InvalidInput(f"answer_target_seconds must be a whole number from 1 to {MAX_TARGET_SECONDS}")
        department = cls(id, name, target, frozenset(members), at)
        department.events.append(
            ev.DepartmentCreated(
                occurred_at=at,
                actor=actor,
                department_id=id,
                department_name=name,
                answer_target_seconds=target,
                members=tuple(sorted(department.members)),
            )
        )
        return department


def owner_of(conversation: Conversation) -> str:
    """The agent who keeps the conversation while a department helps: it must have one, and still be open."""
    if conversation.status is Status.RESOLVED:
        raise Conflict(f"conversation {conversation.id} is resolved; reopen it before asking a department")
    if conversation.assignee_id is None:
        raise Conflict(
            f"conversation {conversation.id} has no assignee; accept it first, so that it keeps an owner "
            "while the department answers"
        )
    return conversation.assignee_id


def _text(value: str, what: str, limit: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"a consultation's {what} is required")
    if len(value) > limit:
        raise InvalidInput(f"a consultation's {what} is limited to {limit} characters")
    return value


@dataclasses.dataclass
class Consultation:
    id: str
    conversation_id: str
    department_id: str
    kind: ConsultationKind
    reason: str
    question: str
    asked_by: str
    owner_id: str
    asked_at: datetime
    due_at: datetime
    answered_at: datetime | None = None
    answer: str | None = None
    answered_by: str | None = None
    note_message_id: str | None = None
    overdue_at: datetime | None = None
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def request(
        cls,
        *,
        id: str,
        conversation: Conversation,
        department: Department,
        kind: str,
        reason: str,
        question: str,
        asked_by: str,
        at: datetime,
    ) -> Consultation:
        if kind not in tuple(ConsultationKind):
            raise InvalidInput("kind must be consult or transfer")
        owner = owner_of(conversation)
        consultation = cls(
            id=id,
            conversation_id=conversation.id,
            department_id=department.id,
            kind=ConsultationKind(kind),
            reason=_text(reason, "reason", MAX_REASON, required=True),
            question=_text(question, "question", MAX_TEXT, required=False),
            asked_by=asked_by,
            owner_id=owner,
            asked_at=at,
            due_at=at + timedelta(seconds=department.answer_target_seconds),
        )
        consultation.events.append(
            ev.ConsultationRequested(
                occurred_at=at,
                actor=f"agent:{asked_by}",
                conversation_id=conversation.id,
                consultation_id=id,
                department_id=department.id,
                kind=consultation.kind.value,
                reason=consultation.reason,
                asked_by=asked_by,
                owner_id=owner,
                due_at=consultation.due_at,
            )
        )
        return consultation

    @property
    def state(self) -> ConsultationState:
        if self.answered_at is not None:
            return ConsultationState.ANSWERED
        return ConsultationState.OVERDUE if self.overdue_at is not None else ConsultationState.OPEN

    @property
    def within_target(self) -> bool | None:
        """Answered by its due time; None while unanswered."""
        return None if self.answered_at is None else self.answered_at <= self.due_at

    def record_answer(self, text: str, *, by: str, note_message_id: str, at: datetime) -> None:
        """The department's answer; it lands on the conversation as the note ``note_message_id``."""
        if self.answered_at is not None:
            raise Conflict(f"consultation {self.id} was answered already")
        self.answer = _text(text, "answer", MAX_TEXT, required=True)
        self.answered_at, self.answered_by, self.note_message_id = at, by, note_message_id
        self.events.append(
            ev.ConsultationAnswered(
                occurred_at=at,
                actor=f"agent:{by}",
                conversation_id=self.conversation_id,
                consultation_id=self.id,
                department_id=self.department_id,
                kind=self.kind.value,
                answered_by=by,
                note_message_id=note_message_id,
                answer_seconds=(at - self.asked_at).total_seconds(),
                within_target=at <= self.due_at,
            )
        )

    def mark_overdue(self, at: datetime) -> bool:
        """Mark it overdue once, when it is unanswered past its due time; False when there is nothing to mark."""
        if self.answered_at is not None or self.overdue_at is not None or at < self.due_at:
            return False
        self.overdue_at = at
        self.events.append(
            ev.ConsultationOverdue(
                occurred_at=at,
                actor="system:departments",
                conversation_id=self.conversation_id,
                consultation_id=self.id,
                department_id=self.department_id,
                kind=self.kind.value,
                due_at=self.due_at,
            )
        )
        return True

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events


@dataclasses.dataclass(frozen=True)
class AnswerStats:
    """A department's answer times against its own target (docs/departments.md#stats)."""

    asked: int
    answered: int
    waiting: int
    overdue: int  # waiting past the due time now
    p50_seconds: float | None  # of answered consultations
    p90_seconds: float | None
    within_target_share: float | None  # answered in time / (answered + waiting past due); None: nothing decided


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (the usual 'type 7')."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def answer_stats(consultations: Iterable[Consultation], now: datetime) -> AnswerStats:
    """Answer-time percentiles and the share answered within target. A consultation still waiting past its due
    time has missed the target already, so it counts against the share; one waiting within it is undecided."""
    items = list(consultations)
    durations = [(c.answered_at - c.asked_at).total_seconds() for c in items if c.answered_at is not None]
    in_time = sum(1 for c in items if c.within_target)
    waiting = [c for c in items if c.answered_at is None]
    overdue = sum(1 for c in waiting if now >= c.due_at)
    decided = len(durations) + overdue
    return AnswerStats(
        asked=len(items),
        answered=len(durations),
        waiting=len(waiting),
        overdue=overdue,
        p50_seconds=quantile(durations, 0.5) if durations else None,
        p90_seconds=quantile(durations, 0.9) if durations else None,
        within_target_share=in_time / decided if decided else None,
    )
