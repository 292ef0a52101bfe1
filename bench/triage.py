"""Triage benchmark: sentiment and complaint-category quality and speed, ours beside the VADER baseline.

The split is the one `careline.triage.training` documents and every trained model uses: the airline file
deduplicated by tweet_id, then 80/20 stratified by sentiment and reason with seed 0. Models are trained on
the 80% here (nothing is read from a stored artefact) and measured on the 20%:

- airline sentiment: accuracy, macro-F1 and recall of the negative class (missing an unhappy customer is the
  costly error);
- TweetEval sentiment validation set (2,000 general tweets, 0 negative, 1 neutral, 2 positive): macro-recall,
  the task's official measure, to see whether the model works beyond airlines;
- airline complaint reason, on the negative test tweets that have one: macro-F1 over all reasons (no
  threshold), then with the confidence threshold: how many go to a queue and how often that queue is right;
- throughput of the whole triage of a message, as ingestion and `careline classify` run it (triage/pipeline.py:
  sentiment and the angry flag, category, language, personal data, noise and policy, priority and its
  explanation): one message per call (msgs/s and the p99 latency of one call), and the whole test set in
  batches of `--batch` (single-process, CPU).

Rows: VADER (what triage uses until `careline train` has run), the first trained model (TF-IDF word 1-2 +
char_wb 2-5, logistic regression,
C=5 for both tasks, rebuilt here as it was) and the current one (`careline.triage.training.train`).

    python bench/triage.py
    python bench/triage.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from careline.triage.classifier import CategoryClassifier, TrainedSentiment, normalise
from careline.triage.model import Post, Sentiment
from careline.triage.pipeline import Triage
from careline.triage.sentiment import VaderSentiment
from careline.triage.training import LabelledTweet, TrainedModels, read_airline, split, train

DEFAULT_DATA = Path(os.environ.get("CARELINE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TWEETEVAL_LABELS = ("negative", "neutral", "positive")


def _tweeteval(data: Path) -> tuple[list[str], list[str]]:
    texts = (data / "tweeteval_sentiment_val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (data / "tweeteval_sentiment_val_labels.txt").read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise SystemExit(f"TweetEval: {len(texts)} texts but {len(labels)} labels")
    return texts, [TWEETEVAL_LABELS[int(label)] for label in labels]


def _throughput(run: Callable[[Sequence[str]], object], texts: Sequence[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        run(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def _single(run: Callable[[Sequence[str]], object], texts: Sequence[str]) -> tuple[float, float]:
    """Messages per second and the p99 latency (ms) of one call, one message per call."""
    latencies = []
    for text in texts:
        started = time.perf_counter()
        run([text])
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return len(texts) / sum(latencies), 1000 * latencies[int(0.99 * (len(latencies) - 1))]


def _full_triage(models: TrainedModels | None) -> Callable[[Sequence[str]], object]:
    """The whole triage the ingestion path runs (triage/pipeline.py): sentiment and anger, category, language,
    personal data, noise and policy, priority and its explanation."""
    triage = Triage(sentiment=models.sentiment, category=models.category) if models else Triage()
    triage.language.load()

    def run(texts: Sequence[str]) -> object:
        return triage.assess_many([Post(text=t) for t in texts])

    return run


def _row(
    name: str,
    many: Callable[[Sequence[str]], list[Sentiment]],
    triage: Callable[[Sequence[str]], object],
    airline: tuple[list[str], list[str]],
    tweeteval: tuple[list[str], list[str]],
    batch: int,
) -> dict[str, float | str | None]:
    texts, truth = airline
    predicted = [s.label for s in many(texts)]
    te_predicted = [s.label for s in many(tweeteval[0])]
    triage(texts[:50])  # warm caches (the lexicon, numpy's first calls) before timing
    single_per_s, p99_ms = _single(triage, texts[:1000])
    return {
        "model": name,
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "negative_recall": round(float(recall_score(truth, predicted, labels=["negative"], average="macro")), 4),
        "tweeteval_macro_recall": round(float(recall_score(tweeteval[1], te_predicted, average="macro")), 4),
        "reason_macro_f1": None,
        "single_msgs_per_s": round(single_per_s),
        "single_p99_ms": round(p99_ms, 2),
        "batched_msgs_per_s": round(_throughput(triage, texts, batch)),
    }


def _first_pipeline(class_weight: str | None) -> Pipeline:
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=5.0, class_weight=class_weight, max_iter=3000))


def _first_model(train_tweets: list[LabelledTweet]) -> TrainedModels:
    """The first trained model (before the stack): one TF-IDF + logistic regression pipeline per task."""
    sentiment = _first_pipeline(None).fit(
        [normalise(t.text) for t in train_tweets], [t.sentiment for t in train_tweets]
    )
    complaints = [t for t in train_tweets if t.sentiment == "negative" and t.reason]
    category = _first_pipeline("balanced").fit([normalise(t.text) for t in complaints], [t.reason for t in complaints])
    return TrainedModels(TrainedSentiment(sentiment), CategoryClassifier(category), {})


def _reason_macro_f1(models: TrainedModels, complaints: list[LabelledTweet]) -> float:
    predicted = [c for c, _ in models.category.predict_many([t.text for t in complaints])]
    return round(float(f1_score([t.reason for t in complaints], predicted, average="macro")), 4)


def measure(data: Path, batch: int) -> dict[str, object]:
    airline_csv = data / "airline_tweets.csv"
    fixed = split(read_airline(airline_csv))
    test = fixed.test
    airline = ([t.text for t in test], [t.sentiment for t in test])
    tweeteval = _tweeteval(data)
    complaints = [t for t in test if t.sentiment == "negative" and t.reason]

    vader = VaderSentiment()

    def vader_many(texts: Sequence[str]) -> list[Sentiment]:
        return [vader.analyse(t) for t in texts]

    rows = [_row("VADER", vader_many, _full_triage(None), airline, tweeteval, batch)]

    first = _first_model(fixed.train)
    row = _row("TF-IDF+LR (first)", first.sentiment.analyse_many, _full_triage(first), airline, tweeteval, batch)
    row["reason_macro_f1"] = _reason_macro_f1(first, complaints)
    rows.append(row)

    started = time.perf_counter()
    models = train(airline_csv)
    training_seconds = time.perf_counter() - started
    row = _row("stack+gate (now)", models.sentiment.analyse_many, _full_triage(models), airline, tweeteval, batch)
    row["reason_macro_f1"] = _reason_macro_f1(models, complaints)
    rows.append(row)

    complaint_texts = [t.text for t in complaints]
    routed = [
        (c, t.reason)
        for c, t in zip((c for c, _ in models.category.classify_many(complaint_texts)), complaints, strict=True)
        if c is not None
    ]
    negatives = [t.text for t in test if t.sentiment == "negative"]
    angry = sum(a.angry for a in models.sentiment.assess_many(negatives))
    return {
        "rows": rows,
        "training_seconds": round(training_seconds, 1),
        "reason_threshold": models.category.min_confidence,
        "reason_routed_share": round(len(routed) / len(complaints), 4),
        "reason_routed_accuracy": round(sum(c == r for c, r in routed) / max(len(routed), 1), 4),
        "angry_share_of_negative_test": round(angry / len(negatives), 4),
        "split": models.manifest["split"],
        "batch": batch,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
    }


COLUMNS = [
    ("model", "model", 18),
    ("accuracy", "acc", 6),
    ("macro_f1", "mF1", 6),
    ("negative_recall", "negR", 6),
    ("tweeteval_macro_recall", "TE mR", 6),
    ("reason_macro_f1", "rsn mF1", 8),
    ("single_msgs_per_s", "1/call /s", 10),
    ("single_p99_ms", "p99 ms", 7),
    ("batched_msgs_per_s", "batch /s", 9),
]


def _print_table(result: dict[str, object]) -> None:
    print("  ".join(f"{title:>{width}}" for _, title, width in COLUMNS))
    for row in result["rows"]:  # type: ignore[attr-defined]
        cells = ["-" if row[key] is None else str(row[key]) for key, _, _ in COLUMNS]
        print("  ".join(f"{cell:>{width}}" for cell, (_, _, width) in zip(cells, COLUMNS, strict=True)))
    for key in (
        "training_seconds",
        "reason_threshold",
        "reason_routed_share",
        "reason_routed_accuracy",
        "angry_share_of_negative_test",
        "split",
        "batch",
        "machine",
    ):
        print(f"{key}: {result[key]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data directory")
    parser.add_argument("--batch", type=int, default=1000, help="messages per batched call")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    result = measure(args.data, args.batch)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
