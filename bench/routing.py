"""Routing benchmark: decisions per second and decision latency of the routing engine at contact-center size.

The target of issue 4 (docs/routing.md): at least 5,000 routing decisions a second with a p99 under 5 ms, in
one process, with 10,000 queued conversations and 1,000 agents. A *decision* is one offer made (an Outcome of
kind "offered"). `careline.routing.engine.RoutingEngine` is driven directly, with a synthetic clock, so only
the engine is measured (no database, no bus):

1. 1,000 agents join busy (8 queues with skill and language targets, a workflow of 7 routes whose steps time
   out and overflow, blended agents and dedicated social ones, weighted units), then 10,000 conversations
   arrive and all wait: the enqueue-into-the-backlog path.
2. The agents become available one by one: each call fills an agent to capacity (several decisions).
3. Steady state, the queue kept at 10,000: an agent completes one conversation, frees room and is offered the
   next one (the per-decision latency, from the calls that made exactly one decision), accepts it, and a new
   conversation arrives; timers fire every 100 rounds. Decisions/s is given for the deciding calls alone and
   for the whole loop (complete + accept + enqueue + timers).
4. On a fresh engine with the same team all available and nothing waiting: enqueue with an immediate offer.

    python bench/routing.py                       # the full size (about ten seconds)
    python bench/routing.py --tasks 200 --agents 50 --decisions 500 --immediate 100
    python bench/routing.py --profile             # cProfile of phases 3 and 4, top functions on stderr
    python bench/routing.py --json                # one JSON line only

Wall-clock figures are what a caller waits; the CPU-time ones leave out the waits for a core that other
processes on a shared machine cause, and are the ones to compare across runs there.

The multi-process part, N `careline router` processes sharing PostgreSQL and Redis, is bench/routing_routers.py;
`--routers 1,2,4` runs it after the engine (with its defaults: 1,000 agents and 10,000 queued conversations).
Timings are never asserted in tests; the benchmark is run by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import gc
import io
import json
import os
import platform
import pstats
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from careline.routing.engine import RoutingEngine
from careline.routing.model import (
    AgentProfile,
    Availability,
    Outcome,
    QueueSpec,
    Route,
    Selection,
    Step,
    Task,
    Workflow,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
TARGET_DECISIONS_PER_SECOND = 5_000
TARGET_P99_MS = 5.0

# -- the configuration: what a mid-size airline's care team looks like ---------------------------------------
QUEUES = (
    QueueSpec.of(
        "social_en", "Social (English)", '"social" in teams and "en" in languages', first_response_seconds=900
    ),
    QueueSpec.of(
        "social_es", "Social (Spanish)", '"social" in teams and "es" in languages', first_response_seconds=900
    ),
    QueueSpec.of(
        "luggage", "Lost luggage", '"luggage" in skills and skills.luggage >= 5', selection=Selection.LEAST_BUSY
    ),
    QueueSpec.of(
        "refunds",
        "Refunds",
        'skills.refunds >= 4 and ("en" in languages or "es" in languages)',
        first_response_seconds=1800,
    ),
    QueueSpec.of("billing", "Billing", "skills.billing >= 3", first_response_seconds=7200),
    QueueSpec.of("voice", "Phone", '"voice" in teams', first_response_seconds=120, selection=Selection.ROUND_ROBIN),
    QueueSpec.of("vip", "VIP", 'seniority >= 3 and "en" in languages', first_response_seconds=600),
    QueueSpec.of("general", "General", '"en" in languages or "es" in languages', first_response_seconds=3600),
)
ROUTES = (
    Route.of("vip", 'customer_tier == "vip"', [Step.of("vip", 120, priority_boost=20), Step.of("general")]),
    Route.of(
        "lost-luggage",
        'category == "Lost Luggage"',
        [Step.of("luggage", 60, "skills.luggage >= 8"), Step.of("luggage", 180), Step.of("general")],
    ),
    Route.of(
        "refunds",
        'category in ["Cancelled Flight", "Late Flight"] and sentiment == "negative"',
        [Step.of("refunds", 120), Step.of("general")],
    ),
    Route.of("billing", 'category == "Billing"', [Step.of("billing", 600), Step.of("general")]),
    Route.of("voice", 'channel == "voice"', [Step.of("voice")]),
    Route.of(
        "social-es",
        'channel in ["x", "facebook", "instagram"] and language == "es"',
        [Step.of("social_es", 90), Step.of("general")],
    ),
    Route.of(
        "social",
        'channel in ["x", "facebook", "instagram"]',
        [Step.of("social_en", 120, '"en" in languages'), Step.of("social_en", 300), Step.of("general")],
    ),
)
CHANNEL_MIX = {"x": 40, "facebook": 10, "instagram": 5, "webchat": 20, "email": 15, "voice": 10}
CATEGORIES = ("Lost Luggage", "Cancelled Flight", "Late Flight", "Billing", "Customer Service Issue", "Bad Flight")


@dataclasses.dataclass(frozen=True)
class Options:
    tasks: int  # conversations queued before agents become available, and kept queued in the steady state
    agents: int
    decisions: int  # rounds of the steady state (each one decision when the backlog feeds the freed agent)
    immediate: int  # enqueues on the fresh engine with agents free
    seed: int
    profile: bool
    routers: str | None  # "1,2,4": then bench/routing_routers.py runs those router processes on PostgreSQL


# -- the workload ------------------------------------------------------------------------------------------------
def agent_profile(rng: random.Random, agent_id: str) -> AgentProfile:
    """A third dedicated to social media (five posts at once), the rest blended across channels."""
    languages = ["en"] if rng.random() < 0.85 else ["es"]
    if rng.random() < 0.25:
        languages.append("es" if languages[0] == "en" else "en")
    skills = {s: rng.randint(1, 10) for s in ("luggage", "refunds", "billing") if rng.random() < 0.4}
    attributes: dict[str, Any] = {"languages": languages, "skills": skills, "seniority": rng.randint(0, 5)}
    if rng.random() < 1 / 3:
        attributes["teams"] = ["social"]
        capacity = {"default": 0, "x": 5, "facebook": 5, "instagram": 5}
    else:
        teams = [t for t in ("voice", "chat", "email", "social") if rng.random() < 0.5]
        attributes["teams"] = teams or ["chat"]
        capacity = {"voice": 1 if "voice" in teams else 0, "webchat": 2, "email": 3}
    return AgentProfile(agent_id, attributes, capacity)


def arrivals(rng: random.Random, at: Callable[[], datetime]) -> Iterator[Task]:
    """An endless stream of conversations in the channel mix, about one in twenty from a returning customer."""
    channels, weights = list(CHANNEL_MIX), list(CHANNEL_MIX.values())
    number = 0
    while True:
        number += 1
        attributes = {
            "category": rng.choice(CATEGORIES),
            "language": "es" if rng.random() < 0.15 else "en",
            "sentiment": rng.choice(("negative", "negative", "neutral", "positive")),
            "customer_tier": "vip" if rng.random() < 0.05 else None,
        }
        customer = f"cus-{rng.randrange(number * 20)}"  # mostly new customers, some come back
        when = at()
        yield Task(f"conv-{number}", rng.choices(channels, weights)[0], attributes, rng.uniform(0, 100), when, customer)


class Clock:
    """The synthetic time the engine is told: a tenth of a millisecond per tick, so timers come due slowly."""

    def __init__(self) -> None:
        self.now = T0

    def tick(self, seconds: float = 0.0001) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def build_engine() -> RoutingEngine:
    return RoutingEngine(QUEUES, Workflow(routes=ROUTES, default_queue_id="general"))


# -- measuring ---------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Timings:
    """The timings of one kind of call: time spent, decisions made, the latency of each single-decision call.

    Wall time is what a caller waits; the thread's CPU time is the same call without the waits for a CPU that
    a busy machine adds (the two differ when other processes compete for the cores)."""

    name: str
    calls: int = 0
    decisions: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    single: list[float] = dataclasses.field(default_factory=list)  # wall seconds of each one-decision call
    single_cpu: list[float] = dataclasses.field(default_factory=list)

    def time(self, call: Callable[..., list[Outcome]], *args: Any) -> list[Outcome]:
        """Call `call(*args)` and record how long it took and how many offers it made."""
        cpu_started, started = time.thread_time(), time.perf_counter()
        outcomes = call(*args)
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        offers = sum(1 for o in outcomes if o.kind == "offered")
        self.calls += 1
        self.decisions += offers
        self.seconds += elapsed
        self.cpu_seconds += cpu
        if offers == 1:
            self.single.append(elapsed)
            self.single_cpu.append(cpu)
        return outcomes

    def row(self) -> dict[str, Any]:
        wall, cpu = sorted(self.single), sorted(self.single_cpu)

        def ms(values: list[float], share: float) -> float | None:
            return round(1000 * values[int(share * (len(values) - 1))], 3) if values else None

        def rate(count: int, seconds: float) -> int | None:
            return round(count / seconds) if count and seconds else None

        return {
            "path": self.name,
            "calls": self.calls,
            "decisions": self.decisions,
            "calls_per_s": rate(self.calls, self.seconds),
            "decisions_per_s": rate(self.decisions, self.seconds),
            "decisions_per_cpu_s": rate(self.decisions, self.cpu_seconds),
            "single_decision_calls": len(wall),
            "p50_ms": ms(wall, 0.50),
            "p99_ms": ms(wall, 0.99),
            "max_ms": ms(wall, 1.0),
            "p99_cpu_ms": ms(cpu, 0.99),
        }


def _accept_all(engine: RoutingEngine, outcomes: list[Outcome], now: datetime, accept: Timings) -> list[str]:
    """Every offer is taken at once (what agents answer is not what is measured): the tasks now assigned."""
    accepted = []
    for outcome in outcomes:
        if outcome.kind == "offered" and outcome.offer_id is not None:
            accept.time(engine.accept, outcome.offer_id, now)
            accepted.append(outcome.task_id)
    return accepted


@contextlib.contextmanager
def profiled(enabled: bool, into: dict[str, str], name: str) -> Iterator[None]:
    """cProfile of the block, its top functions kept under `name` (inflates the timings taken meanwhile)."""
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(25)
        into[name] = out.getvalue()


def measure_single_process(options: Options) -> dict[str, Any]:
    """Phases 1 to 4 of the module's docstring, in this process."""
    rng = random.Random(options.seed)
    clock = Clock()
    engine = build_engine()
    profiles = [agent_profile(rng, f"agent-{n}") for n in range(options.agents)]
    join, backlog = Timings("agent joins (busy)"), Timings("enqueue → queued (all agents busy)")
    available = Timings("agent becomes available (fills to capacity)")
    complete, accept = Timings("complete → next offer (backlog kept full)"), Timings("accept an offer")
    arrive, timers = Timings("enqueue in the steady state"), Timings("advance (timers due)")
    profiles_text: dict[str, str] = {}
    gc.collect()
    for profile in profiles:
        join.time(engine.add_agent, profile, Availability.BUSY, clock.now)
    stream = arrivals(rng, clock.tick)
    for _ in range(options.tasks):
        task = next(stream)
        backlog.time(engine.enqueue, task, clock.now)
    assigned: list[str] = []
    for profile in profiles:
        now = clock.tick()
        outcomes = available.time(engine.set_status, profile.id, Availability.AVAILABLE, now)
        assigned += _accept_all(engine, outcomes, now, accept)

    # The steady state: one conversation ends, the freed agent is offered the next, new ones arrive so that
    # `options.tasks` stay queued (every offer is accepted at once, so waiting = live - assigned).
    live = options.tasks
    loop = {"decisions": 0, "wall": 0.0, "cpu": 0.0}
    cpu_started, started = time.process_time(), time.perf_counter()
    with profiled(options.profile, profiles_text, "steady state"):
        for round_number in range(options.decisions):
            if not assigned:
                break
            now = clock.tick()
            index = rng.randrange(len(assigned))
            assigned[index], assigned[-1] = assigned[-1], assigned[index]
            done = assigned.pop()
            outcomes = complete.time(engine.complete, done, now)
            live -= 1
            while live - len(assigned) - _offers(outcomes) < options.tasks:
                task = next(stream)
                outcomes += arrive.time(engine.enqueue, task, now)
                live += 1
            if round_number % 100 == 99:
                outcomes += timers.time(engine.advance, now)
            loop["decisions"] += _offers(outcomes)
            assigned += _accept_all(engine, outcomes, now, accept)
    loop["wall"], loop["cpu"] = time.perf_counter() - started, time.process_time() - cpu_started
    waiting = sum(1 for t in engine.tasks() if t.state == "waiting")

    immediate = Timings("enqueue → immediate offer (agents free, nothing queued)")
    with profiled(options.profile, profiles_text, "immediate offers"):
        measure_immediate_offers(options, profiles, rng, immediate)
    paths = [join, backlog, available, complete, arrive, timers, accept, immediate]
    return {
        "rows": [p.row() for p in paths],
        "steady_state": {
            "rounds": complete.calls,
            "decisions": loop["decisions"],
            "seconds": round(loop["wall"], 3),
            "decisions_per_s": round(loop["decisions"] / loop["wall"]) if loop["wall"] else None,
            "decisions_per_cpu_s": round(loop["decisions"] / loop["cpu"]) if loop["cpu"] else None,
            "waiting_at_end": waiting,
        },
        "target_met": _target_met(complete.row(), immediate.row()),
        "profiles": profiles_text,
    }


