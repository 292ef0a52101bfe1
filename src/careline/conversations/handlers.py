"""One handler per agent action on a conversation: load, call the domain, commit (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from careline.agents.model import Agent, Role
from careline.approvals.policy import hold_for_approval
from careline.channels.lengths import counted_length
from careline.conversations import commands as cmd
from careline.conversations.events import AgentsMentioned, MessageDeliveryRetried
from careline.conversations.model import (
    Conversation,
    Direction,
    Message,
    Visibility,
    human_agent_allowed,
    mentioned,
    private_thread,
    reply_limit,
    reply_visibility,
    reply_window_closes,
)
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork

MAX_REPLY = 10_000
WORKING_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.SOCIAL)  # who a note may @mention

Result = tuple[Any, list[Event]]


class ConversationHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.AcceptConversation: self.accept,
            cmd.SendReply: self.reply,
            cmd.AddNote: self.note,
            cmd.TagConversation: self.tag,
            cmd.TransferConversation: self.transfer,
            cmd.ResolveConversation: self.resolve,
            cmd.ReopenConversation: self.reopen,
            cmd.TakePrivate: self.take_private,
            cmd.RetryDelivery: self.retry_delivery,
        }

    def accept(self, c: cmd.AcceptConversation) -> Result:
        with self._uow() as uow:
            conversation = uow.conversations.get(c.conversation_id)
            uow.agents.get(c.agent_id)
            conversation.accept(c.agent_id, at=self._clock())
            return conversation.id, uow.commit()

    def reply(self, c: cmd.SendReply) -> Result:
        text = _text(c.text, "reply")
        if c.visibility not in ("public", "private"):
            raise InvalidInput("visibility must be public or private")
        with self._uow() as uow:
            conversation, agent = _load_for_work(uow, c.conversation_id, c.agent_id)
            account = uow.accounts.get(conversation.channel_account_id)
            channel, human_agent = account.kind.value, human_agent_allowed(account.config)
            visibility = reply_visibility(channel, c.visibility)
            limit = reply_limit(channel, visibility, MAX_REPLY)
            if counted_length(channel, visibility, text) > limit:
                raise InvalidInput(f"a {visibility} reply on {channel} is limited to {limit} characters")
            now = self._clock()
            last_inbound = uow.messages.last_inbound_at(conversation.id)
            closes = reply_window_closes(channel, visibility, last_inbound, human_agent=human_agent)
            if closes is not None and now > closes:
                within = "7 days (human-agent tag)" if human_agent else "24 hours"
                raise Conflict(
                    f"{channel} takes a private message only within {within} of the customer's last message; "
                    f"that window closed at {closes:%Y-%m-%d %H:%M} UTC: reply in public, or wait for them to write"
                )
            if conversation.assignee_id is None:
                conversation.accept(agent.id, at=now)  # answering an unassigned post takes it
            message = _outbound(conversation, agent, text, Visibility(visibility), now)
            if hold_for_approval(uow, agent, message, now):  # waits for an approver, undelivered (docs/approvals.md)
                uow.messages.add_many([message])
                return message.id, uow.commit()
            message.delivery_status = "queued"
            conversation.send(message, actor=f"agent:{agent.id}")
            uow.messages.add_many([message])
            uow.enqueue_effect("deliver", f"deliver:{message.id}", {"message_id": message.id}, message.id)
            return message.id, uow.commit()

    def note(self, c: cmd.AddNote) -> Result:
        text = _text(c.text, "note")
        with self._uow() as uow:
            conversation = uow.conversations.get(c.conversation_id)
            agent = uow.agents.get(c.agent_id)
            now = self._clock()
            message = _outbound(conversation, agent, text, Visibility.NOTE, now)
            conversation.add_note(message, agent_id=agent.id)
            uow.messages.add_many([message])
            people = [(a.id, a.name, a.email) for a in uow.agents.all() if a.role in WORKING_ROLES and a.id != agent.id]
            named = mentioned(text, people)
            if named:
                uow.messages.add_mentions(message.id, conversation.id, named, now)
                uow.record(
                    AgentsMentioned(
                        occurred_at=now,
                        actor=f"agent:{agent.id}",
                        conversation_id=conversation.id,
                        message_id=message.id,
                        agent_ids=tuple(named),
                    )
                )
            return message.id, uow.commit()

    def tag(self, c: cmd.TagConversation) -> Result:
        with self._uow() as uow:
            conversation = uow.conversations.get(c.conversation_id)
            uow.agents.get(c.agent_id)
            now = self._clock()
            before = set(conversation.tags)
            conversation.tag(add=set(c.add), remove=set(c.remove), at=now, actor=f"agent:{c.agent_id}")
            self._teach(uow, conversation, conversation.tags - before, now)
            return sorted(conversation.tags), uow.commit()

    @staticmethod
    def _teach(uow: UnitOfWork, conversation: Conversation, added: set[str], now: datetime) -> None:
        """A tag that names a category is an agent saying what this conversation is: the category model learns
        it (docs/triage.md#categories), and the conversation is in that category from now on."""
        for tag in sorted(added):
            category = uow.categories.by_name(tag)
            if category is None:
                continue
            text = " ".join(uow.messages.customer_texts(conversation.id))
            if text:
                uow.categories.learn(category.id, text[:5000], conversation.id, now)
            conversation.category = category.name

    def transfer(self, c: cmd.TransferConversation) -> Result:
        with self._uow() as uow:
            conversation, agent = _load_for_work(uow, c.conversation_id, c.agent_id)
            queue = uow.queues.get(c.queue_id)
            conversation.transfer(queue.id, at=self._clock(), actor=f"agent:{agent.id}")
            return conversation.id, uow.commit()

    def resolve(self, c: cmd.ResolveConversation) -> Result:
        with self._uow() as uow:
            conversation, agent = _load_for_work(uow, c.conversation_id, c.agent_id)
            conversation.resolve(at=self._clock(), actor=f"agent:{agent.id}")
            return conversation.id, uow.commit()

    def reopen(self, c: cmd.ReopenConversation) -> Result:
        with self._uow() as uow:
            conversation, agent = _load_for_work(uow, c.conversation_id, c.agent_id)
            conversation.reopen(at=self._clock(), actor=f"agent:{agent.id}")
            return conversation.id, uow.commit()

    def take_private(self, c: cmd.TakePrivate) -> Result:
        """The public thread links to one private conversation per customer and account, reused."""
        text = _text(c.text, "private message")
        with self._uow() as uow:
            public, agent = _load_for_work(uow, c.conversation_id, c.agent_id)
            if public.customer_id is None:
                raise InvalidInput(f"conversation {public.id} has no customer to write to in private")
            now = self._clock()
            thread_key = private_thread(public.customer_id)
            private = uow.conversations.by_thread_keys(public.channel_account_id, [thread_key]).get(thread_key)
            message = _outbound(public, agent, text, Visibility.PRIVATE, now)
            if private is None:
                private = Conversation.start(
                    id=new_id("cnv"),
                    message=message,
                    customer_id=public.customer_id,
                    thread_key=thread_key,
                    queue_id=public.queue_id,
                    actor=f"agent:{agent.id}",
                )
                private.triage(
                    queue_id=public.queue_id,
                    priority=public.priority,
                    rule="taken private",
                    sentiment=(public.sentiment_label or "neutral", 0.0),
                    at=now,
                )
                uow.conversations.add(private)
            else:
                private.ensure_workable_by(agent.id, supervisor=agent.role in (Role.ADMIN, Role.SUPERVISOR))
            if private.assignee_id is None:
                private.accept(agent.id, at=now)
            message.conversation_id = private.id
            message.delivery_status = "queued"
            private.send(message, actor=f"agent:{agent.id}")
            public.link_private(private.id, at=now, actor=f"agent:{agent.id}")
            uow.messages.add_many([message])
            uow.enqueue_effect("deliver", f"deliver:{message.id}", {"message_id": message.id}, message.id)
            return private.id, uow.commit()

    def retry_delivery(self, c: cmd.RetryDelivery) -> Result:
        """Supervisors retry any failed reply; an agent only their own."""
        with self._uow() as uow:
            message = uow.messages.get(c.message_id)
            agent = uow.agents.get(c.agent_id)
            if agent.role not in (Role.ADMIN, Role.SUPERVISOR) and message.agent_id != agent.id:
                raise Forbidden("only a supervisor, or the agent who wrote it, may retry a reply")
            if message.delivery_status != "failed":
                raise Conflict(f"reply {message.id} has not failed (it is {message.delivery_status or 'not a reply'})")
            now = self._clock()
            previous = uow.messages.requeue_delivery(message.id, now)
            if previous is None:
                raise Conflict(f"reply {message.id} has no failed delivery to retry")
            message.delivery_status = "queued"
            uow.messages.update_outbound(message)
            uow.record(
                MessageDeliveryRetried(
                    occurred_at=now,
                    actor=f"agent:{agent.id}",
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                    previous_error=previous,
                )
            )
            return message.id, uow.commit()


def _text(text: str, what: str) -> str:
    if not text or not text.strip():
        raise InvalidInput(f"a {what} needs text")
    if len(text) > MAX_REPLY:
        raise InvalidInput(f"a {what} is limited to {MAX_REPLY} characters")
    return text


def _load_for_work(uow: UnitOfWork, conversation_id: str, agent_id: str) -> tuple[Conversation, Agent]:
    """Collision detection: only the assignee (or a supervisor) may work an assigned conversation."""
    conversation = uow.conversations.get(conversation_id)
    agent = uow.agents.get(agent_id)
    conversation.ensure_workable_by(agent.id, supervisor=agent.role in (Role.ADMIN, Role.SUPERVISOR))
    return conversation, agent


def _outbound(conversation: Conversation, agent: Agent, text: str, visibility: Visibility, now: Any) -> Message:
    return Message(
        id=new_id("msg"),
        conversation_id=conversation.id,
        channel_account_id=conversation.channel_account_id,
        direction=Direction.OUTBOUND,
        visibility=visibility,
        text=text,
        created_at=now,
        received_at=now,
        agent_id=agent.id,
        author_external_id=None,
    )
