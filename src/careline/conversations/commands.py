"""What agents ask of a conversation: imperative, frozen, validated by the entry point."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class AcceptConversation:
    conversation_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SendReply:
    conversation_id: str
    agent_id: str
    text: str
    visibility: str = "public"  # public | private


@dataclasses.dataclass(frozen=True, kw_only=True)
class AddNote:
    conversation_id: str
    agent_id: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class TagConversation:
    conversation_id: str
    agent_id: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransferConversation:
    conversation_id: str
    agent_id: str
    queue_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolveConversation:
    conversation_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReopenConversation:
    conversation_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class TakePrivate:
    """Move a public thread to a private conversation with the same customer, opened by ``text``."""

    conversation_id: str
    agent_id: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetryDelivery:
    """Send a reply whose delivery failed for good back to the outbox (the dead-letter view's retry)."""

    message_id: str
    agent_id: str
