"""What the pages show, read straight from the tables (plain dicts; nothing here changes state).

Who may see a conversation (`can_view`): a public one, every desk account; a private one (a direct message, an
email, a chat), its assignee, the agents of its queue (those the queue's target admits) and managers. The social
team reads everything and takes no work.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.agents.model import Agent, Role
from careline.conversations.model import Status
from careline.kernel.errors import NotFound

MAX_INBOX = 1000  # rows one inbox page shows (the "1,000 conversations render in under a second")
OPEN = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value)
SEES_EVERYTHING = (Role.ADMIN, Role.SUPERVISOR, Role.SOCIAL)


@dataclasses.dataclass(frozen=True)
class InboxFilter:
    view: str = "mine"  # mine | unassigned | triage | all | queue:<id>
    channel: str | None = None
    sentiment: str | None = None
    category: str | None = None
    tag: str | None = None
    language: str | None = None


def my_queue_ids(db: sa.Connection, agent: Agent) -> set[str]:
    """The queues whose work this agent may take (its routing pools; managers: every queue)."""
    if agent.role in SEES_EVERYTHING:
        return set(db.execute(sa.select(t.queues.c.id)).scalars())
    pools = db.execute(sa.select(t.agent_pools.c.pool).where(t.agent_pools.c.agent_id == agent.id)).scalars()
    return {pool.split("~", 1)[0] for pool in pools}


def _private() -> sa.ColumnElement[bool]:
    """A private conversation: not one of its messages is public (a direct message, an email, a chat, or the
    private side of a thread an agent took private)."""
    m = t.messages.c
    return sa.not_(sa.exists().where(m.conversation_id == t.conversations.c.id, m.visibility == "public"))


def _visible(agent: Agent, queue_ids: set[str]) -> sa.ColumnElement[bool]:
    c = t.conversations.c
    if agent.role in SEES_EVERYTHING:
        return sa.true()
    return sa.or_(sa.not_(_private()), c.assignee_id == agent.id, c.queue_id.in_(sorted(queue_ids)))


def _view(agent: Agent, view: str, queue_ids: set[str]) -> list[sa.ColumnElement[bool]]:
    c, q = t.conversations.c, t.queues.c
    if view == "mine":
        return [c.assignee_id == agent.id, c.status.in_(OPEN)]
    if view == "unassigned":
        return [c.assignee_id.is_(None), c.status.in_(OPEN), c.queue_id.in_(sorted(queue_ids))]
    if view == "triage":
        triage = sa.select(q.id).where(q.is_triage.is_(True))
        return [c.assignee_id.is_(None), c.status.in_(OPEN), c.queue_id.in_(triage)]
    if view == "all":
        return [c.status.in_(OPEN)]
    if view == "mentions":  # a note @mentioned me and I have not opened the conversation since
        mine = t.mentions.c
        return [c.id.in_(sa.select(mine.conversation_id).where(mine.agent_id == agent.id, mine.seen_at.is_(None)))]
    if view.startswith("queue:"):
        return [c.queue_id == view.removeprefix("queue:"), c.status.in_(OPEN)]
    raise NotFound(f"there is no inbox view {view!r}")


def _filters(wanted: InboxFilter) -> list[sa.ColumnElement[bool]]:
    c, a, m = t.conversations.c, t.channel_accounts.c, t.messages.c
    found: list[sa.ColumnElement[bool]] = []
    if wanted.channel:
        found.append(a.kind == wanted.channel)
    if wanted.sentiment:
        found.append(c.sentiment_label == wanted.sentiment)
    if wanted.category:
        found.append(c.category == wanted.category)
    if wanted.tag:  # tags are a JSON list of labels (letters, digits, '-', '_'): its text holds "tag"
        found.append(sa.cast(c.tags, sa.Text).like(f'%"{wanted.tag}"%'))
    if wanted.language:
        found.append(
            sa.exists().where(m.conversation_id == c.id, m.direction == "inbound", m.language == wanted.language)
        )
    return found


def _rows_select() -> sa.Select[Any]:
    c, a, q, r, cu, ag = (
        t.conversations.c,
        t.channel_accounts.c,
        t.queues.c,
        t.routing_tickets.c,
        t.customers.c,
        t.agents.c,
    )
    return (
        sa.select(
            c.id,
            a.kind.label("channel"),
            a.name.label("account"),
            c.customer_id,
            cu.display_name.label("customer"),
            c.status,
            c.priority,
            c.queue_id,
            q.name.label("queue"),
            c.assignee_id,
            ag.name.label("assignee"),
            c.tags,
            c.sentiment_label.label("sentiment"),
            c.angry,
            c.category,
            c.created_at,
            c.last_message_at,
            r.deadline,
            r.sla_state,
        )
        .join(t.channel_accounts, a.id == c.channel_account_id)
        .join(t.queues, q.id == c.queue_id)
        .outerjoin(t.routing_tickets, r.conversation_id == c.id)
        .outerjoin(t.customers, cu.id == c.customer_id)
        .outerjoin(t.agents, ag.id == c.assignee_id)
    )


def inbox(engine: Engine, agent: Agent, wanted: InboxFilter) -> dict[str, Any]:
    """One inbox view: its rows (highest priority first, then the least SLA time left), its total, and the
    counts of every view (for the sidebar)."""
    c = t.conversations.c
    with engine.connect() as db:
        queue_ids = my_queue_ids(db, agent)
        conditions = [_visible(agent, queue_ids), *_view(agent, wanted.view, queue_ids), *_filters(wanted)]
        base = _rows_select().where(*conditions)
        total = db.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
        ordered = base.order_by(
            c.priority.desc(), t.routing_tickets.c.deadline.asc().nulls_last(), c.created_at, c.id
        ).limit(MAX_INBOX)
        rows = [dict(r._mapping) for r in db.execute(ordered)]
        previews = _previews(db, [row["id"] for row in rows])
        for row in rows:
            row["tags"] = sorted(row["tags"] or ())
            row["preview"] = previews.get(row["id"], "")
        counts = _counts(db, agent, queue_ids)
    return {"rows": rows, "total": total, "counts": counts}


def _counts(db: sa.Connection, agent: Agent, queue_ids: set[str]) -> dict[str, int]:
    visible = _visible(agent, queue_ids)
    views = ["mine", "mentions", "unassigned", "triage"] + (["all"] if agent.role in SEES_EVERYTHING else [])
    counts: dict[str, int] = {}
    for view in views:
        query = sa.select(sa.func.count()).select_from(t.conversations).where(visible, *_view(agent, view, queue_ids))
        counts[view] = db.execute(query).scalar_one()
    c = t.conversations.c
    per_queue = db.execute(
        sa.select(c.queue_id, sa.func.count())
        .where(visible, c.status.in_(OPEN), c.queue_id.in_(sorted(queue_ids)))
        .group_by(c.queue_id)
    )
    for queue_id, n in per_queue:
        counts[f"queue:{queue_id}"] = n
    return counts


def _previews(db: sa.Connection, ids: list[str]) -> dict[str, str]:
    """The latest customer message of each conversation, masked, cut short."""
    if not ids:
        return {}
    m = t.messages.c
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        ranked = (
            sa.select(
                m.conversation_id,
                sa.func.coalesce(m.masked_text, m.text).label("text"),
                sa.func.row_number()
                .over(partition_by=m.conversation_id, order_by=(m.created_at.desc(), m.id.desc()))
                .label("n"),
            )
            .where(m.conversation_id.in_(ids[start : start + 500]), m.direction == "inbound")
            .subquery()
        )
        query = sa.select(ranked.c.conversation_id, ranked.c.text).where(ranked.c.n == 1)
        found.update({cid: (text or "")[:200] for cid, text in db.execute(query)})
    return found


def queues_of(engine: Engine, agent: Agent) -> list[dict[str, Any]]:
    with engine.connect() as db:
        ids = my_queue_ids(db, agent)
        rows = db.execute(sa.select(t.queues.c.id, t.queues.c.name).order_by(t.queues.c.rank, t.queues.c.name))
        return [dict(r._mapping) for r in rows if r.id in ids]


def choices(engine: Engine) -> dict[str, list[str]]:
    """The values the inbox filters offer: those present in open conversations."""
    c, a, m = t.conversations.c, t.channel_accounts.c, t.messages.c
    with engine.connect() as db:
        open_ = c.status.in_(OPEN)
        channels = db.execute(
            sa.select(a.kind).join(t.conversations, c.channel_account_id == a.id).where(open_).distinct()
        ).scalars()
        categories = db.execute(sa.select(c.category).where(open_, c.category.is_not(None)).distinct()).scalars()
        languages = db.execute(
            sa.select(m.language).where(m.direction == "inbound", m.language.is_not(None)).distinct().limit(50)
        ).scalars()
        tags: set[str] = set()
        for listed in db.execute(sa.select(c.tags).where(open_).limit(5000)).scalars():
            tags.update(listed or ())
    return {
        "channel": sorted(channels),
        "sentiment": ["negative", "neutral", "positive"],
        "category": sorted(categories),
        "tag": sorted(tags),
        "language": sorted(languages),
    }


def can_view(engine: Engine, agent: Agent, conversation_id: str) -> bool:
    """Whether this person may open the conversation (404 and 403 are told apart by the caller)."""
    c = t.conversations.c
    with engine.connect() as db:
        exists = db.execute(sa.select(c.id).where(c.id == conversation_id)).first()
        if exists is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        queue_ids = my_queue_ids(db, agent)
        query = sa.select(c.id).where(c.id == conversation_id, _visible(agent, queue_ids))
        return db.execute(query).first() is not None


def conversation(engine: Engine, conversation_id: str) -> dict[str, Any]:
    """The conversation, its thread (notes included, personal data masked) and its customer's panel."""
    m, c = t.messages.c, t.conversations.c
    with engine.connect() as db:
        row = db.execute(
            _rows_select()
            .add_columns(c.priority_explanation, c.private_conversation_id, c.action)
            .where(c.id == conversation_id)
        ).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        found = dict(row._mapping)
        found["tags"] = sorted(found["tags"] or ())
        thread = db.execute(
            sa.select(
                m.id,
                m.direction,
                m.visibility,
                sa.func.coalesce(m.masked_text, m.text).label("text"),
                m.masked_text.is_not(None).label("masked"),
                m.created_at,
                m.author_external_id,
                m.language,
                m.sentiment_label,
                m.delivery_status,
                t.agents.c.name.label("agent"),
            )
            .outerjoin(t.agents, t.agents.c.id == m.agent_id)
            .where(m.conversation_id == conversation_id)
            .order_by(m.created_at, m.id)
        )
        found["messages"] = [dict(r._mapping) for r in thread]
        found["private"] = not any(msg["visibility"] == "public" for msg in found["messages"])
        found["customer_panel"] = _customer(db, found["customer_id"], conversation_id) if found["customer_id"] else None
    return found


