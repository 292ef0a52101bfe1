"""The user's categories, learned online from keywords, examples and agents' tags (docs/triage.md#categories).

A category is whatever the contact center says it is: a name, a description, keywords and a few example
posts. A linear model over hashed word and character n-grams learns them (hashing needs no vocabulary, so a
new example can be learned at once with ``partial_fit``, without refitting); each conversation an agent tags
with a category's name becomes one more example, in every process, the next time it ingests a batch. A
keyword of the category, found as a whole word, names it outright. Below ``min_confidence`` the answer is
None: a person decides (the human triage queue), rather than a guess.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion

from careline.triage.classifier import normalise
from careline.triage.model import Category, CategoryExample, CategoryModel
from careline.unit_of_work import UnitOfWork

DEFAULT_MIN_CONFIDENCE = 0.5
# With few categories a probability of 0.5 says nothing (two categories: one of them always has it), so the
# best category must also clear chance (1/k) by this margin before it counts as confident.
ABOVE_CHANCE = 0.25
# Passes over the examples when (re)fitting from scratch: plain SGD needs several on a few hundred examples.
EPOCHS = 12


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False, norm="l2")),
            (
                "chars",
                HashingVectorizer(
                    analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False, norm="l2"
                ),
            ),
        ]
    )


class CategoryLearner:
    """One model over a fixed set of categories; ``learn`` adds an example without refitting."""

    def __init__(self, categories: Sequence[Category], min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        self.categories = list(categories)
        self.names = [c.name for c in self.categories]
        self.min_confidence = min_confidence
        self._features = _features()
        self._model: SGDClassifier | None = None
        self._keywords = [
            (c.name, re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(k) for k in c.keywords)})(?!\w)", re.IGNORECASE))
            for c in self.categories
            if c.keywords
        ]

    def fit(self, examples: Sequence[CategoryExample]) -> None:
        """From scratch, over the categories' own words and every example (deterministic: a fixed seed)."""
        texts, labels = self._seed_texts()
        for example in examples:
            if example.category in self.names:
                texts.append(example.text)
                labels.append(example.category)
        if len(set(labels)) < 2:
            self._model = None  # one category: its keywords decide, there is nothing to tell apart
            return
        model = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0, class_weight=None)
        matrix = self._features.transform([normalise(t) for t in texts])
        order = np.random.default_rng(0)
        for _ in range(EPOCHS):
            shuffled = order.permutation(len(labels))
            model.partial_fit(matrix[shuffled], np.asarray(labels)[shuffled], classes=np.asarray(self.names))
        self._model = model

    def learn(self, examples: Sequence[CategoryExample]) -> None:
        """New examples, learned now (an online update of the fitted model)."""
        known = [e for e in examples if e.category in self.names]
        if not known or self._model is None:
            return
        matrix = self._features.transform([normalise(e.text) for e in known])
        labels = np.asarray([e.category for e in known])
        for _ in range(3):  # a few steps, so one tag moves the model but does not dominate it
            self._model.partial_fit(matrix, labels)

    def classify_many(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        if not texts or not self.categories:
            return [(None, 0.0)] * len(texts)
        probabilities = None
        threshold = max(self.min_confidence, 1 / max(len(self.names), 1) + ABOVE_CHANCE)
        if self._model is not None:
            probabilities = self._model.predict_proba(self._features.transform([normalise(t) for t in texts]))
            classes = [str(c) for c in self._model.classes_]
        answers: list[tuple[str | None, float]] = []
        for index, text in enumerate(texts):
            keyword = next((name for name, pattern in self._keywords if pattern.search(text)), None)
            if keyword is not None:
                answers.append((keyword, 1.0))
                continue
            if probabilities is None:
                answers.append((None, 0.0))
                continue
            row = probabilities[index]
            best = int(np.argmax(row))
            confidence = round(float(row[best]), 4)
            answers.append((classes[best] if confidence >= threshold else None, confidence))
        return answers

    def _seed_texts(self) -> tuple[list[str], list[str]]:
        """The category's own words as examples: its name, its description, its keywords."""
        texts, labels = [], []
        for category in self.categories:
            for text in (category.name, category.description, *category.keywords):
                if text.strip():
                    texts.append(text)
                    labels.append(category.name)
        return texts, labels


class CategoryLibrary:
    """The categories triage uses: the user's own when there are any, else the trained reason model.

    ``refresh`` is called at the start of each ingestion batch: a new or deleted category refits the model,
    new examples (agents' tags, from any process) are learned online; otherwise it costs one small query.
    """

    def __init__(self, fallback: CategoryModel | None = None, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        self.fallback = fallback
        self.min_confidence = min_confidence
        self._learner: CategoryLearner | None = None
        self._version: tuple[int, str | None, int] = (0, None, 0)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._learner is not None

    def refresh(self, uow: UnitOfWork) -> None:
        version = uow.categories.version()
        if version == self._version:
            return
        with self._lock:
            count, newest, last_example = version
            seen_count, seen_newest, seen_example = self._version
            if (count, newest) != (seen_count, seen_newest) or self._learner is None:
                categories = uow.categories.all()
                learner = CategoryLearner(categories, self.min_confidence) if categories else None
                if learner is not None:
                    learner.fit(uow.categories.examples())
                self._learner = learner
            elif last_example > seen_example:
                self._learner.learn(uow.categories.examples(after_id=seen_example))
            self._version = version

    def classify_many(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        learner = self._learner
        if learner is not None:
            return learner.classify_many(texts)
        if self.fallback is not None:
            return self.fallback.classify_many(texts)
        return [(None, 0.0)] * len(texts)
