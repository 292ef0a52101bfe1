"""The one normalized inbound message schema every channel and importer produces (docs/ingestion.md)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True)
class InboundAttachment:
    """A file that came with a message (an email attachment); ``data`` None when it was not stored, and why."""

    filename: str
    content_type: str
    size: int
    data: bytes | None = dataclasses.field(default=None, repr=False)
    skipped: str | None = None  # why it was not stored (over a size limit)


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """A message as a channel reports it; ``direction`` outbound is the brand's own post (history)."""

    channel: str  # channel kind: x, facebook, instagram, email, webchat, voice, api
    account: str  # the brand's account name on that channel
    platform_message_id: str
    author_id: str  # the author's id on the channel (a customer, or the brand itself when outbound)
    text: str
    created_at: datetime | None = None  # None: the moment it was received
    direction: str = "inbound"
    visibility: str = "public"
    author_name: str | None = None
    reply_to: str | None = None  # platform id of the message this one answers
    thread_key: str | None = None  # explicit thread (an email thread, a chat session)
    raw: dict[str, Any] | None = None
    # Reach and spread, when the platform reports them (they shape the priority; docs/triage.md#priority).
    author_followers: int | None = None
    author_verified: bool = False
    engagements: int | None = None  # likes + reposts + replies so far
    attachments: tuple[InboundAttachment, ...] = ()  # stored with the message, in the same transaction


@dataclasses.dataclass
class ItemResult:
    index: int
    status: str  # created | duplicate | rejected
    message_id: str | None = None
    conversation_id: str | None = None
    error: str | None = None


@dataclasses.dataclass
class BatchResult:
    items: list[ItemResult]
    customers_created: int = 0
    conversations_created: int = 0

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)
