"""The delivery worker: drains the outbox through the channel adapters (docs/ARCHITECTURE.md#outbound).

Rows are claimed with a conditional UPDATE and a lease, so several workers (or a crashed one) never
deliver the same reply twice at once; the adapter gets a stable idempotency key for its retries.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.adapters.db.uow import append_events
from careline.channels.ports import DeliveryError
from careline.channels.registry import ChannelRegistry
from careline.conversations.events import MessageDelivered, MessageDeliveryFailed
from careline.kernel.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))


class DeliveryWorker:
    def __init__(self, engine: Engine, registry: ChannelRegistry, clock: Clock, max_attempts: int = 8) -> None:
        self._engine = engine
        self._registry = registry
        self._clock = clock
        self._max_attempts = max_attempts

    def run_once(self, limit: int = 50) -> int:
        """Try every due delivery once; returns how many were attempted."""
        now = self._clock()
        o = t.outbox.c
        with self._engine.connect() as db:
            due = db.execute(
                sa.select(o.id, o.status, o.next_attempt_at)
                .where(o.kind == "deliver", o.status.in_(["pending", "sending"]), o.next_attempt_at <= now)
                .order_by(o.id)
                .limit(limit)
            ).all()
        attempted = 0
        for row in due:
            if self._claim(row, now):
                attempted += 1
                self._deliver(row.id)
        return attempted

    def _claim(self, row: Any, now: Any) -> bool:
        o = t.outbox.c
        with self._engine.begin() as db:
            claimed = db.execute(
                sa.update(t.outbox)
                .where(o.id == row.id, o.status == row.status, o.next_attempt_at == row.next_attempt_at)
                .values(status="sending", attempts=o.attempts + 1, next_attempt_at=now + LEASE)
            )
            return claimed.rowcount == 1

    def _deliver(self, outbox_id: int) -> None:
        with self._engine.connect() as db:
            entry = db.execute(sa.select(t.outbox).where(t.outbox.c.id == outbox_id)).one()
            message = rows.message_from_row(
                db.execute(sa.select(t.messages).where(t.messages.c.id == entry.message_id)).one()
            )
            account = rows.account_from_row(
                db.execute(sa.select(t.channel_accounts).where(t.channel_accounts.c.id == message.channel_account_id))
                .one()
            )
            m = t.messages.c
            reply_to = db.execute(
                sa.select(m.platform_message_id)
                .where(m.conversation_id == message.conversation_id, m.direction == "inbound")
                .order_by(m.created_at.desc())
                .limit(1)
            ).scalar()
        adapter = self._registry.for_kind(account.kind.value)
        try:
            if adapter is None:
                raise DeliveryError(f"no connector is configured for channel {account.kind.value}", retryable=False)
            delivery = adapter.deliver(account, message, reply_to, entry.idempotency_key)
        except DeliveryError as error:
            self._failed(entry, str(error), error.retryable)
            return
        except Exception as error:  # noqa: BLE001 - an adapter bug must not kill the worker
            log.exception("adapter %s crashed", account.kind.value)
            self._failed(entry, f"adapter error: {error}", retryable=True)
            return
        now = self._clock()
        with self._engine.begin() as db:
            db.execute(sa.update(t.outbox).where(t.outbox.c.id == entry.id).values(status="done", last_error=None))
            values: dict[str, Any] = {"delivery_status": "delivered"}
            if delivery.platform_message_id:
                values["platform_message_id"] = delivery.platform_message_id
            db.execute(sa.update(t.messages).where(m.id == message.id).values(**values))
            delivered = MessageDelivered(
                occurred_at=now, actor=f"system:channel:{account.kind.value}", conversation_id=message.conversation_id,
                message_id=message.id, platform_message_id=delivery.platform_message_id, attempts=entry.attempts,
            )
            append_events(db, [delivered], now)

    def _failed(self, entry: Any, reason: str, retryable: bool) -> None:
        attempts = entry.attempts
        give_up = not retryable or attempts >= self._max_attempts
        now = self._clock()
        with self._engine.begin() as db:
            conversation_id = db.execute(
                sa.select(t.messages.c.conversation_id).where(t.messages.c.id == entry.message_id)
            ).scalar()
            failed = MessageDeliveryFailed(
                occurred_at=now, actor="system:delivery", conversation_id=conversation_id,
                message_id=entry.message_id, reason=reason, attempts=attempts, will_retry=not give_up,
            )
            append_events(db, [failed], now)
            db.execute(
                sa.update(t.outbox)
                .where(t.outbox.c.id == entry.id)
                .values(
                    status="failed" if give_up else "pending",
                    last_error=reason,
                    next_attempt_at=now + backoff(attempts),
                )
            )
            if give_up:
                db.execute(
                    sa.update(t.messages).where(t.messages.c.id == entry.message_id).values(delivery_status="failed")
                )
        log.warning("delivery of %s failed (attempt %d): %s", entry.message_id, attempts, reason)
