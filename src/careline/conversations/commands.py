"""What agents ask of a conversation: imperative, frozen, validated by the entry point."""

from __future__ import annotations

import dataclasses

frozen = dataclasses.dataclass(frozen=True, kw_only=True)


@frozen
class AcceptConversation:
    conversation_id: str
    agent_id: str


@frozen
class SendReply:
    conversation_id: str
    agent_id: str
    text: str
    visibility: str = "public"  # public | private


@frozen
class AddNote:
    conversation_id: str
    agent_id: str
    text: str


@frozen
class TagConversation:
    conversation_id: str
    agent_id: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()


@frozen
class TransferConversation:
    conversation_id: str
    agent_id: str
    queue_id: str


@frozen
class ResolveConversation:
    conversation_id: str
    agent_id: str


@frozen
class ReopenConversation:
    conversation_id: str
    agent_id: str


@frozen
class TakePrivate:
    """Move a public thread to a private conversation with the same customer, opened by ``text``."""

    conversation_id: str
    agent_id: str
    text: str
