"""Events of the conversations context; their names are the event log's contract (docs/ARCHITECTURE.md#events)."""

from __future__ import annotations

import dataclasses
from typing import Any

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationCreated(Event):
    name = "conversation.created"
    channel_account_id: str
    customer_id: str | None
    thread_key: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationTriaged(Event):
    name = "conversation.triaged"
    queue_id: str
    priority: float
    sentiment_label: str
    sentiment_score: float
    matched_rule: str | None
    category: str | None = None
    angry: bool = False
    action: str | None = None  # answer | acknowledge | ignore | take_private
    explanation: dict[str, Any] | None = None  # the priority's features and their points


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
    name = "message.received"
    message_id: str
    channel_account_id: str
    customer_id: str
    visibility: str
    sentiment_label: str
    sentiment_score: float
    language: str | None = None
    pii: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageSent(Event):
    name = "message.sent"
    message_id: str
    channel_account_id: str
    visibility: str
    agent_id: str | None
    first_response: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class NoteAdded(Event):
    name = "note.added"
    message_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentsMentioned(Event):
    """An internal note @mentioned these people: it shows in their "Mentions" view until they open it."""

    name = "note.mentioned"
    message_id: str
    agent_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationAssigned(Event):
    name = "conversation.assigned"
    agent_id: str
    queue_id: str
    previous_agent_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationAccepted(Event):
    name = "conversation.accepted"
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationUnassigned(Event):
    name = "conversation.unassigned"
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationTagged(Event):
    name = "conversation.tagged"
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationTransferred(Event):
    name = "conversation.transferred"
    from_queue_id: str
    to_queue_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationResolved(Event):
    name = "conversation.resolved"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationReopened(Event):
    name = "conversation.reopened"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConversationTakenPrivate(Event):
    name = "conversation.taken_private"
    private_conversation_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageDelivered(Event):
    name = "message.delivered"
    message_id: str
    platform_message_id: str | None
    attempts: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageDeliveryRetried(Event):
    """Someone sent a reply that had failed for good back to the outbox, for a fresh round of attempts."""

    name = "message.delivery_retried"
    message_id: str
    previous_error: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class MessageDeliveryFailed(Event):
    name = "message.delivery_failed"
    message_id: str
    reason: str
    attempts: int
    will_retry: bool
