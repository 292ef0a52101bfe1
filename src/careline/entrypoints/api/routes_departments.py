"""Departments: escalation paths to experts, consultations and transfers to them, their answers and answer times
(docs/api.md#endpoints, docs/departments.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from careline.departments import commands as cmd
from careline.departments.model import answer_stats
from careline.entrypoints.api.deps import CarelineDep, CurrentAgent, ManagerAgent
from careline.entrypoints.api.schemas import Ref
from careline.entrypoints.api.schemas_departments import (
    ConsultationAnswer,
    ConsultationCreate,
    ConsultationPublic,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentStatsPublic,
)
from careline.kernel.errors import InvalidInput

router = APIRouter(tags=["departments"])


@router.get("/departments")
def list_departments(careline: CarelineDep, _agent: CurrentAgent) -> list[DepartmentPublic]:
    with careline.uow(read_only=True) as uow:
        return [DepartmentPublic.of(d) for d in uow.departments.all()]


@router.post("/departments", status_code=status.HTTP_201_CREATED)
def create_department(careline: CarelineDep, manager: ManagerAgent, body: DepartmentCreate) -> DepartmentPublic:
    department = careline.handle(
        cmd.CreateDepartment(
            name=body.name,
            answer_target_seconds=body.answer_target_seconds,
            members=tuple(body.members),
            actor_id=manager.id,
        )
    )
    return DepartmentPublic.of(department)


@router.get("/departments/{department_id}/stats")
def department_stats(careline: CarelineDep, _agent: CurrentAgent, department_id: Ref) -> DepartmentStatsPublic:
    """Answer-time p50/p90 and the share answered within the department's own target."""
    with careline.uow(read_only=True) as uow:
        department = uow.departments.get(department_id)
        consultations = uow.departments.consultations(department_id=department.id)
    return DepartmentStatsPublic.of(department, answer_stats(consultations, careline.clock()))


@router.post("/conversations/{conversation_id}/consultations", status_code=status.HTTP_201_CREATED)
def request_consultation(
    careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: ConsultationCreate
) -> ConsultationPublic:
    """Consult or transfer to a department; the conversation keeps its assignee either way."""
    consultation = careline.handle(
        cmd.RequestConsultation(
            conversation_id=conversation_id,
            agent_id=agent.id,
            department=body.department,
            kind=body.kind,
            reason=body.reason,
            question=body.question,
        )
    )
    return ConsultationPublic.of(consultation)


@router.get("/conversations/{conversation_id}/consultations")
def conversation_consultations(
    careline: CarelineDep, _agent: CurrentAgent, conversation_id: Ref
) -> list[ConsultationPublic]:
    with careline.uow(read_only=True) as uow:
        uow.conversations.get(conversation_id)  # 404 for an unknown one
        return [ConsultationPublic.of(c) for c in uow.departments.consultations(conversation_id=conversation_id)]


@router.get("/consultations")
def list_consultations(
    careline: CarelineDep,
    _agent: CurrentAgent,
    department: Annotated[Ref | None, Query(description="a department's name or id")] = None,
    state: Annotated[Ref | None, Query(description="open, overdue or answered")] = None,
) -> list[ConsultationPublic]:
    """Oldest first: what a department has to answer, or has answered."""
    with careline.uow(read_only=True) as uow:
        department_id = None
        if department is not None:
            found = uow.departments.by_name(department) or next(
                (d for d in uow.departments.all() if d.id == department), None
            )
            if found is None:
                raise InvalidInput(f"department: no department named {department!r}")
            department_id = found.id
        items = uow.departments.consultations(department_id=department_id, state=state)
    return [ConsultationPublic.of(c) for c in items]


@router.post("/consultations/{consultation_id}/answer")
def answer_consultation(
    careline: CarelineDep, agent: CurrentAgent, consultation_id: Ref, body: ConsultationAnswer
) -> ConsultationPublic:
    """A member's answer; it lands on the conversation as an internal note, never delivered."""
    consultation = careline.handle(
        cmd.AnswerConsultation(consultation_id=consultation_id, agent_id=agent.id, answer=body.answer)
    )
    return ConsultationPublic.of(consultation)
