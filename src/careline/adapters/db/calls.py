"""SQL repository of calls (docs/channels.md#voice--cti)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.kernel.errors import Conflict, NotFound
from careline.voice.model import Call, CallDirection, CallState


class CallRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def get(self, call_id: str) -> Call:
        row = self._db.execute(sa.select(t.calls).where(t.calls.c.id == call_id)).first()
        if row is None:
            raise NotFound(f"call {call_id} does not exist")
        return _call(row)

    def by_platform_id(self, account_id: str, platform_call_id: str) -> Call | None:
        c = t.calls.c
        query = sa.select(t.calls).where(c.channel_account_id == account_id, c.platform_call_id == platform_call_id)
        row = self._db.execute(query.with_for_update()).first()
        return _call(row) if row else None

    def customers_with_number(self, number: str) -> list[str]:
        """The surviving customers who have ``number`` as an identity on any channel (ix_identities_external_id)."""
        i, cu = t.identities.c, t.customers.c
        query = (
            sa.select(sa.func.coalesce(cu.merged_into_id, cu.id))
            .join(t.customers, cu.id == i.customer_id)
            .where(i.external_id == number)
            .distinct()
        )
        return sorted(self._db.execute(query).scalars())

    def add(self, call: Call) -> None:
        self._db.execute(sa.insert(t.calls).values(**_row(call)))

    def save(self, call: Call) -> None:
        c = t.calls.c
        values = _row(call) | {"version": call.version + 1}
        del values["id"]
        changed = self._db.execute(
            sa.update(t.calls).where(c.id == call.id, c.version == call.version).values(**values)
        )
        if changed.rowcount != 1:
            raise Conflict(f"call {call.id} was changed by someone else; try again")
        call.version += 1


def _row(call: Call) -> dict[str, Any]:
    if call.state is None:
        raise ValueError("a call is stored once its first event is applied")
    return {
        "id": call.id,
        "channel_account_id": call.channel_account_id,
        "platform_call_id": call.platform_call_id,
        "direction": call.direction.value,
        "number": call.number,
        "line": call.line,
        "state": call.state.value,
        "queue": call.queue,
        "customer_id": call.customer_id,
        "agent_id": call.agent_id,
        "agent_email": call.agent_email,
        "created_at": call.created_at,
        "ringing_at": call.ringing_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "recording_url": call.recording_url,
        "received": list(call.received),
        "conversation_id": call.conversation_id,
        "version": call.version,
    }


def _call(row: Any) -> Call:
    return Call(
        id=row.id,
        channel_account_id=row.channel_account_id,
        platform_call_id=row.platform_call_id,
        direction=CallDirection(row.direction),
        number=row.number,
        line=row.line,
        created_at=row.created_at,
        state=CallState(row.state),
        queue=row.queue,
        customer_id=row.customer_id,
        agent_id=row.agent_id,
        agent_email=row.agent_email,
        ringing_at=row.ringing_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        recording_url=row.recording_url,
        received=list(row.received or ()),
        conversation_id=row.conversation_id,
        version=row.version,
    )
