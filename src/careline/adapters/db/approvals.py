"""SQL repository of reply approvals and the deployment's risky words (docs/approvals.md).

A decision is a conditional update (``WHERE status = 'pending'``): two approvers racing on one reply store one
decision, and the other's transaction is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.approvals.model import Approval, ApprovalStatus
from careline.kernel.errors import NotFound

a = t.reply_approvals.c
SETTINGS_ID = "default"  # one list of risky words per deployment


class ApprovalRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, approval: Approval) -> None:
        self._db.execute(
            sa.insert(t.reply_approvals).values(
                id=approval.id,
                conversation_id=approval.conversation_id,
                message_id=approval.message_id,
                requested_by=approval.requested_by,
                requested_at=approval.requested_at,
                original_text=approval.original_text,
                reasons=list(approval.reasons),
                risky_words=list(approval.risky_words),
                status=approval.status.value,
            )
        )

    def get(self, approval_id: str) -> Approval:
        row = self._db.execute(sa.select(t.reply_approvals).where(a.id == approval_id)).first()
        if row is None:
            raise NotFound(f"approval {approval_id} does not exist")
        return _from_row(row)

    def find(
        self, *, status: str | None = None, conversation_id: str | None = None, limit: int = 200
    ) -> list[Approval]:
        query = sa.select(t.reply_approvals).order_by(a.requested_at, a.id).limit(limit)
        if status is not None:
            query = query.where(a.status == status)
        if conversation_id is not None:
            query = query.where(a.conversation_id == conversation_id)
        return [_from_row(row) for row in self._db.execute(query)]

    def save_decision(self, approval: Approval) -> bool:
        result = self._db.execute(
            sa.update(t.reply_approvals)
            .where(a.id == approval.id, a.status == ApprovalStatus.PENDING.value)
            .values(
                status=approval.status.value,
                decided_by=approval.decided_by,
                decided_at=approval.decided_at,
                final_text=approval.final_text,
                rejection_reason=approval.rejection_reason,
            )
        )
        return result.rowcount == 1

    def risky_words(self) -> tuple[str, ...] | None:
        s = t.approval_settings.c
        words = self._db.execute(sa.select(s.risky_words).where(s.id == SETTINGS_ID)).scalar()
        return None if words is None else tuple(words)

    def set_risky_words(self, words: tuple[str, ...], at: datetime, by: str | None) -> None:
        s = t.approval_settings.c
        values = {"risky_words": list(words), "updated_at": at, "updated_by": by}
        changed = self._db.execute(sa.update(t.approval_settings).where(s.id == SETTINGS_ID).values(**values))
        if changed.rowcount == 0:  # the first time: two racing firsts end in a unique-key Conflict, retried
            self._db.execute(sa.insert(t.approval_settings).values(id=SETTINGS_ID, **values))


def _from_row(row: Any) -> Approval:
    return Approval(
        id=row.id,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        original_text=row.original_text,
        reasons=tuple(row.reasons or ()),
        risky_words=tuple(row.risky_words or ()),
        status=ApprovalStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        final_text=row.final_text,
        rejection_reason=row.rejection_reason,
    )
