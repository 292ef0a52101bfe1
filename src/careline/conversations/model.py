"""Conversations and messages: the pure domain of a customer thread (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from careline.conversations import events as ev
from careline.kernel.errors import Conflict, InvalidInput
from careline.kernel.events import Event


def explicit_thread(key: str) -> str:
    """The thread key of a channel's own thread (an email thread, a chat session)."""
    return f"key:{key}"


def message_thread(platform_message_id: str) -> str:
    """The thread key of a thread started by this message (a post that replies to nothing known)."""
    return f"msg:{platform_message_id}"


def private_thread(customer_id: str) -> str:
    """The thread key of the private conversation a public thread with this customer is taken to."""
    return f"private:{customer_id}"


# Thread keys are namespaced so that a message id can never collide with a channel's thread key.
THREAD_KEY_WIDTH = 220
# The longest reply each network takes (public post or comment, private message); other channels: MAX_REPLY.
REPLY_LIMITS: dict[str, dict[str, int]] = {
    "x": {"public": 280, "private": 10_000},
    "instagram": {"public": 2_200, "private": 1_000},
    "facebook": {"public": 8_000, "private": 2_000},
}


class Status(StrEnum):
    NEW = "new"  # waiting in a queue, nobody works it yet
    OPEN = "open"  # an agent works it
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Visibility(StrEnum):
    PUBLIC = "public"  # a post everyone sees
    PRIVATE = "private"  # a direct message
    NOTE = "note"  # internal, never delivered


@dataclasses.dataclass
class Message:
    id: str
    conversation_id: str
    channel_account_id: str
    direction: Direction
    visibility: Visibility
    text: str
    created_at: datetime
    received_at: datetime
    platform_message_id: str | None = None
    reply_to_platform_id: str | None = None
    author_external_id: str | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    raw: dict[str, Any] | None = None
    sentiment_label: str | None = None
    sentiment_score: float | None = None
    delivery_status: str | None = None  # outbound only: queued, delivered, failed, external
    language: str | None = None  # ISO 639-1, "und" when the text says too little
    pii: tuple[str, ...] = ()  # kinds of personal data in the text: card, email, phone, reference
    masked_text: str | None = None  # the text with its personal data masked, when it has any
    triage: dict[str, Any] | None = None  # inbound: angry, noise, action, category, priority (docs/triage.md)


