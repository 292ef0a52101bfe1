"""What the HTTP API accepts (XCreate / XUpdate) and returns (XPublic) (docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from careline.agents.model import Agent, Queue
from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.ingestion.model import InboundMessage
from careline.triage.policy import DEFAULT_RULES


def no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: refuse it here (422) rather than fail in the database (500)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


# Strings as wide as their columns, without NUL.
ExternalId = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]  # ids on a channel
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]
Ref = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]  # an id or a name to look up
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(no_nul)]
ChannelKind = Annotated[str, StringConstraints(max_length=16), AfterValidator(no_nul)]
Label = Annotated[str, StringConstraints(max_length=100), AfterValidator(no_nul)]  # skills, tags, keywords
Text = Annotated[str, AfterValidator(no_nul)]  # replies and notes: the command checks their length
Password = Annotated[str, StringConstraints(max_length=1024)]  # never stored: only its Argon2id hash is

# Integers within what the columns hold (PostgreSQL refuses what SQLite would store) and what makes sense.
MAX_TARGET_SECONDS = 10**8  # about three years
MAX_RANK = 10**6
MAX_CAPACITY = 1000
Capacity = Annotated[int, Field(ge=0, le=MAX_CAPACITY)]


class Input(BaseModel):
    """Request bodies: unknown fields are ignored, so clients may send more than we read."""

    model_config = ConfigDict(extra="ignore")


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """``body.text: Field required; query.limit: ...`` from pydantic's errors, for a ``detail``."""
    parts = []
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg')}" if location else str(error.get("msg")))
    return "; ".join(parts)


# -- auth and agents ---------------------------------------------------------------------------------
class TokenCreate(Input):
    email: Email
    password: Password


class AgentPublic(BaseModel):
    id: str
    name: str
    email: str
    role: str
    skills: list[str]
    capacity: dict[str, int]
    status: str

    @classmethod
    def of(cls, agent: Agent) -> AgentPublic:
        return cls(
            id=agent.id,
            name=agent.name,
            email=agent.email,
            role=agent.role.value,
            skills=sorted(agent.skills),
            capacity=dict(agent.capacity),
            status=agent.status.value,
        )


class TokenPublic(BaseModel):
    token: str
    agent: AgentPublic


class StatusUpdate(Input):
    status: Literal["online", "busy", "away", "offline"]


class AgentCreate(Input):
    name: Name
    email: Email
    password: Password | None = None
    role: Literal["admin", "supervisor", "agent", "social", "integration"] = "agent"
    skills: Annotated[list[Label], Field(max_length=100)] = []
    capacity: Annotated[dict[ChannelKind, Capacity], Field(max_length=100)] = {}  # channel kind (or default) -> n


# -- inbound messages --------------------------------------------------------------------------------
class MessageCreate(Input):
    """One inbound (or brand-authored, for history) message, validated on its own within a batch."""

    channel: ChannelKind
    account: ExternalId
    platform_message_id: ExternalId
    author_id: ExternalId
    author_name: ExternalId | None = None
    text: str
    created_at: AwareDatetime | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    visibility: Literal["public", "private"] = "public"
    reply_to: ExternalId | None = None
    thread_key: ExternalId | None = None
    raw: dict[str, Any] | None = None
    author_followers: Annotated[int, Field(ge=0, le=10**10)] | None = None
    author_verified: bool = False
    engagements: Annotated[int, Field(ge=0, le=10**10)] | None = None  # likes + reposts + replies so far

    def to_inbound(self) -> InboundMessage:
        return InboundMessage(
            channel=self.channel,
            account=self.account,
            platform_message_id=self.platform_message_id,
            author_id=self.author_id,
            text=self.text,
            created_at=self.created_at,
            direction=self.direction,
            visibility=self.visibility,
            author_name=self.author_name,
            reply_to=self.reply_to,
            thread_key=self.thread_key,
            raw=self.raw,
            author_followers=self.author_followers,
            author_verified=self.author_verified,
            engagements=self.engagements,
        )


class IngestItemPublic(BaseModel):
    index: int
    status: Literal["created", "duplicate", "rejected"]
    message_id: str | None = None
    conversation_id: str | None = None
    error: str | None = None


class IngestPublic(BaseModel):
    results: list[IngestItemPublic]
    created: int
    duplicates: int
    rejected: int
    detail: str | None = None  # set when something was rejected: the problems, by index


# -- conversations -----------------------------------------------------------------------------------
class MessagePublic(BaseModel):
    id: str
    direction: str
    visibility: str
    text: str  # with personal data masked when it has any (then ``masked`` is true)
    masked: bool = False
    pii: list[str] | None = None  # kinds of personal data found: card, email, phone, reference
    language: str | None = None
    author_external_id: str | None
    customer_id: str | None
    agent_id: str | None
    created_at: datetime
    platform_message_id: str | None
    reply_to_platform_id: str | None
    sentiment_label: str | None
    sentiment_score: float | None
    delivery_status: str | None
    triage: dict[str, Any] | None = None  # inbound: angry, category, noise, policy action, priority


class PriorityFeature(BaseModel):
    feature: str  # sentiment, angry, personal_data_public, category, influence, verified, velocity, ...
    value: str  # what was observed, in words
    points: float  # how much it added to (or took from) the score


