"""`careline train` and `careline classify` as a user runs them: real processes, real tweets (docs/triage.md)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

KEYS = {
    "sentiment", "sentiment_score", "angry", "category", "category_confidence", "language", "pii", "priority",
    "explanation",
}  # fmt: skip


def run(home: Path, *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`careline ARGS`; from ``home`` unless told otherwise, where no ../shared/data holds training data."""
    env = {**os.environ, "CARELINE_HOME": str(home), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "careline", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd or home,
    )


def verdicts(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_classify_writes_one_verdict_per_line_in_order_even_without_trained_models(tmp_path: Path) -> None:
    lines = [
        "@AcmeAir my card 4111 1111 1111 1111 was charged twice!!",
        "",
        "@AcmeAir ¿dónde está mi maleta? Llevo tres horas esperando en el aeropuerto",
        "thank you so much, the crew was lovely",
        "RT @AcmeAir: WIN a free trip! follow us & retweet #giveaway",
    ]
    result = run(tmp_path, "classify", stdin="\n".join(lines) + "\n")

    out = verdicts(result)
    assert len(out) == len(lines) and all(KEYS <= set(v) for v in out)
    card, empty, spanish, praise, promo = out
    assert (card["sentiment"], card["angry"], card["pii"], card["action"]) == (
        "negative",
        True,
        ["card"],
        "take_private",
    )
    assert card["priority"] > praise["priority"] and card["priority"] > promo["priority"]
    assert {f["feature"] for f in card["explanation"]["features"]} >= {"sentiment", "angry", "personal_data_public"}
    assert empty["sentiment"] == "neutral" and empty["language"] == "und"
    assert spanish["language"] == "es"
    assert praise["sentiment"] == "positive" and praise["action"] == "acknowledge"
    assert promo["noise"] == "retweet" and promo["action"] == "ignore"
    assert "no trained models" in result.stderr


def test_trained_models_give_categories_with_a_confidence(tmp_path: Path, data_dir: Path) -> None:
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sample = tmp_path / "sample.csv"
    with sample.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:2500])
    trained = run(tmp_path, "train", "--from", str(sample), "--format", "airline")
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "models" / "triage" / "manifest.json").is_file()

    texts = [r["text"].replace("\n", " ") for r in rows[5000:5300]]
    out = verdicts(run(tmp_path, "classify", stdin="\n".join(texts) + "\n"))

    assert len(out) == len(texts)
    assert all(0.0 <= v["category_confidence"] <= 1.0 for v in out)
    categorised = [v for v in out if v["category"] is not None]
    assert categorised and all(v["sentiment"] != "positive" for v in categorised)
    truth = [r["airline_sentiment"] for r in rows[5000:5300]]
    agree = sum(v["sentiment"] == t for v, t in zip(out, truth, strict=True)) / len(truth)
    assert agree > 0.6


def test_train_refuses_a_file_without_the_labels(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tweet_id,text\n1,hello\n", encoding="utf-8")
    result = run(tmp_path, "train", "--from", str(bad), "--format", "airline")
    assert result.returncode != 0 and "airline_sentiment" in result.stderr


def test_reference_patterns_find_booking_codes_and_bad_patterns_are_refused(tmp_path: Path) -> None:
    pattern = r"(?i:PNR|booking)\W{0,3}(?P<ref>[A-Z0-9]{6})"
    lines = ["@AcmeAir booking QX7R2B was cancelled, rebook me", "@AcmeAir my bags are lost"]
    out = verdicts(run(tmp_path, "classify", "--reference", f"booking={pattern}", stdin="\n".join(lines) + "\n"))
    assert out[0]["pii"] == ["reference"] and "QX7R2B" not in out[0]["masked_text"]
    assert out[1]["pii"] == []

    nested = run(tmp_path, "classify", "--reference", "ref=(a+)+", stdin="x\n")
    assert nested.returncode != 0 and "catastrophic backtracking" in nested.stderr
    env_bad = subprocess.run(
        [sys.executable, "-m", "careline", "classify"],
        env={
            **os.environ,
            "CARELINE_HOME": str(tmp_path),
            "CARELINE_REFERENCE_PATTERNS": '{"x": "("}',
            "COLUMNS": "400",
        },
        input="x\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert env_bad.returncode != 0 and "not a valid regular expression" in " ".join(
        env_bad.stderr.replace("│", " ").split()
    )


def test_without_models_classify_builds_them_once_from_the_default_data(tmp_path: Path, data_dir: Path) -> None:
    """Where `../shared/data` holds the labelled tweets (here a sample of them), the first classify trains."""
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    (tmp_path / "shared" / "data").mkdir(parents=True)
    with (tmp_path / "shared" / "data" / "airline_tweets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:1500])
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()

    first = run(home, "classify", stdin="@united where is my bag?\n", cwd=project)
    assert first.returncode == 0 and "building them from" in first.stderr
    assert (home / "models" / "triage" / "manifest.json").is_file()
    second = run(home, "classify", stdin="@united where is my bag?\n", cwd=project)
    assert second.returncode == 0 and "building" not in second.stderr and second.stdout == first.stdout
