"""Read side of triage and alerts: a listening rule's stream of matched posts, and the alert list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.alerts.model import SEVERITIES
from careline.kernel.errors import InvalidInput

MAX_PAGE = 200


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidInput("offset cannot be negative")


def stream(engine: Engine, rule_id: str, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The posts a rule matched, newest first; texts with personal data come masked."""
    _page(limit, offset)
    lm, m = t.listening_matches.c, t.messages.c
    with engine.connect() as db:
        total = db.execute(
            sa.select(sa.func.count()).select_from(t.listening_matches).where(lm.rule_id == rule_id)
        ).scalar_one()
        rows = db.execute(
            sa.select(
                lm.message_id,
                lm.conversation_id,
                sa.func.coalesce(m.masked_text, m.text).label("text"),
                lm.terms,
                m.sentiment_label.label("sentiment"),
                m.created_at,
                lm.matched_at,
            )
            .join(t.messages, m.id == lm.message_id)
            .where(lm.rule_id == rule_id)
            .order_by(m.created_at.desc(), lm.message_id)
            .limit(limit)
            .offset(offset)
        )
        return [dict(r._mapping) for r in rows], total


def list_alerts(
    engine: Engine,
    *,
    kind: str | None = None,
    min_severity: str | None = None,
    unacknowledged: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Alerts, newest first."""
    _page(limit, offset)
    a = t.alerts.c
    conditions: list[sa.ColumnElement[bool]] = []
    if kind is not None:
        conditions.append(a.kind == kind)
    if min_severity is not None:
        if min_severity not in SEVERITIES:
            raise InvalidInput(f"min_severity must be one of {', '.join(SEVERITIES)}")
        conditions.append(a.severity.in_(SEVERITIES[SEVERITIES.index(min_severity) :]))
    if unacknowledged:
        conditions.append(a.acknowledged_at.is_(None))
    with engine.connect() as db:
        total = db.execute(sa.select(sa.func.count()).select_from(t.alerts).where(*conditions)).scalar_one()
        rows = db.execute(
            sa.select(t.alerts).where(*conditions).order_by(a.raised_at.desc(), a.id).limit(limit).offset(offset)
        )
        return [{k: v for k, v in r._mapping.items() if k != "dedup_key"} for r in rows], total


def example_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Per category id, its number of examples by source (example, tag)."""
    e = t.category_examples.c
    with engine.connect() as db:
        rows = db.execute(sa.select(e.category_id, e.source, sa.func.count()).group_by(e.category_id, e.source))
        counts: dict[str, dict[str, int]] = {}
        for category_id, source, n in rows:
            counts.setdefault(category_id, {})[source] = int(n)
        return counts
