"""Training triage's models from the labelled airline tweets, and storing them as a reproducible artefact.

The split is fixed and documented so that every number quoted for these models means the same thing:
rows are deduplicated by tweet_id (the first occurrence wins; the file repeats 122 ids, 38 of them with
different labels), then split 80/20 with scikit-learn's `train_test_split(random_state=seed)`, stratified by
sentiment and complaint reason together so that the rare reasons appear on both sides. Models are trained on
the 80% only; the metrics in the manifest are measured on the 20%.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import StackingClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from careline.triage.classifier import (
    LABELS,
    LEXICAL_FEATURES,
    CategoryClassifier,
    DomainGatedSentiment,
    OnTextFeatures,
    TextFeatures,
    TrainedSentiment,
    normalise,
    stack_inputs,
)

REQUIRED_COLUMNS = ("tweet_id", "airline_sentiment", "negativereason", "text")
TEST_FRACTION = 0.2
MIN_PER_SENTIMENT = 10  # the stack's 5 stratified folds need a few of each on every side
# 3: both models in one file, sharing their TextFeatures; 2: sentiment a DomainGatedSentiment over a stack, in a
# file of its own; 1: one TF-IDF pipeline per model
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
MODELS_FILE = "models.joblib"

# Hyperparameters were chosen by 5-fold cross-validation on the training split only (docs/benchmarks.md, triage).
# Sentiment: no class weights, since negatives are the majority and missing an unhappy customer costs more than a
# false alarm. Reasons: balanced weights, since the rare ones (damaged luggage, long lines) matter as much as the
# common ones; C=1 over C in {2, 5, 10} (cross-validated macro-F1 0.543 against 0.528 at the former C=5).
SENTIMENT_C = 5.0
CATEGORY_C = 1.0
STACK_FOLDS = 5
# The hand-over to the general model (see DomainGatedSentiment). Airline data cannot choose it, since it is about
# text unlike the airline tweets; it is set from the airline distribution alone: a word is familiar when at least
# FAMILIAR_MIN_TWEETS training tweets use it; 90% of held-out airline tweets have a familiar share of 0.78 or more
# and keep the in-domain model; the general model takes over fully at 0.5, a share met by about 1% of them.
FAMILIAR_MIN_TWEETS = 5
GATE = (0.5, 0.8)


class TrainingDataError(ValueError):
    """The labelled file cannot be used for training."""


@dataclasses.dataclass(frozen=True)
class LabelledTweet:
    tweet_id: str
    text: str
    sentiment: str
    reason: str  # "" unless the sentiment is negative


@dataclasses.dataclass(frozen=True)
class Split:
    train: list[LabelledTweet]
    test: list[LabelledTweet]


@dataclasses.dataclass
class TrainedModels:
    sentiment: TrainedSentiment
    category: CategoryClassifier | None  # None: the file names fewer than two complaint reasons
    manifest: dict[str, Any]


def read_airline(path: Path) -> list[LabelledTweet]:
    """The labelled tweets of the airline file, one per tweet_id (the first occurrence wins)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainingDataError(f"{path} lacks the column(s) {', '.join(missing)}; needs {REQUIRED_COLUMNS}")
        tweets: dict[str, LabelledTweet] = {}
        for line, row in enumerate(reader, start=2):
            sentiment = (row["airline_sentiment"] or "").strip()
            if sentiment not in LABELS:
                raise TrainingDataError(f"{path}:{line}: airline_sentiment {sentiment!r} is not one of {LABELS}")
            reason = (row["negativereason"] or "").strip() if sentiment == "negative" else ""
            tweet_id = row["tweet_id"]
            if tweet_id not in tweets:
                tweets[tweet_id] = LabelledTweet(tweet_id, row["text"] or "", sentiment, reason)
    if len(tweets) < 50:
        raise TrainingDataError(f"{path} holds {len(tweets)} labelled tweets; too few to train on")
    per_label = {label: sum(t.sentiment == label for t in tweets.values()) for label in LABELS}
    scarce = [f"{label} ({n})" for label, n in per_label.items() if n < MIN_PER_SENTIMENT]
    if scarce:
        raise TrainingDataError(
            f"{path} needs at least {MIN_PER_SENTIMENT} tweets of each sentiment to train on; it has too few: "
            + ", ".join(scarce)
        )
    return list(tweets.values())


def split(tweets: list[LabelledTweet], seed: int = 0) -> Split:
    """The fixed 80/20 split, stratified by sentiment and reason (see the module's docstring)."""
    # A reason seen once cannot be on both sides: such tweets are stratified by their sentiment alone, and a
    # sentiment stratum still too small joins the largest stratum (the airline file has no such tweets).
    full = [f"{t.sentiment}/{t.reason}" for t in tweets]
    counts = Counter(full)
    strata = [stratum if counts[stratum] >= 2 else stratum.split("/")[0] + "/*" for stratum in full]
    counts = Counter(strata)
    largest = counts.most_common(1)[0][0]
    strata = [stratum if counts[stratum] >= 2 else largest for stratum in strata]
    train, test = train_test_split(tweets, test_size=TEST_FRACTION, random_state=seed, stratify=strata)
    return Split(train=list(train), test=list(test))


