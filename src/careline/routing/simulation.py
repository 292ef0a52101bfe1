"""A staffing plan over a real arrival trace through the real engine: discrete-event simulation (docs/routing.md).

Arrivals are enqueued in `RoutingEngine` at their trace time; simulated agents accept each offer after a think
time, answer at once (`respond`: the first response is the acceptance), hold the work for a sampled handle time
and `complete` it; a customer still waiting after their sampled patience abandons (the task is completed
unanswered). Shifts bring agents on and off; the engine's own timers (offer expiry, step timeouts, SLA) fire in
time order between those events. Everything is deterministic for a seed, and every policy sees the same sampled
handle times, patience and think times per post (common random numbers), so that the policies compare.

This module is longer than most because it is one loop and the bookkeeping that loop needs; the plan's types,
the policy presets and the metrics sit beside it so that the loop's definitions are read in one place.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from careline.kernel.errors import InvalidInput
from careline.reporting.metrics import percentile
from careline.routing.engine import RoutingEngine
from careline.routing.expressions import parse
from careline.routing.model import (
    AGENT_ATTRIBUTES,
    DEFAULT_UNITS,
    AgentProfile,
    Availability,
    Ordering,
    Outcome,
    QueueSpec,
    Selection,
    Step,
    Task,
    Workflow,
)

_Z90 = 1.2815515655446004  # the standard normal's 90th percentile: a lognormal's p90 is median * exp(sigma * z90)
_DAY = 86400.0
_DRAIN_DAYS = 7  # after the last arrival, days simulated at most while work is still waiting
ANSWERED, ABANDONED, UNANSWERED = "answered", "abandoned", "unanswered"
DISTRIBUTIONS = ("fixed", "exponential", "lognormal")


# -- the plan --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Duration:
    """A random duration in seconds: ``fixed``, ``exponential`` (mean) or ``lognormal`` (median and p90)."""

    distribution: str
    median: float = 0.0  # fixed: the value; lognormal: the median
    p90: float = 0.0  # lognormal only
    mean: float = 0.0  # exponential only

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise InvalidInput(f"unknown distribution {self.distribution!r} ({', '.join(DISTRIBUTIONS)})")
        if self.distribution == "fixed" and not (self.median >= 0 and math.isfinite(self.median)):
            raise InvalidInput(f"a fixed duration must be 0 or more seconds, not {self.median:g}")
        if self.distribution == "exponential" and not (self.mean > 0 and math.isfinite(self.mean)):
            raise InvalidInput(f"an exponential duration needs a positive mean, not {self.mean:g} seconds")
        if self.distribution == "lognormal" and not (0 < self.median <= self.p90 and math.isfinite(self.p90)):
            raise InvalidInput(
                f"a lognormal duration needs 0 < median <= p90, not {self.median:g} and {self.p90:g} seconds"
            )

    @classmethod
    def fixed(cls, seconds: float) -> Duration:
        return cls("fixed", median=seconds)

    @classmethod
    def exponential(cls, mean_seconds: float) -> Duration:
        return cls("exponential", mean=mean_seconds)

    @classmethod
    def lognormal(cls, median_seconds: float, p90_seconds: float) -> Duration:
        return cls("lognormal", median=median_seconds, p90=p90_seconds)

    def sample(self, rng: random.Random) -> float:
        if self.distribution == "fixed":
            return self.median
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.mean)
        sigma = math.log(self.p90 / self.median) / _Z90
        return rng.lognormvariate(math.log(self.median), sigma)

    def average(self) -> float:
        if self.distribution == "fixed":
            return self.median
        if self.distribution == "exponential":
            return self.mean
        sigma = math.log(self.p90 / self.median) / _Z90
        return self.median * math.exp(sigma * sigma / 2)


@dataclasses.dataclass(frozen=True)
class Shift:
    """When a team works, in UTC: from ``start`` to ``end`` minutes after midnight on the given weekdays (of the
    start; an end at or before the start is the next day), or always."""

    start: int = 0
    end: int = 0
    days: frozenset[int] = frozenset(range(7))  # 0 is Monday
    always: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.start < 1440 and 0 <= self.end < 1440):
            raise InvalidInput(f"shift times must lie within the day, not {self.start} and {self.end} minutes")
        if not self.days or not self.days <= frozenset(range(7)):
            raise InvalidInput("a shift needs at least one weekday, 0 (Monday) to 6")

    def is_on(self, at: datetime) -> bool:
        if self.always:
            return True
        minute, weekday = at.hour * 60 + at.minute, at.weekday()
        if self.start < self.end:
            return self.start <= minute < self.end and weekday in self.days
        return (minute >= self.start and weekday in self.days) or (minute < self.end and (weekday - 1) % 7 in self.days)

    def boundaries(self) -> tuple[int, ...]:
        """Minutes after midnight at which someone on this shift may come or go."""
        return () if self.always else (self.start, self.end)


@dataclasses.dataclass(frozen=True)
class Team:
    """``agents`` alike people on one shift: attributes for queue targets, capacity per channel."""

    name: str
    agents: int
    shift: Shift
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    capacity: Mapping[str, int] = dataclasses.field(default_factory=dict)
    units: int = 100

    def profiles(self) -> list[AgentProfile]:
        width = len(str(self.agents))
        return [
            AgentProfile(
                id=f"{self.name}-{n:0{width}d}",
                attributes={**self.attributes, "id": f"{self.name}-{n:0{width}d}", "name": self.name},
                capacity=dict(self.capacity),
                units=self.units,
            )
            for n in range(1, self.agents + 1)
        ]


@dataclasses.dataclass(frozen=True)
class HandleTimes:
    """How long an answered post holds its agent's slot: by category, else by channel, else the default."""

    default: Duration
    by_channel: Mapping[str, Duration] = dataclasses.field(default_factory=dict)
    by_category: Mapping[str, Duration] = dataclasses.field(default_factory=dict)

    def of(self, channel: str, category: str | None) -> Duration:
        if category is not None and category in self.by_category:
            return self.by_category[category]
        return self.by_channel.get(channel, self.default)


