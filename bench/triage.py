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
- throughput: one message per call, and the whole test set in batches of `--batch` (single-process, CPU).

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

from sklearn.metrics import accuracy_score, f1_score, recall_score

from careline.triage.model import Sentiment
from careline.triage.sentiment import VaderSentiment
from careline.triage.training import read_airline, split, train

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


def _sentiment_row(
    name: str,
    many: Callable[[Sequence[str]], list[Sentiment]],
    one: Callable[[str], Sentiment],
    airline: tuple[list[str], list[str]],
    tweeteval: tuple[list[str], list[str]],
    batch: int,
) -> dict[str, float | str | None]:
    texts, truth = airline
    predicted = [s.label for s in many(texts)]
    te_predicted = [s.label for s in many(tweeteval[0])]
    single = texts[:500]
    return {
        "model": name,
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "negative_recall": round(float(recall_score(truth, predicted, labels=["negative"], average="macro")), 4),
        "tweeteval_macro_recall": round(float(recall_score(tweeteval[1], te_predicted, average="macro")), 4),
        "reason_macro_f1": None,
        "single_msgs_per_s": round(_throughput(lambda b: [one(t) for t in b], single, 1)),
        "batched_msgs_per_s": round(_throughput(many, texts, batch)),
    }


def measure(data: Path, batch: int) -> dict[str, object]:
    airline_csv = data / "airline_tweets.csv"
    test = split(read_airline(airline_csv)).test
    airline = ([t.text for t in test], [t.sentiment for t in test])
    tweeteval = _tweeteval(data)

    vader = VaderSentiment()
    rows = [_sentiment_row("VADER", lambda b: [vader.analyse(t) for t in b], vader.analyse, airline, tweeteval, batch)]

    started = time.perf_counter()
    models = train(airline_csv)
    training_seconds = time.perf_counter() - started
    ours = _sentiment_row(
        "TF-IDF+LR (ours)", models.sentiment.analyse_many, models.sentiment.analyse, airline, tweeteval, batch
    )
    complaints = [t for t in test if t.sentiment == "negative" and t.reason]
    complaint_texts = [t.text for t in complaints]
    raw = [c for c, _ in models.category.predict_many(complaint_texts)]
    ours["reason_macro_f1"] = round(float(f1_score([t.reason for t in complaints], raw, average="macro")), 4)
    rows.append(ours)

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
        f"{platform.python_version()}",
    }


COLUMNS = [
    ("model", "model", 18),
    ("accuracy", "acc", 6),
    ("macro_f1", "mF1", 6),
    ("negative_recall", "negR", 6),
    ("tweeteval_macro_recall", "TE mR", 6),
    ("reason_macro_f1", "rsn mF1", 8),
    ("single_msgs_per_s", "1/call /s", 10),
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
