"""What departments need from storage (implemented in adapters/db/departments.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from careline.departments.model import Consultation, Department


class DepartmentRepository(Protocol):
    def add(self, department: Department) -> None: ...
    def get(self, department_id: str) -> Department: ...
    def by_name(self, name: str) -> Department | None: ...
    def all(self) -> list[Department]: ...
    def add_consultation(self, consultation: Consultation) -> None: ...
    def consultation(self, consultation_id: str) -> Consultation: ...
    def consultations(
        self, *, conversation_id: str | None = None, department_id: str | None = None, state: str | None = None
    ) -> list[Consultation]:
        """Oldest first; ``state``: open, overdue or answered."""
        ...

    def save_answer(self, consultation: Consultation) -> bool:
        """Store the answer unless one is stored already (a concurrent answer): False then."""
        ...

    def due(self, now: datetime, limit: int) -> list[Consultation]:
        """Unanswered, unmarked and past due, locked for this transaction (others skip them)."""
        ...

    def save_overdue(self, consultation: Consultation) -> bool:
        """Store the overdue mark unless it is marked or answered already: False then."""
        ...
