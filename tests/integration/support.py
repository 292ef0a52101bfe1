"""Test helpers for the integration suite: a hand-driven clock and a desk that acts only through commands."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Agent, Queue
from careline.bootstrap import Careline
from careline.channels.model import ChannelAccount
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult, InboundMessage

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


class ManualClock:
    """The injected clock, moved by the test: time passes only when the test says so."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Desk:
    """Sets up a contact center through the bus, and reads back what the database holds."""

    def __init__(self, app: Careline, clock: ManualClock) -> None:
        self.app = app
        self.clock = clock
        self.queues: dict[str, Queue] = {}
        self._serial = 0

    def queue(self, name: str, **fields: Any) -> Queue:
        queue: Queue = self.app.handle(admin.CreateQueue(name=name, **fields))
        self.queues[queue.name] = queue
        return queue

    def account(self, name: str = "acme", kind: str = "x") -> ChannelAccount:
        account: ChannelAccount = self.app.handle(admin.CreateChannelAccount(kind=kind, name=name))
        return account

    def agent(self, name: str, *, online: bool = False, **fields: Any) -> Agent:
        agent: Agent = self.app.handle(admin.CreateAgent(name=name, email=f"{name}@acme.example", **fields))
        if online:
            agent = self.app.handle(admin.SetAgentStatus(agent_id=agent.id, status="online"))
        return agent

    def message(self, text: str = "where is my parcel?", **fields: Any) -> InboundMessage:
        self._serial += 1
        values: dict[str, Any] = {
            "channel": "x",
            "account": "acme",
            "platform_message_id": f"p{self._serial}",
            "author_id": "cust-1",
            "text": text,
            "created_at": self.clock(),
        }
        values.update(fields)
        return InboundMessage(**values)

    def ingest(self, *items: InboundMessage, create_accounts: bool = False) -> BatchResult:
        result: BatchResult = self.app.handle(IngestMessages(items=items, create_accounts=create_accounts))
        return result

    def conversation_of(self, result: BatchResult, index: int = 0) -> str:
        conversation_id = result.items[index].conversation_id
        assert conversation_id is not None, result.items[index]
        return conversation_id

    def rows(self, table: sa.Table, *where: Any, order_by: Any = None) -> list[Any]:
        query = sa.select(table).where(*where)
        if order_by is not None:
            query = query.order_by(order_by)
        with self.app.engine.connect() as db:
            return list(db.execute(query))

    def events(self, conversation_id: str | None = None, *types: str) -> list[Any]:
        """Event log rows in log order, for one conversation and/or some types."""
        e = t.events.c
        where = [] if conversation_id is None else [e.conversation_id == conversation_id]
        if types:
            where.append(e.type.in_(types))
        return self.rows(t.events, *where, order_by=e.seq)

    def event_types(self, conversation_id: str) -> list[str]:
        return [row.type for row in self.events(conversation_id)]

    def conversation(self, conversation_id: str) -> Any:
        [row] = self.rows(t.conversations, t.conversations.c.id == conversation_id)
        return row


def a_session_waits_on_a_lock(engine: sa.Engine) -> bool:
    """PostgreSQL: some session of this database is blocked on a lock right now."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    with engine.connect() as db:
        return bool(db.exec_driver_sql(query).scalar())


class PauseAtStatement:
    """Holds the first connection of ``engine`` that is about to run a statement ``matches`` accepts, until
    ``go`` is set: a real interleaving of two transactions, with no change to the code under test."""

    def __init__(self, engine: sa.Engine, matches: Callable[[str], bool], guard: float = 60) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        self._matches = matches
        self._guard = guard
        sa.event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._matches(statement) and not self.reached.is_set():
            self.reached.set()
            if not self.go.wait(timeout=self._guard):
                raise TimeoutError("the test never let the paused transaction go on")
