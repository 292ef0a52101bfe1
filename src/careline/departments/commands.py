"""What people ask of departments: create one, consult or transfer to one, answer, and the overdue sweep."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateDepartment:
    name: str
    answer_target_seconds: int
    members: tuple[str, ...] = ()  # agent ids who answer for it
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestConsultation:
    conversation_id: str
    agent_id: str
    department: str  # an id or a name
    kind: str  # consult | transfer
    reason: str
    question: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnswerConsultation:
    consultation_id: str
    agent_id: str
    answer: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarkOverdueConsultations:
    """Mark every unanswered consultation past its due time, once each (the API's background loop sends it)."""

    limit: int = 100
