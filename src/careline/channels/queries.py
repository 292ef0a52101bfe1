"""Read side of the channels context: which comments agents hid (docs/channels.md#facebook-and-instagram).

The event log is where hiding is recorded (``comment.hidden`` / ``comment.unhidden``), so the current state of a
comment is its latest such event: no column to keep in step with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from careline.adapters.db import tables as t
from careline.channels.events import CommentHidden, CommentUnhidden


def hidden_comments(engine: Engine, conversation_id: str) -> set[str]:
    """The ids of the conversation's messages whose comment an agent hid last (and did not show again)."""
    e = t.events.c
    query = (
        sa.select(e.type, e.data)
        .where(e.conversation_id == conversation_id, e.type.in_([CommentHidden.name, CommentUnhidden.name]))
        .order_by(e.seq)
    )
    hidden: set[str] = set()
    with engine.connect() as db:
        for row in db.execute(query):
            message_id = str((row.data or {}).get("message_id"))
            if row.type == CommentHidden.name:
                hidden.add(message_id)
            else:
                hidden.discard(message_id)
    return hidden