class TfidfOfBlocks(TransformerMixin, BaseEstimator):
    """TF-IDF of column blocks of shared n-gram counts, side by side, each block normalised on its own.

    It gives what a union of `TfidfVectorizer(min_df=min_df)`s fitted on the same rows gives: a block keeps the
    columns that at least `min_df` of the rows it is fitted on use (the stack's folds, the complaints), and the
    shared vocabulary holds every n-gram that two training texts use, so every n-gram that two of these rows use.
    Scikit-learn's ColumnTransformer would do, but costs about 1 ms a call, as much as a whole message.
    """

    def __init__(self, blocks: tuple[slice, ...] = (), min_df: int = 2, sublinear_tf: bool = True) -> None:
        self.blocks = blocks
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    def fit(self, counts: Any, y: Any = None) -> TfidfOfBlocks:
        counts = sparse.csr_matrix(counts)
        used_by = np.bincount(counts.indices, minlength=counts.shape[1])  # documents per column
        self.columns_: list[slice | np.ndarray] = []
        self.idf_: list[np.ndarray] = []
        for block in self.blocks:
            kept = block.start + np.flatnonzero(used_by[block] >= self.min_df)
            # A slice when the block keeps every column: slicing is much cheaper than picking columns.
            columns = block if len(kept) == block.stop - block.start else kept
            self.columns_.append(columns)
            self.idf_.append(TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts[:, columns]).idf_)
        return self

    def transform(self, counts: Any) -> Any:
        counts = sparse.csr_matrix(counts)
        parts = [self._tfidf(counts[:, c], idf) for c, idf in zip(self.columns_, self.idf_, strict=True)]
        return sparse.hstack(parts, format="csr")

    def _tfidf(self, counts: Any, idf: np.ndarray) -> Any:
        # TfidfTransformer.transform's arithmetic, without its input checks (most of its time on a small batch).
        weights = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
        if self.sublinear_tf:
            np.log(weights.data, out=weights.data)
            weights.data += 1.0
        weights.data *= idf[weights.indices]
        norms = np.sqrt(
            np.bincount(
                np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr)),
                weights=weights.data**2,
                minlength=weights.shape[0],
            )
        )
        norms[norms == 0.0] = 1.0
        weights.data /= np.repeat(norms, np.diff(weights.indptr))
        return weights


class DenseColumns(TransformerMixin, BaseEstimator):
    """Some columns of a sparse matrix, as a dense array."""

    def __init__(self, columns: slice = slice(0)) -> None:
        self.columns = columns

    def fit(self, matrix: Any, y: Any = None) -> DenseColumns:
        return self

    def transform(self, matrix: Any) -> np.ndarray:
        return np.asarray(sparse.csr_matrix(matrix)[:, self.columns].toarray())


class CharWithinWordCounts(CountVectorizer):
    """A `CountVectorizer(analyzer="char_wb")` that counts each distinct word of a batch once.

    Its n-grams never cross the whitespace between words, so a text's counts are the sum of its words' counts:
    (texts x distinct words) @ (distinct words x n-grams). The result is the same matrix, in half the time.
    """

    def transform(self, raw_documents: Any) -> Any:
        if self.analyzer != "char_wb":
            raise ValueError(f"counting word by word needs analyzer='char_wb', not {self.analyzer!r}")
        preprocess, texts = self.build_preprocessor(), list(raw_documents)
        word_ids: dict[str, int] = {}
        rows, columns = [], []
        for row, text in enumerate(texts):
            for word in preprocess(self.decode(text)).split():
                rows.append(row)
                columns.append(word_ids.setdefault(word, len(word_ids)))
        shape = (len(texts), len(word_ids))
        words_in_texts = sparse.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, columns)), shape=shape)
        counts = sparse.csr_matrix(words_in_texts @ super().transform(list(word_ids)))
        counts.sort_indices()
        return counts


def text_features(texts: list[str]) -> TextFeatures:
    """The n-gram counts both models read, fitted on all the training texts (each model then keeps its own)."""
    # Word uni/bigrams carry the vocabulary; character n-grams within words survive misspellings and hashtags.
    words = CountVectorizer(ngram_range=(1, 2), min_df=2).fit(texts)
    characters = CharWithinWordCounts(analyzer="char_wb", ngram_range=(2, 5), min_df=2).fit(texts)
    return TextFeatures([words, characters])


def _text_pipeline(features: TextFeatures, c: float, class_weight: str | None) -> Pipeline:
    tfidf = TfidfOfBlocks(tuple(features.blocks))
    return make_pipeline(tfidf, LogisticRegression(C=c, class_weight=class_weight, max_iter=3000))


