"""`careline replay` and `careline demo`: pacing, a replay over real HTTP, and the whole demo as a process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from careline.bootstrap import Careline
from careline.demo.bots import choose_reply
from careline.demo.client import ApiClient
from careline.demo.scenario import bot_skills, sample_path
from careline.entrypoints.api.server import ServerHandle, run_server_in_thread
from careline.entrypoints.cli.main import app as cli
from careline.entrypoints.cli.replay import batch_end, due_offsets, prepare, to_payload
from careline.entrypoints.cli.setup import ensure_admin, ensure_defaults
from careline.ingestion.importers import parse
from careline.ingestion.model import InboundMessage

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

T0 = datetime(2017, 10, 31, 22, 0, tzinfo=UTC)
ADMIN, PASSWORD = "admin@careline.local", "replay-admin-pw"
SLICE = 300


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- pacing ------------------------------------------------------------------------------------------
def test_gaps_are_divided_by_the_speed() -> None:
    assert due_offsets([at(0), at(60), at(180)], speed=60) == [0.0, 1.0, 3.0]


def test_long_silences_are_capped_at_max_gap() -> None:
    assert due_offsets([at(0), at(86_400 * 3), at(86_400 * 3 + 15)], speed=10, max_gap=2) == [0.0, 2.0, 3.5]


def test_out_of_order_and_undated_messages_are_due_at_once_without_rewinding() -> None:
    # the second is stamped before the first (a reply stamped before its parent); the third has no time
    offsets = due_offsets([at(100), at(40), None, at(160)], speed=1)
    assert offsets == [0.0, 0.0, 0.0, 60.0]


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError):
        due_offsets([at(0)], speed=0)


def test_a_batch_takes_every_message_already_due_and_at_least_one() -> None:
    offsets = [0.0, 0.0, 0.5, 2.0, 2.0, 9.0]
    assert batch_end(offsets, 0, elapsed=0.6) == 3
    assert batch_end(offsets, 3, elapsed=2.0) == 5
    assert batch_end(offsets, 5, elapsed=3.0) == 6  # called when due: never an empty batch
    assert batch_end(offsets, 0, elapsed=100.0, limit=2) == 2


def _message(pid: str, direction: str = "inbound", reply_to: str | None = None) -> InboundMessage:
    return InboundMessage("x", "Brand", pid, "42" if direction == "inbound" else "Brand", f"text {pid}", at(0),
                          direction=direction, reply_to=reply_to)


def test_inbound_only_drops_the_brand_and_keeps_threads_by_their_root() -> None:
    thread = [_message("1"), _message("2", "outbound", "1"), _message("3", reply_to="2"), _message("9")]
    kept = prepare(thread, inbound_only=True)
    assert [(m.platform_message_id, m.thread_key) for m in kept] == [("1", "1"), ("3", "1"), ("9", "9")]
    assert prepare(thread, inbound_only=False) == thread


def test_retime_leaves_the_timestamp_to_the_server() -> None:
    message = _message("1")
    assert to_payload(message, retime=False)["created_at"] == "2017-10-31T22:00:00+00:00"
    assert "created_at" not in to_payload(message, retime=True)


def test_account_details_are_answered_in_private() -> None:
    assert choose_reply("my booking 12345678 was lost", "travel")[1] == "private"
    assert choose_reply("the app keeps crashing", "tech") == (choose_reply("x", "tech")[0], "public")
    assert all(set().union(*(bot_skills(i, n) for i in range(n))) == {"billing", "travel", "tech"} for n in (1, 2, 3))


# -- replay over real HTTP ---------------------------------------------------------------------------
@pytest.fixture
def server(app: Careline) -> Iterator[ServerHandle]:
    ensure_defaults(app)
    ensure_admin(app, ADMIN, PASSWORD)
    handle = run_server_in_thread(app, "127.0.0.1", 0)
    yield handle
    handle.stop()


def _replay(url: str, path: Path) -> str:
    args = ["replay", str(path), "--format", "twcs", "--speed", "1e9", "--max-gap", "0", "--limit", str(SLICE),
            "--url", url, "--email", ADMIN, "--password", PASSWORD]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_replay_feeds_a_real_slice_through_the_live_api(server: ServerHandle, data_dir: Path) -> None:
    path = data_dir / "twcs_sample.csv"
    expected = parse(path, "twcs").messages[:SLICE]
    ids = {m.platform_message_id for m in expected}
    starts = sum(1 for m in expected if m.reply_to is None or m.reply_to not in ids)

    assert f"sent {SLICE} messages: {SLICE} created, 0 duplicates, 0 rejected" in _replay(server.url, path)
    assert f"{SLICE} duplicates" in _replay(server.url, path)  # a replay is idempotent

    with ApiClient(server.url) as client:
        client.login(ADMIN, PASSWORD)
        page = client.request("GET", "/conversations", params={"limit": 1})
        summary = client.summary()
        first = client.conversation(page["items"][0]["id"])
    assert page["total"] == starts
    inbound = sum(m.direction == "inbound" for m in expected)
    assert (summary["messages"]["inbound"], summary["messages"]["outbound"]) == (inbound, SLICE - inbound)
    original = {m.platform_message_id: m.created_at for m in expected}
    for message in first["messages"]:  # without --retime the dataset's own times are kept
        assert datetime.fromisoformat(message["created_at"]) == original[message["platform_message_id"]]


def test_replay_explains_a_refused_log_in(server: ServerHandle) -> None:
    args = ["replay", str(sample_path()), "--url", server.url, "--email", ADMIN, "--password", "not-the-password"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "the log-in was refused" in result.output


def test_replay_explains_an_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(cli, ["replay", str(sample_path()), "--url", f"http://127.0.0.1:{port}",
                                      "--token", "t"])
    assert result.exit_code == 1
    assert "cannot reach the Careline API" in result.output


# -- the demo, as a newcomer runs it -----------------------------------------------------------------
def test_the_bundled_sample_is_installed_and_parses_cleanly() -> None:
    parsed = parse(sample_path(), "twcs")
    assert 300 <= len(parsed.messages) <= 400 and not parsed.rejected
    assert (sample_path().parent / "README.md").read_text(encoding="utf-8").count("CC BY-NC-SA 4.0")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_answers_and_resolves_with_simulated_agents(tmp_path: Path) -> None:
    # --until-resolved ends the run as soon as the loop has been shown; --duration bounds a broken run.
    command = [sys.executable, "-m", "careline", "demo", "--home", str(tmp_path / "demo"), "--port",
               str(_free_port()), "--agents", "3", "--duration", "60", "--until-resolved", "1", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["first_response_minutes"]["count"] > 0
    assert report["conversations"]["resolved"] >= 1
    assert report["demo"]["replayed"]["rejected"] == 0
    assert sum(agent["resolved"] for agent in report["demo"]["simulated_agents"]) >= 1
    assert "you@careline.demo" in done.stderr  # the newcomer's log-in is printed
