"""Routing benchmark, scale-out: decisions per second of 1, 2 and 4 `careline router` processes on PostgreSQL.

The target of issue 4 (docs/routing.md#several-routers): "with 4 router processes on PostgreSQL, throughput scales
to at least 2.5x one router, with zero double assignments". A *decision* is one offer made (a row of `offers`).

1. Setup, once, in a template database: 5 queues with target expressions, a workflow of 4 routes, `--agents`
   agents (skills with proficiency, languages, seniority, an `api` capacity of 3 to 5, all offline), then
   `--conversations` posts ingested through `IngestMessages` (triage included) with the in-process router, so
   that every conversation waits with its routing ticket.
2. Per run, a fresh copy of that template (CREATE DATABASE ... TEMPLATE: the same start for every run), a fresh
   stream: every agent goes online through `SetAgentStatus` on an app configured with Redis, which publishes the
   agents' "agent" jobs (to a staging stream); N routers start and wait on the run's stream; the staged jobs are
   appended to it in one round trip (t0), and the routers fill the agents: one transaction per agent locks it
   once and makes as many offers as its room takes.
3. The run ends when the stream is drained and the number of pending offers has stopped growing. Decisions/s is
   decisions / (last offer's `offered_at` - t0). Latency is each router's own measure of its jobs' run time (a
   fill job: one agent, all its offers), which it prints when it stops. Meanwhile PostgreSQL's `pg_stat_activity` is
   sampled (what the routers' connections are doing or waiting for) and CPU time is read from /proc.
4. Afterwards, recounted from `conversations`: no conversation with two pending offers, no pending offer to
   another agent than the conversation's assignee, no agent over capacity, and no agent left with room while
   a ticket of its pools waits (every possible offer was made).

    python bench/routing_routers.py                        # 1, 2 and 4 routers, full size (about 12 minutes)
    python bench/routing_routers.py --routers 1,4 --agents 200 --conversations 2000
    python bench/routing_routers.py --sweep-seconds 3600   # no timer sweep during a run: the jobs alone
    python bench/routing_routers.py --keep-template        # keep the set-up database, then reuse it with
    python bench/routing_routers.py --template NAME        # (the full-size setup takes about 3.5 minutes)
    python bench/routing_routers.py --json                 # the one-line JSON summary only

One router at a time sweeps the timers, every `--sweep-seconds` (2 s, the product default): the holder of the
sweep's lease. A sweep also fills agents with room (skipping those another router is filling), so it
makes decisions too; the second table (pg_stat_activity) and the statements seen waiting for a lock show how
much the routers get in each other's way.

PostgreSQL comes from `--database-url` (an admin URL: throw-away databases are created next to it and dropped at
the end; default CARELINE_BENCH_POSTGRES_URL or the local trust-auth server), Redis from `--redis-url`.
Timings are never asserted in tests; the benchmark is run by hand. (Longer than our usual module: one benchmark,
read best in one place.)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from careline.adapters.db import rows
from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Role
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from careline.entrypoints.cli.setup import DEFAULT_QUEUE, ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import InboundMessage
from careline.routing import commands as routing

TARGET_SPEEDUP = 2.5
BENCH_APP = "careline-bench"  # application_name of this process's own connections, left out of the samples
POSTGRES_URL = os.environ.get("CARELINE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CARELINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LONG = 24 * 3600  # timers (offer expiry, step timeouts, SLA) kept far away: only decisions are measured

# -- the configuration: an airline's care team on one channel (every post arrives through the API) -----------
QUEUES = (  # name, keywords (triage files a post under the queue its text matches), target, selection
    ("billing", ("refund", "charged", "invoice", "fee"), "skills.billing >= 3", "longest_idle"),
    ("luggage", ("luggage", "bag", "baggage", "suitcase"), '"luggage" in skills and skills.luggage >= 5', "least_busy"),
    ("spanish", (), '"es" in languages', "longest_idle"),
    ("priority", (), 'seniority >= 3 and "en" in languages', "longest_idle"),
)
GENERAL_TARGET = '"en" in languages or "es" in languages'
ROUTES = [
    {
        "name": "urgent",
        "when": 'sentiment == "negative" and priority >= 60',
        "steps": [{"queue": "priority", "timeout_seconds": LONG, "priority_boost": 20}, {"queue": DEFAULT_QUEUE}],
    },
    {"name": "spanish", "when": 'language == "es"', "steps": [{"queue": "spanish"}]},
    {
        "name": "billing",
        "when": 'queue == "billing"',
        "steps": [{"queue": "billing", "timeout_seconds": LONG}, {"queue": DEFAULT_QUEUE}],
    },
    {
        "name": "luggage",
        "when": 'queue == "luggage"',
        "steps": [
            {"queue": "luggage", "timeout_seconds": LONG, "target": "skills.luggage >= 8"},
            {"queue": "luggage", "timeout_seconds": LONG},
            {"queue": DEFAULT_QUEUE},
        ],
    },
]
POSTS = (  # (weight, text); {n} keeps every text distinct
    (20, "I was charged twice for my ticket on flight {n}, I want a refund now"),
    (15, "My luggage never arrived from flight {n}, the bag has been lost for three days"),
    (15, "Flight {n} was delayed five hours and nobody told us anything, worst airline ever"),
    (25, "Can I change my seat on flight {n} tomorrow morning?"),
    (10, "Thanks for the great crew on flight {n}, lovely trip"),
    (10, "Mi maleta no llegó en el vuelo {n}, necesito ayuda por favor"),
    (5, "Quiero cambiar mi vuelo {n} para mañana, ¿es posible hacerlo?"),
)


@dataclasses.dataclass(frozen=True)
class Options:
    routers: tuple[int, ...]
    agents: int
    conversations: int
    database_url: str  # the admin URL: throw-away databases are made on its server
    redis_url: str
    batch: int  # jobs a router reads from the stream at a time
    sweep_seconds: float  # the routers' timer sweep (it also fills agents with room)
    settle_seconds: float  # the pending-offer count unchanged this long (and the stream drained): the run is over
    max_seconds: float
    seed: int
    template: str | None = None  # an existing database made by an earlier run with --keep-template: no setup
    keep_template: bool = False
    profile: str | None = None  # a folder: run each router under cProfile and keep its statistics there


# -- databases ---------------------------------------------------------------------------------------------------
def _url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _admin(admin_url: str, statement: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            db.exec_driver_sql(statement)
    finally:
        engine.dispose()


@contextlib.contextmanager
def throwaway_database(admin_url: str, template: str | None = None, *, keep: bool = False) -> Iterator[str]:
    """A new database (a copy of `template` when given), dropped on the way out unless `keep`."""
    name = f"careline_bench_{uuid.uuid4().hex[:10]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        if keep:
            print(
                f"kept the template database {name} (--template {name} reuses it; drop it when done)", file=sys.stderr
            )
        else:
            _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, connect_args={"application_name": BENCH_APP})


# -- setup: the template database --------------------------------------------------------------------------------
def agent_profile(rng: random.Random, n: int, agent_id: str) -> admin.SetRoutingProfile:
    """Mostly English speakers, some Spanish or both; skills with proficiency; an `api` capacity of 3 to 5."""
    languages = ["en"] if rng.random() < 0.85 else ["es"]
    if rng.random() < 0.25:
        languages.append("es" if languages[0] == "en" else "en")
    skills = tuple((s, rng.randint(1, 10)) for s in ("billing", "luggage", "refunds") if rng.random() < 0.4)
    return admin.SetRoutingProfile(
        agent_id=agent_id,
        proficiency=skills,
        languages=tuple(languages),
        teams=("social",) if n % 3 == 0 else ("chat",),
        seniority=rng.randint(0, 5),
        capacity=(("api", rng.randint(3, 5)),),
    )


def build_template(options: Options, url: str, home: Path) -> dict[str, Any]:
    """Queues, workflow, offline agents and waiting conversations (with tickets), in the database at `url`."""
    started = time.perf_counter()
    rng = random.Random(options.seed)
    app = bootstrap(Settings(home=home, database_url=url))  # no Redis: ingestion routes in-process
    try:
        ensure_defaults(app)
        _make_queues(app)
        app.handle(routing.SaveRoutingSettings(spec=_routing_spec()))
        for n in range(options.agents):
            agent = app.handle(admin.CreateAgent(name=f"agent {n}", email=f"agent{n}@example.com"))
            app.handle(agent_profile(rng, n, agent.id))
        agents_done = time.perf_counter()
        _ingest(app, options, rng)
        facts = template_facts(app.engine)
    finally:
        app.close()
    facts.update(setup_agents_s=round(agents_done - started, 1), setup_total_s=round(time.perf_counter() - started, 1))
    return facts


def _make_queues(app: Careline) -> None:
    for name, keywords, _, _ in QUEUES:
        app.handle(admin.CreateQueue(name=name, keywords=keywords, first_response_target_seconds=LONG))
    with app.uow(read_only=True) as uow:
        ids = {q.name: q.id for q in uow.queues.all()}
    targets = {name: (target, selection) for name, _, target, selection in QUEUES}
    targets[DEFAULT_QUEUE] = (GENERAL_TARGET, "longest_idle")
    for name, (target, selection) in targets.items():
        app.handle(
            admin.SetQueueRouting(
                queue_id=ids[name], target=target, first_response_target_seconds=LONG, selection=selection
            )
        )


def _routing_spec() -> dict[str, Any]:
    return {
        "routes": ROUTES,
        "ordering": "priority_sla",
        "offer_timeout_seconds": LONG,  # nobody answers offers here: none may expire during a run
        "sla_warning_fraction": 0.8,
    }


def _ingest(app: Careline, options: Options, rng: random.Random) -> None:
    weights, texts = [w for w, _ in POSTS], [text for _, text in POSTS]
    now = datetime.now(UTC)
    batch: list[InboundMessage] = []
    for n in range(options.conversations):
        text = rng.choices(texts, weights)[0].format(n=1000 + n)
        batch.append(
            InboundMessage(
                channel="api",
                account="default",
                platform_message_id=f"post-{n}",
                author_id=f"customer-{n}",  # one conversation each
                text=text,
                created_at=now - timedelta(seconds=options.conversations - n),
            )
        )
        if len(batch) == 500 or n == options.conversations - 1:
            app.handle(IngestMessages(items=tuple(batch)))
            batch = []


def template_facts(engine: sa.Engine) -> dict[str, Any]:
    """What a run starts from: conversations (each with a waiting ticket), agents and their total capacity."""
    with engine.connect() as db:
        conversations = db.execute(sa.select(sa.func.count()).select_from(t.conversations)).scalar() or 0
        waiting = db.execute(
            sa.select(sa.func.count()).select_from(t.routing_tickets).where(t.routing_tickets.c.waiting.is_(True))
        ).scalar()
        agents = [rows.agent_from_row(r) for r in db.execute(sa.select(t.agents))]
        lanes = Counter(db.execute(sa.select(t.routing_tickets.c.pool).where(t.routing_tickets.c.waiting)).scalars())
    if waiting != conversations:
        raise SystemExit(f"setup: {conversations} conversations but {waiting} waiting tickets")
    capacity = sum(a.capacity_for("api") for a in agents if a.role is Role.AGENT)
    return {
        "conversations": conversations,
        "agents": sum(1 for a in agents if a.role is Role.AGENT),
        "capacity": capacity,
        "lanes": len(lanes),
        "largest_lane": max(lanes.values(), default=0),
    }


# -- one run -----------------------------------------------------------------------------------------------------
def go_online(url: str, options: Options, home: Path, staging: str) -> int:
    """Every agent goes online through the command (an app configured with Redis publishes its "agent" job)."""
    settings = Settings(home=home, database_url=url, redis_url=options.redis_url, routing_stream=staging)
    app = bootstrap(settings)
    try:
        with app.uow(read_only=True) as uow:
            ids = [a.id for a in uow.agents.all() if a.role is Role.AGENT]
        for agent_id in ids:
            app.handle(admin.SetAgentStatus(agent_id=agent_id, status="online"))
    finally:
        app.close()
    return len(ids)


def start_routers(count: int, url: str, options: Options, home: Path, stream: str, logs: Path) -> list[Any]:
    env = {
        **os.environ,
        "CARELINE_HOME": str(home),
        "CARELINE_DATABASE_URL": url,
        "CARELINE_REDIS_URL": options.redis_url,
        "CARELINE_ROUTING_STREAM": stream,
        "CARELINE_ROUTING_SWEEP_SECONDS": str(options.sweep_seconds),
    }
    command = [sys.executable, "-m", "careline", "router", "--batch", str(options.batch)]
    processes = []
    for n in range(count):
        argv = command
        if options.profile:  # each router under cProfile, its statistics written when it stops
            out = Path(options.profile) / f"router-{count}-{n}.prof"
            argv = [sys.executable, "-m", "cProfile", "-o", str(out), *command[1:]]
        with (logs / f"router-{n}.log").open("wb") as log:  # the child keeps its own handle
            processes.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))  # noqa: S603
    return processes


def wait_ready(processes: list[Any], logs: Path) -> None:
    """Every router says it is taking jobs (it has bootstrapped and is about to block on the stream)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a router exited early:\n" + _tails(logs))
        texts = [(logs / f"router-{n}.log").read_text(errors="replace") for n in range(len(processes))]
        if all("taking jobs" in text for text in texts):
            time.sleep(0.5)  # from the message to the blocking read: a few statements
            return
        time.sleep(0.1)
    raise SystemExit("the routers did not start in two minutes:\n" + _tails(logs))