@dataclasses.dataclass(frozen=True)
class StaffingPlan:
    queues: tuple[QueueSpec, ...]
    workflow: Workflow
    teams: tuple[Team, ...]
    handle_time: HandleTimes
    patience: Duration | None = None  # None: nobody abandons
    think_time: Duration = Duration.fixed(0)  # from an offer to its acceptance; capped below the offer timeout
    wrap_up_seconds: Mapping[str, int] = dataclasses.field(default_factory=dict)
    units: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_UNITS))
    high_priority_threshold: float = 60.0


@dataclasses.dataclass(frozen=True)
class Arrival:
    """One post of the trace, triaged: the task attributes workflow filters read."""

    id: str
    at: datetime
    channel: str
    priority: float
    sentiment: str
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # category, language, angry, ...
    customer_id: str | None = None
    follow_up: bool = False  # the customer wrote again in a thread: the next-response target applies

    @property
    def category(self) -> str | None:
        value = self.attributes.get("category")
        return value if isinstance(value, str) else None


# -- the policies ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Policy:
    name: str
    description: str
    ordering: Ordering
    selection: Selection | None  # None: each queue's own
    skills: bool  # the plan's queue targets and overflow steps apply; else one pool where any agent takes any work


_FIFO, _AGING = Ordering.FIFO, Ordering.PRIORITY_SLA
POLICIES: Mapping[str, Policy] = {
    p.name: p
    for p in (
        Policy("fifo", "first in, first out; longest idle agent; one pool", _FIFO, Selection.LONGEST_IDLE, False),
        Policy("round_robin", "first in, first out; agents in turn; one pool", _FIFO, Selection.ROUND_ROBIN, False),
        Policy("priority_sla", "priority + SLA aging; longest idle; one pool", _AGING, Selection.LONGEST_IDLE, False),
        Policy("skills_overflow", "priority + SLA aging; skill queues overflow to wider ones", _AGING, None, True),
    )
}


