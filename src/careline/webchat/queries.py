"""Read side of the web chat: what a visitor's socket shows, and whether anyone can answer now
(docs/channels.md#web-chat).

A socket follows the event log (``events.seq``), like the desktop's live stream (entrypoints/web/live.py), so a
reply delivered by any process reaches the visitor: ``message.received`` (the visitor's own messages, seen by
their other tabs) and ``message.delivered`` (agents' replies) of the visitor's one conversation. Reads go
straight to the tables and never change state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.channels.adapters.webchat import agent_available
from careline.channels.model import ChannelAccount
from careline.conversations.model import explicit_thread
from careline.unit_of_work import UnitOfWork

HISTORY = 50  # messages a new widget shows
SHOWN_EVENTS = ("message.received", "message.delivered")
VISIBLE = ("delivered", "read")  # replies the visitor may see: not queued, failed or awaiting approval


def latest_seq(engine: Engine) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.select(sa.func.max(t.events.c.seq))).scalar() or 0)


def conversation_of(engine: Engine, account_id: str, thread_key: str) -> str | None:
    """The visitor's conversation on this account, once their first message started it."""
    c = t.conversations.c
    with engine.connect() as db:
        found = db.execute(
            sa.select(c.id).where(c.channel_account_id == account_id, c.thread_key == explicit_thread(thread_key))
        ).scalar()
    return str(found) if found else None


def history(engine: Engine, conversation_id: str, limit: int = HISTORY) -> list[dict[str, Any]]:
    """The conversation's latest messages the visitor may see, oldest first."""
    m = t.messages.c
    visible = sa.or_(m.direction == "inbound", m.delivery_status.in_(VISIBLE))
    with engine.connect() as db:
        found = list(
            db.execute(
                _select()
                .where(m.conversation_id == conversation_id, m.visibility != "note", visible)
                .order_by(m.created_at.desc(), m.id.desc())
                .limit(limit)
            )
        )
    return [_shown(row) for row in reversed(found)]


def changes(engine: Engine, conversation_id: str, after: int, limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
    """Messages that became visible in the conversation after event ``after``: (the last seq read, messages),
    each message with the ``cursor`` (event seq) a reconnecting widget resumes after."""
    e, m = t.events.c, t.messages.c
    with engine.connect() as db:
        events = list(
            db.execute(
                sa.select(e.seq, e.data)
                .where(e.conversation_id == conversation_id, e.seq > after, e.type.in_(SHOWN_EVENTS))
                .order_by(e.seq)
                .limit(limit)
            )
        )
        if not events:
            return after, []
        cursors = {str((row.data or {}).get("message_id")): row.seq for row in events}
        rows = db.execute(_select().where(m.id.in_(list(cursors)), m.visibility != "note"))
        shown = sorted(({**_shown(row), "cursor": cursors[row.id]} for row in rows), key=lambda s: s["cursor"])
    return events[-1].seq, shown


def online(uow: UnitOfWork, account: ChannelAccount, now: datetime) -> bool:
    """Whether an agent who can take the chat's queue is available now (channels/adapters/webchat.py)."""
    name = account.config.get("queue")
    queue = uow.queues.by_name(name) if name else None
    if queue is None:
        queue = next((q for q in uow.queues.all() if q.is_default), None)
    return queue is not None and agent_available(queue, uow.agents.all(), now)


def _select() -> sa.Select[Any]:
    m, a = t.messages.c, t.agents.c
    return sa.select(
        m.id, m.direction, m.text, m.created_at, m.raw, m.delivery_status, a.name.label("agent_name")
    ).outerjoin(t.agents, a.id == m.agent_id)


def _shown(row: Any) -> dict[str, Any]:
    """A message as the widget shows it: who wrote it, the text (displayed as text, never as HTML), when."""
    inbound = row.direction == "inbound"
    raw = row.raw if isinstance(row.raw, dict) else {}
    return {
        "id": row.id,
        "client_id": raw.get("client_id") if inbound else None,
        "from": "visitor" if inbound else "agent",
        "author": None if inbound else row.agent_name,
        "text": row.text,
        "at": row.created_at.isoformat(),
        "status": None if inbound else row.delivery_status,
    }


def message_ids(engine: Engine, account_id: str, platform_ids: Sequence[str]) -> dict[str, str]:
    """Stored message ids by platform id (a resent message's ack names the message stored the first time)."""
    m = t.messages.c
    with engine.connect() as db:
        found = db.execute(
            sa.select(m.platform_message_id, m.id).where(
                m.channel_account_id == account_id, m.platform_message_id.in_(list(platform_ids))
            )
        )
        return {row.platform_message_id: row.id for row in found}
