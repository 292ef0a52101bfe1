"""Collision detection on the agent desktop (docs/web.md#collision-detection).

Everyone with a conversation open sees, live, who else has it open or is typing in it: each page sends a heartbeat
every few seconds and gets back the others (``adapters/db/presence.py`` keeps them in the database, so every
server process sees every page). A reply that would cross another agent's — one written after the newest message
the composing agent had on screen — is not sent without a warning (``crossing``, used by the reply route).
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from careline.adapters.db import presence
from careline.adapters.db import tables as t
from careline.conversations.model import Direction, Visibility
from careline.entrypoints.web import reads
from careline.entrypoints.web.security import PageForbidden, Verified, careline_of

router = APIRouter(include_in_schema=False)
MessageId = Annotated[str, Field(max_length=40)]


class Heartbeat(BaseModel):
    state: presence.State
    seen_message_id: MessageId = ""  # the newest message on the page: the answer says when a reply crossed it


@router.post("/conversations/{conversation_id}/presence")
def heartbeat(request: Request, agent: Verified, conversation_id: str, beat: Heartbeat) -> JSONResponse:
    """Record that this person has the conversation open; answer who else has, and any reply that crossed."""
    careline = careline_of(request)
    if not reads.can_view(careline.engine, agent, conversation_id):
        raise PageForbidden("this private conversation belongs to another team")
    now = careline.clock()
    presence.beat(careline.engine, conversation_id, agent.id, beat.state, now)
    seen = presence.others(careline.engine, conversation_id, agent.id, now)
    crossed = crossing(careline.engine, conversation_id, agent.id, beat.seen_message_id)
    return JSONResponse(
        {
            "others": [{"name": p.name, "state": p.state, "seconds_ago": p.seconds_ago} for p in seen],
            "crossing": crossed,
        }
    )


# A page that is being left cannot set headers (navigator.sendBeacon): it sends its CSRF token as the form field
# instead, which `Verified` checks the same way; DELETE is for clients that can.
@router.post("/conversations/{conversation_id}/presence/leave")
@router.delete("/conversations/{conversation_id}/presence")
def leave(request: Request, agent: Verified, conversation_id: str) -> Response:
    """This person's page of the conversation was closed or left: they are no longer there."""
    presence.leave(careline_of(request).engine, conversation_id, agent.id)
    return Response(status_code=204)


def crossing(engine: sa.Engine, conversation_id: str, agent_id: str, seen_message_id: str) -> str | None:
    """A warning naming who replied to this conversation after ``seen_message_id`` (the newest message the
    composing agent had on screen), or None. Notes cross nothing; the agent's own replies neither. Without a
    message of this conversation to compare with there is nothing to judge, and no warning."""
    m, a = t.messages.c, t.agents.c
    with engine.connect() as db:
        seen = db.execute(
            sa.select(m.created_at, m.id).where(m.id == seen_message_id, m.conversation_id == conversation_id)
        ).first()
        if seen is None:
            return None
        # The thread's own order (created_at, then id): what the page showed ends at the seen message.
        later = sa.or_(m.created_at > seen.created_at, sa.and_(m.created_at == seen.created_at, m.id > seen.id))
        names = db.execute(
            sa.select(a.name)
            .select_from(t.messages)
            .outerjoin(t.agents, a.id == m.agent_id)
            .where(
                m.conversation_id == conversation_id,
                m.direction == Direction.OUTBOUND.value,
                m.visibility != Visibility.NOTE.value,
                sa.or_(m.agent_id.is_(None), m.agent_id != agent_id),
                later,
            )
            .order_by(m.created_at, m.id)
        ).scalars()
        # An outbound post with no agent was written by the brand outside Careline (on the platform itself).
        who = list(dict.fromkeys(name or "someone on the brand's account" for name in names))
    if not who:
        return None
    named = who[0] if len(who) == 1 else ", ".join(who[:-1]) + " and " + who[-1]
    return f"{named} replied to this conversation while you were writing: read it before you send yours."