def _customer(db: sa.Connection, customer_id: str, current: str) -> dict[str, Any]:
    cu, i, c, a = t.customers.c, t.identities.c, t.conversations.c, t.channel_accounts.c
    customer = db.execute(sa.select(t.customers).where(cu.id == customer_id)).first()
    identities = db.execute(sa.select(i.channel, i.handle, i.external_id).where(i.customer_id == customer_id))
    history = db.execute(
        sa.select(c.id, a.kind.label("channel"), c.status, c.created_at, c.last_message_at, c.category, c.tags)
        .join(t.channel_accounts, a.id == c.channel_account_id)
        .where(c.customer_id == customer_id)
        .order_by(c.created_at.desc())
        .limit(100)
    )
    return {
        "id": customer_id,
        "name": customer.display_name if customer else None,
        "tier": customer.tier if customer else None,
        "notes": (customer.notes or "") if customer else "",
        "fields": dict(customer.fields or {}) if customer else {},
        "identities": [dict(r._mapping) for r in identities],
        "history": [dict(r._mapping) | {"current": r.id == current} for r in history],
    }


def seconds_left(deadline: datetime | None, now: datetime) -> float | None:
    return None if deadline is None else (deadline - now).total_seconds()


def presence(engine: Engine, agent_id: str) -> dict[str, Any]:
    """The agent's status, the conversations it holds per channel and its weighted units in use."""
    a = t.agents.c
    with engine.connect() as db:
        row = db.execute(sa.select(a.status, a.load, a.used_units, a.units, a.capacity).where(a.id == agent_id)).first()
        wrapping = db.execute(
            sa.select(sa.func.count()).select_from(t.wrap_ups).where(t.wrap_ups.c.agent_id == agent_id)
        ).scalar_one()
    if row is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return {
        "status": row.status,
        "load": dict(row.load or {}),
        "used_units": row.used_units,
        "units": row.units,
        "capacity": dict(row.capacity or {}),
        "wrap_ups": wrapping,
    }


