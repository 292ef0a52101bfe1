"""The priority score of a post and its explanation (docs/triage.md#priority).

A score from 0 (whenever there is time) to 100 (now) is the sum of a base and one contribution per feature:
how negative and how angry the customer is, personal data exposed in public, the complaint's category, the
author's reach (followers, verified), how fast the post is spreading (engagement per minute), the customer's
tier and how long the post has waited against its first-response target; noise (retweets, spam, promotions)
and praise that only needs an acknowledgement score lower. Every contribution is kept, so that an agent and
a supervisor can see why one post outranks another; the weights are plain data an admin can override.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from careline.kernel.errors import InvalidInput

MIN_SCORE, MAX_SCORE = 0.0, 100.0


@dataclasses.dataclass(frozen=True)
class PriorityWeights:
    """Points per feature; the defaults rank an angry customer exposing a card above a calm question."""

    base: float = 30.0
    negative: float = 25.0  # times how negative the sentiment is (score -1 .. 0)
    positive: float = -5.0  # times how positive it is (score 0 .. 1): praise can wait a little
    angry: float = 15.0
    personal_data_public: float = 15.0
    influence: float = 15.0  # at a million followers; log scale, nothing below a hundred
    verified: float = 5.0
    velocity: float = 15.0  # at 100 engagements per minute; log scale
    waiting: float = 20.0  # reached when the first-response target is due
    noise: float = -25.0
    acknowledge_only: float = -10.0
    tiers: Mapping[str, float] = dataclasses.field(default_factory=lambda: {"vip": 15.0, "gold": 8.0, "silver": 4.0})
    categories: Mapping[str, float] = dataclasses.field(default_factory=dict)  # category name -> points

    def __post_init__(self) -> None:
        if not _number_within(self.base, MIN_SCORE, MAX_SCORE):
            raise InvalidInput("priority weight 'base' must be a number between 0 and 100")
        for field in dataclasses.fields(self):
            if field.name not in ("base", "tiers", "categories"):
                _check_points(field.name, getattr(self, field.name))
        # Names are matched without regard to case: an admin's "VIP" is the pipeline's "vip".
        object.__setattr__(self, "tiers", _points_by_name("tiers", self.tiers))
        object.__setattr__(self, "categories", _points_by_name("categories", self.categories))


def _number_within(value: object, low: float, high: float) -> bool:
    """A real, finite number (not a bool) between ``low`` and ``high``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _check_points(name: str, value: object) -> None:
    if not _number_within(value, -MAX_SCORE, MAX_SCORE):
        raise InvalidInput(f"priority weight {name!r} must be a number between -100 and 100")


def _points_by_name(what: str, points: object) -> dict[str, float]:
    if not isinstance(points, Mapping):
        raise InvalidInput(f"priority weights {what!r} must map names to points")
    normalised: dict[str, float] = {}
    for name, value in points.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"priority weights {what!r} need non-empty names, not {name!r}")
        _check_points(name, value)
        normalised[name.strip().casefold()] = float(value)
    return normalised


@dataclasses.dataclass(frozen=True)
class PrioritySignals:
    """What triage knows about a post when it is scored (missing platform data is None, never guessed)."""

    sentiment: str = "neutral"
    sentiment_score: float = 0.0
    angry: bool = False
    public: bool = True
    personal_data: tuple[str, ...] = ()
    category: str | None = None
    followers: int | None = None
    verified: bool = False
    engagements: int | None = None  # likes + reposts + replies, when the platform reports them
    posted_at: datetime | None = None
    noise: str | None = None  # retweet | spam | promotion | bot, when the post is noise
    acknowledge_only: bool = False
    customer_tier: str | None = None
    waiting_minutes: float = 0.0
    first_response_target_minutes: float | None = None


@dataclasses.dataclass(frozen=True)
class Contribution:
    feature: str
    value: str  # the observed value, in words
    points: float

    def as_dict(self) -> dict[str, object]:
        return {"feature": self.feature, "value": self.value, "points": self.points}


@dataclasses.dataclass(frozen=True)
class Priority:
    score: float
    base: float
    contributions: tuple[Contribution, ...]

    def explanation(self) -> dict[str, object]:
        """The score, its base and each feature's points, largest effect first (what the API and UI show)."""
        ranked = sorted(self.contributions, key=lambda c: (-abs(c.points), c.feature))
        return {"score": self.score, "base": self.base, "features": [c.as_dict() for c in ranked]}

    @property
    def features(self) -> list[str]:
        return [c.feature for c in self.contributions]


