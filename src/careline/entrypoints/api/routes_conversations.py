"""Conversations: the agent's inbox and the work on one thread (docs/api.md#conversations).

Every write is one command acted by the token's agent; the answer is read back after it committed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from careline.conversations import commands as cmd
from careline.conversations import queries
from careline.entrypoints.api.deps import CarelineDep, CurrentAgent
from careline.entrypoints.api.schemas import (
    ConversationDetail,
    ConversationPage,
    ConversationPublic,
    EventPublic,
    MessagePublic,
    NoteCreate,
    Ref,
    ReplyCreate,
    TagsUpdate,
    TransferCreate,
)
from careline.kernel.errors import NotFound

router = APIRouter(prefix="/conversations", tags=["conversations"])
MAX_OFFSET = 10**9  # within a BIGINT, and beyond any real listing


@router.get("")
def list_conversations(
    careline: CarelineDep,
    agent: CurrentAgent,
    status_: Annotated[Ref | None, Query(alias="status", description="new, open, pending or resolved")] = None,
    queue: Annotated[Ref | None, Query(description="a queue name")] = None,
    assignee: Annotated[Ref | None, Query(description="'me', 'none' or an agent id")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ConversationPage:
    """Highest priority first, then the oldest."""
    wanted = queries.ConversationFilter(
        status=status_,
        queue=queue,
        assignee=agent.id if assignee == "me" else assignee,
        limit=limit,
        offset=offset,
    )
    items, total = queries.list_conversations(careline.engine, wanted)
    return ConversationPage(items=[ConversationPublic.model_validate(i) for i in items], total=total)


@router.get("/{conversation_id}")
def get_conversation(careline: CarelineDep, _agent: CurrentAgent, conversation_id: Ref) -> ConversationDetail:
    """The conversation and all its messages, notes included, oldest first."""
    return ConversationDetail.model_validate(
        queries.get_conversation(careline.engine, conversation_id, with_messages=True)
    )


@router.get("/{conversation_id}/events")
def get_events(careline: CarelineDep, _agent: CurrentAgent, conversation_id: Ref) -> list[EventPublic]:
    """The conversation's history from the event log."""
    return [EventPublic.model_validate(e) for e in queries.conversation_events(careline.engine, conversation_id)]


def _read(careline: CarelineDep, conversation_id: str) -> ConversationPublic:
    return ConversationPublic.model_validate(queries.get_conversation(careline.engine, conversation_id))


@router.post("/{conversation_id}/accept")
def accept(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref) -> ConversationPublic:
    """Take the conversation: the one offered to you, or an unassigned one."""
    careline.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=agent.id))
    return _read(careline, conversation_id)


@router.post("/{conversation_id}/replies", status_code=status.HTTP_201_CREATED)
def reply(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: ReplyCreate) -> MessagePublic:
    """Answer the customer; the reply is delivered on the conversation's channel after commit."""
    message_id = careline.handle(
        cmd.SendReply(conversation_id=conversation_id, agent_id=agent.id, text=body.text, visibility=body.visibility)
    )
    return MessagePublic.model_validate(queries.get_message(careline.engine, message_id))


@router.post("/{conversation_id}/notes", status_code=status.HTTP_201_CREATED)
def note(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: NoteCreate) -> MessagePublic:
    """An internal note: stored with the conversation, never delivered."""
    message_id = careline.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=agent.id, text=body.text))
    return MessagePublic.model_validate(queries.get_message(careline.engine, message_id))


@router.post("/{conversation_id}/tags")
def tag(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: TagsUpdate) -> ConversationPublic:
    careline.handle(
        cmd.TagConversation(
            conversation_id=conversation_id,
            agent_id=agent.id,
            add=frozenset(body.add),
            remove=frozenset(body.remove),
        )
    )
    return _read(careline, conversation_id)


@router.post("/{conversation_id}/transfer")
def transfer(
    careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: TransferCreate
) -> ConversationPublic:
    """Move to another queue (by name); it leaves its agent and is routed again."""
    with careline.uow(read_only=True) as uow:
        queue = uow.queues.by_name(body.queue.strip().lower())
    if queue is None:
        raise NotFound(f"queue {body.queue!r} does not exist")
    careline.handle(cmd.TransferConversation(conversation_id=conversation_id, agent_id=agent.id, queue_id=queue.id))
    return _read(careline, conversation_id)


@router.post("/{conversation_id}/resolve")
def resolve(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref) -> ConversationPublic:
    careline.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id=agent.id))
    return _read(careline, conversation_id)


@router.post("/{conversation_id}/reopen")
def reopen(careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref) -> ConversationPublic:
    careline.handle(cmd.ReopenConversation(conversation_id=conversation_id, agent_id=agent.id))
    return _read(careline, conversation_id)


@router.post("/{conversation_id}/take-private", status_code=status.HTTP_201_CREATED)
def take_private(
    careline: CarelineDep, agent: CurrentAgent, conversation_id: Ref, body: NoteCreate
) -> ConversationPublic:
    """Write to the customer in private; the public thread links to the private conversation returned."""
    private_id = careline.handle(cmd.TakePrivate(conversation_id=conversation_id, agent_id=agent.id, text=body.text))
    return _read(careline, private_id)
