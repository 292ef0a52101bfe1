"""What reply approvals need from storage (implemented in adapters/db/approvals.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from careline.approvals.model import Approval


class ApprovalRepository(Protocol):
    def add(self, approval: Approval) -> None: ...
    def get(self, approval_id: str) -> Approval: ...
    def find(
        self, *, status: str | None = None, conversation_id: str | None = None, limit: int = 200
    ) -> list[Approval]:
        """Oldest first."""
        ...

    def save_decision(self, approval: Approval) -> bool:
        """Store the decision unless one is stored already (a concurrent approver): False then."""
        ...

    def risky_words(self) -> tuple[str, ...] | None:
        """The deployment's risky words; None when nobody set them yet (the defaults apply)."""
        ...

    def set_risky_words(self, words: tuple[str, ...], at: datetime, by: str | None) -> None: ...