def engine_for(plan: StaffingPlan, policy: Policy) -> RoutingEngine:
    """The engine a policy runs: the plan's queues and routes, flattened to one pool unless the policy uses skills.

    Flattened, every queue admits every agent and each route keeps its first step only (its queue, hence its
    first-response target, and its priority boost), so that every policy measures against the same targets.
    """
    queues = plan.queues
    workflow = plan.workflow
    if policy.selection is not None:
        queues = tuple(dataclasses.replace(q, selection=policy.selection) for q in queues)
    if not policy.skills:
        anyone = parse("true", AGENT_ATTRIBUTES)
        queues = tuple(dataclasses.replace(q, target=anyone) for q in queues)
        routes = tuple(
            dataclasses.replace(r, steps=(Step(r.steps[0].queue_id, priority_boost=r.steps[0].priority_boost),))
            for r in workflow.routes
        )
        workflow = dataclasses.replace(workflow, routes=routes)
    return RoutingEngine(
        queues, workflow, ordering=policy.ordering, units=plan.units, wrap_up_seconds=plan.wrap_up_seconds
    )


# -- one run ------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class TaskRecord:
    arrival: Arrival
    handle: float
    patience: float | None
    think: float
    queue_id: str = ""  # the queue it entered first: its first-response target is the task's
    target_seconds: float = 0.0  # from arrival to the engine's SLA deadline
    outcome: str = UNANSWERED
    offer_id: str | None = None  # the pending offer, if any
    answered_at: float | None = None
    answered_by: str | None = None
    answered_in: str | None = None  # the queue it was answered from (after overflow, a wider one)
    abandoned_at: float | None = None
    escalations: int = 0
    breached: bool = False

    @property
    def first_response(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.arrival.at.timestamp()

    @property
    def within_target(self) -> bool:
        wait = self.first_response
        return wait is not None and wait <= self.target_seconds


@dataclasses.dataclass
class _AgentState:
    profile: AgentProfile
    team: str
    capacity_units: int  # the units it can hold of the trace's channels
    added: bool = False
    state: str = "off"  # off | on | leaving (finishes what it holds, takes nothing new)
    on_since: float = 0.0
    holding: set[str] = dataclasses.field(default_factory=set)  # tasks under offer or accepted
    busy_until: float = 0.0  # the end of its last wrap-up
    token: int = 0  # invalidates a scheduled log-off


@dataclasses.dataclass
class Ledger:
    """Time on shift and units held, per (team, UTC day): what occupancy is made of."""

    agent_seconds: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    staffed_units: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)  # unit-seconds
    held_units: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)

    def staff(self, team: str, start: float, end: float, units: int) -> None:
        for day, seconds in _by_day(start, end):
            key = (team, day)
            self.agent_seconds[key] = self.agent_seconds.get(key, 0.0) + seconds
            self.staffed_units[key] = self.staffed_units.get(key, 0.0) + seconds * units

    def hold(self, team: str, start: float, end: float, units: int) -> None:
        for day, seconds in _by_day(start, end):
            self.held_units[(team, day)] = self.held_units.get((team, day), 0.0) + seconds * units

    def occupancy(self, team: str | None = None, day: str | None = None) -> float | None:
        def total(book: dict[tuple[str, str], float]) -> float:
            return sum(v for (t, d), v in book.items() if team in (None, t) and day in (None, d))

        return _ratio(total(self.held_units), total(self.staffed_units))

    def agent_hours(self, team: str | None = None, day: str | None = None) -> float:
        hours = sum(v for (t, d), v in self.agent_seconds.items() if team in (None, t) and day in (None, d))
        return round(hours / 3600, 1)


def _by_day(start: float, end: float) -> Iterable[tuple[str, float]]:
    """The seconds of [start, end) falling on each UTC day."""
    while end > start:
        day = _dt(start).date()
        cut = min(end, _midnight(day) + _DAY)
        yield day.isoformat(), cut - start
        start = cut


