"""The supervisor's dashboard: queues (depth, oldest waiting, SLA at risk), agents and their load, alerts, and
volume and sentiment by channel over the last hours (docs/web.md#supervisor-dashboard). Kept live: the page
re-reads its fragment when the event stream says something changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.entrypoints.web.pages import render, templates
from careline.entrypoints.web.reads import OPEN
from careline.entrypoints.web.security import Manager, careline_of

router = APIRouter(include_in_schema=False)
HOURS = 12


def snapshot(engine: Engine, now: datetime) -> dict[str, Any]:
    c, q, r, a, o = t.conversations.c, t.queues.c, t.routing_tickets.c, t.agents.c, t.offers.c
    with engine.connect() as db:
        waiting = {
            row.queue_id: row
            for row in db.execute(
                sa.select(
                    c.queue_id,
                    sa.func.count().label("waiting"),
                    sa.func.min(sa.func.coalesce(c.first_inbound_at, c.created_at)).label("oldest"),
                )
                .where(c.assignee_id.is_(None), c.status.in_(OPEN))
                .group_by(c.queue_id)
            )
        }
        working: dict[str, int] = dict(
            db.execute(
                sa.select(c.queue_id, sa.func.count())
                .where(c.assignee_id.is_not(None), c.status.in_(OPEN))
                .group_by(c.queue_id)
            ).all()
        )
        at_risk: dict[str, int] = dict(
            db.execute(
                sa.select(r.queue_id, sa.func.count())
                .where(r.waiting.is_(True), r.sla_state.in_(("warned", "breached")))
                .group_by(r.queue_id)
            ).all()
        )
        queues = []
        for row in db.execute(sa.select(q.id, q.name, q.first_response_target_seconds).order_by(q.rank, q.name)):
            mine = waiting.get(row.id)
            oldest = mine.oldest if mine is not None else None
            queues.append(
                {
                    "id": row.id,
                    "name": row.name,
                    "waiting": mine.waiting if mine is not None else 0,
                    "oldest_minutes": None
                    if oldest is None
                    else max(0, int((now - _aware(oldest)).total_seconds() // 60)),
                    "target_minutes": row.first_response_target_seconds // 60,
                    "at_risk": at_risk.get(row.id, 0),
                    "in_progress": working.get(row.id, 0),
                }
            )
        offers: dict[str, int] = dict(
            db.execute(sa.select(o.agent_id, sa.func.count()).where(o.status == "pending").group_by(o.agent_id)).all()
        )
        agents = [
            {
                "name": row.name,
                "role": row.role,
                "status": row.status,
                "load": {k: v for k, v in (row.load or {}).items() if v},
                "used": row.used_units,
                "units": row.units,
                "offers": offers.get(row.id, 0),
            }
            for row in db.execute(
                sa.select(a.id, a.name, a.role, a.status, a.load, a.used_units, a.units)
                .where(a.role.in_(("agent", "supervisor", "admin")))
                .order_by(a.status.desc(), a.name)
            )
        ]
        al = t.alerts.c
        alerts = [
            dict(row._mapping)
            for row in db.execute(
                sa.select(al.title, al.severity, al.raised_at)
                .where(al.acknowledged_at.is_(None))
                .order_by(al.raised_at.desc())
                .limit(10)
            )
        ]
        volume = _volume(db, now)
    return {"queues": queues, "agents": agents, "alerts": alerts, "volume": volume, "now": now}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _volume(db: sa.Connection, now: datetime) -> list[dict[str, Any]]:
    """Per channel: inbound messages per hour over the last HOURS hours, and how many of them were negative."""
    m, ch = t.messages.c, t.channel_accounts.c
    start = (now - timedelta(hours=HOURS - 1)).replace(minute=0, second=0, microsecond=0)
    rows = db.execute(
        sa.select(ch.kind, m.created_at, m.sentiment_label)
        .join(t.channel_accounts, ch.id == m.channel_account_id)
        .where(m.direction == "inbound", m.created_at >= start)
    )
    series: dict[str, dict[str, list[int]]] = {}
    for kind, created, sentiment in rows:
        slot = int((_aware(created) - start).total_seconds() // 3600)
        if not 0 <= slot < HOURS:
            continue
        bars = series.setdefault(kind, {"all": [0] * HOURS, "negative": [0] * HOURS})
        bars["all"][slot] += 1
        if sentiment == "negative":
            bars["negative"][slot] += 1
    top = max((n for bars in series.values() for n in bars["all"]), default=0) or 1
    return [
        {
            "channel": kind,
            "total": sum(bars["all"]),
            "negative": sum(bars["negative"]),
            "bars": [
                {
                    "hour": (start + timedelta(hours=i)).strftime("%H:00"),
                    "all": n,
                    "negative": bars["negative"][i],
                    "height": round(60 * n / top, 1),
                    "negative_height": round(60 * bars["negative"][i] / top, 1),
                }
                for i, n in enumerate(bars["all"])
            ],
        }
        for kind, bars in sorted(series.items())
    ]


@router.get("/supervisor")
def supervisor(request: Request, agent: Manager) -> HTMLResponse:
    data = snapshot(careline_of(request).engine, datetime.now(UTC))
    return render(request, "supervisor.html", me=agent, **data)


@router.get("/supervisor/fragment")
def supervisor_fragment(request: Request, _agent: Manager) -> JSONResponse:
    data = snapshot(careline_of(request).engine, datetime.now(UTC))
    return JSONResponse({"html": templates.get_template("_dashboard.html").render(**data)})
