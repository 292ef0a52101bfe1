"""Live updates for open pages: server-sent events read from the event log (docs/web.md#live-updates).

The stream follows the `events` table (its `seq`), not this process's bus, so a page sees what every API,
worker and router process commits. Each event tells only its type, its conversation and, for offers, whose
offer it is; the page then fetches what it shows through the usual (access-checked) routes. A reconnecting
browser sends `Last-Event-ID` and misses nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from careline.adapters.db import tables as t
from careline.entrypoints.web.security import SignedIn, careline_of

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
BATCH = 200


def _latest(engine: sa.Engine) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.select(sa.func.max(t.events.c.seq))).scalar() or 0)


def _after(engine: sa.Engine, seq: int) -> list[dict[str, Any]]:
    e = t.events.c
    with engine.connect() as db:
        rows = db.execute(
            sa.select(e.seq, e.type, e.conversation_id, e.data).where(e.seq > seq).order_by(e.seq).limit(BATCH)
        )
        found = []
        for row in rows:
            data = row.data or {}
            found.append(
                {
                    "seq": row.seq,
                    "type": row.type,
                    "conversation_id": row.conversation_id,
                    "agent_id": data.get("agent_id") if isinstance(data, dict) else None,
                    "agent_ids": data.get("agent_ids") if isinstance(data, dict) else None,  # @mentions
                    "call_id": data.get("call_id") if isinstance(data, dict) else None,  # the screen pop
                }
            )
        return found


@router.get("/live")
async def live(request: Request, _agent: SignedIn) -> StreamingResponse:
    engine = careline_of(request).engine
    resume = request.headers.get("last-event-id", "")
    start = int(resume) if resume.isdigit() else await asyncio.to_thread(_latest, engine)

    async def stream() -> AsyncIterator[str]:
        seq, quiet_since = start, time.monotonic()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            batch = await asyncio.to_thread(_after, engine, seq)
            for item in batch:
                seq = item.pop("seq")
                yield f"id: {seq}\nevent: change\ndata: {json.dumps(item)}\n\n"
            if batch:
                quiet_since = time.monotonic()
                if len(batch) == BATCH:
                    continue  # more waiting: no pause
            elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"  # a comment keeps proxies from closing an idle stream
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
