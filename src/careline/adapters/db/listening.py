"""SQL repository of listening rules and the posts they matched (docs/listening.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.adapters.db.bulk import insert_rows
from careline.kernel.errors import NotFound
from careline.triage.model import ListeningMatch, ListeningRule


def _rule(row: Any) -> ListeningRule:
    return ListeningRule(
        id=row.id,
        name=row.name,
        query=row.query,
        created_at=row.created_at,
        queue_id=row.queue_id,
        priority_points=row.priority_points,
        tags=tuple(row.tags or ()),
        alert=row.alert,
        active=row.active,
        created_by=row.created_by,
    )


def _row(rule: ListeningRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "query": rule.query,
        "queue_id": rule.queue_id,
        "priority_points": rule.priority_points,
        "tags": list(rule.tags),
        "alert": rule.alert,
        "active": rule.active,
        "created_by": rule.created_by,
        "created_at": rule.created_at,
    }


class ListeningRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def all(self) -> list[ListeningRule]:
        query = sa.select(t.listening_rules).order_by(t.listening_rules.c.name)
        return [_rule(r) for r in self._db.execute(query)]

    def active(self) -> list[ListeningRule]:
        r = t.listening_rules.c
        return [_rule(row) for row in self._db.execute(sa.select(t.listening_rules).where(r.active).order_by(r.name))]

    def get(self, rule_id: str) -> ListeningRule:
        row = self._db.execute(sa.select(t.listening_rules).where(t.listening_rules.c.id == rule_id)).first()
        if row is None:
            raise NotFound(f"listening rule {rule_id} does not exist")
        return _rule(row)

    def by_name(self, name: str) -> ListeningRule | None:
        row = self._db.execute(sa.select(t.listening_rules).where(t.listening_rules.c.name == name)).first()
        return _rule(row) if row else None

    def add(self, rule: ListeningRule) -> None:
        self._db.execute(sa.insert(t.listening_rules).values(**_row(rule)))

    def save(self, rule: ListeningRule) -> None:
        values = _row(rule)
        del values["id"], values["created_at"]
        self._db.execute(sa.update(t.listening_rules).where(t.listening_rules.c.id == rule.id).values(**values))

    def delete(self, rule_id: str) -> None:
        # Matches go with their rule (SQLite enforces no foreign keys here, so say it rather than rely on CASCADE).
        self._db.execute(sa.delete(t.listening_matches).where(t.listening_matches.c.rule_id == rule_id))
        self._db.execute(sa.delete(t.listening_rules).where(t.listening_rules.c.id == rule_id))

    def add_matches(self, matches: Sequence[ListeningMatch]) -> None:
        insert_rows(
            self._db,
            t.listening_matches,
            [
                {
                    "rule_id": m.rule_id,
                    "message_id": m.message_id,
                    "conversation_id": m.conversation_id,
                    "terms": list(m.terms),
                    "matched_at": m.matched_at,
                }
                for m in matches
            ],
        )
