"""Trained triage: sentiment (label, score, angry) and complaint category from the models `training` builds.

The pieces a stored model pickles by reference (`lexical_features`, `TextFeatures`, `DomainGatedSentiment`) live
here, in a module that does not import scikit-learn, so that `normalise` and friends stay cheap to import.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

from careline.triage.model import Sentiment

LABELS = ("negative", "neutral", "positive")

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")

# The angry flag: a message more likely negative than not that also shows intensity, the cues VADER itself
# scores up (repeated "!", shouting in capitals) or a word of anger or contempt. Neither half alone is enough:
# a calm complaint is negative but not angry; "SO excited!!!" is intense but not negative. The cue carries the
# emotion, so the probability only has to say which way it points: on the held-out airline tweets a floor of
# 0.5 flags 24% of the complaints (93% of the flagged are complaints), 0.8 flags 22% (96%).
ANGRY_MIN_NEGATIVE = 0.5
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


@functools.cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads its lexicon files: once, on first use, never at import


# Emoji whose VADER score (of their description, e.g. "thumbs down") misses or inverts their usual meaning.
_EMOJI_POLARITY = {"👍": 1.0, "👏": 1.0, "🙏": 1.0, "🎉": 1.0, "😍": 1.0, "💯": 1.0, "✅": 1.0}
_EMOJI_POLARITY |= dict.fromkeys("👎💔🙄😡😤🤬😒😞😩😫😭😑😖😣💩🤦🤢", -1.0)


@functools.cache
def _emoji_polarity(character: str) -> float:
    if character in _EMOJI_POLARITY:
        return _EMOJI_POLARITY[character]
    description = _vader().emojis.get(character)
    return float(_vader().polarity_scores(description)["compound"]) if description else 0.0


_NEGATION_WORDS = "|".join(re.escape(word) for word in NEGATE if "'" not in word)
_NEGATION = re.compile(rf"\b(?:{_NEGATION_WORDS})\b|n't\b", re.IGNORECASE)
_EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")
LEXICAL_FEATURES = (
    *("vader_neg", "vader_neu", "vader_pos", "vader_compound"),
    *("exclamations", "question", "negations", "emoji_positive", "emoji_negative", "shouting", "length"),
)


def lexical_features(texts: Sequence[str]) -> np.ndarray:
    """One row per (normalised) text, columns `LEXICAL_FEATURES`, each in [-1, 1]: VADER's scores and a few cues.

    VADER was built on general social media text, so these carry sentiment beyond the airline vocabulary.
    """
    rows = np.zeros((len(texts), len(LEXICAL_FEATURES)))
    for i, text in enumerate(texts):
        scores = _vader().polarity_scores(text)
        emojis = [_emoji_polarity(c) for c in _EMOJI.findall(text)]
        shouted = [w for w in _SHOUTED_WORD.findall(text) if w not in _NOT_SHOUTING]
        rows[i] = (
            scores["neg"],
            scores["neu"],
            scores["pos"],
            scores["compound"],
            min(text.count("!"), 5) / 5,
            "?" in text,
            min(len(_NEGATION.findall(text)), 3) / 3,
            min(sum(p > 0 for p in emojis), 3) / 3,
            min(sum(p < 0 for p in emojis), 3) / 3,
            min(len(shouted), 3) / 3,
            min(len(text.split()), 40) / 40,
        )
    return rows


_WORD = re.compile(r"[a-z']{2,}")
_PLACEHOLDERS = frozenset({"user", "url"})


def familiar_share(text: str, vocabulary: frozenset[str]) -> float:
    """The share of the text's words that are in `vocabulary` (1.0 for a text with no words)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _PLACEHOLDERS]
    return sum(w in vocabulary for w in words) / len(words) if words else 1.0


