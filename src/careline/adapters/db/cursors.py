"""SQL store of polled streams' cursors and endpoints' request budgets (channels/polling.py,
docs/channels.md#x-twitter). Each save is its own short transaction: the poller saves a budget before each request
and a cursor after each stored page, and either must survive a crash right after it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.adapters.db.engine import write_transaction
from careline.channels.polling import Budget, Cursor

CURSOR_FIELDS = tuple(f.name for f in dataclasses.fields(Cursor))
BUDGET_FIELDS = tuple(f.name for f in dataclasses.fields(Budget))


class PollStateStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def cursor(self, account_id: str, stream: str) -> Cursor:
        c = t.channel_cursors.c
        row = self._read(t.channel_cursors, c.account_id == account_id, c.stream == stream)
        return Cursor(**{name: row[name] for name in CURSOR_FIELDS}) if row else Cursor()

    def save_cursor(self, account_id: str, stream: str, cursor: Cursor, now: datetime) -> None:
        values = dataclasses.asdict(cursor) | {"updated_at": now}
        self._upsert(t.channel_cursors, {"account_id": account_id, "stream": stream}, values)

    def budget(self, account_id: str, endpoint: str) -> Budget:
        r = t.channel_rate_limits.c
        row = self._read(t.channel_rate_limits, r.account_id == account_id, r.endpoint == endpoint)
        return Budget(**{name: row[name] for name in BUDGET_FIELDS}) if row else Budget()

    def save_budget(self, account_id: str, endpoint: str, budget: Budget, now: datetime) -> None:
        values = dataclasses.asdict(budget) | {"updated_at": now}
        self._upsert(t.channel_rate_limits, {"account_id": account_id, "endpoint": endpoint}, values)

    def _read(self, table: sa.Table, *where: Any) -> Any:
        with self._engine.connect() as db:
            return db.execute(sa.select(table).where(*where)).mappings().first()

    def _upsert(self, table: sa.Table, key: dict[str, str], values: dict[str, Any]) -> None:
        where = [table.c[name] == value for name, value in key.items()]
        with write_transaction(self._engine) as db:
            if db.execute(sa.update(table).where(*where).values(**values)).rowcount == 0:
                db.execute(sa.insert(table).values(**key, **values))