@dataclasses.dataclass
class Conversation:
    id: str
    channel_account_id: str
    customer_id: str | None  # None: an outbound-only thread whose recipient never wrote in
    thread_key: str
    queue_id: str
    created_at: datetime
    last_message_at: datetime
    status: Status = Status.NEW
    priority: float = 0.0
    assignee_id: str | None = None
    tags: set[str] = dataclasses.field(default_factory=set)
    private_conversation_id: str | None = None
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    sentiment_label: str | None = None
    category: str | None = None
    angry: bool = False
    action: str | None = None  # the response policy's decision: answer | acknowledge | ignore | take_private
    priority_explanation: dict[str, Any] | None = None
    version: int = 0
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    # -- arrival -----------------------------------------------------------------------------------
    @classmethod
    def start(
        cls, *, id: str, message: Message, customer_id: str | None, thread_key: str, queue_id: str, actor: str
    ) -> Conversation:
        conversation = cls(
            id=id,
            channel_account_id=message.channel_account_id,
            customer_id=customer_id,
            thread_key=thread_key,
            queue_id=queue_id,
            created_at=message.created_at,
            last_message_at=message.created_at,
        )
        conversation.events.append(
            ev.ConversationCreated(
                occurred_at=message.created_at,
                actor=actor,
                conversation_id=id,
                channel_account_id=message.channel_account_id,
                customer_id=customer_id,
                thread_key=thread_key,
            )
        )
        return conversation

    def triage(
        self,
        *,
        queue_id: str,
        priority: float,
        rule: str | None,
        sentiment: tuple[str, float],
        at: datetime,
        category: str | None = None,
        angry: bool = False,
        action: str | None = None,
        explanation: dict[str, Any] | None = None,
    ) -> None:
        """Where the conversation waits and how urgent it is, with triage's reasons (docs/triage.md)."""
        self.queue_id = queue_id
        self.priority = priority
        self.category = category
        self.angry = angry
        self.action = action
        self.priority_explanation = explanation
        self.events.append(
            ev.ConversationTriaged(
                occurred_at=at,
                actor="system:triage",
                conversation_id=self.id,
                queue_id=queue_id,
                priority=priority,
                sentiment_label=sentiment[0],
                sentiment_score=sentiment[1],
                matched_rule=rule,
                category=category,
                angry=angry,
                action=action,
                explanation=explanation,
            )
        )

    def escalate(
        self,
        *,
        priority: float,
        angry: bool,
        explanation: dict[str, Any] | None,
        sentiment: tuple[str, float],
        at: datetime,
    ) -> None:
        """A later message in the thread is more urgent than what it had: its priority and reasons win."""
        if priority <= self.priority and (self.angry or not angry):
            return
        self.triage(
            queue_id=self.queue_id,
            priority=max(priority, self.priority),
            rule="escalated by a later message",
            sentiment=sentiment,
            at=at,
            category=self.category,
            angry=self.angry or angry,
            action=self.action,
            explanation=explanation if priority > self.priority else self.priority_explanation,
        )

    def receive(self, message: Message, *, actor: str) -> None:
        """An inbound customer message joins the thread; a resolved thread reopens."""
        if message.direction is not Direction.INBOUND or message.customer_id is None:
            raise InvalidInput("receive() takes inbound messages from a known customer only")
        if self.status is Status.RESOLVED:
            self._reopen(at=message.created_at, actor=actor)
        elif self.status is Status.PENDING:
            self.status = Status.OPEN if self.assignee_id else Status.NEW
        if self.first_inbound_at is None:
            self.first_inbound_at = message.created_at
        self.last_message_at = max(self.last_message_at, message.created_at)
        self.sentiment_label = message.sentiment_label
        self.events.append(
            ev.MessageReceived(
                occurred_at=message.created_at,
                actor=actor,
                conversation_id=self.id,
                message_id=message.id,
                channel_account_id=message.channel_account_id,
                customer_id=message.customer_id,
                visibility=message.visibility.value,
                sentiment_label=message.sentiment_label or "neutral",
                sentiment_score=message.sentiment_score or 0.0,
                language=message.language,
                pii=message.pii,
            )
        )
        if message.pii and message.visibility is Visibility.PUBLIC:
            # Personal data posted in public: agents must see it at once and take the thread private.
            self.tag(add={"personal-data"}, remove=set(), at=message.created_at, actor="system:triage")

    # -- agent work --------------------------------------------------------------------------------
    def send(self, message: Message, *, actor: str) -> None:
        """An outbound reply (by an agent, or by the brand in imported history)."""
        if message.direction is not Direction.OUTBOUND or message.visibility is Visibility.NOTE:
            raise InvalidInput("send() takes outbound public or private replies only")
        first = (
            self.first_response_at is None
            and self.first_inbound_at is not None
            and message.created_at >= self.first_inbound_at
        )
        if first:
            self.first_response_at = message.created_at
        self.last_message_at = max(self.last_message_at, message.created_at)
        if self.status is Status.RESOLVED:
            self._reopen(at=message.created_at, actor=actor)  # writing to the customer again reopens it
        self.status = Status.PENDING  # answered: now the customer's turn
        self.events.append(
            ev.MessageSent(
                occurred_at=message.created_at,
                actor=actor,
                conversation_id=self.id,
                message_id=message.id,
                channel_account_id=message.channel_account_id,
                visibility=message.visibility.value,
                agent_id=message.agent_id,
                first_response=first,
            )
        )

    def add_note(self, message: Message, *, agent_id: str) -> None:
        if message.visibility is not Visibility.NOTE:
            raise InvalidInput("a note must have visibility 'note'")
        self.events.append(
            ev.NoteAdded(
                occurred_at=message.created_at,
                actor=f"agent:{agent_id}",
                conversation_id=self.id,
                message_id=message.id,
                agent_id=agent_id,
            )
        )

    def assign(self, agent_id: str, *, at: datetime, actor: str) -> None:
        if self.status is Status.RESOLVED:
            raise Conflict(f"conversation {self.id} is resolved; reopen it first")
        previous = self.assignee_id
        if previous == agent_id:
            return
        self.assignee_id = agent_id
        self.events.append(
            ev.ConversationAssigned(
                occurred_at=at,
                actor=actor,
                conversation_id=self.id,
                agent_id=agent_id,
                queue_id=self.queue_id,
                previous_agent_id=previous,
            )
        )

    def ensure_workable_by(self, agent_id: str, *, supervisor: bool = False) -> None:
        """Collision detection: only the assignee works an assigned conversation (a supervisor may step in)."""
        if self.assignee_id not in (None, agent_id) and not supervisor:
            raise Conflict(f"conversation {self.id} is being handled by another agent ({self.assignee_id})")

    def accept(self, agent_id: str, *, at: datetime) -> None:
        """The agent takes the work: their offer, or an unassigned conversation picked from the queue."""
        if self.assignee_id not in (None, agent_id):
            raise Conflict(f"conversation {self.id} is assigned to another agent ({self.assignee_id})")
        self.assign(agent_id, at=at, actor=f"agent:{agent_id}")
        if self.status is Status.NEW:
            self.status = Status.OPEN
        self.events.append(
            ev.ConversationAccepted(
                occurred_at=at, actor=f"agent:{agent_id}", conversation_id=self.id, agent_id=agent_id
            )
        )

    def unassign(self, *, at: datetime, actor: str) -> None:
        if self.assignee_id is None:
            return
        previous, self.assignee_id = self.assignee_id, None
        self.events.append(
            ev.ConversationUnassigned(occurred_at=at, actor=actor, conversation_id=self.id, agent_id=previous)
        )

    def tag(self, *, add: set[str], remove: set[str], at: datetime, actor: str) -> None:
        clean_add = {t.strip().lower() for t in add if t.strip()}
        clean_remove = {t.strip().lower() for t in remove if t.strip()}
        added = clean_add - self.tags
        removed = clean_remove & self.tags
        if not added and not removed:
            return
        self.tags = (self.tags | added) - removed
        self.events.append(
            ev.ConversationTagged(
                occurred_at=at,
                actor=actor,
                conversation_id=self.id,
                added=tuple(sorted(added)),
                removed=tuple(sorted(removed)),
            )
        )

    def transfer(self, queue_id: str, *, at: datetime, actor: str) -> None:
        """Move to another queue: it leaves its agent and waits there to be routed again."""
        if queue_id == self.queue_id:
            raise Conflict(f"conversation {self.id} is already in queue {queue_id}")
        if self.status is Status.RESOLVED:
            raise Conflict(f"conversation {self.id} is resolved; reopen it first")
        previous_queue = self.queue_id
        self.unassign(at=at, actor=actor)
        self.queue_id = queue_id
        self.status = Status.NEW
        self.events.append(
            ev.ConversationTransferred(
                occurred_at=at,
                actor=actor,
                conversation_id=self.id,
                from_queue_id=previous_queue,
                to_queue_id=queue_id,
            )
        )

    def resolve(self, *, at: datetime, actor: str) -> None:
        if self.status is Status.RESOLVED:
            raise Conflict(f"conversation {self.id} is already resolved")
        self.status = Status.RESOLVED
        self.events.append(ev.ConversationResolved(occurred_at=at, actor=actor, conversation_id=self.id))

    def reopen(self, *, at: datetime, actor: str) -> None:
        if self.status is not Status.RESOLVED:
            raise Conflict(f"conversation {self.id} is not resolved")
        self._reopen(at=at, actor=actor)

    def _reopen(self, *, at: datetime, actor: str) -> None:
        self.status = Status.OPEN if self.assignee_id else Status.NEW
        self.events.append(ev.ConversationReopened(occurred_at=at, actor=actor, conversation_id=self.id))

    def link_private(self, private_conversation_id: str, *, at: datetime, actor: str) -> None:
        self.private_conversation_id = private_conversation_id
        self.events.append(
            ev.ConversationTakenPrivate(
                occurred_at=at,
                actor=actor,
                conversation_id=self.id,
                private_conversation_id=private_conversation_id,
            )
        )