@dataclasses.dataclass
class RunResult:
    policy: Policy
    records: list[TaskRecord]
    ledger: Ledger
    counts: dict[str, int]  # escalations, sla_breaches, sla_warnings, missed_offers, events
    violations: list[str]
    high_priority_threshold: float


class Simulation:
    """One policy over one trace; ``run`` once."""

    def __init__(
        self,
        plan: StaffingPlan,
        policy: Policy,
        arrivals: Sequence[Arrival],
        *,
        seed: int = 7,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.plan, self.policy = plan, policy
        self.engine = engine_for(plan, policy)
        self.arrivals = sorted(arrivals, key=lambda a: a.at)
        self.records = {a.id: r for a, r in zip(self.arrivals, sample(plan, self.arrivals, seed), strict=True)}
        if len(self.records) != len(self.arrivals):
            raise InvalidInput("two arrivals share an id")
        channels = {a.channel for a in self.arrivals} or {"x"}
        self.agents = {
            p.id: _AgentState(p, team.name, _capacity_units(self.engine, p, channels))
            for team in plan.teams
            for p in team.profiles()
        }
        self.teams = {team.name: team for team in plan.teams}
        self.days = sorted({a.at.date() for a in self.arrivals})
        self.on_progress = on_progress
        self._events: list[tuple[float, int, str, str, int]] = []
        self._seq = 0
        self._offers: dict[str, tuple[str, str, float]] = {}  # pending offer -> (task, agent, offered at)
        self._held: dict[str, float] = {}  # accepted task -> when its offer was made (its units are held since)
        self._members = {team.name: [p.id for p in team.profiles()] for team in plan.teams}
        self._waiting = 0  # arrived, neither answered nor abandoned
        self._now = 0.0
        self.ledger = Ledger()
        self.counts = {"escalations": 0, "sla_breaches": 0, "sla_warnings": 0, "missed_offers": 0, "events": 0}

    # -- the loop -----------------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        for index, arrival in enumerate(self.arrivals):
            self._schedule(arrival.at.timestamp(), "arrive", arrival.id, index)
        if self.days:
            self._schedule(_midnight(self.days[0]), "day", self.days[0].isoformat())
        while True:
            timer = self.engine.next_timer()
            due = timer.timestamp() if timer is not None else math.inf
            if not self._events and due == math.inf:
                break
            if self._events and self._events[0][0] <= due:
                when, _, kind, ref, extra = heapq.heappop(self._events)
                self._now = when
                self._handle(kind, ref, extra)
            else:
                self._now = due
                self._apply(self.engine.advance(_dt(due)))
            self.counts["events"] += 1
        for agent in self.agents.values():  # the loop ends with nobody on shift; this only guards the books
            if agent.state != "off":
                self._log_off(agent)
        return RunResult(
            self.policy,
            list(self.records.values()),
            self.ledger,
            self.counts,
            self.engine.violations(),
            self.plan.high_priority_threshold,
        )

    def _schedule(self, when: float, kind: str, ref: str, extra: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, ref, extra))

    def _handle(self, kind: str, ref: str, extra: int) -> None:
        if kind == "arrive":
            self._arrive(self.records[ref])
            if self.on_progress is not None and (extra + 1) % 250 == 0:
                self.on_progress(extra + 1)
        elif kind == "accept":
            self._accept(ref)
        elif kind == "finish":
            self._finish(self.records[ref])
        elif kind == "abandon":
            self._abandon(self.records[ref])
        elif kind == "roster":
            self._roster(active=True)
        elif kind == "day":
            self._day(date.fromisoformat(ref))
        elif kind == "logoff":
            agent = self.agents[ref]
            if agent.state == "leaving" and agent.token == extra and not agent.holding:
                self._log_off(agent)

    # -- customers ----------------------------------------------------------------------------------------------
    def _arrive(self, record: TaskRecord) -> None:
        arrival = record.arrival
        task = Task(
            id=arrival.id,
            channel=arrival.channel,
            attributes={**arrival.attributes, "sentiment": arrival.sentiment},
            priority=arrival.priority,
            arrived_at=arrival.at,
            customer_id=arrival.customer_id,
            next_response=arrival.follow_up,
        )
        self._waiting += 1
        outcomes = self.engine.enqueue(task, arrival.at)
        placed = self.engine.task(arrival.id)
        record.queue_id = placed.queue_id or ""
        record.target_seconds = (placed.deadline or arrival.at).timestamp() - arrival.at.timestamp()
        if record.patience is not None:
            self._schedule(self._now + record.patience, "abandon", arrival.id)
        self._apply(outcomes)

    def _abandon(self, record: TaskRecord) -> None:
        """A customer gives up while waiting; one whose post is under offer is being answered, so stays."""
        if record.outcome != UNANSWERED or record.offer_id is not None:
            return
        record.outcome, record.abandoned_at = ABANDONED, self._now
        self._waiting -= 1
        self._apply(self.engine.complete(record.arrival.id, _dt(self._now)))

    # -- agents -------------------------------------------------------------------------------------------------
    def _accept(self, offer_id: str) -> None:
        pending = self._offers.get(offer_id)
        if pending is None:
            return  # revoked meanwhile
        task_id, agent_id, _ = pending
        record = self.records[task_id]
        now = _dt(self._now)
        self._apply(self.engine.accept(offer_id, now))
        self.engine.respond(task_id)
        record.offer_id = None
        record.outcome, record.answered_at, record.answered_by = ANSWERED, self._now, agent_id
        record.answered_in = self.engine.task(task_id).queue_id
        self._waiting -= 1
        self._schedule(self._now + record.handle, "finish", task_id)

    def _finish(self, record: TaskRecord) -> None:
        task_id, agent = record.arrival.id, self.agents[record.answered_by or ""]
        offered_at = self._held.pop(task_id)
        wrap = self.plan.wrap_up_seconds.get(record.arrival.channel, 0)
        self.ledger.hold(agent.team, offered_at, self._now + wrap, self.engine.units_of(record.arrival.channel))
        agent.holding.discard(task_id)
        agent.busy_until = max(agent.busy_until, self._now + wrap)
        self._apply(self.engine.complete(task_id, _dt(self._now)))
        if agent.state == "leaving" and not agent.holding:
            self._schedule(agent.busy_until, "logoff", agent.profile.id, agent.token)

    def _apply(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            kind = outcome.kind
            if kind == "offered":
                self._offered(outcome)
            elif kind == "accepted":
                self._held[outcome.task_id] = self._offers.pop(outcome.offer_id or "")[2]
            elif kind in ("revoked", "expired", "rejected"):
                self._withdrawn(outcome)
            elif kind == "escalated":
                self.records[outcome.task_id].escalations += 1
                self.counts["escalations"] += 1
            elif kind == "sla_breached":
                self.records[outcome.task_id].breached = True
                self.counts["sla_breaches"] += 1
            elif kind == "sla_warning":
                self.counts["sla_warnings"] += 1
            elif kind == "agent_away":
                # Simulated agents answer within the timeout; should one miss an offer, it is back at once.
                self.counts["missed_offers"] += 1
                agent = self.agents[outcome.agent_id or ""]
                if agent.state == "on":
                    self._apply(self.engine.set_status(agent.profile.id, Availability.AVAILABLE, _dt(self._now)))

    def _offered(self, outcome: Outcome) -> None:
        offer_id, agent_id = outcome.offer_id or "", outcome.agent_id or ""
        record = self.records[outcome.task_id]
        record.offer_id = offer_id
        self._offers[offer_id] = (outcome.task_id, agent_id, self._now)
        self.agents[agent_id].holding.add(outcome.task_id)
        think = min(record.think, self.engine.workflow.offer_timeout_seconds - 1.0)
        self._schedule(self._now + max(0.0, think), "accept", offer_id)

    def _withdrawn(self, outcome: Outcome) -> None:
        _, agent_id, offered_at = self._offers.pop(outcome.offer_id or "")
        agent = self.agents[agent_id]
        self.records[outcome.task_id].offer_id = None
        agent.holding.discard(outcome.task_id)
        channel = self.records[outcome.task_id].arrival.channel
        self.ledger.hold(agent.team, offered_at, self._now, self.engine.units_of(channel))

    # -- shifts -------------------------------------------------------------------------------------------------
    def _day(self, day: date) -> None:
        """Midnight: a day with arrivals, or with work still waiting, is simulated; otherwise everyone goes home
        and the clock skips to the next day with arrivals (the trace's sparse tail would add idle years)."""
        start = _midnight(day)
        later = [d for d in self.days if d > day]
        drained = day > self.days[-1] + timedelta(days=_DRAIN_DAYS)
        if day in self.days or (self._waiting > 0 and not drained):
            self._roster(active=True)
            minutes = sorted({m for team in self.teams.values() for m in team.shift.boundaries() if m})
            for minute in minutes:
                self._schedule(start + minute * 60, "roster", day.isoformat())
            following = day + timedelta(days=1)
            self._schedule(start + _DAY, "day", following.isoformat())
            return
        self._roster(active=False)
        if later:
            self._schedule(_midnight(later[0]), "day", later[0].isoformat())

    def _roster(self, *, active: bool) -> None:
        now = _dt(self._now)
        for team in self.teams.values():
            wanted = active and team.shift.is_on(now)
            for agent_id in self._members[team.name]:
                agent = self.agents[agent_id]
                if wanted and agent.state != "on":
                    self._come_on(agent)
                elif not wanted and agent.state == "on":
                    self._leave(agent)

    def _come_on(self, agent: _AgentState) -> None:
        now = _dt(self._now)
        if agent.state == "off":
            agent.on_since = self._now
        agent.state, agent.token = "on", agent.token + 1
        if not agent.added:
            agent.added = True
            self._apply(self.engine.add_agent(agent.profile, Availability.AVAILABLE, now))
        else:
            self._apply(self.engine.set_status(agent.profile.id, Availability.AVAILABLE, now))

    def _leave(self, agent: _AgentState) -> None:
        """The end of a shift: an agent finishes what it holds (taking nothing new), then logs off."""
        agent.state = "leaving"
        self._apply(self.engine.set_status(agent.profile.id, Availability.BUSY, _dt(self._now)))
        if not agent.holding:
            self._schedule(max(self._now, agent.busy_until), "logoff", agent.profile.id, agent.token)

    def _log_off(self, agent: _AgentState) -> None:
        end = max(self._now, agent.busy_until)
        self.ledger.staff(agent.team, agent.on_since, end, agent.capacity_units)
        agent.state = "off"
        self._apply(self.engine.set_status(agent.profile.id, Availability.OFFLINE, _dt(self._now)))


def sample(plan: StaffingPlan, arrivals: Sequence[Arrival], seed: int) -> list[TaskRecord]:
    """Each post's handle time, patience and think time, drawn once in arrival order from the seed."""
    rng = random.Random(seed)
    records = []
    for arrival in arrivals:
        handle = plan.handle_time.of(arrival.channel, arrival.category).sample(rng)
        patience = plan.patience.sample(rng) if plan.patience is not None else None
        records.append(TaskRecord(arrival, handle, patience, plan.think_time.sample(rng)))
    return records


def simulate(
    plan: StaffingPlan,
    arrivals: Sequence[Arrival],
    policy: Policy | str,
    *,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
) -> RunResult:
    chosen = POLICIES[policy] if isinstance(policy, str) else policy
    return Simulation(plan, chosen, arrivals, seed=seed, on_progress=on_progress).run()


def _capacity_units(engine: RoutingEngine, profile: AgentProfile, channels: Iterable[str]) -> int:
    """The units an agent can hold of these channels at once: its total, or less where channel limits bind."""
    reachable = 0
    for channel in channels:
        limit = profile.limit(channel)
        reachable += profile.units if limit is None else limit * engine.units_of(channel)
    return min(profile.units, reachable)


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# -- metrics ------------------------------------------------------------------------------------------------------
def priority_band(priority: float, threshold: float) -> str:
    if priority >= threshold:
        return f"high (>= {threshold:g})"
    return "low (< 30)" if priority < 30 else f"medium (30-{threshold:g})"


def summarise(result: RunResult) -> dict[str, Any]:
    """The metrics of a run, overall and per entry queue and priority band.

    - service_level: answered within the task's first-response target / (answered + abandoned + unanswered)
    - high_priority_within_target: of the negative posts with priority >= the threshold, the share answered
      within their target (abandoned and unanswered ones count as missed)
    - asa_min, first_response_p50_min / p90_min: over answered posts, arrival to acceptance
    - occupancy: units held (offers, work, wrap-up) / units staffed, over agents' time on shift; an agent's
      staffed units are what it can hold of the trace's channels (its total, or less where channel limits bind).
      Also per team and on the busiest day (the day with the most arrivals), since a trace with quiet days
      dilutes the overall figure.
    """
    threshold = result.high_priority_threshold
    metrics = _group(result.records, threshold)
    ledger = result.ledger
    metrics["occupancy"] = ledger.occupancy()
    metrics["agent_hours"] = ledger.agent_hours()
    metrics.update({k: v for k, v in result.counts.items() if k != "events"})
    by_queue: dict[str, list[TaskRecord]] = {}
    by_band: dict[str, list[TaskRecord]] = {}
    by_day: dict[str, list[TaskRecord]] = {}
    for record in result.records:
        by_day.setdefault(record.arrival.at.date().isoformat(), []).append(record)
        by_queue.setdefault(record.queue_id, []).append(record)
        by_band.setdefault(priority_band(record.arrival.priority, threshold), []).append(record)
    metrics["by_queue"] = {q: _group(rs, threshold) for q, rs in sorted(by_queue.items())}
    metrics["by_priority"] = {b: _group(rs, threshold) for b, rs in sorted(by_band.items())}
    teams = sorted({team for team, _ in ledger.agent_seconds})
    busiest = max(by_day.items(), key=lambda item: (len(item[1]), item[0]), default=None)
    peak = busiest[0] if busiest is not None else None
    metrics["by_team"] = {
        team: {
            "agent_hours": ledger.agent_hours(team),
            "occupancy": ledger.occupancy(team=team),
            "busiest_day_occupancy": ledger.occupancy(team=team, day=peak) if peak else None,
        }
        for team in teams
    }
    if busiest is not None:
        day, records = busiest
        metrics["busiest_day"] = {
            "date": day,
            "offered": len(records),
            "service_level": _group(records, threshold)["service_level"],
            "occupancy": ledger.occupancy(day=day),
            "agent_hours": ledger.agent_hours(day=day),
        }
    return metrics


def _group(records: Sequence[TaskRecord], threshold: float) -> dict[str, Any]:
    answered = [r for r in records if r.outcome == ANSWERED]
    waits = [(r.first_response or 0.0) / 60 for r in answered]
    urgent = [r for r in records if r.arrival.sentiment == "negative" and r.arrival.priority >= threshold]
    abandoned = sum(1 for r in records if r.outcome == ABANDONED)
    return {
        "offered": len(records),
        "answered": len(answered),
        "abandoned": abandoned,
        "unanswered": sum(1 for r in records if r.outcome == UNANSWERED),
        "service_level": _ratio(sum(1 for r in answered if r.within_target), len(records)),
        "high_priority_offered": len(urgent),
        "high_priority_within_target": _ratio(sum(1 for r in urgent if r.within_target), len(urgent)),
        "asa_min": _round(sum(waits) / len(waits) if waits else None),
        "first_response_p50_min": _round(percentile(waits, 50)),
        "first_response_p90_min": _round(percentile(waits, 90)),
        "abandonment": _ratio(abandoned, len(records)),
        "escalated_tasks": sum(1 for r in records if r.escalations),
        "breached": sum(1 for r in records if r.breached),
    }


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