def _tails(logs: Path) -> str:
    return "\n".join(f"{p.name}: {p.read_text(errors='replace')[-2000:]}" for p in sorted(logs.glob("*.log")))


def move_jobs(client: redis.Redis, staging: str, stream: str) -> tuple[int, datetime]:
    """Append the staged jobs to the routers' stream in one round trip; returns how many, and when."""
    entries: list[Any] = list(client.xrange(staging, "-", "+") or [])
    started = datetime.now(UTC)
    with client.pipeline(transaction=False) as pipe:
        for _, fields in entries:
            pipe.xadd(stream, fields)
        pipe.execute()
    client.delete(staging)
    return len(entries), started


def backlog(client: redis.Redis, stream: str) -> int:
    for info in client.xinfo_groups(stream):
        if info["name"] == "routers":
            return int(info["pending"]) + int(info.get("lag") or 0)
    return 0


class Sampler:
    """pg_stat_activity of the routers' connections, sampled in a thread: what they do or wait for, and which
    statements wait for a lock."""

    def __init__(self, engine: sa.Engine, interval: float = 0.1) -> None:
        self._engine, self._interval = engine, interval
        self._stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.lock_waits: Counter[str] = Counter()
        self.samples = 0
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        query = sa.text(
            "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND application_name <> :me AND pid <> pg_backend_pid()"
        )
        with self._engine.connect() as db:
            while not self._stop.wait(self._interval):
                for state, wait_type, wait_event, statement in db.execute(query, {"me": BENCH_APP}):
                    self.counts[_activity(state, wait_type, wait_event)] += 1
                    if wait_type == "Lock":
                        self.lock_waits[_statement(statement)] += 1
                self.samples += 1
                db.rollback()  # a fresh snapshot each time

    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values())
        return {k: round(v / total, 3) for k, v in self.counts.most_common()} if total else {}