def customer_of(engine: Engine, conversation_id: str) -> str | None:
    c = t.conversations.c
    with engine.connect() as db:
        return db.execute(sa.select(c.customer_id).where(c.id == conversation_id)).scalar()


def linked_private(engine: Engine, conversation_id: str) -> str | None:
    c = t.conversations.c
    with engine.connect() as db:
        return db.execute(sa.select(c.private_conversation_id).where(c.id == conversation_id)).scalar()


def departments(engine: Engine) -> list[dict[str, Any]]:
    d = t.departments.c
    with engine.connect() as db:
        return [dict(r._mapping) for r in db.execute(sa.select(d.id, d.name).order_by(d.name))]


def all_queues(engine: Engine) -> list[dict[str, Any]]:
    q = t.queues.c
    with engine.connect() as db:
        return [dict(r._mapping) for r in db.execute(sa.select(q.id, q.name).order_by(q.rank, q.name))]


def customers_by_handle(engine: Engine, handle: str) -> list[str]:
    """The customers with an identity whose handle or external id is `handle` (a leading @ ignored)."""
    i = t.identities.c
    wanted = handle.strip().removeprefix("@")
    if not wanted:
        return []
    with engine.connect() as db:
        query = sa.select(i.customer_id).where(sa.or_(i.handle == wanted, i.external_id == wanted)).distinct()
        return list(db.execute(query).scalars())


def mark_mentions_seen(engine: Engine, conversation_id: str, agent_id: str, at: datetime) -> None:
    """The agent opened the conversation: its @mentions of them leave their "Mentions" view (a read receipt,
    the one write of this module)."""
    m = t.mentions.c
    with engine.begin() as db:
        db.execute(
            sa.update(t.mentions)
            .where(m.conversation_id == conversation_id, m.agent_id == agent_id, m.seen_at.is_(None))
            .values(seen_at=at)
        )
