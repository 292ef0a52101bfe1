"""SQL repository of departments, their members and consultations (docs/departments.md).

An answer and an overdue mark are conditional updates (``WHERE answered_at IS NULL``): two writers racing on one
consultation store one answer, and the sweep marks each consultation once, whatever number of processes run it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.departments.model import Consultation, ConsultationKind, ConsultationState, Department
from careline.kernel.errors import InvalidInput, NotFound

c = t.consultations.c


class DepartmentRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    # -- departments -----------------------------------------------------------------------------------------
    def add(self, department: Department) -> None:
        self._db.execute(
            sa.insert(t.departments).values(
                id=department.id,
                name=department.name,
                answer_target_seconds=department.answer_target_seconds,
                created_at=department.created_at,
            )
        )
        if department.members:
            self._db.execute(
                sa.insert(t.department_members),
                [{"department_id": department.id, "agent_id": agent_id} for agent_id in sorted(department.members)],
            )

    def get(self, department_id: str) -> Department:
        found = self._load(t.departments.c.id == department_id)
        if not found:
            raise NotFound(f"department {department_id} does not exist")
        return found[0]

    def by_name(self, name: str) -> Department | None:
        found = self._load(t.departments.c.name == name)
        return found[0] if found else None

    def all(self) -> list[Department]:
        return self._load(sa.true())

    def _load(self, where: Any) -> list[Department]:
        d = t.departments.c
        found = list(self._db.execute(sa.select(t.departments).where(where).order_by(d.name)))
        members: dict[str, set[str]] = {row.id: set() for row in found}
        if found:
            m = t.department_members.c
            query = sa.select(m.department_id, m.agent_id).where(m.department_id.in_(members))
            for row in self._db.execute(query):
                members[row.department_id].add(row.agent_id)
        return [
            Department(row.id, row.name, row.answer_target_seconds, frozenset(members[row.id]), row.created_at)
            for row in found
        ]

    # -- consultations ---------------------------------------------------------------------------------------
    def add_consultation(self, consultation: Consultation) -> None:
        self._db.execute(sa.insert(t.consultations).values(**_to_row(consultation)))

    def consultation(self, consultation_id: str) -> Consultation:
        row = self._db.execute(sa.select(t.consultations).where(c.id == consultation_id)).first()
        if row is None:
            raise NotFound(f"consultation {consultation_id} does not exist")
        return _from_row(row)

    def consultations(
        self, *, conversation_id: str | None = None, department_id: str | None = None, state: str | None = None
    ) -> list[Consultation]:
        where: list[Any] = []
        if conversation_id is not None:
            where.append(c.conversation_id == conversation_id)
        if department_id is not None:
            where.append(c.department_id == department_id)
        if state == ConsultationState.OPEN:
            where += [c.answered_at.is_(None), c.overdue_at.is_(None)]
        elif state == ConsultationState.OVERDUE:
            where += [c.answered_at.is_(None), c.overdue_at.is_not(None)]
        elif state == ConsultationState.ANSWERED:
            where.append(c.answered_at.is_not(None))
        elif state is not None:
            raise InvalidInput("state must be open, overdue or answered")
        query = sa.select(t.consultations).where(*where).order_by(c.asked_at, c.id)
        return [_from_row(row) for row in self._db.execute(query)]

    def save_answer(self, consultation: Consultation) -> bool:
        statement = (
            sa.update(t.consultations)
            .where(c.id == consultation.id, c.answered_at.is_(None))
            .values(
                answered_at=consultation.answered_at,
                answer=consultation.answer,
                answered_by=consultation.answered_by,
                note_message_id=consultation.note_message_id,
            )
            .returning(c.id)
        )
        return self._db.execute(statement).first() is not None

    def due(self, now: datetime, limit: int) -> list[Consultation]:
        query = (
            sa.select(t.consultations)
            .where(c.answered_at.is_(None), c.overdue_at.is_(None), c.due_at <= now)
            .order_by(c.due_at, c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL: a concurrent sweep takes the others
        )
        return [_from_row(row) for row in self._db.execute(query)]

    def save_overdue(self, consultation: Consultation) -> bool:
        statement = (
            sa.update(t.consultations)
            .where(c.id == consultation.id, c.answered_at.is_(None), c.overdue_at.is_(None))
            .values(overdue_at=consultation.overdue_at)
            .returning(c.id)
        )
        return self._db.execute(statement).first() is not None


def _to_row(consultation: Consultation) -> dict[str, Any]:
    return {
        "id": consultation.id,
        "conversation_id": consultation.conversation_id,
        "department_id": consultation.department_id,
        "kind": consultation.kind.value,
        "reason": consultation.reason,
        "question": consultation.question,
        "asked_by": consultation.asked_by,
        "owner_id": consultation.owner_id,
        "asked_at": consultation.asked_at,
        "due_at": consultation.due_at,
        "answered_at": consultation.answered_at,
        "answer": consultation.answer,
        "answered_by": consultation.answered_by,
        "note_message_id": consultation.note_message_id,
        "overdue_at": consultation.overdue_at,
    }


def _from_row(row: Any) -> Consultation:
    return Consultation(
        id=row.id,
        conversation_id=row.conversation_id,
        department_id=row.department_id,
        kind=ConsultationKind(row.kind),
        reason=row.reason,
        question=row.question,
        asked_by=row.asked_by,
        owner_id=row.owner_id,
        asked_at=row.asked_at,
        due_at=row.due_at,
        answered_at=row.answered_at,
        answer=row.answer,
        answered_by=row.answered_by,
        note_message_id=row.note_message_id,
        overdue_at=row.overdue_at,
    )
