"""Events of departments and consultations; their names are the event log's contract (docs/departments.md)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class DepartmentCreated(Event):
    name = "department.created"
    department_id: str
    department_name: str
    answer_target_seconds: int
    members: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsultationRequested(Event):
    name = "consultation.requested"
    consultation_id: str
    department_id: str
    kind: str  # consult | transfer
    reason: str
    asked_by: str
    owner_id: str  # the conversation's assignee, who keeps it whatever the kind
    due_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsultationAnswered(Event):
    name = "consultation.answered"
    consultation_id: str
    department_id: str
    kind: str
    answered_by: str
    note_message_id: str
    answer_seconds: float
    within_target: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsultationOverdue(Event):
    name = "consultation.overdue"
    consultation_id: str
    department_id: str
    kind: str
    due_at: datetime
