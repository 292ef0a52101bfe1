"""The `careline` command as a user runs it: a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)


def careline(database_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARELINE_DATABASE_URL": database_url, "CARELINE_HOME": str(home), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "careline", *args], env=env, capture_output=True, text=True, timeout=300
    )


def said(result: subprocess.CompletedProcess[str]) -> str:
    """What the command told its user on stderr, without Rich's boxes and line breaks."""
    return " ".join(result.stderr.replace("│", " ").split())


def last_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_import_twice_then_report_the_brands_real_response_times(
    database_url: str, tmp_path: Path, data_dir: Path
) -> None:
    source = str(data_dir / "twcs_sample.csv")
    first = last_json(careline(database_url, tmp_path, "import", source, "--format", "twcs", "--json"))
    assert {k: first[k] for k in ("messages", "inbound", "outbound", "conversations", "customers")} == {
        "messages": 5000, "inbound": 2778, "outbound": 2222, "conversations": 1312, "customers": 1443,
    }
    assert first["duplicates_skipped"] == 0 and first["rejected"] == 1
    assert "fields where 8 are expected" in first["rejects"][0]["reason"]

    again = last_json(careline(database_url, tmp_path, "import", source, "--format", "twcs", "--json"))
    assert again["messages"] == 0 and again["duplicates_skipped"] == 5000

    report = last_json(careline(database_url, tmp_path, "report", "--json"))
    assert abs(report["first_response_minutes"]["p50"] - 13.6) <= 1.36
    assert abs(report["first_response_minutes"]["p90"] - 549) <= 54.9
    by_channel = {"x": {"inbound": 2778, "outbound": 2222}}
    assert report["messages"] == {"inbound": 2778, "outbound": 2222, "by_channel": by_channel}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # not database-dependent: import runs on both above
def test_bad_input_is_refused_with_a_reason(database_url: str, tmp_path: Path, data_dir: Path) -> None:
    wrong_format = careline(database_url, tmp_path, "import", str(data_dir / "twcs_sample.csv"), "--format", "csv")
    assert wrong_format.returncode == 2 and "--format must be one of twcs, airline" in said(wrong_format)

    wrong_header = careline(database_url, tmp_path, "import", str(data_dir / "twcs_sample.csv"), "--format", "airline")
    assert wrong_header.returncode == 2 and "header must be" in said(wrong_header)

    missing = careline(database_url, tmp_path, "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "does not exist" in said(missing)

    bad_url = careline("mysql://somewhere/db", tmp_path, "report")
    assert bad_url.returncode == 2 and "must be a sqlite:/// or postgresql:// URL" in said(bad_url)


def test_init_creates_the_admin_once(database_url: str, tmp_path: Path) -> None:
    created = careline(database_url, tmp_path, "init", "--admin-password", "a-long-secret")
    assert created.returncode == 0 and "admin admin@careline.local created" in said(created)
    again = careline(database_url, tmp_path, "init")
    assert again.returncode == 0 and "exists already" in said(again)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # not database-dependent: import runs on both above
def test_untrusted_text_in_a_file_is_printed_as_text_not_markup(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "airline.csv"
    source.write_text(
        "tweet_id,airline_sentiment,negativereason,airline,text,tweet_created\n"
        "[/bold],negative,,Delta,@Delta [red]lost[/red] my bag,2/24/2015 11:35\n"
        "570301130888122368,negative,,Delta,@Delta [/] still no bag,2/24/2015 11:36\n",
        encoding="utf-8",
    )
    result = last_json(careline(database_url, tmp_path, "import", str(source), "--format", "airline", "--json"))
    assert result["messages"] == 1 and result["rejected"] == 1
    again = careline(database_url, tmp_path, "import", str(source), "--format", "airline")
    assert "tweet_id '[/bold]' is not a number" in said(again)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # not database-dependent: import runs on both above
def test_the_report_covers_a_window_of_conversations(database_url: str, tmp_path: Path, data_dir: Path) -> None:
    last_json(careline(database_url, tmp_path, "import", str(data_dir / "twcs_sample.csv"), "--json"))
    whole = last_json(careline(database_url, tmp_path, "report", "--json"))
    window = ("--since", "2017-10-31", "--until", "2017-11-01T00:00:00+00:00")
    day = last_json(careline(database_url, tmp_path, "report", "--json", *window))
    assert 0 < day["conversations"]["total"] < whole["conversations"]["total"]
    assert day["window"] == {"since": "2017-10-31T00:00:00+00:00", "until": "2017-11-01T00:00:00+00:00"}
    backwards = careline(database_url, tmp_path, "report", "--since", "2017-11-02", "--until", "2017-11-01")
    assert backwards.returncode == 2 and "--since must be before --until" in said(backwards)
    assert "not an ISO 8601" in said(careline(database_url, tmp_path, "report", "--since", "yesterday"))


def test_train_writes_the_models_and_their_manifest_reproducibly(tmp_path: Path, data_dir: Path) -> None:
    lines = (data_dir / "airline_tweets.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("".join(lines[:2501]), encoding="utf-8")  # the header and 2,500 tweets
    url = f"sqlite:///{tmp_path / 'careline.db'}"
    manifests = []
    for home in (tmp_path / "one", tmp_path / "two"):
        trained = careline(url, home, "train", "--from", str(labelled))
        assert trained.returncode == 0, trained.stderr
        manifests.append(json.loads((home / "models" / "triage" / "manifest.json").read_text(encoding="utf-8")))
    assert manifests[0]["metrics"] == manifests[1]["metrics"]
    assert manifests[0]["split"]["train"] + manifests[0]["split"]["test"] <= 2500  # repeated ids counted once
    assert manifests[0]["metrics"]["sentiment_accuracy"] > 0.6

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,text\n1,hello\n", encoding="utf-8")
    refused = careline(url, tmp_path, "train", "--from", str(wrong))
    assert refused.returncode == 2 and "airline_sentiment" in said(refused)
