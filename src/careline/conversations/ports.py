"""What the conversations context needs from storage (implemented in adapters/db/repositories.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from careline.conversations.model import Conversation, Message


class ConversationRepository(Protocol):
    def add(self, conversation: Conversation) -> None: ...
    def get(self, conversation_id: str) -> Conversation: ...
    def by_ids(self, ids: Iterable[str]) -> dict[str, Conversation]: ...
    def by_thread_keys(self, account_id: str, keys: Iterable[str]) -> dict[str, Conversation]: ...


class MessageRepository(Protocol):
    def add_many(self, messages: list[Message]) -> None: ...
    def add_mentions(self, message_id: str, conversation_id: str, agent_ids: list[str], at: datetime) -> None: ...
    def last_inbound_at(self, conversation_id: str) -> datetime | None: ...
    def get(self, message_id: str) -> Message: ...
    def update_outbound(self, message: Message) -> None:
        """Store a stored reply's text and delivery status (an approver's decision)."""
        ...

    def requeue_delivery(self, message_id: str, at: datetime) -> str | None:
        """Put the reply's failed outbox row back to pending with a fresh count of attempts (its idempotency key
        kept, so a platform that saw an earlier attempt can recognise it); the row's last error, or None when the
        reply has no failed row."""
        ...

    def conversations_of(self, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]: ...
    def receipt_targets(
        self, account_id: str, platform_ids: Iterable[str], reader: str, watermark: datetime | None
    ) -> list[Message]:
        """The account's replies a platform receipt is about: those it names by platform id and, with a watermark,
        the private replies sent up to then in the conversations where ``reader`` wrote; only replies the platform
        took (they have its id), oldest first."""
        ...

    def customer_texts(self, conversation_id: str) -> list[str]:
        """The customer's messages in the conversation, oldest first (what a category is learned from)."""
        ...
