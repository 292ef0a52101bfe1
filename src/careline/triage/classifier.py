"""Trained triage: sentiment (label, score, angry) and complaint category from the models `training` builds."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from careline.triage.model import Sentiment

LABELS = ("negative", "neutral", "positive")

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")

# The angry flag: a confidently negative message that also shows intensity, the cues VADER itself scores up
# (repeated "!", shouting in capitals) or a word of anger or contempt. Neither half alone is enough: a
# calm complaint is negative but not angry; "SO excited!!!" is intense but not negative.
ANGRY_MIN_NEGATIVE = 0.80
_EXCLAMATIONS = re.compile(r"!{2,}")
_SHOUTED_WORD = re.compile(r"\b[A-Z]{3,}\b")
_ANGER_WORDS = re.compile(
    r"\b(?:angry|furious|livid|pissed|outraged|outrageous|ridiculous|unacceptable|disgusted|disgusting|"
    r"pathetic|horrible|terrible|worst|awful|joke|hate|never again|wtf|ffs|fed up|sick of|shame on)\b",
    re.IGNORECASE,
)
# Acronyms that are capitals without shouting (airports, airlines, common chat abbreviations).
_NOT_SHOUTING = frozenset(
    "USA LAX JFK SFO ORD DFW LGA EWR BOS ATL DCA IAD PHL DEN CLT MIA PHX LAS SEA AUS DAL MCO FLL BWI TSA FAA DM "
    "USAIRWAYS ETA RT LOL OMG THX PLS ASAP AND THE FYI NYC URL USER ETC CEO APP".split()
)


def normalise(text: str) -> str:
    """The text a model sees: HTML entities decoded, mentions and links replaced by placeholder tokens."""
    text = html.unescape(text)
    text = _URL.sub(" URL ", text)
    return _MENTION.sub(" @USER ", text).strip()


def intensity_cue(text: str) -> bool:
    """True when the text shows anger cues: '!!', a shouted word, or an anger word."""
    text = normalise(text)
    if _EXCLAMATIONS.search(text) or _ANGER_WORDS.search(text):
        return True
    return any(word not in _NOT_SHOUTING for word in _SHOUTED_WORD.findall(text))


@dataclasses.dataclass(frozen=True)
class Assessment:
    """Everything sentiment triage says about one message."""

    sentiment: Sentiment
    angry: bool
    probabilities: dict[str, float]  # label -> probability


class TrainedSentiment:
    """The SentimentAnalyser backed by a trained scikit-learn pipeline (TF-IDF + logistic regression)."""

    def __init__(self, pipeline: Any) -> None:
        classes = [str(c) for c in pipeline.classes_]
        if sorted(classes) != sorted(LABELS):
            raise ValueError(f"a sentiment model must predict {LABELS}, this one predicts {classes}")
        self.pipeline = pipeline
        self._columns = [classes.index(label) for label in LABELS]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of p(negative), p(neutral), p(positive), one row per text."""
        if not texts:
            return np.zeros((0, len(LABELS)))
        proba = self.pipeline.predict_proba([normalise(t) for t in texts])
        return np.asarray(proba)[:, self._columns]

    def assess_many(self, texts: Sequence[str]) -> list[Assessment]:
        """Label, score in [-1, 1] (p(positive) - p(negative)) and the angry flag, for each text."""
        results = []
        for text, row in zip(texts, self.probabilities(texts), strict=True):
            label = LABELS[int(np.argmax(row))]
            score = round(float(row[2] - row[0]), 4)
            angry = label == "negative" and float(row[0]) >= ANGRY_MIN_NEGATIVE and intensity_cue(text)
            probabilities = {name: round(float(p), 4) for name, p in zip(LABELS, row, strict=True)}
            results.append(Assessment(Sentiment(label=label, score=score), angry, probabilities))
        return results

    def assess(self, text: str) -> Assessment:
        return self.assess_many([text])[0]

    def analyse_many(self, texts: Sequence[str]) -> list[Sentiment]:
        """The sentiment of many messages at once (much faster per message than one at a time)."""
        return [a.sentiment for a in self.assess_many(texts)]

    def analyse(self, text: str) -> Sentiment:
        return self.assess(text).sentiment


# Below this probability the category is left to a human triage queue.
DEFAULT_MIN_CONFIDENCE = 0.5
# The dataset's label for "the annotator could not tell": never a queue of its own.
UNKNOWN_CATEGORY = "Can't Tell"


class CategoryClassifier:
    """The complaint's category (the airline reasons) with a confidence; None when not confident enough."""

    def __init__(self, pipeline: Any, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        self.pipeline = pipeline
        self._classes = [str(c) for c in pipeline.classes_]
        self.min_confidence = min_confidence

    @property
    def categories(self) -> list[str]:
        return [c for c in self._classes if c != UNKNOWN_CATEGORY]

    def predict_many(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The most likely category of each text and its probability, with no threshold applied."""
        if not texts:
            return []
        proba = np.asarray(self.pipeline.predict_proba([normalise(t) for t in texts]))
        best = proba.argmax(axis=1)
        return [(self._classes[int(i)], round(float(p[i]), 4)) for i, p in zip(best, proba, strict=True)]

    def classify_many(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        return [
            (None if category == UNKNOWN_CATEGORY or confidence < self.min_confidence else category, confidence)
            for category, confidence in self.predict_many(texts)
        ]

    def classify(self, text: str) -> tuple[str | None, float]:
        """(category, confidence); the category is None when the confidence is below `min_confidence`."""
        return self.classify_many([text])[0]