class TextFeatures:
    """The n-gram counts of normalised texts, side by side, counted once per batch for every model that holds them.

    `vectorizers` are fitted scikit-learn CountVectorizers. Counting n-grams is most of a model's time, and triage
    asks the sentiment model about a batch and then the category model about its non-positive part: the last
    batch is kept, so a call for texts that were all in it takes their rows instead of counting again.
    """

    def __init__(self, vectorizers: Sequence[Any]) -> None:
        self.vectorizers = list(vectorizers)
        self._last: tuple[dict[str, int], Any] = ({}, None)
        self._lock = threading.Lock()

    @property
    def blocks(self) -> list[slice]:
        """The columns of each vectorizer's counts."""
        ends = np.cumsum([0] + [len(v.vocabulary_) for v in self.vectorizers])
        return [slice(int(start), int(end)) for start, end in zip(ends[:-1], ends[1:], strict=True)]

    def transform(self, texts: Sequence[str]) -> Any:
        """A sparse matrix (CSR) of counts, one row per text."""
        from scipy import sparse  # here, not at import: see the module's docstring

        with self._lock:
            rows, counts = self._last
        if counts is not None and all(text in rows for text in texts):
            return counts[[rows[text] for text in texts]]
        counts = sparse.hstack([v.transform(texts) for v in self.vectorizers], format="csr")
        with self._lock:
            self._last = ({text: i for i, text in enumerate(texts)}, counts)
        return counts

    def __getstate__(self) -> dict[str, Any]:
        return {"vectorizers": self.vectorizers}  # neither the lock nor the last batch is stored

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["vectorizers"])  # type: ignore[misc]


class OnTextFeatures:
    """A fitted model over `TextFeatures` that reads normalised texts (`classes_`, `predict_proba(texts)`)."""

    def __init__(self, features: TextFeatures, model: Any) -> None:
        self.features = features
        self.model = model
        self.classes_ = np.asarray(model.classes_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.predict_proba(self.features.transform(texts)))


def stack_inputs(features: TextFeatures, texts: Sequence[str]) -> Any:
    """What the sentiment stack reads (CSR): the counts of `features`, then the `lexical_features`."""
    from scipy import sparse

    return sparse.hstack([features.transform(texts), lexical_features(texts)], format="csr")


class DomainGatedSentiment:
    """A stacked in-domain model that hands over to its lexical member where the words are unfamiliar.

    `stack` is a fitted scikit-learn StackingClassifier over `stack_inputs(features, texts)` (the shared n-gram
    counts of normalised texts, then their `lexical_features`); one of its members (`general`) sees only the
    lexical features. Trained on airline tweets, the stack has learned that an unremarkable tweet to
    a brand is a complaint, which is wrong for general posts: where few of a message's words were common in
    training (`familiar_share` below `gate[1]`), its probabilities move linearly, down to `gate[0]`, to the
    general member's, divided by the training priors (the label-shift correction for unknown priors).
    """

    def __init__(
        self,
        features: TextFeatures,
        stack: Any,
        general: str,
        vocabulary: frozenset[str],
        priors: Sequence[float],
        gate: tuple[float, float],
    ) -> None:
        self.features = features
        self.stack = stack
        self.classes_ = np.asarray(stack.classes_)
        names = [name for name, _ in stack.estimators]
        width = len(self.classes_)
        start = names.index(general) * width
        self._general_columns = slice(start, start + width)
        self.vocabulary = vocabulary
        self.priors = np.asarray(priors, dtype=float)
        self.gate = gate

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        members = self.stack.transform(stack_inputs(self.features, texts))  # each member's probabilities, side by side
        in_domain = self.stack.final_estimator_.predict_proba(members)
        general = members[:, self._general_columns] / self.priors
        general /= general.sum(axis=1, keepdims=True)
        low, high = self.gate
        familiar = np.array([familiar_share(t, self.vocabulary) for t in texts])
        weight = np.clip((familiar - low) / (high - low), 0.0, 1.0)[:, None]
        return np.asarray(weight * in_domain + (1.0 - weight) * general)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(axis=1)])


@dataclasses.dataclass(frozen=True)
class Assessment:
    """Everything sentiment triage says about one message."""

    sentiment: Sentiment
    angry: bool
    probabilities: dict[str, float]  # label -> probability


class TrainedSentiment:
    """The SentimentAnalyser backed by a trained model: anything with `classes_` and `predict_proba(texts)`."""

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


# Below this probability the category is left to a human triage queue. Chosen by cross-validation on the
# training split so that about half the complaints are routed (48%, 81% of them rightly); the first model
# (C=5, less regularised, more confident) routed 55% at 0.5, 79% rightly.
DEFAULT_MIN_CONFIDENCE = 0.4
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
