"""Importing the real datasets through the ingestion path, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from careline.bootstrap import Careline
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.importers import parse

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)


def _import(app: Careline, path: Path, fmt: str) -> dict[str, int]:
    parsed = parse(path, fmt)
    ensure_defaults(app)
    totals = {"created": 0, "duplicate": 0, "rejected": len(parsed.rejected), "conversations": 0, "customers": 0}
    for start in range(0, len(parsed.messages), 1000):
        result = app.handle(IngestMessages(items=tuple(parsed.messages[start : start + 1000]), create_accounts=True))
        totals["created"] += result.count("created")
        totals["duplicate"] += result.count("duplicate")
        totals["conversations"] += result.conversations_created
        totals["customers"] += result.customers_created
    return totals


def test_twcs_import_rebuilds_threads_customers_and_real_response_times(app: Careline, data_dir: Path) -> None:
    first = _import(app, data_dir / "twcs_sample.csv", "twcs")
    assert first == {"created": 5000, "duplicate": 0, "rejected": 1, "conversations": 1312, "customers": 1443}

    again = _import(app, data_dir / "twcs_sample.csv", "twcs")
    assert again["created"] == 0 and again["duplicate"] == 5000

    summary = app.reports.summary()
    assert summary["messages"]["inbound"] == 2778
    assert summary["messages"]["outbound"] == 2222
    assert summary["conversations"]["total"] == 1312
    frt = summary["first_response_minutes"]
    assert abs(frt["p50"] - 13.6) <= 1.36
    assert abs(frt["p90"] - 549) <= 54.9
