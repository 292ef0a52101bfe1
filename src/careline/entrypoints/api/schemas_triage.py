"""Request and response bodies of triage: listening rules, alerts and their subscriptions (docs/api.md#triage)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from careline.alerts.ports import Subscription
from careline.entrypoints.api.schemas import Input, Label, Name, Ref, no_nul
from careline.triage.model import Category, ListeningRule

Query = Annotated[str, StringConstraints(max_length=2000), AfterValidator(no_nul)]
Points = Annotated[float, Field(ge=-50, le=50, allow_inf_nan=False)]
Tags = Annotated[list[Label], Field(max_length=20)]


class ListeningRuleCreate(Input):
    name: Name
    query: Query
    queue: Ref | None = None  # a queue's name or id: new conversations it matches wait there
    priority_points: Points = 0.0
    tags: Tags = []
    alert: bool = False


class ListeningRuleUpdate(Input):
    name: Name | None = None
    query: Query | None = None
    queue: Ref | None = None
    clear_queue: bool = False
    priority_points: Points | None = None
    tags: Tags | None = None
    alert: bool | None = None
    active: bool | None = None


class ListeningRulePublic(BaseModel):
    id: str
    name: str
    query: str
    queue_id: str | None
    priority_points: float
    tags: list[str]
    alert: bool
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, rule: ListeningRule) -> ListeningRulePublic:
        return cls(
            id=rule.id,
            name=rule.name,
            query=rule.query,
            queue_id=rule.queue_id,
            priority_points=rule.priority_points,
            tags=list(rule.tags),
            alert=rule.alert,
            active=rule.active,
            created_at=rule.created_at,
        )


class StreamItemPublic(BaseModel):
    """A post a listening rule matched, with the terms that made it match (its text masked if it holds data)."""

    message_id: str
    conversation_id: str
    text: str
    terms: list[str]
    sentiment: str | None
    created_at: datetime
    matched_at: datetime


class StreamPage(BaseModel):
    rule: ListeningRulePublic
    items: list[StreamItemPublic]
    total: int


class TriageRequest(Input):
    """Texts to triage without storing anything (a preview, or a quick check from another tool)."""

    texts: Annotated[
        list[Annotated[str, StringConstraints(max_length=20_000), AfterValidator(no_nul)]],
        Field(min_length=1, max_length=1000),
    ]
    channel: Literal["x", "facebook", "instagram", "email", "webchat", "voice", "api"] = "x"
    public: bool = True


class AlertPublic(BaseModel):
    id: str
    kind: str
    rule: str
    key: str
    severity: str
    title: str
    post_ids: list[str]
    details: dict[str, Any]
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class AlertSubscriptionCreate(Input):
    kind: Literal["webhook", "email"]
    target: Annotated[str, StringConstraints(max_length=2000), AfterValidator(no_nul)]
    min_severity: Literal["info", "warning", "critical"] = "warning"


class AlertSubscriptionPublic(BaseModel):
    id: str
    kind: str
    target: str
    min_severity: str
    created_at: datetime

    @classmethod
    def of(cls, subscription: Subscription) -> AlertSubscriptionPublic:
        return cls(
            id=subscription.id,
            kind=subscription.kind,
            target=subscription.target,
            min_severity=subscription.min_severity,
            created_at=subscription.created_at,
        )


class CategoryCreate(Input):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000), AfterValidator(no_nul)] = ""
    keywords: Annotated[list[Label], Field(max_length=200)] = []
    examples: Annotated[
        list[Annotated[str, StringConstraints(max_length=5000), AfterValidator(no_nul)]], Field(max_length=1000)
    ] = []
    queue: Ref | None = None
    priority_points: Points = 0.0


class CategoryPublic(BaseModel):
    id: str
    name: str
    description: str
    keywords: list[str]
    queue_id: str | None
    priority_points: float
    created_at: datetime
    examples: int = 0  # given with the category
    learned_from_tags: int = 0  # conversations agents tagged with its name

    @classmethod
    def of(cls, category: Category, counts: dict[str, int] | None = None) -> CategoryPublic:
        counts = counts or {}
        return cls(
            id=category.id,
            name=category.name,
            description=category.description,
            keywords=list(category.keywords),
            queue_id=category.queue_id,
            priority_points=category.priority_points,
            created_at=category.created_at,
            examples=counts.get("example", 0),
            learned_from_tags=counts.get("tag", 0),
        )
