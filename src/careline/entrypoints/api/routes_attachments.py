"""Attachments of customers' messages, for download (docs/channels.md#email, docs/api.md).

Whoever may open the conversation may download its files: an agent's bearer token (the API) or the desktop's
session cookie (the links on the conversation page). A file is always sent as a download (Content-Disposition:
attachment, nosniff, a sandboxing CSP), never shown inline, so an HTML or SVG file a customer sent cannot run in
Careline's origin.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from careline.adapters.db import tables as t
from careline.adapters.db.attachments import load, of_messages
from careline.agents.model import Agent, Role
from careline.entrypoints.api.deps import CarelineDep, _bearer, caller, require_role
from careline.entrypoints.api.schemas import Ref
from careline.entrypoints.web import reads
from careline.entrypoints.web.security import signed_in
from careline.kernel.errors import Forbidden, NotFound

router = APIRouter(prefix="/attachments", tags=["conversations"])
# Types a browser renders harmlessly; anything else is offered as bytes to save.
SAFE_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp)|application/pdf|text/plain|text/csv)$")


def reader(
    request: Request,
    careline: CarelineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agent:
    """The agent behind the bearer token, else behind the desktop's session cookie."""
    if credentials is not None:
        agent = caller(careline, credentials.credentials)
        return require_role(Role.ADMIN, Role.SUPERVISOR, Role.AGENT)(agent)  # as CurrentAgent
    return signed_in(request)


class AttachmentPublic(BaseModel):
    """A file of a message; ``skipped_reason`` set when it was not stored (over a size limit), so not downloadable."""

    id: str
    message_id: str
    filename: str
    content_type: str
    size: int
    skipped_reason: str | None


@router.get("")
def list_attachments(
    careline: CarelineDep, agent: Annotated[Agent, Depends(reader)], conversation_id: Annotated[Ref, Query()]
) -> list[AttachmentPublic]:
    """The files of a conversation's messages, stored or skipped, oldest message first."""
    if not reads.can_view(careline.engine, agent, conversation_id):
        raise Forbidden("this private conversation belongs to another team")
    m = t.messages.c
    with careline.engine.connect() as db:
        ids = list(
            db.execute(
                sa.select(m.id).where(m.conversation_id == conversation_id).order_by(m.created_at, m.id)
            ).scalars()
        )
        found = of_messages(db, ids)
    return [AttachmentPublic(**dataclasses.asdict(a)) for message_id in ids for a in found.get(message_id, [])]


@router.get("/{attachment_id}", response_class=Response)
def download(careline: CarelineDep, agent: Annotated[Agent, Depends(reader)], attachment_id: Ref) -> Response:
    """The file's bytes, as a download; 404 for an unknown one or one not stored (over a size limit)."""
    with careline.engine.connect() as db:
        found = load(db, attachment_id)
    if found is None:
        raise NotFound(f"attachment {attachment_id} does not exist or was not stored")
    if not reads.can_view(careline.engine, agent, found.conversation_id):
        raise Forbidden("this private conversation belongs to another team")
    content_type = found.content_type if SAFE_TYPES.match(found.content_type) else "application/octet-stream"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", found.filename) or "attachment"
    return Response(
        found.data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(found.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )
