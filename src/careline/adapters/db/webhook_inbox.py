"""The webhook inbox: verified deliveries stored as received, before they are answered, then processed by a
worker (docs/channels.md#delivery). Storage only; entrypoints/api/webhook_inbox.py runs the processing.

A delivery is claimed like an outbox row (a conditional UPDATE that takes a lease), so two processes never
process the same one at once, and a process that dies mid-way leaves it to be claimed again when the lease runs
out. Processing is idempotent on the platforms' ids, so a second run stores nothing twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.adapters.db.engine import write_transaction

LEASE = timedelta(seconds=60)


@dataclasses.dataclass(frozen=True)
class StoredDelivery:
    id: int
    source: str
    account_id: str
    body: bytes
    attempts: int  # counting the attempt being made


def store(engine: Engine, source: str, account_id: str, body: bytes, now: datetime) -> tuple[int, bool]:
    """The delivery stored (committed) as pending; its id, and False when the same bytes were stored before.

    A new row is stored already claimed by the caller (its first attempt, under a lease), so the caller processes
    it at once while no loop can take it; if the caller dies, the lease runs out and a loop takes it then."""
    digest = hashlib.sha256(body).hexdigest()
    row = {
        "source": source,
        "channel_account_id": account_id,
        "digest": digest,
        "body": body,
        "received_at": now,
        "status": "pending",
        "attempts": 1,
        "next_attempt_at": now + LEASE,
    }
    try:
        with write_transaction(engine) as db:
            stored_id = db.execute(sa.insert(t.webhook_inbox).values(row).returning(t.webhook_inbox.c.id)).scalar_one()
        return int(stored_id), True
    except sa_exc.IntegrityError:  # a platform's retry of a delivery already stored: keep the first
        w = t.webhook_inbox.c
        with engine.connect() as db:
            found = db.execute(
                sa.select(w.id).where(w.channel_account_id == account_id, w.digest == digest)
            ).scalar_one()
        return int(found), False


def due(engine: Engine, now: datetime, limit: int) -> list[int]:
    w = t.webhook_inbox.c
    with engine.connect() as db:
        query = sa.select(w.id).where(w.status == "pending", w.next_attempt_at <= now).order_by(w.id).limit(limit)
        return [int(i) for i in db.execute(query).scalars()]


def claim(engine: Engine, delivery_id: int, now: datetime) -> StoredDelivery | None:
    """The delivery with a lease on it, when it is due and nobody holds it; else None."""
    w = t.webhook_inbox.c
    with write_transaction(engine) as db:
        row = db.execute(
            sa.select(w.id, w.source, w.channel_account_id, w.body, w.attempts, w.next_attempt_at).where(
                w.id == delivery_id, w.status == "pending", w.next_attempt_at <= now
            )
        ).first()
        if row is None:
            return None
        taken = db.execute(
            sa.update(t.webhook_inbox)
            .where(w.id == row.id, w.attempts == row.attempts, w.next_attempt_at == row.next_attempt_at)
            .values(attempts=row.attempts + 1, next_attempt_at=now + LEASE)
        )
        if taken.rowcount != 1:
            return None
    return StoredDelivery(row.id, row.source, row.channel_account_id, bytes(row.body), row.attempts + 1)


def done(engine: Engine, delivery_id: int, result: dict[str, Any]) -> None:
    with write_transaction(engine) as db:
        db.execute(
            sa.update(t.webhook_inbox)
            .where(t.webhook_inbox.c.id == delivery_id)
            .values(status="done", result=result, last_error=None)
        )


def failed(engine: Engine, delivery_id: int, reason: str, retry_at: datetime | None) -> None:
    """A failed attempt: tried again at ``retry_at``, or (None) given up, kept for an operator."""
    values: dict[str, Any] = {"last_error": reason[:2000]}
    values.update(status="failed" if retry_at is None else "pending")
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    with write_transaction(engine) as db:
        db.execute(sa.update(t.webhook_inbox).where(t.webhook_inbox.c.id == delivery_id).values(values))


def get(engine: Engine, delivery_id: int) -> dict[str, Any] | None:
    w = t.webhook_inbox.c
    with engine.connect() as db:
        row = db.execute(
            sa.select(w.id, w.source, w.status, w.attempts, w.last_error, w.result, w.received_at).where(
                w.id == delivery_id
            )
        ).first()
    return dict(row._mapping) if row else None
