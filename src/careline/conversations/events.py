"""Events of the conversations context; their names are the event log's contract (docs/ARCHITECTURE.md#events)."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event

frozen = dataclasses.dataclass(frozen=True, kw_only=True)


@frozen
class ConversationCreated(Event):
    name = "conversation.created"
    channel_account_id: str
    customer_id: str | None
    thread_key: str


@frozen
class ConversationTriaged(Event):
    name = "conversation.triaged"
    queue_id: str
    priority: float
    sentiment_label: str
    sentiment_score: float
    matched_rule: str | None


@frozen
class MessageReceived(Event):
    name = "message.received"
    message_id: str
    channel_account_id: str
    customer_id: str
    visibility: str
    sentiment_label: str
    sentiment_score: float


@frozen
class MessageSent(Event):
    name = "message.sent"
    message_id: str
    channel_account_id: str
    visibility: str
    agent_id: str | None
    first_response: bool


@frozen
class NoteAdded(Event):
    name = "note.added"
    message_id: str
    agent_id: str


@frozen
class ConversationAssigned(Event):
    name = "conversation.assigned"
    agent_id: str
    queue_id: str
    previous_agent_id: str | None


@frozen
class ConversationAccepted(Event):
    name = "conversation.accepted"
    agent_id: str


@frozen
class ConversationUnassigned(Event):
    name = "conversation.unassigned"
    agent_id: str


@frozen
class ConversationTagged(Event):
    name = "conversation.tagged"
    added: tuple[str, ...]
    removed: tuple[str, ...]


@frozen
class ConversationTransferred(Event):
    name = "conversation.transferred"
    from_queue_id: str
    to_queue_id: str


@frozen
class ConversationResolved(Event):
    name = "conversation.resolved"


@frozen
class ConversationReopened(Event):
    name = "conversation.reopened"


@frozen
class ConversationTakenPrivate(Event):
    name = "conversation.taken_private"
    private_conversation_id: str
