"""The delivery worker: drains the outbox through the channel adapters (docs/channels.md#delivery).

Rows are claimed with a conditional UPDATE and a lease, so several workers (or a crashed one) never
deliver the same reply twice at once; the adapter gets a stable idempotency key for its retries. Every
claim counts as an attempt, even one whose worker died before recording an outcome, so a reply is tried at
most ``max_attempts`` times. Each row is handled on its own: one that fails in any way is recorded as a
failed attempt and never stops the others in the same pass.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.adapters.db.directory import AccountRepository
from careline.adapters.db.engine import write_transaction
from careline.adapters.db.uow import append_events
from careline.adapters.secret_box import SecretBox
from careline.channels.model import ChannelAccount
from careline.channels.ports import Delivery, DeliveryError, Outbound
from careline.channels.registry import ChannelRegistry
from careline.conversations.events import MessageDelivered, MessageDeliveryFailed
from careline.conversations.model import Message
from careline.kernel.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))


@dataclasses.dataclass(frozen=True)
class Claim:
    """An outbox row this worker holds the lease on; ``attempts`` counts the attempt being made."""

    id: int
    message_id: str
    idempotency_key: str
    attempts: int


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        registry: ChannelRegistry,
        clock: Clock,
        max_attempts: int = 8,
        *,
        secrets: SecretBox | None = None,
    ) -> None:
        self._engine = engine
        self._secrets = secrets  # opens the account's secrets (the generic API channel signs with one)
        self._registry = registry
        self._clock = clock
        self._max_attempts = max_attempts

    def run_once(self, limit: int = 50) -> int:
        """Try every due delivery once; returns how many were attempted."""
        now = self._clock()
        attempted = 0
        for row in self._due(now, limit):
            try:
                if row.attempts >= self._max_attempts:
                    self._give_up(row)
                elif self._attempt(row, now):
                    attempted += 1
            except Exception:  # noqa: BLE001 - e.g. the database refused this row's bookkeeping: its lease expires
                log.exception("outbox row %s could not be processed; it is retried later", row.id)
        return attempted

    def _due(self, now: datetime, limit: int) -> list[Any]:
        o = t.outbox.c
        with self._engine.connect() as db:
            return list(
                db.execute(
                    sa.select(
                        o.id, o.message_id, o.idempotency_key, o.status, o.attempts, o.next_attempt_at, o.last_error
                    )
                    .where(o.kind == "deliver", o.status.in_(["pending", "sending"]), o.next_attempt_at <= now)
                    .order_by(o.id)
                    .limit(limit)
                )
            )

    def _attempt(self, row: Any, now: datetime) -> bool:
        """Claim the row and try it once; False when another worker claimed it first."""
        claim = self._claim(row, now)
        if claim is None:
            return False
        try:
            self._deliver(claim)
        except Exception as error:  # noqa: BLE001 - anything unexpected is a failed attempt, not a stuck row
            log.exception("delivery of %s failed unexpectedly", claim.message_id)
            self._failed(claim, f"delivery error: {error}", retryable=True)
        return True

    def _claim(self, row: Any, now: datetime) -> Claim | None:
        """Take the lease on a row still as it was read (so never past its last attempt); None if taken."""
        o = t.outbox.c
        with write_transaction(self._engine) as db:
            claimed = db.execute(
                sa.update(t.outbox)
                .where(*_as_read(row))
                .values(status="sending", attempts=o.attempts + 1, next_attempt_at=now + LEASE)
            )
            if claimed.rowcount != 1:
                return None
        return Claim(row.id, row.message_id, row.idempotency_key, row.attempts + 1)

    def _give_up(self, row: Any) -> None:
        """A row out of attempts (its last claim's lease expired, or the limit was lowered) ends failed."""
        if row.status == "sending":
            reason = f"no outcome was recorded for attempt {row.attempts} (the worker stopped mid-delivery)"
        else:
            reason = row.last_error or "no attempts left"
        reason = f"gave up after {row.attempts} attempts: {reason}"
        now = self._clock()
        with write_transaction(self._engine) as db:
            given_up = db.execute(
                sa.update(t.outbox)
                .where(*_as_read(row))
                .values(status="failed", last_error=reason)
            )
            if given_up.rowcount != 1:
                return  # another worker got to it first
            self._record_failure(db, row.message_id, reason, row.attempts, give_up=True, now=now)
        log.warning("delivery of %s failed: %s", row.message_id, reason)

    def _deliver(self, claim: Claim) -> None:
        loaded = self._load(claim)
        if loaded is None:
            self._failed(claim, f"message {claim.message_id} no longer exists", retryable=False)
            return
        outbound, account = loaded
        adapter = self._registry.for_kind(account.kind.value)
        try:
            if adapter is None:
                raise DeliveryError(f"no connector is configured for channel {account.kind.value}", retryable=False)
            delivery = adapter.deliver(account, outbound)
        except DeliveryError as error:
            self._failed(claim, str(error), error.retryable)
            return
        except Exception as error:  # noqa: BLE001 - an adapter bug must not kill the worker
            log.exception("adapter %s crashed", account.kind.value)
            self._failed(claim, f"adapter error: {error}", retryable=True)
            return
        self._delivered(claim, outbound.message, account, delivery)

    def _load(self, claim: Claim) -> tuple[Outbound, ChannelAccount] | None:
        """The reply in its context (channels/ports.py#Outbound) and its account; None when the message is gone."""
        with self._engine.connect() as db:
            found = db.execute(sa.select(t.messages).where(t.messages.c.id == claim.message_id)).one_or_none()
            if found is None:
                return None
            message = rows.message_from_row(found)
            account = AccountRepository(db, self._secrets).get(message.channel_account_id)
            outbound = outbound_context(db, message, claim.idempotency_key)
        return outbound, account

    def _delivered(self, claim: Claim, message: Message, account: ChannelAccount, delivery: Delivery) -> None:
        now = self._clock()
        platform_id = delivery.platform_message_id
        with write_transaction(self._engine) as db:
            db.execute(sa.update(t.outbox).where(t.outbox.c.id == claim.id).values(status="done", last_error=None))
            db.execute(sa.update(t.messages).where(t.messages.c.id == message.id).values(delivery_status="delivered"))
            if platform_id and not _store_platform_id(db, message.id, platform_id):
                platform_id = None
            delivered = MessageDelivered(
                occurred_at=now,
                actor=f"system:channel:{account.kind.value}",
                conversation_id=message.conversation_id,
                message_id=message.id,
                platform_message_id=platform_id,
                attempts=claim.attempts,
            )
            append_events(db, [delivered], now)

    def _failed(self, claim: Claim, reason: str, retryable: bool) -> None:
        attempts = claim.attempts
        give_up = not retryable or attempts >= self._max_attempts
        now = self._clock()
        with write_transaction(self._engine) as db:
            db.execute(
                sa.update(t.outbox)
                .where(t.outbox.c.id == claim.id)
                .values(
                    status="failed" if give_up else "pending",
                    last_error=reason,
                    next_attempt_at=now + backoff(attempts),
                )
            )
            self._record_failure(db, claim.message_id, reason, attempts, give_up=give_up, now=now)
        log.warning("delivery of %s failed (attempt %d): %s", claim.message_id, attempts, reason)

    @staticmethod
    def _record_failure(
        db: sa.Connection, message_id: str, reason: str, attempts: int, *, give_up: bool, now: datetime
    ) -> None:
        """The failed attempt in the event log and, when it was the last, on the message; in ``db``'s transaction."""
        conversation_id = db.execute(
            sa.select(t.messages.c.conversation_id).where(t.messages.c.id == message_id)
        ).scalar()
        failed = MessageDeliveryFailed(
            occurred_at=now,
            actor="system:delivery",
            conversation_id=conversation_id,
            message_id=message_id,
            reason=reason,
            attempts=attempts,
            will_retry=not give_up,
        )
        append_events(db, [failed], now)
        if give_up:
            db.execute(sa.update(t.messages).where(t.messages.c.id == message_id).values(delivery_status="failed"))


def outbound_context(db: sa.Connection, message: Message, idempotency_key: str) -> Outbound:
    """What the adapter needs besides the text: the thread so far, whom it answers, where a private one came from."""
    m = t.messages.c
    earlier = list(
        db.execute(
            sa.select(m.platform_message_id, m.direction, m.author_external_id, m.id, m.created_at)
            .where(m.conversation_id == message.conversation_id, m.visibility != "note", m.id != message.id)
            .order_by(m.created_at, m.id)
        )
    )
    inbound = [row for row in earlier if row.direction == "inbound"]
    latest = inbound[-1] if inbound else None
    recipient = latest.author_external_id if latest else None
    origin = None
    if latest is None:  # a conversation the agent opened: taken private from a public thread
        public = db.execute(
            sa.select(t.conversations.c.id).where(t.conversations.c.private_conversation_id == message.conversation_id)
        ).first()
        if public is not None:
            source = db.execute(
                sa.select(m.platform_message_id, m.author_external_id)
                .where(m.conversation_id == public.id, m.direction == "inbound")
                .order_by(m.created_at.desc(), m.id.desc())
                .limit(1)
            ).first()
            if source is not None:
                origin, recipient = source.platform_message_id, source.author_external_id
    first = None
    if inbound:
        first_row = db.execute(sa.select(t.messages).where(m.id == inbound[0].id)).one()
        first = rows.message_from_row(first_row)
    return Outbound(
        message=message,
        idempotency_key=idempotency_key,
        reply_to=latest.platform_message_id if latest else None,
        last_inbound_at=latest.created_at if latest else None,
        recipient=recipient,
        origin=origin,
        thread=tuple(row.platform_message_id for row in earlier if row.platform_message_id),
        first=first,
    )


def _store_platform_id(db: sa.Connection, message_id: str, platform_id: str) -> bool:
    """Record the platform's id for a delivered reply; False (and a warning) when it cannot be stored.

    The id may already belong to another message of the account (a platform that reuses ids, a callback that
    echoes the customer's id): the reply was delivered all the same, so it stays delivered, without the id.
    A savepoint keeps the failed UPDATE from aborting the transaction (PostgreSQL).
    """
    try:
        with db.begin_nested():
            db.execute(
                sa.update(t.messages).where(t.messages.c.id == message_id).values(platform_message_id=platform_id)
            )
    except (sa_exc.IntegrityError, sa_exc.DataError) as error:
        log.warning(
            "reply %s was delivered, but the platform id %r it got back cannot be stored: %s",
            message_id,
            platform_id,
            error.orig,
        )
        return False
    return True


def _as_read(row: Any) -> tuple[Any, ...]:
    """The outbox row is still as this worker read it: nobody claimed or settled it meanwhile."""
    o = t.outbox.c
    return (
        o.id == row.id,
        o.status == row.status,
        o.next_attempt_at == row.next_attempt_at,
        o.attempts == row.attempts,
    )