def score(signals: PrioritySignals, now: datetime | None = None, weights: PriorityWeights | None = None) -> Priority:
    """The priority of a post and why; ``now`` is needed only for velocity (engagement per minute)."""
    w = weights or PriorityWeights()
    parts = [
        *_mood(signals, w),
        *_reach(signals, now, w),
        *_account(signals, w),
    ]
    contributions = tuple(Contribution(feature, value, round(points, 2)) for feature, value, points in parts if points)
    total = w.base + sum(c.points for c in contributions)
    return Priority(round(min(MAX_SCORE, max(MIN_SCORE, total)), 2), w.base, contributions)


_Part = tuple[str, str, float]


def _mood(signals: PrioritySignals, w: PriorityWeights) -> list[_Part]:
    """What the post says: sentiment, anger, exposed personal data, the complaint's category, noise, praise."""
    parts: list[_Part] = []
    sentiment = signals.sentiment.lower()
    # A model that could not score (NaN) says nothing about strength; the label alone still counts a little.
    strength = max(-1.0, min(1.0, signals.sentiment_score)) if math.isfinite(signals.sentiment_score) else 0.0
    if sentiment == "negative":
        parts.append(("sentiment", f"negative ({strength:+.2f})", w.negative * max(0.2, -strength)))
    elif sentiment == "positive":
        parts.append(("sentiment", f"positive ({strength:+.2f})", w.positive * max(0.2, strength)))
    if signals.angry:
        parts.append(("angry", "strong negative emotion", w.angry))
    if signals.personal_data and signals.public:
        kinds = ", ".join(signals.personal_data)
        parts.append(("personal_data_public", f"{kinds} in a public post", w.personal_data_public))
    if signals.category and signals.category.casefold() in w.categories:
        parts.append(("category", signals.category, w.categories[signals.category.casefold()]))
    if signals.noise:
        parts.append(("noise", signals.noise, w.noise))
    elif signals.acknowledge_only:
        parts.append(("acknowledge_only", "praise or thanks", w.acknowledge_only))
    return parts


def _reach(signals: PrioritySignals, now: datetime | None, w: PriorityWeights) -> list[_Part]:
    """Who sees it: the author's followers, a verified badge, and how fast it spreads."""
    parts: list[_Part] = []
    if signals.followers is not None:
        reach = _log_scale(signals.followers, 100, 1e6)
        parts.append(("influence", f"{signals.followers:,} followers", w.influence * reach))
    if signals.verified:
        parts.append(("verified", "verified account", w.verified))
    velocity = engagement_velocity(signals.engagements, signals.posted_at, now)
    if velocity is not None:
        parts.append(("velocity", f"{velocity:.1f} engagements/min", w.velocity * _log_scale(velocity, 1, 100)))
    return parts


def _account(signals: PrioritySignals, w: PriorityWeights) -> list[_Part]:
    """The customer's tier and how much of the first-response target the post has already used."""
    parts: list[_Part] = []
    tier = (signals.customer_tier or "").strip().casefold()
    if tier in w.tiers:
        parts.append(("customer_tier", tier, w.tiers[tier]))
    target, waited = signals.first_response_target_minutes, signals.waiting_minutes
    if target is not None and math.isfinite(target) and target > 0 and math.isfinite(waited) and waited > 0:
        share = min(1.0, waited / target)  # overdue is as urgent as due: the queue orders overdue posts by age
        parts.append(("waiting", f"{waited:.0f} of {target:.0f} min", w.waiting * share))
    return parts


def engagement_velocity(engagements: int | None, posted_at: datetime | None, now: datetime | None) -> float | None:
    """Engagements per minute since the post went up; None when unknown.

    The elapsed time counts at least one minute, so that a post seconds old (or stamped slightly in the future
    by a skewed platform clock) is fast, not infinite. A naive timestamp is read as UTC, the platform's clock.
    """
    if engagements is None or posted_at is None or now is None or engagements < 0:
        return None
    if engagements == 0:
        return 0.0
    minutes = max(1.0, (_as_utc(now) - _as_utc(posted_at)).total_seconds() / 60.0)
    return engagements / minutes


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _log_scale(value: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, logarithmic between (reach grows by orders of magnitude)."""
    if not value > low:  # also NaN
        return 0.0
    return min(1.0, math.log10(value / low) / math.log10(high / low))
