"""Read side of reporting: streams the event log into the pure report math (docs/reports.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.reporting.metrics import LoggedEvent, summarise

REPORTED = (
    "conversation.created",
    "conversation.triaged",
    "conversation.transferred",
    "conversation.resolved",
    "conversation.reopened",
    "message.received",
    "message.sent",
)


class Reports:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def summary(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """The summary over conversations created in [since, until) (all when both are None)."""
        e = t.events.c
        with self._engine.connect() as db:
            queues = db.execute(sa.select(t.queues.c.id, t.queues.c.name, t.queues.c.first_response_target_seconds))
            queue_names, queue_targets = {}, {}
            for q in queues:
                queue_names[q.id] = q.name
                queue_targets[q.id] = q.first_response_target_seconds
            kinds = {a.id: a.kind for a in db.execute(sa.select(t.channel_accounts.c.id, t.channel_accounts.c.kind))}
            in_window = sa.select(e.conversation_id).where(e.type == "conversation.created")
            if since is not None:
                in_window = in_window.where(e.occurred_at >= since)
            if until is not None:
                in_window = in_window.where(e.occurred_at < until)
            query = sa.select(e.type, e.conversation_id, e.occurred_at, e.data).where(e.type.in_(REPORTED))
            if since is not None or until is not None:
                query = query.where(e.conversation_id.in_(in_window))
            rows = db.execute(query.order_by(e.seq)).yield_per(5000)
            logged = (LoggedEvent(r.type, r.conversation_id, r.occurred_at, r.data) for r in rows)
            report = summarise(logged, queue_targets, queue_names, kinds)
        report["window"] = {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        return report
