"""Read side of conversations: finders returning plain dicts for the API (docs/api.md).

Reads go straight to the tables (no aggregates, no unit of work): they never change state, and a
listing must not load whole conversations only to throw most of their fields away.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.conversations.model import REPLY_WINDOW_WARNING, Status, human_agent_allowed, reply_window_closes
from careline.kernel.errors import InvalidInput, NotFound

MAX_PAGE = 200
UNASSIGNED = "none"  # the assignee filter's value for "nobody holds it"


@dataclasses.dataclass(frozen=True)
class ConversationFilter:
    status: str | None = None
    queue: str | None = None  # queue name
    assignee: str | None = None  # an agent id, or UNASSIGNED
    limit: int = 50
    offset: int = 0


def _conversation_select() -> sa.Select[Any]:
    c, a, q = t.conversations.c, t.channel_accounts.c, t.queues.c
    return (
        sa.select(
            c.id,
            a.kind.label("channel"),
            a.name.label("account"),
            c.customer_id,
            c.status,
            c.priority,
            q.name.label("queue"),
            c.assignee_id,
            c.tags,
            c.created_at,
            c.last_message_at,
            c.first_response_at,
            c.sentiment_label.label("sentiment"),
            c.angry,
            c.category,
            c.action,
            c.priority_explanation,
            c.private_conversation_id,
            c.version,
        )
        .join(t.channel_accounts, a.id == c.channel_account_id)
        .join(t.queues, q.id == c.queue_id)
    )


def _conversation(row: Any) -> dict[str, Any]:
    item = dict(row._mapping)
    item["tags"] = sorted(item["tags"] or ())
    return item


def list_conversations(engine: Engine, wanted: ConversationFilter) -> tuple[list[dict[str, Any]], int]:
    """One page of conversations, highest priority then oldest first, and the total that match."""
    if wanted.status is not None and wanted.status not in Status._value2member_map_:
        raise InvalidInput(f"status must be one of {', '.join(s.value for s in Status)}")
    if not 1 <= wanted.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if wanted.offset < 0:
        raise InvalidInput("offset cannot be negative")
    c = t.conversations.c
    conditions: list[sa.ColumnElement[bool]] = []
    if wanted.status is not None:
        conditions.append(c.status == wanted.status)
    if wanted.assignee == UNASSIGNED:
        conditions.append(c.assignee_id.is_(None))
    elif wanted.assignee is not None:
        conditions.append(c.assignee_id == wanted.assignee)
    with engine.connect() as db:
        if wanted.queue is not None:
            queue_id = db.execute(sa.select(t.queues.c.id).where(t.queues.c.name == wanted.queue)).scalar()
            if queue_id is None:
                raise InvalidInput(f"queue {wanted.queue!r} does not exist")
            conditions.append(c.queue_id == queue_id)
        total = db.execute(sa.select(sa.func.count()).select_from(t.conversations).where(*conditions)).scalar_one()
        page = db.execute(
            _conversation_select()
            .where(*conditions)
            .order_by(c.priority.desc(), c.created_at, c.id)
            .limit(wanted.limit)
            .offset(wanted.offset)
        )
        return [_conversation(row) for row in page], total


def get_conversation(engine: Engine, conversation_id: str, *, with_messages: bool = False) -> dict[str, Any]:
    """One conversation; with its messages in the order they were written when asked."""
    with engine.connect() as db:
        row = db.execute(_conversation_select().where(t.conversations.c.id == conversation_id)).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        conversation = _conversation(row)
        if with_messages:
            m = t.messages.c
            query = _message_select().where(m.conversation_id == conversation_id).order_by(m.created_at, m.id)
            conversation["messages"] = [dict(r._mapping) for r in db.execute(query)]
            last = max((m["created_at"] for m in conversation["messages"] if m["direction"] == "inbound"), default=None)
            conversation["reply_window_closes_at"] = reply_window_closes(
                conversation["channel"], "private", last, human_agent=human_agent_window(db, conversation_id)
            )
    return conversation


def reply_window(engine: Engine, conversation_id: str, channel: str, last_inbound: datetime | None) -> dict[str, Any]:
    """The private reply window for the conversation page: when it closes (``closes_at``, None when no window
    applies), when the standard 24 hours end (``standard_closes_at``) and whether the human-agent tag extends it."""
    with engine.connect() as db:
        human_agent = human_agent_window(db, conversation_id)
    closes = reply_window_closes(channel, "private", last_inbound, human_agent=human_agent)
    standard = reply_window_closes(channel, "private", last_inbound)
    return {
        "closes_at": closes,
        "standard_closes_at": standard,
        "human_agent": closes != standard,
        "warn_from": closes - REPLY_WINDOW_WARNING if closes else None,
    }


def human_agent_window(db: sa.Connection, conversation_id: str) -> bool:
    """Whether the conversation's channel account may use Meta's human-agent tag (7-day window; its config)."""
    c, a = t.conversations.c, t.channel_accounts.c
    config = db.execute(
        sa.select(a.config).join(t.conversations, c.channel_account_id == a.id).where(c.id == conversation_id)
    ).scalar()
    return human_agent_allowed(config if isinstance(config, dict) else {})


def _message_select() -> sa.Select[Any]:
    m = t.messages.c
    return sa.select(
        m.id,
        m.direction,
        m.visibility,
        # Personal data is never shown whole: agents read the masked text (the original stays in storage).
        sa.func.coalesce(m.masked_text, m.text).label("text"),
        (m.masked_text.is_not(None)).label("masked"),
        m.pii,
        m.language,
        m.author_external_id,
        m.customer_id,
        m.agent_id,
        m.created_at,
        m.platform_message_id,
        m.reply_to_platform_id,
        m.sentiment_label,
        m.sentiment_score,
        m.delivery_status,
        m.triage,
    )


def get_message(engine: Engine, message_id: str) -> dict[str, Any]:
    with engine.connect() as db:
        row = db.execute(_message_select().where(t.messages.c.id == message_id)).first()
    if row is None:
        raise NotFound(f"message {message_id} does not exist")
    return dict(row._mapping)


def conversation_events(engine: Engine, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's entries in the event log, oldest first."""
    e = t.events.c
    with engine.connect() as db:
        exists = db.execute(sa.select(t.conversations.c.id).where(t.conversations.c.id == conversation_id)).first()
        if exists is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        query = (
            sa.select(e.seq, e.type, e.actor, e.occurred_at, e.data)
            .where(e.conversation_id == conversation_id)
            .order_by(e.seq)
        )
        return [dict(r._mapping) for r in db.execute(query)]


def failed_deliveries(engine: Engine, limit: int = MAX_PAGE) -> tuple[list[dict[str, Any]], int]:
    """The dead letters: replies whose delivery failed for good, newest first, with why; and how many there are."""
    o, m, a, who = t.outbox.c, t.messages.c, t.channel_accounts.c, t.agents.c
    failed = sa.and_(o.kind == "deliver", o.status == "failed")
    query = (
        sa.select(
            m.id.label("message_id"),
            m.conversation_id,
            a.kind.label("channel"),
            a.name.label("account"),
            m.visibility,
            sa.func.coalesce(m.masked_text, m.text).label("text"),
            m.agent_id,
            who.name.label("agent"),
            m.created_at,
            o.attempts,
            o.last_error,
        )
        .select_from(t.outbox)
        .join(t.messages, m.id == o.message_id)
        .join(t.channel_accounts, a.id == m.channel_account_id)
        .outerjoin(t.agents, who.id == m.agent_id)
        .where(failed)
        .order_by(o.id.desc())
        .limit(limit)
    )
    with engine.connect() as db:
        items = [dict(row._mapping) for row in db.execute(query)]
        total = db.execute(sa.select(sa.func.count()).select_from(t.outbox).where(failed)).scalar_one()
    return items, total
