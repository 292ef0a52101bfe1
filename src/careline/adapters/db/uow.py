"""The unit of work: one transaction; events are written to the log and the outbox before commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from careline.adapters.db import tables as t
from careline.adapters.db.alerts import AlertRepository
from careline.adapters.db.approvals import ApprovalRepository
from careline.adapters.db.attachments import AttachmentRepository
from careline.adapters.db.bulk import insert_rows
from careline.adapters.db.calls import CallRepository
from careline.adapters.db.canned import CannedRepository
from careline.adapters.db.categories import CategoryRepository
from careline.adapters.db.departments import DepartmentRepository
from careline.adapters.db.directory import AccountRepository, AgentRepository, QueueRepository
from careline.adapters.db.engine import WRITE_TRANSACTION
from careline.adapters.db.listening import ListeningRepository
from careline.adapters.db.repositories import ConversationRepository, CustomerRepository, MessageRepository
from careline.adapters.db.routing import RoutingRepository
from careline.adapters.db.writers import WriterQueue, writer_queue
from careline.adapters.secret_box import SecretBox
from careline.contacts.model import Customer
from careline.conversations.model import Conversation
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict
from careline.kernel.events import Event

RETRYABLE = {"40P01", "40001"}  # deadlock_detected, serialization_failure


class SqlUnitOfWork:
    def __init__(
        self, engine: Engine, clock: Clock, *, read_only: bool = False, secrets: SecretBox | None = None
    ) -> None:
        self._engine = engine
        self.clock = clock
        self._secrets = secrets  # seals and opens channel accounts' secrets; None without CARELINE_SECRET_KEY
        self._read_only = read_only  # a plain read: no write lock on SQLite, and commit() refuses
        self._pending: list[Event] = []
        self._outbox: list[dict[str, Any]] = []
        self._writers: WriterQueue | None = None
        self._has_turn = False

    def __enter__(self) -> SqlUnitOfWork:
        # SQLite: this process's writers queue here first, in order (adapters/db/writers.py).
        self._writers = None if self._read_only else writer_queue(self._engine)
        self._has_turn = self._writers.acquire() if self._writers else False
        try:
            self.connection = self._engine.connect()
            if not self._read_only:
                self.connection = self.connection.execution_options(**{WRITE_TRANSACTION: True})
            self._transaction = self.connection.begin()
        except BaseException:
            self._end_turn()
            raise
        self.conversations = ConversationRepository(self.connection)
        self.messages = MessageRepository(self.connection)
        self.customers = CustomerRepository(self.connection)
        self.accounts = AccountRepository(self.connection, self._secrets)
        self.agents = AgentRepository(self.connection)
        self.queues = QueueRepository(self.connection)
        self.listening = ListeningRepository(self.connection)
        self.alerts = AlertRepository(self.connection)
        self.categories = CategoryRepository(self.connection)
        self.routing = RoutingRepository(self.connection)
        self.departments = DepartmentRepository(self.connection)
        self.approvals = ApprovalRepository(self.connection)
        self.canned = CannedRepository(self.connection)
        self.calls = CallRepository(self.connection)
        self.attachments = AttachmentRepository(self.connection, self.clock)
        self._pending = []
        self._outbox = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
            self.connection.close()
        finally:
            self._end_turn()
        if isinstance(exc, sa_exc.IntegrityError) and _unique_violation(exc):
            # A concurrent writer stored the same key first: the caller may retry and see its rows.
            raise Conflict(f"a concurrent write got there first: {exc.orig}") from exc
        if isinstance(exc, sa_exc.OperationalError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE:
            # PostgreSQL gave up on this transaction in a lock cycle or a serialization race: nothing was
            # written, and trying again from fresh state is safe.
            raise Conflict(f"lost a race with a concurrent transaction: {exc.orig}") from exc

    def _end_turn(self) -> None:
        if self._writers is not None and self._has_turn:
            self._has_turn = False
            self._writers.release()

    def record(self, *events: Event) -> None:
        """Events that no aggregate carries (an agent going online, a queue created)."""
        self._pending.extend(events)

    def enqueue_effect(
        self, kind: str, idempotency_key: str, payload: dict[str, Any], message_id: str | None = None
    ) -> None:
        """An effect outside the process (delivery of a reply), done by a worker after commit."""
        self._outbox.append(
            {"kind": kind, "idempotency_key": idempotency_key, "payload": payload, "message_id": message_id}
        )

    def commit(self) -> list[Event]:
        """Flush aggregates, append their events to the log, write the outbox; all or nothing."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.customers.flush()
        self.conversations.flush()
        self.messages.flush()
        committed = self._collect_events()
        now = self.clock()
        append_events(self.connection, committed, now)
        insert_rows(
            self.connection,
            t.outbox,
            [
                {**o, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
                for o in self._outbox
            ],
        )
        self._transaction.commit()
        self._outbox = []
        return committed

    def _collect_events(self) -> list[Event]:
        collected = list(self._pending)
        self._pending = []
        holders: list[Conversation | Customer] = [*self.conversations.seen.values(), *self.customers.seen.values()]
        for holder in holders:
            collected.extend(holder.events)
            holder.events.clear()
        return collected


def _unique_violation(error: sa_exc.IntegrityError) -> bool:
    """A unique key taken (a race worth retrying), as opposed to a broken foreign key or a NULL (a bug)."""
    if getattr(error.orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(error.orig)  # SQLite


def append_events(connection: Connection, events: Sequence[Event], recorded_at: datetime) -> None:
    """Append to the event log, inside the caller's transaction."""
    insert_rows(connection, t.events, [_event_row(e, recorded_at) for e in events])


def _event_row(event: Event, recorded_at: datetime) -> dict[str, Any]:
    return {
        "type": event.name,
        "conversation_id": event.conversation_id,
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "recorded_at": recorded_at,
        "data": event.data(),
    }