def _statement(sql: str) -> str:
    """A statement in a few words: what it does to which table ("SELECT agents FOR UPDATE")."""
    text = " ".join(sql.split())
    match = re.match(r"(SELECT|UPDATE|INSERT INTO|DELETE FROM)\b", text, re.IGNORECASE)
    if match is None:
        return text[:40]
    verb = match.group(1).upper()
    table = re.search(r"\bFROM (\w+)" if verb == "SELECT" else rf"^{verb} (\w+)", text, re.IGNORECASE)
    lock = re.search(r"FOR UPDATE( OF \w+)?( SKIP LOCKED)?", text, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else '?'}" + (f" {lock.group(0)}" if lock else "")


def _activity(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
    if state == "active":
        return "active: running (or waiting for a CPU)" if wait_type is None else f"active: {wait_type}/{wait_event}"
    if state == "idle in transaction":
        return "idle in transaction (the router's Python works)"
    return f"{state} (between transactions)"


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    """User + system CPU ticks of each process still alive."""
    ticks = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclasses.dataclass
class CpuWindow:
    """CPU seconds from t0 to the last progress: of the routers, of the PostgreSQL processes that serve this
    database (its backends, and the writers and checkpointer every database shares), and of the whole machine.
    PostgreSQL and the bench share this machine with whatever else runs on it: `machine_busy` says how full it was."""

    routers: list[int]
    engine: sa.Engine
    started: dict[str, Any] = dataclasses.field(default_factory=dict)
    last: dict[str, Any] = dataclasses.field(default_factory=dict)

    def start(self) -> None:
        self.started = self.last = self._read()

    def mark(self) -> None:
        """Decisions were made since the last look: the window reaches this far."""
        self.last = self._read()

    def result(self) -> dict[str, float]:
        begin, end, tick = self.started, self.last, os.sysconf("SC_CLK_TCK")

        def spent(kind: str) -> float:
            return sum(n - begin[kind].get(pid, 0) for pid, n in end[kind].items()) / tick

        routers, postgres, busy = spent("routers"), spent("postgres"), (end["busy"] - begin["busy"]) / tick
        return {
            "router_cpu_s": round(routers, 1),
            "postgres_cpu_s": round(postgres, 1),
            "other_cpu_s": round(max(0.0, busy - routers - postgres), 1),  # other work on the machine meanwhile
            "machine_busy": round((end["busy"] - begin["busy"]) / max(1, end["total"] - begin["total"]), 3),
        }

    def _read(self) -> dict[str, Any]:
        query = sa.text(
            "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() AND application_name <> :me) "
            "OR backend_type IN ('checkpointer', 'background writer', 'walwriter')"
        )
        with self.engine.connect() as db:
            backends = list(db.execute(query, {"me": BENCH_APP}).scalars())
        busy, total = machine_busy()
        return {"routers": cpu_ticks(self.routers), "postgres": cpu_ticks(backends), "busy": busy, "total": total}


def wait_until_done(
    engine: sa.Engine, client: redis.Redis, stream: str, options: Options, bound: int, window: CpuWindow
) -> int:
    """Poll until the stream is drained and the pending offers stopped growing (or reached `bound`)."""
    deadline = time.monotonic() + options.max_seconds
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        with engine.connect() as db:
            made = db.execute(sa.select(sa.func.count()).where(t.offers.c.status == "pending")).scalar() or 0
        if made != last:
            last, since = made, time.monotonic()
            window.mark()
        drained = backlog(client, stream) == 0
        if drained and (made >= bound or time.monotonic() - since >= options.settle_seconds):
            return made
        time.sleep(0.25)
    print(f"warning: the run did not settle in {options.max_seconds} s", file=sys.stderr)
    return last


def stop_routers(processes: list[Any], logs: Path) -> list[dict[str, Any]]:
    """SIGTERM each router we started; returns how many jobs each says it ran, and their time p50 and p99."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    handled = []
    for n in range(len(processes)):
        text = (logs / f"router-{n}.log").read_text(errors="replace")
        said = re.search(r"stopped after (\d+) jobs(?: \(job time p50 ([\d.]+) ms, p99 ([\d.]+) ms\))?", text)
        handled.append(
            {
                "jobs": int(said.group(1)) if said else -1,
                "p50": float(said.group(2)) if said and said.group(2) else None,
                "p99": float(said.group(3)) if said and said.group(3) else None,
            }
        )
    return handled


# -- after a run: invariants and timings -------------------------------------------------------------------------
def check(engine: sa.Engine) -> dict[str, int]:
    """Recounted from the conversations: double assignments, agents over capacity, offers that could be made."""
    o, c, r = t.offers.c, t.conversations.c, t.routing_tickets.c
    with engine.connect() as db:
        doubles = db.execute(
            sa.select(o.conversation_id)
            .where(o.status == "pending")
            .group_by(o.conversation_id)
            .having(sa.func.count() > 1)
        ).all()
        mismatched = db.execute(
            sa.select(sa.func.count())
            .select_from(t.offers)
            .join(t.conversations, c.id == o.conversation_id)
            .where(o.status == "pending", sa.or_(c.assignee_id.is_(None), c.assignee_id != o.agent_id))
        ).scalar()
        held: dict[str, int] = {
            agent_id: int(n)
            for agent_id, n in db.execute(
                sa.select(c.assignee_id, sa.func.count())
                .where(c.assignee_id.is_not(None), c.status != "resolved")
                .group_by(c.assignee_id)
            )
        }
        agents = [rows.agent_from_row(row) for row in db.execute(sa.select(t.agents))]
        pools: dict[str, set[str]] = defaultdict(set)
        for pool, agent_id in db.execute(sa.select(t.agent_pools.c.pool, t.agent_pools.c.agent_id)):
            pools[agent_id].add(pool)
        waiting_lanes = set(db.execute(sa.select(r.pool).where(r.waiting.is_(True)).distinct()).scalars())
        closed = db.execute(sa.select(sa.func.count()).select_from(t.offers).where(o.status != "pending")).scalar()
        pending = db.execute(sa.select(sa.func.count()).select_from(t.offers).where(o.status == "pending")).scalar()
        taken_tickets = db.execute(
            sa.select(sa.func.count()).select_from(t.routing_tickets).where(r.waiting.is_(False))
        ).scalar()
    over = [a.id for a in agents if held.get(a.id, 0) > a.capacity_for("api")]
    with_room = [a for a in agents if a.status.value == "online" and held.get(a.id, 0) < a.capacity_for("api")]
    missed = [a.id for a in with_room if pools[a.id] & waiting_lanes]
    return {
        "double_assignments": len(doubles),
        "offer_not_to_assignee": int(mismatched or 0),
        "over_capacity": len(over),
        "agents_left_with_room_and_work": len(missed),
        "offers_not_pending": int(closed or 0),
        "tickets_taken_minus_offers": int(taken_tickets or 0) - int(pending or 0),
    }


def _percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[int(share * (len(ordered) - 1))], 1) if ordered else None


def timings(engine: sa.Engine, t0: datetime) -> dict[str, Any]:
    """Throughput from t0 to the last offer, and when each agent got its first offer."""
    o = t.offers.c
    with engine.connect() as db:
        offered = db.execute(sa.select(o.agent_id, o.offered_at).order_by(o.agent_id, o.offered_at)).all()
    if not offered:
        return {"decisions": 0, "seconds": None, "decisions_per_s": None}
    by_agent: dict[str, list[datetime]] = defaultdict(list)
    for agent_id, at in offered:
        by_agent[agent_id].append(at)
    firsts = [(times[0] - t0).total_seconds() for times in by_agent.values()]
    seconds = (max(at for _, at in offered) - t0).total_seconds()
    return {
        "decisions": len(offered),
        "seconds": round(seconds, 2),
        "decisions_per_s": round(len(offered) / seconds, 1) if seconds > 0 else None,
        "first_offer_p50_s": _percentile(firsts, 0.5),
    }


def run_once(options: Options, template: str, routers: int, home: Path, facts: dict[str, Any]) -> dict[str, Any]:
    """One measured run on a fresh copy of the template and a fresh stream (the module docstring, 2 to 4)."""
    stream = f"careline:bench:{uuid.uuid4().hex[:8]}"
    staging = f"{stream}:staging"
    client = redis.Redis.from_url(options.redis_url, decode_responses=True)
    with (
        throwaway_database(options.database_url, template) as name,
        tempfile.TemporaryDirectory(prefix="careline-routers-") as logdir,
    ):
        url, logs = _url(options.database_url, name), Path(logdir)
        online = go_online(url, options, home, staging)
        engine = _engine(url)
        processes = start_routers(routers, url, options, home, stream, logs)
        try:
            wait_ready(processes, logs)
            window = CpuWindow([p.pid for p in processes], engine)
            with Sampler(engine) as sampler:
                window.start()
                jobs, t0 = move_jobs(client, staging, stream)
                wait_until_done(engine, client, stream, options, facts["capacity"], window)
        finally:
            handled = stop_routers(processes, logs)
            client.delete(stream, staging)
            client.close()
        result: dict[str, Any] = {"routers": routers, "agents_online": online, "jobs": jobs}
        result.update(timings(engine, t0))
        result.update(check(engine))
        result.update(window.result())
        if result["decisions"]:
            spent = result["router_cpu_s"] + result["postgres_cpu_s"]
            result["cpu_ms_per_decision"] = round(1000 * spent / result["decisions"], 1)
        p50s = sorted(h["p50"] for h in handled if h["p50"] is not None)
        p99s = [h["p99"] for h in handled if h["p99"] is not None]
        result.update(
            job_p50_ms=p50s[len(p50s) // 2] if p50s else None,  # the median router's
            job_p99_ms=max(p99s) if p99s else None,  # the worst router's
            jobs_per_router=[h["jobs"] for h in handled],
            pg_activity=sampler.shares(),
            pg_samples=sampler.samples,
            lock_waits=dict(sampler.lock_waits.most_common(6)),
        )
        engine.dispose()
    return result


# -- reporting ---------------------------------------------------------------------------------------------------
def machine(admin_url: str, redis_url: str) -> str:
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as db:
            version = str(db.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()
    client = redis.Redis.from_url(redis_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs shared by PostgreSQL, Redis and the "
        f"routers, Python {platform.python_version()}, PostgreSQL {version}, Redis {redis_version}, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )


COLUMNS = (
    ("routers", "routers"),
    ("decisions", "decisions"),
    ("seconds", "seconds"),
    ("decisions_per_s", "decisions/s"),
    ("speedup", "speed-up vs 1"),
    ("job_p50_ms", "fill job p50 ms"),
    ("job_p99_ms", "fill job p99 ms"),
    ("double_assignments", "double assignments"),
    ("over_capacity", "over capacity"),
    ("agents_left_with_room_and_work", "left with room and work"),
    ("router_cpu_s", "router CPU s"),
    ("postgres_cpu_s", "PostgreSQL CPU s"),
    ("cpu_ms_per_decision", "CPU ms per decision"),
    ("other_cpu_s", "other processes CPU s"),
    ("machine_busy", "machine busy"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def print_report(result: dict[str, Any]) -> None:
    setup = result["setup"]
    print(
        f"Routing, scale-out: `careline router` processes on PostgreSQL, {setup['agents']:,} agents (capacity "
        f"{setup['capacity']:,}), {setup['conversations']:,} queued conversations in {setup['lanes']} lanes; "
        f"routers read {result['batch']} jobs at a time and sweep every {result['sweep_seconds']:g} s "
        f"({result['date']}; {result['machine']})\n"
    )
    print("| " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for run in result["runs"]:
        print("| " + " | ".join(_cell(run.get(key)) for key, _ in COLUMNS) + " |")
    print("\nWhat the routers' PostgreSQL connections were doing (share of samples of pg_stat_activity):\n")
    kinds = sorted({k for run in result["runs"] for k in run["pg_activity"]})
    print("| state | " + " | ".join(f"{run['routers']} routers" for run in result["runs"]) + " |")
    print("|---|" + "|".join("---:" for _ in result["runs"]) + "|")
    for kind in kinds:
        shares = [f"{100 * run['pg_activity'].get(kind, 0):.1f}%" for run in result["runs"]]
        print(f"| {kind} | " + " | ".join(shares) + " |")
    print()
    for run in result["runs"]:
        print(
            f"{run['routers']} routers: jobs per router {run['jobs_per_router']}, statements waiting for a lock "
            f"(samples) {run['lock_waits'] or 'none'}, offers closed {run['offers_not_pending']}, "
            f"tickets taken - offers {run['tickets_taken_minus_offers']}, first offer p50 {run['first_offer_p50_s']} s"
        )
    if setup["setup_total_s"] is not None:
        print(f"setup: {setup['setup_total_s']} s ({setup['setup_agents_s']} s for queues and agents)")
    verdict = result["target_met"]
    print(f"target (4 routers >= {TARGET_SPEEDUP}x one, zero double assignments): {verdict}")


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "bench": "routing_routers",
        "date": result["date"],
        "agents": result["setup"]["agents"],
        "conversations": result["setup"]["conversations"],
        "batch": result["batch"],
        "sweep_seconds": result["sweep_seconds"],
        "runs": [
            {key: run.get(key) for key, _ in COLUMNS} | {"offer_not_to_assignee": run["offer_not_to_assignee"]}
            for run in result["runs"]
        ],
        "target_met": result["target_met"],
        "machine": result["machine"],
    }


def run(options: Options) -> dict[str, Any]:
    machine_text = machine(options.database_url, options.redis_url)
    with contextlib.ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="careline-bench-"))) / "home"
        if options.template:
            template = options.template
            engine = _engine(_url(options.database_url, template))
            setup = template_facts(engine) | {"setup_agents_s": None, "setup_total_s": None}
            engine.dispose()
        else:
            template = stack.enter_context(throwaway_database(options.database_url, keep=options.keep_template))
            setup = build_template(options, _url(options.database_url, template), home)
        print(f"template {template}: {setup}", file=sys.stderr)
        runs = []
        for count in options.routers:
            runs.append(run_once(options, template, count, home, setup))
            print(f"{count} routers: {runs[-1]}", file=sys.stderr)
    single = next((r["decisions_per_s"] for r in runs if r["routers"] == 1), None)
    for r in runs:
        r["speedup"] = round(r["decisions_per_s"] / single, 2) if single and r["decisions_per_s"] else None
    four = next((r for r in runs if r["routers"] == 4), None)
    target: str = "not measured (needs runs with 1 and 4 routers)"
    if four is not None and single:
        safe = all(r["double_assignments"] == 0 and r["over_capacity"] == 0 for r in runs)
        target = "met" if safe and (four["speedup"] or 0) >= TARGET_SPEEDUP else "NOT met"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_text,
        "setup": setup,
        "batch": options.batch,
        "sweep_seconds": options.sweep_seconds,
        "runs": runs,
        "target_met": target,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--routers", default="1,2,4", help="router processes per run, comma-separated")
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--database-url", default=POSTGRES_URL, help="a PostgreSQL admin URL (throw-away databases)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument(
        "--batch", type=int, default=10, help="jobs a router reads at a time (`careline router --batch`)"
    )
    parser.add_argument(
        "--sweep-seconds", type=float, default=2.0, help="the routers' timer sweep (the product default)"
    )
    parser.add_argument("--settle-seconds", type=float, default=3.0, help="no new offer this long: the run is over")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="give up on a run after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--template", help="a database kept by an earlier --keep-template run: skips the setup")
    parser.add_argument("--keep-template", action="store_true", help="keep the set-up database (for --template)")
    parser.add_argument("--profile", help="a folder: each router runs under cProfile, its statistics kept there")
    parser.add_argument("--json", action="store_true", help="print only the one-line JSON summary")
    args = parser.parse_args(argv)
    options = Options(
        routers=tuple(int(n) for n in args.routers.split(",") if n.strip()),
        agents=args.agents,
        conversations=args.conversations,
        database_url=args.database_url,
        redis_url=args.redis_url,
        batch=args.batch,
        sweep_seconds=args.sweep_seconds,
        settle_seconds=args.settle_seconds,
        max_seconds=args.max_seconds,
        seed=args.seed,
        template=args.template,
        keep_template=args.keep_template,
        profile=args.profile,
    )
    if not options.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL: the routers rely on its row locks")
    result = run(options)
    if not args.json:
        print_report(result)
    print(json.dumps(summarise(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
