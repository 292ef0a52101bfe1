"""The whole triage of a post, batched: sentiment, anger, category, language, personal data, noise, policy,
priority and its explanation (docs/triage.md).

One `Triage` serves the ingestion path, `careline classify` and the benchmark, so that what an agent sees,
what the command prints and what is measured are the same thing. Models score a batch in one call (a
vectorised batch is many times faster per post than one at a time); the rest is per post.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from careline.triage import policy as policies
from careline.triage.classifier import CategoryClassifier, TrainedSentiment, intensity_cue
from careline.triage.language import LanguageDetector
from careline.triage.model import CategoryModel, Post, Verdict
from careline.triage.pii import PiiDetector
from careline.triage.priority import PrioritySignals, PriorityWeights, score

# Without a trained model, VADER's compound score decides; this far below zero with an intensity cue is angry.
VADER_ANGRY_BELOW = -0.05  # VADER's own neutral band: any negative post with an intensity cue


@dataclasses.dataclass(frozen=True)
class _Mood:
    label: str
    score: float
    angry: bool


class Triage:
    """Stateless after construction and safe to share between threads (the models only read)."""

    def __init__(
        self,
        *,
        sentiment: TrainedSentiment | None = None,
        category: CategoryModel | None = None,
        language: LanguageDetector | None = None,
        pii: PiiDetector | None = None,
        weights: PriorityWeights | None = None,
    ) -> None:
        self.sentiment = sentiment
        self.category = category
        self.language = language or LanguageDetector()
        self.pii = pii or PiiDetector()
        self.weights = weights or PriorityWeights()
        self._vader: Any = None

    def assess_many(self, posts: Sequence[Post], now: datetime | None = None) -> list[Verdict]:
        """The verdict on each post, in order; ``now`` measures how fast a post is spreading."""
        if not posts:
            return []
        texts = [p.text for p in posts]
        moods = self._moods(texts)
        categories = self._categories(texts, moods)
        return [
            self._verdict(post, mood, category, now)
            for post, mood, category in zip(posts, moods, categories, strict=True)
        ]

    def assess(self, post: Post, now: datetime | None = None) -> Verdict:
        return self.assess_many([post], now)[0]

    def _moods(self, texts: list[str]) -> list[_Mood]:
        if self.sentiment is not None:
            return [_Mood(a.sentiment.label, a.sentiment.score, a.angry) for a in self.sentiment.assess_many(texts)]
        if self._vader is None:
            from careline.triage.sentiment import VaderSentiment

            self._vader = VaderSentiment()
        moods = []
        for text in texts:
            found = self._vader.analyse(text)
            angry = found.label == "negative" and found.score <= VADER_ANGRY_BELOW and intensity_cue(text)
            moods.append(_Mood(found.label, found.score, angry))
        return moods

    def _categories(self, texts: list[str], moods: list[_Mood]) -> list[tuple[str | None, float]]:
        """Praise belongs to no complaint queue; everything else gets the classifier's answer (or None)."""
        if self.category is None:
            return [(None, 0.0)] * len(texts)
        wanted = [i for i, mood in enumerate(moods) if mood.label != "positive"]
        found = self.category.classify_many([texts[i] for i in wanted])
        result: list[tuple[str | None, float]] = [(None, 0.0)] * len(texts)
        for index, answer in zip(wanted, found, strict=True):
            result[index] = answer
        return result

    def _verdict(self, post: Post, mood: _Mood, category: tuple[str | None, float], now: datetime | None) -> Verdict:
        findings = self.pii.find(post.text)
        kinds = tuple(sorted({f.kind for f in findings}))
        facts = policies.PostFacts(
            text=post.text,
            public=post.public,
            sentiment=mood.label,
            angry=mood.angry,
            personal_data=kinds,
            category=category[0],
            author_is_bot=post.author_is_bot,
        )
        decision = policies.decide(facts, post.policy)
        priority = score(
            PrioritySignals(
                sentiment=mood.label,
                sentiment_score=mood.score,
                angry=mood.angry,
                public=post.public,
                personal_data=kinds,
                category=category[0],
                followers=post.followers,
                verified=post.verified,
                engagements=post.engagements,
                posted_at=post.posted_at,
                noise=decision.noise,
                acknowledge_only=decision.acknowledge_only,
                customer_tier=post.customer_tier,
            ),
            now,
            self.weights,
        )
        private = decision.action is policies.Action.TAKE_PRIVATE
        return Verdict(
            sentiment=mood.label,
            sentiment_score=mood.score,
            angry=mood.angry,
            category=category[0],
            category_confidence=category[1],
            language=self.language.detect(post.text).code,
            pii=kinds,
            masked_text=self.pii.mask(post.text, findings) if findings else None,
            noise=decision.noise,
            action=decision.action,
            policy_rule=decision.rule,
            priority=priority,
            suggested_reply=policies.take_private_reply(post.channel) if private else None,
        )


def load_models(directory: Path) -> tuple[TrainedSentiment | None, CategoryClassifier | None]:
    """The models `careline train` wrote into ``directory``; (None, None) when it holds none yet."""
    from careline.triage import training  # scikit-learn's model code loads only when there are models

    if not (directory / training.MANIFEST).is_file():
        return None, None
    loaded = training.load(directory)
    return loaded.sentiment, loaded.category
