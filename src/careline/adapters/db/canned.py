"""SQL storage of canned responses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.canned.model import CannedResponse
from careline.kernel.errors import NotFound


def _canned(row: Any) -> CannedResponse:
    return CannedResponse(row.id, row.title, row.text, row.created_at, row.created_by)


class CannedRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, canned: CannedResponse) -> None:
        self._db.execute(
            sa.insert(t.canned_responses).values(
                id=canned.id,
                title=canned.title,
                text=canned.text,
                created_at=canned.created_at,
                created_by=canned.created_by,
            )
        )

    def save(self, canned: CannedResponse) -> None:
        c = t.canned_responses.c
        self._db.execute(
            sa.update(t.canned_responses).where(c.id == canned.id).values(title=canned.title, text=canned.text)
        )

    def get(self, canned_id: str) -> CannedResponse:
        row = self._db.execute(sa.select(t.canned_responses).where(t.canned_responses.c.id == canned_id)).first()
        if row is None:
            raise NotFound(f"canned response {canned_id} does not exist")
        return _canned(row)

    def by_title(self, title: str) -> CannedResponse | None:
        row = self._db.execute(sa.select(t.canned_responses).where(t.canned_responses.c.title == title)).first()
        return _canned(row) if row else None

    def all(self) -> list[CannedResponse]:
        query = sa.select(t.canned_responses).order_by(t.canned_responses.c.title)
        return [_canned(row) for row in self._db.execute(query)]

    def delete(self, canned_id: str) -> bool:
        return bool(
            self._db.execute(sa.delete(t.canned_responses).where(t.canned_responses.c.id == canned_id)).rowcount
        )
