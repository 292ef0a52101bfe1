"""What the departments API accepts and returns (docs/api.md#endpoints, docs/departments.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from careline.departments.model import MAX_REASON, AnswerStats, Consultation, Department
from careline.entrypoints.api.schemas import MAX_TARGET_SECONDS, Input, Name, Ref, Text


class DepartmentCreate(Input):
    name: Name
    answer_target_seconds: int = Field(gt=0, le=MAX_TARGET_SECONDS)
    members: Annotated[list[Ref], Field(max_length=500)] = []  # agent ids who answer for it


class DepartmentPublic(BaseModel):
    id: str
    name: str
    answer_target_seconds: int
    members: list[str]
    created_at: datetime

    @classmethod
    def of(cls, department: Department) -> DepartmentPublic:
        return cls(
            id=department.id,
            name=department.name,
            answer_target_seconds=department.answer_target_seconds,
            members=sorted(department.members),
            created_at=department.created_at,
        )


class ConsultationCreate(Input):
    department: Ref = Field(description="a department's name or id")
    kind: Literal["consult", "transfer"] = "consult"
    reason: Annotated[Text, Field(max_length=MAX_REASON)]
    question: Text = ""  # the agent's internal note to the department; the command checks its length


class ConsultationAnswer(Input):
    answer: Text  # the command checks its length


class ConsultationPublic(BaseModel):
    id: str
    conversation_id: str
    department_id: str
    kind: str
    state: str
    reason: str
    question: str
    asked_by: str
    owner_id: str
    asked_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer: str | None
    answered_by: str | None
    note_message_id: str | None
    overdue_at: datetime | None
    within_target: bool | None

    @classmethod
    def of(cls, consultation: Consultation) -> ConsultationPublic:
        return cls(
            id=consultation.id,
            conversation_id=consultation.conversation_id,
            department_id=consultation.department_id,
            kind=consultation.kind.value,
            state=consultation.state.value,
            reason=consultation.reason,
            question=consultation.question,
            asked_by=consultation.asked_by,
            owner_id=consultation.owner_id,
            asked_at=consultation.asked_at,
            due_at=consultation.due_at,
            answered_at=consultation.answered_at,
            answer=consultation.answer,
            answered_by=consultation.answered_by,
            note_message_id=consultation.note_message_id,
            overdue_at=consultation.overdue_at,
            within_target=consultation.within_target,
        )


class DepartmentStatsPublic(BaseModel):
    department_id: str
    answer_target_seconds: int
    asked: int
    answered: int
    waiting: int
    overdue: int
    p50_seconds: float | None
    p90_seconds: float | None
    within_target_share: float | None

    @classmethod
    def of(cls, department: Department, stats: AnswerStats) -> DepartmentStatsPublic:
        return cls(
            department_id=department.id,
            answer_target_seconds=department.answer_target_seconds,
            asked=stats.asked,
            answered=stats.answered,
            waiting=stats.waiting,
            overdue=stats.overdue,
            p50_seconds=stats.p50_seconds,
            p90_seconds=stats.p90_seconds,
            within_target_share=stats.within_target_share,
        )