# Channels whose only audience is the customer: a reply there is private whatever the agent chose (the API's
# default is public), so it is delivered, counted and windowed as the private message it is.
SINGLE_AUDIENCE = frozenset({"email", "webchat", "voice"})


def reply_visibility(channel: str, visibility: str) -> str:
    """The visibility a reply really has on this channel."""
    return "private" if channel in SINGLE_AUDIENCE else visibility


def reply_limit(channel: str, visibility: str, default: int) -> int:
    """How long a reply on this channel may be (the network refuses longer ones)."""
    return REPLY_LIMITS.get(channel, {}).get(visibility, default)


MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})")


def mentioned(text: str, people: Iterable[tuple[str, str, str]]) -> list[str]:
    """The ids of the people an internal note @mentions. `people` are (id, name, email); "@ana" names the one
    whose email starts "ana@", whose name without spaces is "ana" (any case), or, when only one has it, whose
    first name is "Ana"."""
    tokens = {token.casefold().rstrip("._-") for token in MENTION.findall(text)}
    if not tokens:
        return []
    found: list[str] = []
    first_names: dict[str, list[str]] = {}
    listed = list(people)
    for person_id, name, _email in listed:
        first_names.setdefault(name.split()[0].casefold() if name.split() else "", []).append(person_id)
    for person_id, name, email in listed:
        keys = {email.split("@", 1)[0].casefold(), "".join(name.split()).casefold()}
        first = name.split()[0].casefold() if name.split() else ""
        if len(first_names.get(first, [])) == 1:
            keys.add(first)
        if tokens & keys:
            found.append(person_id)
    return found


