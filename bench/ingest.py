"""Ingestion benchmark: the airline dataset through the API's code path, on SQLite or PostgreSQL.

What one request does, timed from its receipt to "queued": parse the JSON body, validate each item, then
`careline.handle(IngestMessages(..., create_accounts=False))`, which dedupes, identifies, threads, triages,
persists and commits (durable), then runs the routing pass; only then is the answer built. In-process, the
API's route function `post_messages` is called directly (everything but HTTP and the token check); with
--http, `careline serve` runs in its own process and each client thread POSTs over HTTP, so latency is
measured by the client, from sending the request to reading the answer. Method and results:
docs/benchmarks.md.

    python bench/ingest.py --database sqlite --batch 200
    python bench/ingest.py --database postgresql --batch 200 --clients 2 --json
    python bench/ingest.py --database sqlite --batch 200 --http

Each run uses a fresh database (a temporary directory for SQLite, a throw-away PostgreSQL database) and
prints posts/s from the first receipt to the last acknowledgement, and p50/p99 latency per message (each
message's latency is that of the request that carried it). One file on purpose (about 450 lines): a
benchmark is read, checked and run as a whole.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Agent
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from careline.entrypoints.api.routes_messages import post_messages
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.importers import parse
from careline.ingestion.model import InboundMessage

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "airline_tweets.csv"
POSTGRES_ADMIN_URL = os.environ.get(
    "CARELINE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
console = Console(stderr=True)

# A receiver takes one request body (JSON bytes) and answers the per-status counts once it is durable.
Receiver = Callable[[bytes], dict[str, int]]


@dataclasses.dataclass(frozen=True)
class Options:
    database: str
    batch: int
    clients: int
    limit: int | None
    agents: int
    capacity: int
    data: Path
    workdir: Path
    http: bool
    as_json: bool
    progress: bool


# -- the workload ----------------------------------------------------------------------------------------


def as_json_item(message: InboundMessage) -> dict[str, Any]:
    """The message as an API client would post it."""
    item = dataclasses.asdict(message)
    item["created_at"] = message.created_at.isoformat() if message.created_at else None
    return {k: v for k, v in item.items() if v is not None}


def request_bodies(messages: list[InboundMessage], batch: int) -> list[bytes]:
    """The client side, prepared before the clock starts: one JSON body per batch."""
    return [
        json.dumps([as_json_item(m) for m in messages[start : start + batch]]).encode()
        for start in range(0, len(messages), batch)
    ]


# -- the receivers: the API's route in this process, or a real server over HTTP ------------------------


def in_process_receiver(app: Careline, agent: Agent) -> Receiver:
    """The route behind POST /api/v1/messages, called directly: everything but HTTP and auth.

    It parses nothing itself, so the body is parsed here exactly as the API's ``json_body`` does.
    """

    def receive(body: bytes) -> dict[str, int]:
        response = post_messages(app, agent, json.loads(body))
        return _counts(json.loads(bytes(response.body)))

    return receive


@contextlib.contextmanager
def http_receiver(url: str, home: Path, token: str) -> Iterator[Receiver]:
    """`careline serve` in its own process (as deployed), and one HTTP client per client thread."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "careline",
        "--database-url",
        url,
        "--home",
        str(home),
        "serve",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    clients = threading.local()
    opened: list[httpx.Client] = []
    lock = threading.Lock()

    def receive(body: bytes) -> dict[str, int]:
        client = getattr(clients, "client", None)
        if client is None:
            client = clients.client = httpx.Client(
                base_url=base_url,
                timeout=120.0,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with lock:
                opened.append(client)
        response = client.post("/api/v1/messages", content=body)
        if response.status_code not in (200, 201, 422):
            raise RuntimeError(f"POST /api/v1/messages answered {response.status_code}: {response.text[:500]}")
        return _counts(response.json())

    try:
        _wait_until_healthy(base_url, server)
        yield receive
    finally:
        for client in opened:
            client.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise SystemExit(f"the API server exited with {server.returncode}:\n{stderr[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"the API server at {base_url} did not answer /healthz within {timeout} s")


def _counts(answer: dict[str, Any]) -> dict[str, int]:
    return {"created": answer["created"], "duplicate": answer["duplicates"], "rejected": answer["rejected"]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the database ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(database: str, workdir: Path) -> Iterator[str]:
    """A URL to an empty database that is removed afterwards."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="careline-bench-", dir=workdir) as directory:
            yield f"sqlite:///{Path(directory) / 'careline.db'}"
        return
    if database != "postgresql":
        yield database  # an explicit URL: the caller owns it (and it should be empty)
        return
    name = f"careline_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as db:
            db.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (Linux), since fsync on a tmpfs proves nothing."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            _device, mount_point, fs_type, *_ = line.split()
            if str(path.resolve()).startswith(mount_point) and len(mount_point) > len(best):
                best, kind = mount_point, fs_type
    return kind


def prepare(app: Careline, accounts: set[str], agents: int, capacity: int) -> tuple[Agent, str]:
    """Default queue, the airlines' X accounts, online agents with room (so routing assigns work), and
    the API client's identity: an integration account (a channel connector) and its bearer token."""
    ensure_defaults(app)
    for name in sorted(accounts):
        app.handle(admin.CreateChannelAccount(kind="x", name=name))
    for number in range(agents):
        agent = app.handle(
            admin.CreateAgent(name=f"Agent {number}", email=f"agent{number}@bench.local", capacity=(("x", capacity),))
        )
        app.handle(admin.SetAgentStatus(agent_id=agent.id, status="online"))
    email, password = "bench-client@bench.local", uuid.uuid4().hex
    app.handle(admin.CreateAgent(name="Bench client", email=email, password=password, role="integration"))
    token, client = app.handle(admin.IssueToken(email=email, password=password))
    return client, str(token)


def durability(app: Careline) -> dict[str, str]:
    """The settings that decide what a commit survives, read back from the live database."""
    with app.engine.connect() as db:
        if app.engine.dialect.name == "sqlite":
            synchronous = int(db.exec_driver_sql("PRAGMA synchronous").scalar() or 0)
            return {
                "journal_mode": str(db.exec_driver_sql("PRAGMA journal_mode").scalar()),
                "synchronous": SQLITE_SYNCHRONOUS.get(synchronous, str(synchronous)),
            }
        names = ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
        return {n: str(db.exec_driver_sql(f"SHOW {n}").scalar()) for n in names}


def stored_counts(app: Careline) -> dict[str, int]:
    with app.engine.connect() as db:
        return {
            "messages": db.scalar(sa.select(sa.func.count()).select_from(t.messages)) or 0,
            "conversations": db.scalar(sa.select(sa.func.count()).select_from(t.conversations)) or 0,
            "assigned": db.scalar(
                sa.select(sa.func.count())
                .select_from(t.conversations)
                .where(t.conversations.c.assignee_id.is_not(None))
            )
            or 0,
            "events": db.scalar(sa.select(sa.func.count()).select_from(t.events)) or 0,
        }


# -- the run -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Timings:
    batches: list[tuple[float, float, int]] = dataclasses.field(default_factory=list)  # received, acked, items
    counts: dict[str, int] = dataclasses.field(default_factory=dict)


def drive(bodies: list[bytes], sizes: list[int], receive: Receiver, clients: int, progress: Progress | None) -> Timings:
    """K client threads, each posting the next batch as soon as its previous one is acknowledged."""
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(bodies)):
        work.put(index)
    timings = Timings()
    lock = threading.Lock()
    errors: list[BaseException] = []
    task = progress.add_task("ingesting", total=sum(sizes)) if progress else None

    def client() -> None:
        while not errors:
            try:
                index = work.get_nowait()
            except queue.Empty:
                return
            received = time.perf_counter()
            try:
                counts = receive(bodies[index])
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                return
            acknowledged = time.perf_counter()
            with lock:
                timings.batches.append((received, acknowledged, sizes[index]))
                for status, number in counts.items():
                    timings.counts[status] = timings.counts.get(status, 0) + number
                if progress is not None and task is not None:
                    progress.advance(task, sizes[index])

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return timings


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def summarize(timings: Timings) -> dict[str, float]:
    """Throughput over the whole run; each message's latency is that of the batch that carried it."""
    start = min(received for received, _, _ in timings.batches)
    end = max(acked for _, acked, _ in timings.batches)
    latencies = sorted((acked - received) * 1000 for received, acked, size in timings.batches for _ in range(size))
    posts = sum(size for _, _, size in timings.batches)
    return {
        "posts": posts,
        "seconds": round(end - start, 3),
        "posts_per_second": round(posts / (end - start), 1),
        "latency_ms_p50": round(percentile(latencies, 0.50), 1),
        "latency_ms_p99": round(percentile(latencies, 0.99), 1),
        "latency_ms_max": round(latencies[-1], 1),
    }


def run(options: Options) -> dict[str, Any]:
    started = time.perf_counter()
    parsed = parse(options.data, "airline")
    parse_seconds = time.perf_counter() - started
    messages = parsed.messages[: options.limit] if options.limit else parsed.messages
    bodies = request_bodies(messages, options.batch)
    sizes = [min(options.batch, len(messages) - start) for start in range(0, len(messages), options.batch)]
    accounts, posts = {m.account for m in messages}, len(messages)
    # Only the request bodies (bytes, which the garbage collector does not track) stay: the parsed rows
    # would make this process's collections slower than a server's, and in-process latency worse.
    del parsed, messages
    home_dir = tempfile.TemporaryDirectory(prefix="careline-bench-home-", dir=options.workdir)
    with home_dir as home, fresh_database(options.database, options.workdir) as url:
        app = bootstrap(Settings(home=Path(home), database_url=url))
        app.warm_up()  # as `careline serve` does before its first request
        try:
            client, token = prepare(app, accounts, options.agents, options.capacity)
            with contextlib.ExitStack() as stack:
                if options.http:
                    receive = stack.enter_context(http_receiver(url, Path(home), token))
                else:
                    receive = in_process_receiver(app, client)
                progress = None
                if options.progress:
                    progress = stack.enter_context(
                        Progress(
                            TextColumn("{task.description}"),
                            BarColumn(),
                            MofNCompleteColumn(),
                            TimeElapsedColumn(),
                            console=console,
                            transient=True,
                        )
                    )
                cpu_before, load_before = time.process_time(), os.getloadavg()[0]
                timings = drive(bodies, sizes, receive, options.clients, progress)
                cpu_seconds = time.process_time() - cpu_before
            stored = stored_counts(app)
            settings_read = durability(app)
            dialect = app.engine.dialect.name
        finally:
            app.close()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": dialect,
        "durability": settings_read,
        "sqlite_filesystem": filesystem(options.workdir) if dialect == "sqlite" else None,
        "mode": "http" if options.http else "in-process",
        "batch": options.batch,
        "clients": options.clients,
        "agents": options.agents,
        "csv_parse_seconds": round(parse_seconds, 3),
        **summarize(timings),
        # CPU of this process only (in-process: everything but PostgreSQL's own work; --http: the client).
        "cpu_ms_per_1000_posts": round(1000 * 1000 * cpu_seconds / posts, 1),
        "load_average_before": round(load_before, 2),
        "answered": timings.counts,
        "stored": stored,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def print_report(report: dict[str, Any]) -> None:
    table = Table(
        title=f"ingestion: {report['database']}, {report['mode']}, batch {report['batch']}, "
        f"{report['clients']} client(s)"
    )
    table.add_column("posts", justify="right")
    table.add_column("posts/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("max ms", justify="right")
    table.add_column("assigned", justify="right")
    table.add_row(
        str(report["posts"]),
        f"{report['posts_per_second']:,.0f}",
        f"{report['latency_ms_p50']:.1f}",
        f"{report['latency_ms_p99']:.1f}",
        f"{report['latency_ms_max']:.1f}",
        str(report["stored"]["assigned"]),
    )
    Console().print(table)
    Console().print(f"durability: {report['durability']}; answered: {report['answered']}; stored: {report['stored']}")


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql, or a database URL (must be empty)")
    parser.add_argument("--batch", type=int, default=200, help="messages per request (default 200)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent client threads (default 1)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N messages")
    parser.add_argument("--agents", type=int, default=10, help="online agents (default 10)")
    parser.add_argument("--capacity", type=int, default=25, help="conversations each agent holds (default 25)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="airline_tweets.csv")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the SQLite file goes; must be a real disk, not a tmpfs, for fsync to mean anything",
    )
    parser.add_argument("--http", action="store_true", help="post over HTTP to `careline serve` in its own process")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print the result as one JSON line")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.clients < 1:
        parser.error("--batch and --clients must be at least 1")
    if not args.data.is_file():
        parser.error(f"{args.data} does not exist (the shared datasets live next to the repository)")
    return Options(**vars(args))


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    report = run(options)
    if options.as_json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
