"""The routing engine (docs/routing.md): waiting work meets agents with room, in order, explained.

One in-memory, event-driven matcher, pure Python and deterministic given its inputs and the times it is told.
- **Pools**: for every queue (and every step that narrows its target) the set of agents its target expression
  admits, evaluated once when an agent's profile changes, never per decision.
- **Lanes**: the waiting work of one pool on one channel, a heap ordered by the engine's `Ordering`. With
  `PRIORITY_SLA` the key is the SLA deadline brought forward by priority (a priority of 100 counts as one whole
  target earlier), so among equals the work closest to breaching goes first, and the order never needs re-sorting
  but once: a task whose SLA breaches while it waits moves behind all work that can still meet its target.
- **Ready sets**: per channel, the available agents with room for one more conversation of it (per-channel limit
  and weighted units, with offers and wrap-up holding their slot), also kept sorted by idle time, and counted per
  pool; so "longest idle" and the number of candidates an explanation gives need no search.
- It is *work-conserving*: after every call no waiting task has an eligible ready agent it has not rejected. So
  new work is matched against ``pool ∩ ready[channel]`` at once, and an agent who gains room takes the best head
  of the lanes of its pools.
- **Timers** (one heap): offer expiry, step timeouts (escalation to the next step of the route), SLA warning and
  breach, the end of wrap-up and of a sticky wait. `advance(now)` fires those due.
Every call returns `Outcome` records; each offer carries the explanation of its decision.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.routing.model import (
    DEFAULT_UNITS,
    AgentProfile,
    Availability,
    Offer,
    Ordering,
    Outcome,
    QueueSpec,
    Route,
    Selection,
    Step,
    Task,
    Workflow,
)
from careline.routing.policies import explanation, ordering_key, why

PoolKey = tuple[str, str]  # (queue id, the step's narrower target or "")
LaneKey = tuple[PoolKey, str]  # (pool, channel)
_PERSONAL = "@"  # the pool key prefix of the lane of work waiting for one agent (sticky routing)
_RATE_WINDOW = 50  # offers remembered per lane to estimate its pace (estimated wait)
# PRIORITY_SLA: what a breached task's key grows by, so that it waits behind all work that can still meet its
# target (serving late work first no longer saves its target; it would only make more work late). Keys are
# timestamps, so this is ~32 years: no deadline still to be met lies that far behind a breached one.
_BREACHED = 1e9


def _ts(at: datetime) -> float:
    if at.tzinfo is None:
        raise InvalidInput("routing times must be timezone-aware")
    return at.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class _Pool:
    __slots__ = (
        "key",
        "queue",
        "step_target",
        "members",
        "positions",
        "last_position",
        "top_position",
        "counter",
        "lanes",
        "ready",
    )

    def __init__(self, key: PoolKey, queue: QueueSpec, step_target: Step | None) -> None:
        self.key = key
        self.queue = queue
        self.step_target = step_target.target if step_target else None
        self.members: set[str] = set()
        self.positions: dict[str, int] = {}  # round robin: the order agents joined the pool
        self.last_position = -1
        self.top_position = 0  # the largest of `positions` (never removed, and each new one is the largest)
        self.counter = itertools.count(1)
        self.lanes: dict[str, list[tuple[float, int, str]]] = {}  # channel -> heap of (key, seq, task id)
        self.ready: dict[str, int] = {}  # channel -> how many members are in its ready set (kept with them)

    def admits(self, attributes: Mapping[str, Any]) -> bool:
        if self.queue.manual:
            return False
        if not self.queue.target.evaluate(attributes):
            return False
        return self.step_target is None or self.step_target.evaluate(attributes)

    def target_source(self) -> str:
        if self.step_target is None:
            return self.queue.target.source
        return f"({self.queue.target.source}) and ({self.step_target.source})"


class _Agent:
    __slots__ = ("profile", "status", "load", "used", "idle_since", "held", "pools", "offers", "room")

    def __init__(self, profile: AgentProfile, status: Availability, idle_since: float) -> None:
        self.profile = profile
        self.status = status
        self.load: dict[str, int] = collections.defaultdict(int)
        self.used = 0
        self.idle_since = idle_since
        self.held: dict[str, str] = {}  # slot holder (task id, or "wrap:<n>") -> channel
        self.pools: set[PoolKey] = set()
        self.offers: set[str] = set()  # pending offer ids
        self.room: tuple[str, ...] = ()  # the channels whose ready set holds this agent (kept with them)


class RoutingEngine:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        workflow: Workflow,
        *,
        ordering: Ordering = Ordering.PRIORITY_SLA,
        units: Mapping[str, int] = DEFAULT_UNITS,
        wrap_up_seconds: Mapping[str, int] | None = None,
        ids: Callable[[], str] | None = None,
    ) -> None:
        self.queues = {q.id: q for q in queues}
        self.workflow = workflow
        self.ordering = ordering
        self._units = dict(units)
        self._wrap_up = dict(wrap_up_seconds or {})
        counter = itertools.count(1)
        self._ids = ids or (lambda: f"offer-{next(counter)}")
        self._check_workflow()
        self._routes = {route.name: route for route in workflow.routes}
        self._lone_steps: dict[str, tuple[Step, ...]] = {}  # queue id -> the one step of work on no route
        self._pools: dict[PoolKey, _Pool] = {}
        for queue in self.queues.values():
            self._pool_for(queue.id, None)
        for route in workflow.routes:
            for step in route.steps:
                self._pool_for(step.queue_id, step)
        self._agents: dict[str, _Agent] = {}
        self._idle_key: dict[str, tuple[float, str]] = {}  # agent -> (idle since, id): the longest idle is the min
        # Every channel known so far (the weighted ones, and any other a task arrived on) -> its ready set, and
        # the same agents sorted by `_idle_key` (longest idle first), so that "longest idle" needs no search.
        self._ready: dict[str, set[str]] = {}
        self._by_idle: dict[str, list[tuple[float, str]]] = {}
        self._cost: dict[str, int] = {}  # channel -> its units
        for channel in self._units:
            self._add_channel(channel)
        self._tasks: dict[str, Task] = {}
        self._lane_of: dict[str, tuple[LaneKey, int]] = {}  # waiting task -> its lane and heap entry seq
        self._personal: dict[str, list[tuple[float, int, str]]] = collections.defaultdict(list)
        self._offers: dict[str, Offer] = {}  # pending ones; answered offers are forgotten
        self._offer_of: dict[str, str] = {}  # task -> its pending offer
        self._answered: dict[str, str] = {}  # offer -> how it ended
        self._overfilled: list[str] = []  # offers made past a limit (there must be none)
        self._timers: list[tuple[float, int, str, str, int]] = []  # (when, seq, kind, ref, stamp)
        self._seq = itertools.count()
        self._stamps: dict[str, int] = collections.defaultdict(int)  # invalidates a task's older timers
        self._generation = itertools.count(1)
        self._last_served: dict[str, tuple[str, float]] = {}  # customer -> (agent, when): sticky memory
        self._pace: dict[LaneKey, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=_RATE_WINDOW)
        )
        self._wrap_counter = itertools.count()

    # -- configuration -------------------------------------------------------------------------------------
    def _check_workflow(self) -> None:
        if self.workflow.default_queue_id not in self.queues:
            raise InvalidInput(f"the workflow's default queue {self.workflow.default_queue_id!r} does not exist")
        names = set()
        for route in self.workflow.routes:
            if route.name in names:
                raise InvalidInput(f'two routes are named "{route.name}"')
            names.add(route.name)
            for step in route.steps:
                if step.queue_id not in self.queues:
                    raise InvalidInput(f'route "{route.name}" sends work to unknown queue {step.queue_id!r}')

    def _pool_for(self, queue_id: str, step: Step | None) -> _Pool:
        key = (queue_id, step.target.source if step and step.target else "")
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(key, self.queues[queue_id], step if step and step.target else None)
        return pool

    def units_of(self, channel: str) -> int:
        return self._units.get(channel, 20)

    # -- agents --------------------------------------------------------------------------------------------
    def add_agent(self, profile: AgentProfile, status: Availability, now: datetime) -> list[Outcome]:
        """Add (or update the profile of) an agent; an available one with room takes waiting work at once."""
        existing = self._agents.get(profile.id)
        if existing is None:
            agent = self._agents[profile.id] = _Agent(profile, status, _ts(now))
            self._idle_key[profile.id] = (agent.idle_since, profile.id)
        else:
            agent = existing
            agent.profile = profile  # lower limits bind new offers only: held work is never taken back
        for pool in self._pools.values():
            if pool.admits(profile.attributes):
                if profile.id not in pool.members:
                    pool.members.add(profile.id)
                    pool.positions[profile.id] = pool.top_position = next(pool.counter)
                    for channel in agent.room:
                        pool.ready[channel] += 1
                agent.pools.add(pool.key)
            elif profile.id in pool.members:
                pool.members.discard(profile.id)
                agent.pools.discard(pool.key)
                for channel in agent.room:
                    pool.ready[channel] -= 1
        if existing is not None:
            return self.set_status(profile.id, status, now)  # revokes offers when it leaves, fills when it is back
        self._refresh_ready(agent)
        return self._fill(agent, now)

    def set_status(self, agent_id: str, status: Availability, now: datetime) -> list[Outcome]:
        agent = self._agent(agent_id)
        outcomes: list[Outcome] = []
        if agent.status is not Availability.AVAILABLE and status is Availability.AVAILABLE:
            self._set_idle(agent, _ts(now))
        agent.status = status
        if status in (Availability.AWAY, Availability.OFFLINE):
            for offer_id in sorted(agent.offers):  # nobody is there to answer them
                outcomes += self._withdraw_offer(self._offers[offer_id], now, "revoked", f"agent went {status}")
        self._refresh_ready(agent)
        return outcomes + self._fill(agent, now)

    def remove_agent(self, agent_id: str, now: datetime) -> list[Outcome]:
        """Forget an agent; refused while it holds work (offers are revoked first by going offline)."""
        outcomes = self.set_status(agent_id, Availability.OFFLINE, now)
        if any(not holder.startswith("wrap:") for holder in self._agents[agent_id].held):
            raise Conflict(f"agent {agent_id} still holds work: complete or transfer it first")
        agent = self._agents.pop(agent_id)  # offline: in no ready set any more
        del self._idle_key[agent_id]
        for key in agent.pools:
            self._pools[key].members.discard(agent_id)
        return outcomes

    def _agent(self, agent_id: str) -> _Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise NotFound(f"agent {agent_id} is not known to the router") from None

    def has_room(self, agent: _Agent, channel: str) -> bool:
        if agent.status is not Availability.AVAILABLE:
            return False
        limit = agent.profile.limit(channel)
        if limit is not None and agent.load[channel] >= limit:
            return False
        return agent.used + self.units_of(channel) <= agent.profile.units

    def _refresh_ready(self, agent: _Agent) -> None:
        """Put the agent in (or out of) the ready set of every channel: `has_room`, unrolled (hot path)."""
        agent_id = agent.profile.id
        available = agent.status is Availability.AVAILABLE
        profile, load, used = agent.profile, agent.load, agent.used
        room: list[str] = []
        for channel, ready in self._ready.items():
            if available:
                limit = profile.limit(channel)
                fits = (limit is None or load.get(channel, 0) < limit) and used + self._cost[channel] <= profile.units
            else:
                fits = False
            if fits:
                room.append(channel)
                if agent_id not in ready:
                    ready.add(agent_id)
                    self._count_ready(agent, channel, 1)
            elif agent_id in ready:
                ready.discard(agent_id)
                self._count_ready(agent, channel, -1)
        agent.room = tuple(room)

    def _count_ready(self, agent: _Agent, channel: str, change: int) -> None:
        """The agent joined (1) or left (-1) a channel's ready set: its idle order and its pools' counts follow."""
        by_idle, key = self._by_idle[channel], self._idle_key[agent.profile.id]
        if change > 0:
            bisect.insort(by_idle, key)
        else:
            del by_idle[bisect.bisect_left(by_idle, key)]
        pools = self._pools
        for pool_key in agent.pools:
            pools[pool_key].ready[channel] += change

    def _add_channel(self, channel: str) -> None:
        self._ready[channel] = set()
        self._by_idle[channel] = []
        self._cost[channel] = self.units_of(channel)
        for pool in self._pools.values():
            pool.ready[channel] = 0

    def _channels(self) -> list[str]:
        return list(self._ready)

    def _set_idle(self, agent: _Agent, since: float) -> None:
        agent_id = agent.profile.id
        before, after = self._idle_key[agent_id], (since, agent_id)
        for channel in agent.room:  # the ready sets it is in: its place in their idle order moves
            by_idle = self._by_idle[channel]
            del by_idle[bisect.bisect_left(by_idle, before)]
            bisect.insort(by_idle, after)
        agent.idle_since = since
        self._idle_key[agent_id] = after

    def _hold(self, agent: _Agent, holder: str, channel: str) -> None:
        agent.held[holder] = channel
        agent.load[channel] += 1
        agent.used += self.units_of(channel)
        self._refresh_ready(agent)

    def _release(self, agent: _Agent, holder: str) -> None:
        channel = agent.held.pop(holder)
        agent.load[channel] -= 1
        agent.used -= self.units_of(channel)
        self._refresh_ready(agent)

    # -- tasks ---------------------------------------------------------------------------------------------
    def enqueue(self, task: Task, now: datetime) -> list[Outcome]:
        """New waiting work: pick its route, start its SLA clock, offer it or queue it."""
        current = self._tasks.get(task.id)
        if current is not None:
            raise Conflict(f"task {task.id} is already being routed ({current.state})")
        if task.channel not in self._ready:
            self._add_channel(task.channel)
            for agent in self._agents.values():
                self._refresh_ready(agent)
        self._tasks[task.id] = task
        attributes = {**task.attributes, "channel": task.channel, "priority": task.priority}
        route = next((r for r in self.workflow.routes if r.condition.evaluate(attributes)), None)
        task.route = route.name if route else None
        first_queue = self.queues[route.steps[0].queue_id if route else self.workflow.default_queue_id]
        target = (
            first_queue.next_response_seconds or first_queue.first_response_seconds
            if task.next_response
            else first_queue.first_response_seconds
        )
        task.deadline = first_queue.hours.add_business_time(task.arrived_at, target)
        warn_at = first_queue.hours.add_business_time(task.arrived_at, target * self.workflow.sla_warning_fraction)
        self._stamps[task.id + ":sla"] = next(self._generation)  # an earlier life's SLA timers no longer apply
        self._timer(_ts(warn_at), "warn", task.id)
        self._timer(_ts(task.deadline), "breach", task.id)
        if task.preferred_agent_id is None and task.customer_id is not None:
            last = self._last_served.get(task.customer_id)
            if last and _ts(now) - last[1] <= self.workflow.sticky_window_seconds:
                task.preferred_agent_id = last[0]
        return self._enter_step(task, 0, now)

    def _steps(self, task: Task) -> tuple[Step, ...]:
        route = self._routes.get(task.route) if task.route is not None else None
        if route is not None:
            return route.steps
        queue_id = task.queue_id or self.workflow.default_queue_id
        steps = self._lone_steps.get(queue_id)
        if steps is None:
            steps = self._lone_steps[queue_id] = (Step(queue_id=queue_id),)
        return steps

    def _route(self, task: Task) -> Route | None:
        return self._routes.get(task.route) if task.route is not None else None

    def _enter_step(self, task: Task, index: int, now: datetime) -> list[Outcome]:
        step = self._steps(task)[index]
        task.step_index = index
        task.step_started_at = now
        task.queue_id = step.queue_id
        task.waiting_for_agent_until = None
        self._stamps[task.id] = next(self._generation)  # the timers of the previous step no longer apply
        if step.timeout_seconds is not None and index + 1 < len(self._steps(task)):
            self._timer(_ts(now + timedelta(seconds=step.timeout_seconds)), "step", task.id)
        return self._place(task, now)

    def _pool_of(self, task: Task) -> _Pool:
        step = self._steps(task)[task.step_index]
        return self._pools[(step.queue_id, step.target.source if step.target else "")]

    def _key(self, task: Task) -> float:
        step = self._steps(task)[task.step_index]
        assert task.deadline is not None
        key = ordering_key(self.ordering, task.priority + step.priority_boost, task.arrived_at, task.deadline)
        if task.breached and self.ordering is Ordering.PRIORITY_SLA:
            key += _BREACHED
        return key

    def _place(self, task: Task, now: datetime) -> list[Outcome]:
        """The task waits at its current step: offered at once when an agent can take it, else queued."""
        task.state = "waiting"
        task.agent_id = None
        pool = self._pool_of(task)
        preferred = task.preferred_agent_id
        if preferred and preferred in pool.members and preferred not in task.rejected_by:
            agent = self._agents.get(preferred)
            if agent is not None and self.has_room(agent, task.channel):
                return self._offer(task, agent, pool, now, "sticky", 1)
            wait = self.workflow.sticky_wait_seconds
            if (
                agent is not None
                and wait > 0
                and task.waiting_for_agent_until is None
                and agent.status in (Availability.AVAILABLE, Availability.BUSY)
            ):
                task.waiting_for_agent_until = _dt(_ts(now) + wait)
                seq = next(self._seq)
                heapq.heappush(self._personal[preferred], (self._key(task), seq, task.id))
                self._lane_of[task.id] = (((_PERSONAL, preferred), task.channel), seq)
                self._timer(_ts(task.waiting_for_agent_until), "sticky", task.id)
                return []
        candidates = pool.ready[task.channel]  # the eligible agents with room, less those who said no
        if task.rejected_by and candidates:
            ready = self._ready[task.channel]
            candidates -= sum(1 for a in task.rejected_by if a in ready and a in pool.members)
        if candidates:
            agent_id, reason = self._select(pool, task, candidates)
            return self._offer(task, self._agents[agent_id], pool, now, reason, candidates)
        seq = next(self._seq)
        heapq.heappush(pool.lanes.setdefault(task.channel, []), (self._key(task), seq, task.id))
        self._lane_of[task.id] = ((pool.key, task.channel), seq)
        return []

    def _select(self, pool: _Pool, task: Task, count: int) -> tuple[str, str]:
        """Which of the `count` (> 0) eligible agents with room gets the offer, and the rule that chose it."""
        agents, idle, rejected = self._agents, self._idle_key, task.rejected_by
        selection = pool.queue.selection
        if selection is Selection.LONGEST_IDLE:
            by_idle = self._by_idle[task.channel]
            if count * 8 >= len(by_idle):  # the pool is a good share of those with room: one is near the top
                members = pool.members
                for _, agent_id in by_idle:
                    if agent_id in members and agent_id not in rejected:
                        return agent_id, "longest_idle"
        candidates = pool.members & self._ready[task.channel]
        if rejected:
            candidates -= rejected
        if selection is Selection.ROUND_ROBIN:
            positions, span, last = pool.positions, pool.top_position + 1, pool.last_position
            chosen = min(candidates, key=lambda a: ((positions[a] - last - 1) % span, a))
            pool.last_position = positions[chosen]
            return chosen, "round_robin"
        if selection is Selection.LEAST_BUSY:
            chosen = min(candidates, key=lambda a: (agents[a].used / agents[a].profile.units, idle[a]))
            return chosen, "least_busy"
        return min(candidates, key=idle.__getitem__), "longest_idle"

    def _offer(
        self, task: Task, agent: _Agent, pool: _Pool, now: datetime, reason: str, candidates: int
    ) -> list[Outcome]:
        at = _ts(now)
        offer = Offer(
            id=self._ids(),
            task_id=task.id,
            agent_id=agent.profile.id,
            offered_at=now,
            expires_at=_dt(at + self.workflow.offer_timeout_seconds),
            explanation=self._explain(task, agent, pool, reason, candidates, at),
        )
        if not self.has_room(agent, task.channel):  # never: checked by violations() in the tests
            self._overfilled.append(f"{agent.profile.id} was offered {task.id} without room on {task.channel}")
        self._offers[offer.id] = offer
        self._offer_of[task.id] = offer.id
        agent.offers.add(offer.id)
        task.state = "offered"
        task.agent_id = agent.profile.id
        self._lane_of.pop(task.id, None)
        self._set_idle(agent, at)  # "longest idle" counts from the last offer
        self._hold(agent, task.id, task.channel)
        self._timer(_ts(offer.expires_at), "offer", offer.id)
        self._pace[(pool.key, task.channel)].append(at)
        return [Outcome("offered", now, task.id, agent.profile.id, offer.id, task.queue_id, detail=offer.explanation)]

    def _explain(
        self, task: Task, agent: _Agent, pool: _Pool, reason: str, candidates: int, at: float
    ) -> dict[str, Any]:
        steps = self._steps(task)
        if reason == "least_busy":
            detail = f"{agent.used / agent.profile.units:.0%}"
        elif reason == "next_in_line":
            detail = self.ordering.value
        else:
            detail = f"idle since {_dt(agent.idle_since).time().isoformat('seconds')}"  # HH:MM:SS
        step = steps[task.step_index]
        return explanation(
            route=self._route(task),
            steps=steps,
            step_index=task.step_index,
            queue=pool.queue,
            step=step,
            agent_attributes=agent.profile.attributes,
            selection=reason,
            reason=why(reason, candidates, detail),
            candidates=candidates,
            priority=task.priority,
            waited_seconds=at - _ts(task.arrived_at),
            deadline=task.deadline,
            escalations=task.escalations,
        )

    def _fill(self, agent: _Agent, now: datetime) -> list[Outcome]:
        """An agent with room takes the best waiting work of its pools, as long as it has room."""
        outcomes: list[Outcome] = []
        agent_id = agent.profile.id
        pools = self._pools
        while agent.status is Availability.AVAILABLE:
            best: tuple[float, int, str] | None = None
            best_pool: _Pool | None = None
            personal = self._personal.get(agent_id)
            if personal:
                entry = self._head(personal, agent, (_PERSONAL, agent_id))
                if entry is not None:
                    best, best_pool = entry, self._pool_of(self._tasks[entry[2]])
            room = agent.room  # only the lanes of channels it has room on
            if room:
                for key in agent.pools:
                    lanes = pools[key].lanes
                    for channel in room:
                        lane = lanes.get(channel)
                        if lane:
                            entry = self._head(lane, agent, key)
                            if entry is not None and (best is None or entry < best):
                                best, best_pool = entry, pools[key]
            if best is None or best_pool is None:
                return outcomes
            task = self._tasks[best[2]]
            self._lane_of.pop(task.id, None)
            outcomes += self._offer(task, agent, best_pool, now, "next_in_line", 1)
        return outcomes

    def _head(self, lane: list[tuple[float, int, str]], agent: _Agent, key: PoolKey) -> tuple[float, int, str] | None:
        """The best valid entry of a lane for this agent; stale entries at the top are dropped."""
        personal = key[0] == _PERSONAL
        lane_of, tasks = self._lane_of, self._tasks
        while lane:
            entry = lane[0]
            placed = lane_of.get(entry[2])
            if placed is None or placed[1] != entry[1]:
                heapq.heappop(lane)
                continue
            if self._takes(agent, tasks[entry[2]], personal):
                return entry
            # Rare: the head is not for this agent (it said no): look further down for the best one it may take.
            valid = [
                e
                for e in lane
                if (p := lane_of.get(e[2])) is not None and p[1] == e[1] and self._takes(agent, tasks[e[2]], personal)
            ]
            return min(valid) if valid else None
        return None

    def _takes(self, agent: _Agent, task: Task, personal: bool) -> bool:
        """Whether the agent may be offered this waiting task it found at the head of a lane of its pools."""
        if agent.profile.id in task.rejected_by:
            return False
        # Work waiting for this agent in particular: only while it still has room and may take it.
        return not personal or (self.has_room(agent, task.channel) and agent.profile.id in self._pool_of(task).members)

    # -- answers to offers ---------------------------------------------------------------------------------
    def accept(self, offer_id: str, now: datetime) -> list[Outcome]:
        offer = self._pending(offer_id)
        self._close(offer, "accepted")
        task = self._tasks[offer.task_id]
        task.state = "assigned"
        if task.customer_id is not None:
            self._last_served[task.customer_id] = (offer.agent_id, _ts(now))
        return [Outcome("accepted", now, task.id, offer.agent_id, offer.id, task.queue_id)]

    def reject(self, offer_id: str, now: datetime, reason: str = "") -> list[Outcome]:
        return self._withdraw_offer(self._pending(offer_id), now, "rejected", reason)

    def offer(self, offer_id: str) -> Offer:
        offer = self._offers.get(offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} is not pending")
        return offer

    def _pending(self, offer_id: str) -> Offer:
        offer = self._offers.get(offer_id)
        if offer is None:
            answered = self._answered.get(offer_id)
            if answered is None:
                raise NotFound(f"offer {offer_id} does not exist")
            raise Conflict(f"offer {offer_id} is {answered}, not pending")
        return offer

    def _close(self, offer: Offer, status: str) -> None:
        offer.status = status
        self._offers.pop(offer.id, None)
        self._offer_of.pop(offer.task_id, None)
        self._answered[offer.id] = status
        agent = self._agents.get(offer.agent_id)
        if agent is not None:
            agent.offers.discard(offer.id)

    def _withdraw_offer(self, offer: Offer, now: datetime, status: str, reason: str) -> list[Outcome]:
        """An offer falls through (rejected, expired, revoked): the agent's slot frees, the task waits again."""
        self._close(offer, status)
        agent = self._agents[offer.agent_id]
        task = self._tasks[offer.task_id]
        self._release(agent, task.id)
        outcomes = [Outcome(status, now, task.id, agent.profile.id, offer.id, task.queue_id, detail={"reason": reason})]
        if status != "revoked":
            task.rejected_by.add(agent.profile.id)
        outcomes += self._requeue(task, now)
        if status == "expired" and self.workflow.away_after_missed_offer and agent.status is Availability.AVAILABLE:
            # Whoever lets an offer expire is not at their desk: stop offering them work (their other pending
            # offers go elsewhere now) until they say they are back.
            outcomes.append(Outcome("agent_away", now, task.id, agent.profile.id, detail={"reason": "missed an offer"}))
            return outcomes + self.set_status(agent.profile.id, Availability.AWAY, now)
        return outcomes + self._fill(agent, now)

    def _requeue(self, task: Task, now: datetime) -> list[Outcome]:
        """Back to waiting after an offer fell through; a step that timed out meanwhile escalates now."""
        steps = self._steps(task)
        step = steps[task.step_index]
        if (
            step.timeout_seconds is not None
            and task.step_started_at is not None
            and task.step_index + 1 < len(steps)
            and _ts(now) >= _ts(task.step_started_at) + step.timeout_seconds
        ):
            return self._escalate(task, now, "the step timed out while its offer was open")
        return self._place(task, now)

    def _escalate(self, task: Task, now: datetime, why: str) -> list[Outcome]:
        steps = self._steps(task)
        before = steps[task.step_index]
        after = steps[task.step_index + 1]
        self._lane_of.pop(task.id, None)
        record = {
            "at": now.isoformat(),
            "from_step": task.step_index + 1,
            "to_step": task.step_index + 2,
            "from_queue": before.queue_id,
            "to_queue": after.queue_id,
            "reason": why,
        }
        task.escalations.append(record)
        outcome = Outcome("escalated", now, task.id, queue_id=after.queue_id, detail=record)
        return [outcome, *self._enter_step(task, task.step_index + 1, now)]

    # -- the end of work -----------------------------------------------------------------------------------
    def respond(self, task_id: str) -> None:
        """The customer got their answer: the SLA clock of this task stops (no warning, no breach after)."""
        if task_id in self._tasks:
            self._stamps[task_id + ":sla"] = next(self._generation)

    def complete(self, task_id: str, now: datetime) -> list[Outcome]:
        """The work is over (resolved, abandoned, taken elsewhere): its slot frees after the channel's wrap-up.
        The engine then forgets the task; completing it again does nothing."""
        task = self._tasks.pop(task_id, None)
        if task is None:
            return []
        self._stamps[task_id + ":sla"] = next(self._generation)
        outcomes = self._let_go(task, now, wrap_up=True)
        task.state = "done"
        self._stamps.pop(task_id, None)
        self._stamps.pop(task_id + ":sla", None)
        return outcomes

    def _let_go(self, task: Task, now: datetime, *, wrap_up: bool) -> list[Outcome]:
        """Take the task off whatever it occupies: its lane, its pending offer, its agent's slot."""
        self._lane_of.pop(task.id, None)
        self._stamps[task.id] = next(self._generation)
        if task.state == "offered":
            offer = self._offers[self._offer_of[task.id]]
            self._close(offer, "revoked")
            agent = self._agents[offer.agent_id]
            self._release(agent, task.id)
            return self._fill(agent, now)
        if task.state == "assigned" and task.agent_id in self._agents:
            agent = self._agents[task.agent_id]
            wrap = self._wrap_up.get(task.channel, 0) if wrap_up else 0
            if wrap > 0 and task.id in agent.held:
                holder = f"wrap:{next(self._wrap_counter)}"
                agent.held[holder] = agent.held.pop(task.id)
                self._timer(_ts(now + timedelta(seconds=wrap)), "wrap", f"{agent.profile.id}|{holder}")
                return []
            if task.id in agent.held:
                self._release(agent, task.id)
            return self._fill(agent, now)
        return []

    def transfer(self, task_id: str, queue_id: str, now: datetime, actor: str = "") -> list[Outcome]:
        """A person moves the work to another queue (stage 2 triage, or an agent handing it back); the SLA clock
        keeps running, since the customer is still waiting."""
        if queue_id not in self.queues:
            raise NotFound(f"queue {queue_id} does not exist")
        task = self._task(task_id)
        outcomes = self._let_go(task, now, wrap_up=True)
        task.route = None
        task.queue_id = queue_id
        task.rejected_by.clear()
        task.escalations.append({"at": now.isoformat(), "to_queue": queue_id, "reason": f"transferred {actor}".strip()})
        return outcomes + self._enter_step(task, 0, now)

    def _task(self, task_id: str) -> Task:
        try:
            return self._tasks[task_id]
        except KeyError:
            raise NotFound(f"task {task_id} is not known to the router") from None

    # -- time ----------------------------------------------------------------------------------------------
    def _timer(self, when: float, kind: str, ref: str, stamp: int | None = None) -> None:
        """Set a timer at the timestamp `when` (of a datetime: whole microseconds, as `advance` compares)."""
        if stamp is None:
            stamp = self._stamps[ref + ":sla"] if kind in ("warn", "breach") else self._stamps[ref]
        heapq.heappush(self._timers, (when, next(self._seq), kind, ref, stamp))

    def next_timer(self) -> datetime | None:
        return _dt(self._timers[0][0]) if self._timers else None

    def advance(self, now: datetime) -> list[Outcome]:
        """Fire every timer due at or before `now`, in time order."""
        outcomes: list[Outcome] = []
        limit = _ts(now)
        while self._timers and self._timers[0][0] <= limit:
            when, _, kind, ref, stamp = heapq.heappop(self._timers)
            outcomes += self._fire(kind, ref, stamp, _dt(when))
        return outcomes

    def _fire(self, kind: str, ref: str, stamp: int, at: datetime) -> list[Outcome]:
        if kind == "offer":
            offer = self._offers.get(ref)
            if offer is None:
                return []  # answered in time
            return self._withdraw_offer(offer, at, "expired", f"no answer in {self.workflow.offer_timeout_seconds}s")
        if kind == "wrap":
            agent_id, holder = ref.split("|", 1)
            agent = self._agents.get(agent_id)
            if agent is None or holder not in agent.held:
                return []
            self._release(agent, holder)
            return self._fill(agent, at)
        task = self._tasks.get(ref)
        if task is None or task.state == "done":
            return []
        if kind in ("warn", "breach"):
            if stamp != self._stamps[ref + ":sla"]:
                return []  # answered meanwhile
            deadline = {"deadline": task.deadline.isoformat() if task.deadline else None}
            if kind == "warn":
                task.warned = True
                return [Outcome("sla_warning", at, task.id, task.agent_id, queue_id=task.queue_id, detail=deadline)]
            task.breached = True
            breached = Outcome("sla_breached", at, task.id, task.agent_id, queue_id=task.queue_id, detail=deadline)
            if task.state == "waiting" and self.ordering is Ordering.PRIORITY_SLA:
                self._reorder(task)  # now behind the work that can still meet its target (`_key`)
            return [breached]
        if stamp != self._stamps[ref]:
            return []  # the task moved on since the timer was set
        if kind == "step":
            if task.state != "waiting":
                return []  # under offer: if that falls through, the escalation happens then
            return self._escalate(task, at, "no agent took it within the step's timeout")
        if kind == "sticky":
            if task.state != "waiting" or task.waiting_for_agent_until is None:
                return []
            self._lane_of.pop(task.id, None)
            task.preferred_agent_id = None
            return self._place(task, at)
        return []

    def _reorder(self, task: Task) -> None:
        """Give a waiting task a new place in its lane after its key changed (the old entry goes stale)."""
        placed = self._lane_of.get(task.id)
        if placed is None:
            return
        (pool_key, channel), _ = placed
        lane = self._personal[pool_key[1]] if pool_key[0] == _PERSONAL else self._pools[pool_key].lanes[channel]
        seq = next(self._seq)
        heapq.heappush(lane, (self._key(task), seq, task.id))
        self._lane_of[task.id] = ((pool_key, channel), seq)

    # -- reading -------------------------------------------------------------------------------------------
    def task(self, task_id: str) -> Task:
        return self._task(task_id)

    def tasks(self) -> list[Task]:
        return list(self._tasks.values())

    def pending_offers(self) -> list[Offer]:
        return list(self._offers.values())

    def agent_load(self, agent_id: str) -> dict[str, Any]:
        agent = self._agent(agent_id)
        return {
            "status": agent.status.value,
            "load": {c: n for c, n in agent.load.items() if n},
            "units_used": agent.used,
            "units": agent.profile.units,
            "holding": sorted(h for h in agent.held if not h.startswith("wrap:")),
            "wrapping_up": sum(1 for h in agent.held if h.startswith("wrap:")),
        }

    def eligible_agents(self, queue_id: str) -> set[str]:
        return set(self._pools[(queue_id, "")].members)

    def position(self, task_id: str, now: datetime) -> dict[str, Any]:
        """Where a waiting task stands: 1 is next; the estimated wait is its position over the lane's recent
        pace of offers (None until the lane has made a few)."""
        task = self._task(task_id)
        placed = self._lane_of.get(task_id)
        if task.state != "waiting" or placed is None:
            return {"state": task.state, "position": None, "waiting": None, "estimated_wait_seconds": None}
        (pool_key, channel), seq = placed
        lane = self._personal[pool_key[1]] if pool_key[0] == _PERSONAL else self._pools[pool_key].lanes[channel]
        mine = next(e for e in lane if e[1] == seq)
        live = [e for e in lane if (p := self._lane_of.get(e[2])) is not None and p[1] == e[1]]
        ahead = sum(1 for e in live if e < mine)
        pace = self._pace.get((pool_key, channel))
        eta = None
        if pace and len(pace) >= 5 and pace[-1] > pace[0]:
            rate = (len(pace) - 1) / (pace[-1] - pace[0])
            eta = round((ahead + 1) / rate, 1)
        return {"state": "waiting", "position": ahead + 1, "waiting": len(live), "estimated_wait_seconds": eta}

    def queue_stats(self, now: datetime) -> dict[str, dict[str, Any]]:
        """Per queue: waiting tasks, the longest wait, and agents eligible / with room."""
        at = _ts(now)
        stats: dict[str, dict[str, Any]] = {
            q: {"waiting": 0, "longest_wait_seconds": 0.0, "eligible_agents": 0, "available_agents": 0}
            for q in self.queues
        }
        for task in self._tasks.values():
            if task.state == "waiting" and task.queue_id in stats:
                entry = stats[task.queue_id]
                entry["waiting"] += 1
                entry["longest_wait_seconds"] = max(entry["longest_wait_seconds"], at - _ts(task.arrived_at))
        for queue_id, entry in stats.items():
            members = self._pools[(queue_id, "")].members
            entry["eligible_agents"] = len(members)
            entry["available_agents"] = sum(1 for a in members if self._agents[a].status is Availability.AVAILABLE)
        return stats

    def violations(self) -> list[str]:
        """The engine's invariants, checked the slow way (tests and property tests call this)."""
        problems: list[str] = list(self._overfilled)
        holders: dict[str, str] = {}
        for agent in self._agents.values():
            agent_id = agent.profile.id
            counts: dict[str, int] = collections.defaultdict(int)
            for holder, channel in agent.held.items():
                counts[channel] += 1
                if not holder.startswith("wrap:"):
                    if holder in holders:
                        problems.append(f"task {holder} is held by {holders[holder]} and {agent_id}")
                    holders[holder] = agent_id
            for channel in set(counts) | set(agent.load):
                if counts[channel] != agent.load[channel]:
                    problems.append(f"{agent_id}: load {channel} {agent.load[channel]} != held {counts[channel]}")
            used = sum(self.units_of(c) * n for c, n in counts.items())
            if used != agent.used:
                problems.append(f"{agent_id}: units used {agent.used} (counted {used}) of {agent.profile.units}")
            for channel in self._channels():
                if self.has_room(agent, channel) != (agent_id in self._ready[channel]):
                    problems.append(f"{agent_id}: ready set for {channel} is stale")
            if set(agent.room) != {c for c, ready in self._ready.items() if agent_id in ready}:
                problems.append(f"{agent_id}: the channels it has room on are stale")
        for channel, ready in self._ready.items():
            if self._by_idle[channel] != sorted(self._idle_key[a] for a in ready):
                problems.append(f"the idle order of the ready agents of {channel} is stale")
            for pool in self._pools.values():
                if pool.ready[channel] != len(pool.members & ready):
                    problems.append(f"pool {pool.key}: the count of its ready agents on {channel} is stale")
        for task in self._tasks.values():
            if task.state in ("offered", "assigned"):
                if holders.get(task.id) != task.agent_id:
                    problems.append(
                        f"task {task.id} is {task.state} to {task.agent_id} but held by {holders.get(task.id)}"
                    )
            elif task.state == "waiting":
                if task.id in holders:
                    problems.append(f"waiting task {task.id} is held by {holders[task.id]}")
                if task.id not in self._lane_of:
                    problems.append(f"waiting task {task.id} is in no lane: it would be forgotten")
                elif self._lane_of[task.id][0][0][0] != _PERSONAL:
                    pool = self._pool_of(task)
                    free = (pool.members & self._ready[task.channel]) - task.rejected_by
                    if free:
                        problems.append(f"task {task.id} waits while {sorted(free)[:3]} could take it")
            else:
                problems.append(f"task {task.id} is in state {task.state}")
        for holder in holders:
            if holder not in self._tasks:
                problems.append(f"an agent holds unknown task {holder}")
        return problems