# Meta's standard messaging window: a private message to a customer on Messenger or Instagram must follow their
# own last message within 24 hours (docs/channels.md); public comment replies have no window.
REPLY_WINDOWS: dict[str, timedelta] = {"facebook": timedelta(hours=24), "instagram": timedelta(hours=24)}
# Meta's human-agent tag: an account granted the permission (account config ``human_agent``) may have a person
# answer for 7 days after the customer's last message (docs/channels.md#facebook-and-instagram).
HUMAN_AGENT_WINDOWS: dict[str, timedelta] = {"facebook": timedelta(days=7), "instagram": timedelta(days=7)}
# The conversation page warns this long before a reply window closes.
REPLY_WINDOW_WARNING = timedelta(hours=1)


def reply_window_closes(
    channel: str, visibility: str, last_customer_message_at: datetime | None, *, human_agent: bool = False
) -> datetime | None:
    """When the network stops taking this private reply (None: no window applies, or the customer never wrote);
    ``human_agent``: the account may use Meta's human-agent tag, which keeps the window open 7 days."""
    window = (HUMAN_AGENT_WINDOWS if human_agent else {}).get(channel) or REPLY_WINDOWS.get(channel)
    if window is None or visibility != "private" or last_customer_message_at is None:
        return None
    return last_customer_message_at + window


def human_agent_allowed(config: dict[str, Any]) -> bool:
    """Whether a channel account's settings say Meta granted it the human-agent permission."""
    return config.get("human_agent") is True
