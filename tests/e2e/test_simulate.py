"""`careline simulate` as a user runs it: the real TWCS trace, the example plan, a real process (docs/routing.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from careline.entrypoints.cli.main import app as cli

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "staffing.yaml"
POLICIES = {"fifo", "round_robin", "priority_sla", "skills_overflow"}
KEYS = {
    "service_level", "high_priority_within_target", "first_response_p50_min", "first_response_p90_min",
    "occupancy", "asa_min", "abandonment", "offered", "answered", "abandoned", "by_queue", "by_priority", "by_team",
}  # fmt: skip


def careline(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """From an empty home: no trained models, so triage falls back to VADER, as a fresh checkout would."""
    env = {**os.environ, "CARELINE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "careline", *args], env=env, capture_output=True, text=True, timeout=300, cwd=home
    )


def test_simulate_compares_the_four_policies_on_the_twcs_trace(tmp_path: Path, data_dir: Path) -> None:
    result = careline(
        tmp_path, "simulate", "--trace", str(data_dir / "twcs_sample.csv"), "--config", str(EXAMPLE), "--json"
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"policies", "trace", "config"}
    assert set(report["policies"]) == POLICIES
    for name, metrics in report["policies"].items():
        assert KEYS <= set(metrics), name
        assert 0 < metrics["occupancy"] < 1 and metrics["offered"] == report["trace"]["arrivals"]
    trace = report["trace"]
    assert (trace["format"], trace["arrivals"], trace["rejected"]) == ("twcs", 2778, 1)
    assert "VADER" in trace["triage"]["sentiment"]
    assert "line 2591" in result.stderr  # the malformed record is reported, and skipped

    fifo, aging = report["policies"]["fifo"], report["policies"]["priority_sla"]
    assert aging["high_priority_within_target"] >= 0.95
    assert fifo["service_level"] - aging["service_level"] <= 0.05  # within 5 points of fifo (or better)
    assert report["policies"]["skills_overflow"]["escalations"] > 0


def invoke(home: Path, *args: str) -> tuple[int, str, str]:
    """In this process (the checks that need no full run): exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), env={"CARELINE_HOME": str(home), "COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_simulate_prints_the_comparison_table(tmp_path: Path, data_dir: Path) -> None:
    trace = str(data_dir / "twcs_sample.csv")
    code, out, err = invoke(tmp_path, "simulate", "--trace", trace, "--config", str(EXAMPLE), "--policy", "fifo",
                            "--policy", "priority_sla", "--limit", "300")  # fmt: skip

    assert code == 0, err
    assert "Policies compared" in out and "fifo" in out and "priority_sla" in out and "round_robin" not in out
    assert "By entry queue" in out and "By priority band" in out and "Occupancy by team" in out
    assert "300 arrivals from twcs_sample.csv" in err


def test_a_bad_plan_exits_2_naming_the_key(tmp_path: Path, data_dir: Path) -> None:
    trace = str(data_dir / "twcs_sample.csv")
    good = EXAMPLE.read_text(encoding="utf-8")
    cases = [  # (what is replaced, by what, what the one-line error must say)
        ("{queue: social, priority_boost: 40}", "{queue: socail}", "routes[0].steps[1].queue: unknown queue 'socail'"),
        ("first_response_minutes: 30", "first_response_minutes: soon", "queues[0].first_response_minutes"),
        ("    agents: 2\n", "    agentz: 2\n", "teams[0].agentz: unknown key"),
        ("'skills.billing >= 5'", "'skills.billing => 5'", 'queues[2].target: unknown operator "=>" at column 16'),
    ]
    for n, (old, new, expected) in enumerate(cases):
        assert old in good
        config = tmp_path / f"plan-{n}.yaml"
        config.write_text(good.replace(old, new, 1), encoding="utf-8")
        code, _, err = invoke(tmp_path, "simulate", "--trace", trace, "--config", str(config))
        assert code == 2, err
        assert expected in err
        assert len(err.strip().splitlines()) == 1, err


def test_a_file_that_is_no_trace_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.csv"
    bogus.write_text("when,what\nyesterday,something\n", encoding="utf-8")

    code, _, err = invoke(tmp_path, "simulate", "--trace", str(bogus), "--config", str(EXAMPLE))

    assert code == 2
    assert "not a TWCS" in err and len(err.strip().splitlines()) == 1


def test_an_unknown_policy_exits_2(tmp_path: Path, data_dir: Path) -> None:
    trace = str(data_dir / "twcs_sample.csv")
    code, _, err = invoke(tmp_path, "simulate", "--trace", trace, "--config", str(EXAMPLE), "--policy", "lifo")

    assert code == 2 and "unknown policy 'lifo'" in err