def _offers(outcomes: list[Outcome]) -> int:
    return sum(1 for o in outcomes if o.kind == "offered")


def measure_immediate_offers(
    options: Options, profiles: list[AgentProfile], rng: random.Random, timings: Timings
) -> None:
    """A fresh engine, the same team available, nothing waiting: each arrival is offered at once."""
    clock = Clock()
    engine = build_engine()
    for profile in profiles:
        engine.add_agent(profile, Availability.AVAILABLE, clock.now)
    stream = arrivals(rng, clock.tick)
    unused = Timings("")
    gc.collect()
    for _ in range(options.immediate):
        task = next(stream)
        now = clock.now
        _accept_all(engine, timings.time(engine.enqueue, task, now), now, unused)


def _target_met(complete: dict[str, Any], immediate: dict[str, Any]) -> bool:
    def met(row: dict[str, Any]) -> bool:
        rate, p99 = row["decisions_per_s"], row["p99_ms"]
        return rate is not None and p99 is not None and rate >= TARGET_DECISIONS_PER_SECOND and p99 < TARGET_P99_MS

    return met(complete) and met(immediate)


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


# -- reporting ---------------------------------------------------------------------------------------------------
COLUMNS = (
    ("path", "path"),
    ("calls", "calls"),
    ("decisions", "decisions"),
    ("calls_per_s", "calls/s"),
    ("decisions_per_s", "decisions/s"),
    ("decisions_per_cpu_s", "decisions/CPU-s"),
    ("single_decision_calls", "1-decision calls"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("p99_cpu_ms", "p99 CPU ms"),
)


def print_table(result: dict[str, Any], options: Options) -> None:
    print(
        f"Routing engine, one process: {options.agents:,} agents, {options.tasks:,} queued conversations, "
        f"{len(QUEUES)} queues, {len(ROUTES)} routes ({result['date']}; {result['machine']})\n"
    )
    print("| " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|" + "|".join("---" if key == "path" else "---:" for key, _ in COLUMNS) + "|")
    for row in result["rows"]:
        cells = [
            "-" if row[key] is None else f"{row[key]:,}" if isinstance(row[key], int) else str(row[key])
            for key, _ in COLUMNS
        ]
        print("| " + " | ".join(cells) + " |")
    steady = result["steady_state"]
    print(
        f"\nsteady state: {steady['decisions']:,} decisions in {steady['seconds']} s = "
        f"{steady['decisions_per_s']:,} decisions/s ({steady['decisions_per_cpu_s']:,} per CPU-second) for the "
        f"whole loop (complete + accept + enqueue + timers); {steady['waiting_at_end']:,} conversations queued at "
        "the end"
    )
    verdict = "met" if result["target_met"] else "NOT met"
    print(f"target (>= {TARGET_DECISIONS_PER_SECOND:,} decisions/s, p99 < {TARGET_P99_MS} ms): {verdict}")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    rows = {row["path"]: row for row in result["rows"]}
    complete = next(r for name, r in rows.items() if name.startswith("complete"))
    immediate = next(r for name, r in rows.items() if name.startswith("enqueue → immediate"))
    return {
        "bench": "routing",
        "date": result["date"],
        "agents": result["agents"],
        "queued": result["tasks"],
        "decisions_per_s_complete": complete["decisions_per_s"],
        "decisions_per_cpu_s_complete": complete["decisions_per_cpu_s"],
        "p50_ms_complete": complete["p50_ms"],
        "p99_ms_complete": complete["p99_ms"],
        "p99_cpu_ms_complete": complete["p99_cpu_ms"],
        "decisions_per_s_immediate": immediate["decisions_per_s"],
        "decisions_per_cpu_s_immediate": immediate["decisions_per_cpu_s"],
        "p50_ms_immediate": immediate["p50_ms"],
        "p99_ms_immediate": immediate["p99_ms"],
        "p99_cpu_ms_immediate": immediate["p99_cpu_ms"],
        "decisions_per_s_loop": result["steady_state"]["decisions_per_s"],
        "decisions_per_cpu_s_loop": result["steady_state"]["decisions_per_cpu_s"],
        "target_met": result["target_met"],
        "machine": result["machine"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=10_000, help="conversations kept queued")
    parser.add_argument("--agents", type=int, default=1_000, help="agents")
    parser.add_argument("--decisions", type=int, default=10_000, help="rounds of the steady state")
    parser.add_argument("--immediate", type=int, default=2_000, help="enqueues with agents free (phase 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="cProfile phases 3 and 4, top functions on stderr")
    parser.add_argument("--routers", help="then router processes on PostgreSQL, e.g. 1,2,4 (bench/routing_routers.py)")
    parser.add_argument("--json", action="store_true", help="print only the one-line JSON summary")
    args = parser.parse_args(argv)
    options = Options(
        tasks=args.tasks,
        agents=args.agents,
        decisions=args.decisions,
        immediate=args.immediate,
        seed=args.seed,
        profile=args.profile,
        routers=args.routers,
    )
    result = run(options)
    if not args.json:
        print_table(result, options)
    print(json.dumps(summary(result)))
    for name, text in result["profiles"].items():
        print(f"== cProfile: {name} (top functions by own time)\n{text}", file=sys.stderr)
    if options.routers:
        import routing_routers  # bench/ is on the path when this file runs as a script

        return routing_routers.main(["--routers", options.routers] + (["--json"] if args.json else []))
    return 0


def run(options: Options) -> dict[str, Any]:
    """Every part of the benchmark that the options ask for, as one result."""
    result = measure_single_process(options)
    result.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
        agents=options.agents,
        tasks=options.tasks,
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
