"""Who has which conversation open right now, for collision detection (docs/web.md#collision-detection).

Presence is kept in the database, not in a process, so that every server process behind a load balancer sees
every page's heartbeats. It is not history: no command, no event, no unit of work — a heartbeat is one upserted
row (conversation, person), a page that is left deletes its row, and a page that vanished without saying so
simply stops being seen after ``SEEN_SECONDS``; its row is swept by the next heartbeat on that conversation.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from careline.adapters.db import tables as t

State = Literal["viewing", "typing"]
STATES: tuple[State, ...] = ("viewing", "typing")
SEEN_SECONDS = 10.0  # a page beats every 3 s: missing three beats means it is gone
TYPING_SECONDS = 5.0  # "typing" until this long after the last heartbeat that said so
FORGET_SECONDS = 60.0  # rows older than this are deleted by the next heartbeat on the conversation


@dataclasses.dataclass(frozen=True)
class Presence:
    agent_id: str
    name: str
    state: State
    seconds_ago: int


def beat(engine: sa.Engine, conversation_id: str, agent_id: str, state: State, now: datetime) -> None:
    """Record that this person has the conversation open (and is typing in it, or not) at ``now``."""
    if state not in STATES:
        raise ValueError(f"presence state must be one of {STATES}, not {state!r}")
    p = t.conversation_presence.c
    with engine.begin() as db:
        statement = _insert(db).values(conversation_id=conversation_id, agent_id=agent_id, state=state, seen_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["conversation_id", "agent_id"],
            set_={"state": statement.excluded.state, "seen_at": statement.excluded.seen_at},
        )
        db.execute(statement)
        # The sweep skips rows another heartbeat holds (PostgreSQL), so two heartbeats never wait on each other.
        stale = (
            sa.select(p.agent_id)
            .where(p.conversation_id == conversation_id, p.seen_at < now - timedelta(seconds=FORGET_SECONDS))
            .with_for_update(skip_locked=True)
        )
        db.execute(
            sa.delete(t.conversation_presence).where(p.conversation_id == conversation_id, p.agent_id.in_(stale))
        )


def leave(engine: sa.Engine, conversation_id: str, agent_id: str) -> None:
    """The person's page of this conversation was closed or left."""
    p = t.conversation_presence.c
    with engine.begin() as db:
        db.execute(
            sa.delete(t.conversation_presence).where(p.conversation_id == conversation_id, p.agent_id == agent_id)
        )


def others(engine: sa.Engine, conversation_id: str, agent_id: str, now: datetime) -> list[Presence]:
    """The other people seen on this conversation in the last ``SEEN_SECONDS``, the most recently seen first."""
    p, a = t.conversation_presence.c, t.agents.c
    query = (
        sa.select(p.agent_id, a.name, p.state, p.seen_at)
        .join(t.agents, a.id == p.agent_id)
        .where(
            p.conversation_id == conversation_id,
            p.agent_id != agent_id,
            p.seen_at >= now - timedelta(seconds=SEEN_SECONDS),
        )
        .order_by(p.seen_at.desc(), a.name)
    )
    with engine.connect() as db:
        rows = list(db.execute(query))
    found = []
    for row in rows:
        ago = max(0.0, (now - row.seen_at).total_seconds())
        typing = row.state == "typing" and ago <= TYPING_SECONDS
        found.append(Presence(row.agent_id, row.name, "typing" if typing else "viewing", int(ago)))
    return found


def _insert(db: sa.Connection) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL spell it the same way)."""
    return (postgresql.insert if db.dialect.name == "postgresql" else sqlite.insert)(t.conversation_presence)