class PriorityExplanation(BaseModel):
    score: float
    base: float
    features: list[PriorityFeature]  # largest effect first


class ConversationPublic(BaseModel):
    id: str
    channel: str
    account: str
    customer_id: str | None
    status: str
    priority: float
    queue: str
    assignee_id: str | None
    tags: list[str]
    created_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None
    sentiment: str | None
    angry: bool = False
    category: str | None = None
    action: str | None = None  # the response policy: answer | acknowledge | ignore | take_private
    priority_explanation: PriorityExplanation | None = None
    private_conversation_id: str | None
    version: int


class ConversationDetail(ConversationPublic):
    messages: list[MessagePublic]
    # Messenger and Instagram: a private message must follow the customer's last one within 24 hours
    reply_window_closes_at: datetime | None = None


class ConversationPage(BaseModel):
    items: list[ConversationPublic]
    total: int


class EventPublic(BaseModel):
    seq: int
    type: str
    actor: str
    occurred_at: datetime
    data: dict[str, Any]


class ReplyCreate(Input):
    text: Text
    visibility: Literal["public", "private"] = "public"


class NoteCreate(Input):
    text: Text


class TagsUpdate(Input):
    add: Annotated[list[Label], Field(max_length=100)] = []
    remove: Annotated[list[Label], Field(max_length=100)] = []


class TransferCreate(Input):
    queue: Ref


# -- administration ----------------------------------------------------------------------------------
class QueueCreate(Input):
    name: Annotated[str, StringConstraints(max_length=64), AfterValidator(no_nul)]
    keywords: Annotated[list[Label], Field(max_length=1000)] = []
    required_skills: Annotated[list[Label], Field(max_length=100)] = []
    first_response_target_seconds: Annotated[int, Field(ge=1, le=MAX_TARGET_SECONDS)] = 3600
    rank: Annotated[int, Field(ge=-MAX_RANK, le=MAX_RANK)] = 100
    is_default: bool = False
    is_triage: bool = False  # complaints triage cannot place confidently wait here for a person


class QueuePublic(BaseModel):
    id: str
    name: str
    keywords: list[str]
    required_skills: list[str]
    first_response_target_seconds: int
    rank: int
    is_default: bool
    is_triage: bool = False

    @classmethod
    def of(cls, queue: Queue) -> QueuePublic:
        return cls(
            id=queue.id,
            name=queue.name,
            keywords=list(queue.keywords),
            required_skills=sorted(queue.required_skills),
            first_response_target_seconds=queue.first_response_target_seconds,
            rank=queue.rank,
            is_default=queue.is_default,
            is_triage=queue.is_triage,
        )


class ChannelAccountCreate(Input):
    kind: ChannelKind
    name: Name
    callback_url: Annotated[str, StringConstraints(max_length=2000), AfterValidator(no_nul)] | None = None


SecretName = Annotated[str, StringConstraints(max_length=64)]
SecretValue = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class ChannelSecretsUpdate(Input):
    """All of the account's secrets (replacing those it had); ``{}`` removes them (docs/channels.md#credentials)."""

    secrets: dict[SecretName, SecretValue] = Field(max_length=20)


class ChannelAccountPublic(BaseModel):
    id: str
    kind: str
    name: str
    callback_url: str | None
    created_at: datetime
    secrets: dict[str, str] = Field(description="each secret masked: its last 4 characters at most, never whole")
    secrets_error: str | None = Field(default=None, description="why the secrets cannot be read, when they cannot")

    @classmethod
    def of(cls, account: ChannelAccount) -> ChannelAccountPublic:
        try:
            masked, error = {name: mask(value) for name, value in account.secrets.items()}, None
        except SecretsUnreadable as unreadable:
            masked, error = dict.fromkeys(account.secrets.names, MASK), str(unreadable)
        return cls(
            id=account.id,
            kind=account.kind.value,
            name=account.name,
            callback_url=account.callback_url,
            created_at=account.created_at,
            secrets=masked,
            secrets_error=error,
        )


MASK = "\u2022\u2022\u2022\u2022"


def mask(secret: str) -> str:
    """``••••abcd``: the last 4 characters tell two secrets apart; shorter secrets than 16 show none of them."""
    return MASK + secret[-4:] if len(secret) >= 16 else MASK


# -- customers ---------------------------------------------------------------------------------------
class IdentityPublic(BaseModel):
    channel: str
    external_id: str
    handle: str | None


class CustomerPublic(BaseModel):
    id: str
    display_name: str
    tier: str
    merged_into_id: str | None
    identities: list[IdentityPublic]


class TierUpdate(Input):
    tier: Annotated[str, StringConstraints(max_length=32)]


class CustomerMerge(Input):
    into: Ref


# -- response policy ---------------------------------------------------------------------------------
class PolicyUpdate(Input):
    rules: Annotated[list[dict[str, Any]], Field(max_length=50)]


class PolicyPublic(BaseModel):
    rules: list[dict[str, Any]]
    defaults: bool  # true: the account has no rules of its own, these are the built-in ones

    @classmethod
    def of(cls, rules: list[dict[str, Any]] | None) -> PolicyPublic:
        if rules:
            return cls(rules=rules, defaults=False)
        defaults = [{"name": r.name, "action": r.action.value, "when": dict(r.when)} for r in DEFAULT_RULES]
        return cls(rules=defaults, defaults=True)
