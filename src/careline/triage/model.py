"""What triage concludes about a message, and the ports its analysers implement (docs/triage.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from careline.triage.policy import Action, PolicyRule
from careline.triage.priority import Priority


@dataclasses.dataclass(frozen=True)
class Sentiment:
    label: str  # negative | neutral | positive
    score: float  # -1 (most negative) .. +1 (most positive)


class SentimentAnalyser(Protocol):
    def analyse(self, text: str) -> Sentiment:
        """The sentiment of one message's text."""
        ...


@dataclasses.dataclass(frozen=True)
class Post:
    """A post as triage sees it; platform data a channel does not send stays None."""

    text: str
    channel: str = "x"
    public: bool = True
    account: str | None = None  # the channel account's id: its own response policy applies
    followers: int | None = None
    verified: bool = False
    engagements: int | None = None  # likes + reposts + replies so far
    posted_at: datetime | None = None
    customer_tier: str | None = None
    author_is_bot: bool = False
    policy: tuple[PolicyRule, ...] | None = None  # the account's response policy; None: the defaults


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Everything triage concludes about one post."""

    sentiment: str
    sentiment_score: float
    angry: bool
    category: str | None  # None: no category, or not confident enough (a person decides)
    category_confidence: float
    language: str
    pii: tuple[str, ...]
    masked_text: str | None
    noise: str | None
    action: Action
    policy_rule: str
    priority: Priority
    suggested_reply: str | None

    @property
    def needs_human_triage(self) -> bool:
        """A complaint the category model could not place confidently: people route it (stage 2)."""
        return self.category is None and self.sentiment == "negative" and self.noise is None

    def as_json(self) -> dict[str, Any]:
        """The `careline classify` line, and the triage the API shows."""
        return {
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "angry": self.angry,
            "category": self.category,
            "category_confidence": self.category_confidence,
            "language": self.language,
            "pii": list(self.pii),
            "masked_text": self.masked_text,
            "noise": self.noise,
            "action": self.action.value,
            "policy_rule": self.policy_rule,
            "priority": self.priority.score,
            "explanation": self.priority.explanation(),
            "suggested_reply": self.suggested_reply,
        }


class Triager(Protocol):
    def assess_many(self, posts: Sequence[Post], now: datetime | None = None) -> list[Verdict]:
        """The verdict on each post, in order (one batch: models score many posts at once)."""
        ...


@dataclasses.dataclass
class ListeningRule:
    """A saved search over the incoming stream (docs/listening.md): what it matches and what a match does."""

    id: str
    name: str
    query: str  # the boolean query (triage/listening.py); parsed when created, so a stored query is valid
    created_at: datetime
    queue_id: str | None = None  # a new conversation it matches waits in this queue
    priority_points: float = 0.0  # added to the priority of what it matches
    tags: tuple[str, ...] = ()
    alert: bool = False  # raise an alert (once an hour) when it matches
    active: bool = True
    created_by: str | None = None


@dataclasses.dataclass(frozen=True)
class ListeningMatch:
    rule_id: str
    message_id: str
    conversation_id: str
    terms: tuple[str, ...]  # the rule's terms the post contains: why it matched
    matched_at: datetime


@dataclasses.dataclass
class Category:
    """A category of the user's own (a skill queue's kind of work): learned from its keywords, its example posts
    and every conversation an agent tags with its name (docs/triage.md#categories)."""

    id: str
    name: str
    created_at: datetime
    description: str = ""
    keywords: tuple[str, ...] = ()
    queue_id: str | None = None  # a new conversation confidently in this category waits in this queue
    priority_points: float = 0.0


@dataclasses.dataclass(frozen=True)
class CategoryExample:
    id: int
    category: str  # the category's name
    text: str
    source: str  # example | tag


class CategoryModel(Protocol):
    def classify_many(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        """(category, confidence) per text; None when no category is confident enough."""
        ...
