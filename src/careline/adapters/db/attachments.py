"""SQL storage of message attachments (docs/channels.md#email): written with their message, read for download."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.ingestion.model import InboundAttachment
from careline.kernel.clock import Clock
from careline.kernel.ids import new_id


class AttachmentRepository:
    def __init__(self, connection: sa.Connection, clock: Clock) -> None:
        self._db = connection
        self._clock = clock

    def add_many(self, attachments: Sequence[tuple[str, InboundAttachment]]) -> None:
        now = self._clock()
        if attachments:  # a few rows, some large: plain Core, not the bulk path tuned for many small rows
            self._db.execute(sa.insert(t.attachments), [_row(message_id, a, now) for message_id, a in attachments])


def _row(message_id: str, attachment: InboundAttachment, now: datetime) -> dict[str, object]:
    data = attachment.data
    return {
        "id": new_id("att"),
        "message_id": message_id,
        "filename": attachment.filename[:255],
        "content_type": attachment.content_type[:255],
        "size": attachment.size,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
        "data": data,
        "skipped_reason": None if data is not None else (attachment.skipped or "not stored")[:500],
        "created_at": now,
    }


@dataclasses.dataclass(frozen=True)
class AttachmentInfo:
    """What an agent sees of an attachment, without its bytes."""

    id: str
    message_id: str
    filename: str
    content_type: str
    size: int
    skipped_reason: str | None


def of_messages(db: sa.Connection, message_ids: Sequence[str]) -> dict[str, list[AttachmentInfo]]:
    """The attachments of these messages (without their bytes), by message id."""
    a = t.attachments.c
    found: dict[str, list[AttachmentInfo]] = {}
    if not message_ids:
        return found
    query = (
        sa.select(a.id, a.message_id, a.filename, a.content_type, a.size, a.skipped_reason)
        .where(a.message_id.in_(list(message_ids)))
        .order_by(a.message_id, a.id)
    )
    for row in db.execute(query):
        found.setdefault(row.message_id, []).append(AttachmentInfo(*row))
    return found


@dataclasses.dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    data: bytes
    conversation_id: str


def load(db: sa.Connection, attachment_id: str) -> StoredFile | None:
    """A stored attachment's bytes and the conversation it belongs to; None when unknown or skipped."""
    a, m = t.attachments.c, t.messages.c
    row = db.execute(
        sa.select(a.filename, a.content_type, a.data, m.conversation_id)
        .join(t.messages, m.id == a.message_id)
        .where(a.id == attachment_id, a.data.is_not(None))
    ).first()
    return StoredFile(row.filename, row.content_type, bytes(row.data), row.conversation_id) if row else None


def attachments_of(engine: sa.Engine, message_ids: Sequence[str]) -> dict[str, list[AttachmentInfo]]:
    """``of_messages`` on a connection of its own (the desktop's conversation page)."""
    with engine.connect() as db:
        return of_messages(db, message_ids)