def sentiment_model(features: TextFeatures, texts: list[str], labels: list[str], seed: int = 0) -> DomainGatedSentiment:
    """The sentiment model, fitted on normalised texts: three members stacked, gated by familiarity."""
    words = features.blocks[0]
    width = features.blocks[-1].stop
    lexical = slice(width, width + len(LEXICAL_FEATURES))  # stack_inputs puts them after the counts
    members = [
        ("text", _text_pipeline(features, SENTIMENT_C, None)),
        ("words_nb", make_pipeline(TfidfOfBlocks((words,), sublinear_tf=False), MultinomialNB(alpha=0.1))),
        ("lexical", make_pipeline(DenseColumns(lexical), LogisticRegression(max_iter=2000))),
    ]
    folds = StratifiedKFold(STACK_FOLDS, shuffle=True, random_state=seed)
    stack = StackingClassifier(members, LogisticRegression(max_iter=2000), cv=folds, stack_method="predict_proba")
    stack.fit(stack_inputs(features, texts), labels)
    counts = CountVectorizer(token_pattern=r"[a-z']{2,}", min_df=FAMILIAR_MIN_TWEETS, binary=True).fit(texts)
    priors = [labels.count(str(label)) / len(labels) for label in stack.classes_]
    return DomainGatedSentiment(features, stack, "lexical", frozenset(counts.vocabulary_), priors, GATE)


def train(airline_csv: Path, seed: int = 0) -> TrainedModels:
    """Both models, trained on the fixed split's training part, with a manifest of their test metrics."""
    started = time.perf_counter()
    data = split(read_airline(airline_csv), seed)
    # One BLAS/OpenMP thread: the solver's matrices are small and sparse, and on two busy cores the extra threads
    # spin against each other (measured: 2.7 s of CPU for one fit with one thread, 20 s with two).
    with threadpool_limits(limits=1):
        texts, labels = [normalise(t.text) for t in data.train], [t.sentiment for t in data.train]
        features = text_features(texts)
        sentiment_model_ = sentiment_model(features, texts, labels, seed)
        complaints = [t for t in data.train if t.sentiment == "negative" and t.reason]
        category = None
        if len({t.reason for t in complaints}) >= 2:
            category_pipeline = _text_pipeline(features, CATEGORY_C, "balanced")
            category_pipeline.fit(
                features.transform([normalise(t.text) for t in complaints]), [t.reason for t in complaints]
            )
            category = CategoryClassifier(OnTextFeatures(features, category_pipeline))
    sentiment = TrainedSentiment(sentiment_model_)
    manifest = {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "data_file": airline_csv.name,
        "data_sha256": hashlib.sha256(airline_csv.read_bytes()).hexdigest(),
        "split": {"method": "dedupe by tweet_id, stratified 80/20", "train": len(data.train), "test": len(data.test)},
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        "metrics": evaluate(sentiment, category, data.test),
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    return TrainedModels(sentiment, category, manifest)


def evaluate(
    sentiment: TrainedSentiment, category: CategoryClassifier | None, test: list[LabelledTweet]
) -> dict[str, float | None]:
    """Sentiment accuracy, macro-F1 and negative recall; reason macro-F1 on the negative tweets (None: no model)."""
    truth = [t.sentiment for t in test]
    predicted = [s.label for s in sentiment.analyse_many([t.text for t in test])]
    complaints = [t for t in test if t.sentiment == "negative" and t.reason]
    reason_f1 = None
    if category is not None and complaints:
        reasons = [c for c, _ in category.predict_many([t.text for t in complaints])]
        reason_f1 = round(float(f1_score([t.reason for t in complaints], reasons, average="macro")), 4)
    return {
        "sentiment_accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "sentiment_macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "negative_recall": round(float(recall_score(truth, predicted, labels=["negative"], average="macro")), 4),
        "reason_macro_f1": reason_f1,
    }


def save(models: TrainedModels, directory: Path) -> None:
    """Writes the two models (one joblib file, so that they still share their features) and manifest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    category = models.category.pipeline if models.category is not None else None
    joblib.dump({"sentiment": models.sentiment.pipeline, "category": category}, directory / MODELS_FILE)
    (directory / MANIFEST).write_text(json.dumps(models.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(directory: Path) -> TrainedModels:
    """The models `save` wrote. Only load artefacts this project built: joblib files can run code."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no trained models in {directory} (run `careline train`)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{manifest_path} has format {manifest.get('format_version')}, expected {FORMAT_VERSION}")
    trained_with = manifest.get("versions", {}).get("scikit-learn")
    if trained_with != sklearn.__version__:
        # Pickled estimators are only guaranteed to load in the version that wrote them.
        raise ValueError(
            f"models in {directory} were trained with scikit-learn {trained_with}, "
            f"this is {sklearn.__version__}: run `careline train` again"
        )
    stored = joblib.load(directory / MODELS_FILE)
    sentiment = TrainedSentiment(stored["sentiment"])
    category = CategoryClassifier(stored["category"]) if stored["category"] is not None else None
    return TrainedModels(sentiment, category, manifest)
