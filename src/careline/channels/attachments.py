"""Files that came with customers' messages (email attachments): the port ingestion writes them through
(docs/channels.md#email). Stored in the database, so every process of a scaled-out deployment serves them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from careline.ingestion.model import InboundAttachment


class AttachmentRepository(Protocol):
    def add_many(self, attachments: Sequence[tuple[str, InboundAttachment]]) -> None:
        """Store (message id, attachment) pairs in the unit of work's transaction; skipped ones keep their reason."""
        ...
