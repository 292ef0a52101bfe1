"""Read side of calls: the call and the screen pop, plain dicts for the API (docs/channels.md#voice--cti).

The screen pop is read on one connection in three indexed look-ups (the call with its customer by primary key,
their identities by ix_identities_customer_id, their open conversations by ix_conversations_customer_id with
each one's latest message by ix_messages_conversation_id), so it stays a few milliseconds whatever the
desk's size (bench/voice.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.conversations.model import Status
from careline.kernel.errors import NotFound

OPEN_CONVERSATIONS = 20  # the most an agent can take in while the phone rings
PREVIEW = 140  # characters of the latest message


def _call_select() -> sa.Select[Any]:
    k, a = t.calls.c, t.channel_accounts.c
    return sa.select(
        k.id,
        a.name.label("account"),
        k.platform_call_id.label("call_id"),
        k.direction,
        k.number,
        k.line,
        k.state,
        k.queue,
        k.customer_id,
        k.agent_id,
        k.agent_email,
        k.created_at,
        k.ringing_at,
        k.answered_at,
        k.ended_at,
        k.recording_url,
        k.conversation_id,
    ).join(t.channel_accounts, a.id == k.channel_account_id)


def get_call(engine: Engine, call_id: str) -> dict[str, Any]:
    """One call as stored, with its talk time once it ended."""
    with engine.connect() as db:
        row = db.execute(_call_select().where(t.calls.c.id == call_id)).first()
    if row is None:
        raise NotFound(f"call {call_id} does not exist")
    return _call(row)


def screen_pop(engine: Engine, call_id: str) -> dict[str, Any]:
    """The call, its customer (identities included) and their open conversations on every channel."""
    with engine.connect() as db:
        row = db.execute(_call_select().where(t.calls.c.id == call_id)).first()
        if row is None:
            raise NotFound(f"call {call_id} does not exist")
        call = _call(row)
        customer = _customer(db, call["customer_id"]) if call["customer_id"] else None
        conversations = _open_conversations(db, customer["id"]) if customer else []
    return {"call": call, "customer": customer, "open_conversations": conversations}


def _call(row: Any) -> dict[str, Any]:
    call = dict(row._mapping)
    answered, ended = call["answered_at"], call["ended_at"]
    talked = call["state"] == "ended" and answered is not None and ended is not None
    call["duration_seconds"] = max(0, round((ended - answered).total_seconds())) if talked else None
    return call


def _customer(db: sa.Connection, customer_id: str) -> dict[str, Any] | None:
    cu, i = t.customers.c, t.identities.c
    person = sa.select(cu.id, cu.display_name, cu.tier, cu.merged_into_id)
    row = db.execute(person.where(cu.id == customer_id)).first()
    if row is not None and row.merged_into_id:  # merged since the call came in: show the surviving customer
        row = db.execute(person.where(cu.id == row.merged_into_id)).first()
    if row is None:
        return None
    identities = db.execute(
        sa.select(i.channel, i.external_id, i.handle).where(i.customer_id == row.id).order_by(i.channel, i.external_id)
    )
    return {
        "id": row.id,
        "display_name": row.display_name,
        "tier": row.tier,
        "identities": [dict(r._mapping) for r in identities],
    }


def _open_conversations(db: sa.Connection, customer_id: str) -> list[dict[str, Any]]:
    c, a, m = t.conversations.c, t.channel_accounts.c, t.messages.c
    latest = (
        sa.select(sa.func.coalesce(m.masked_text, m.text))  # personal data stays masked here too
        .where(m.conversation_id == c.id, m.visibility != "note")
        .order_by(m.created_at.desc(), m.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        sa.select(
            c.id,
            a.kind.label("channel"),
            a.name.label("account"),
            c.status,
            c.priority,
            c.assignee_id,
            c.last_message_at,
            latest.label("last_message"),
        )
        .join(t.channel_accounts, a.id == c.channel_account_id)
        .where(c.customer_id == customer_id, c.status != Status.RESOLVED.value)
        .order_by(c.last_message_at.desc(), c.id)
        .limit(OPEN_CONVERSATIONS)
    )
    found = []
    for row in db.execute(query):
        item = dict(row._mapping)
        text = item["last_message"] or ""
        item["last_message"] = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
        found.append(item)
    return found
