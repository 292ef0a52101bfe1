"""The routing engine's vocabulary (docs/routing.md): agents with attributes and weighted capacity, queues with
target expressions and SLA targets, workflows of filtered routes whose steps time out and escalate, tasks, offers
and the explanation of every decision. Plain data: the engine (`routing/engine.py`) owns the behaviour.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from careline.kernel.errors import InvalidInput
from careline.routing.calendar import BusinessHours
from careline.routing.expressions import Expression, parse

# What a target expression may read of an agent, and a workflow filter of a conversation.
AGENT_ATTRIBUTES = frozenset(
    {"id", "name", "skills", "languages", "teams", "seniority", "role", "department", "attributes"}
)
TASK_ATTRIBUTES = frozenset(
    {
        "channel",
        "sentiment",
        "category",
        "language",
        "priority",
        "customer_tier",
        "public",
        "angry",
        "action",
        "tags",
        "queue",
        "attributes",
    }
)

# The weighted units one conversation of each channel holds of an agent's 100 (docs/routing.md#capacity):
# one call, or two chats and a post.
DEFAULT_UNITS: Mapping[str, int] = {
    "voice": 100,
    "webchat": 35,
    "email": 25,
    "x": 20,
    "facebook": 20,
    "instagram": 20,
    "api": 20,
}
TOTAL_UNITS = 100
SOCIAL = ("x", "facebook", "instagram", "api")


class Availability(StrEnum):
    AVAILABLE = "available"  # takes offers while there is room
    BUSY = "busy"  # keeps the work held, takes no new offers (a meeting, a long call outside Careline)
    AWAY = "away"  # a break; also where an agent who lets an offer expire is put
    OFFLINE = "offline"  # logged out


class Ordering(StrEnum):
    """Which waiting work goes first, one rule for the whole engine so queues compare."""

    FIFO = "fifo"  # the longest waiting
    PRIORITY = "priority"  # the highest priority, then the longest waiting
    PRIORITY_SLA = "priority_sla"  # the earliest SLA deadline, brought forward by priority (aging)


class Selection(StrEnum):
    """Which of the eligible agents with room gets the offer."""

    LONGEST_IDLE = "longest_idle"
    LEAST_BUSY = "least_busy"  # the smallest share of units in use, then the longest idle
    ROUND_ROBIN = "round_robin"  # the next one after the last agent offered work from this queue


@dataclasses.dataclass
class AgentProfile:
    """Who an agent is to the router: attributes for targets, limits per channel and in total."""

    id: str
    attributes: dict[str, Any]  # skills {name: 1..10}, languages [..], teams [..], seniority, role, ...
    capacity: dict[str, int] = dataclasses.field(default_factory=dict)  # channel (or "default") -> at once
    units: int = TOTAL_UNITS

    def limit(self, channel: str) -> int | None:
        """At most this many conversations of the channel at once; None: only the weighted total limits."""
        if channel in self.capacity:
            return self.capacity[channel]
        return self.capacity.get("default")


@dataclasses.dataclass(frozen=True)
class QueueSpec:
    id: str
    name: str
    target: Expression  # over agent attributes: who may work this queue
    first_response_seconds: int = 3600
    next_response_seconds: int | None = None
    hours: BusinessHours = dataclasses.field(default_factory=BusinessHours.always)
    selection: Selection = Selection.LONGEST_IDLE
    manual: bool = False  # stage 2: nobody is offered its work; a person moves it where it belongs
    department: str | None = None  # billing, legal, PR...: experts answering consultations, not customers

    @classmethod
    def of(cls, id: str, name: str, target: str = "true", **fields: Any) -> QueueSpec:
        return cls(id=id, name=name, target=parse(target, AGENT_ATTRIBUTES), **fields)


@dataclasses.dataclass(frozen=True)
class Step:
    """Wait in a queue, optionally for agents matching a narrower target, for at most `timeout_seconds`."""

    queue_id: str
    timeout_seconds: int | None = None  # None: wait here until answered
    target: Expression | None = None  # narrows the queue's target, e.g. skills.luggage >= 7
    priority_boost: float = 0.0  # added to the task's priority while it waits at this step

    @classmethod
    def of(cls, queue_id: str, timeout_seconds: int | None = None, target: str | None = None, **fields: Any) -> Step:
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise InvalidInput(f"step timeout must be positive, not {timeout_seconds}")
        expression = parse(target, AGENT_ATTRIBUTES) if target else None
        return cls(queue_id=queue_id, timeout_seconds=timeout_seconds, target=expression, **fields)


@dataclasses.dataclass(frozen=True)
class Route:
    """A workflow filter: the first route whose condition matches a task decides its steps."""

    name: str
    condition: Expression  # over task attributes
    steps: tuple[Step, ...]

    @classmethod
    def of(cls, name: str, condition: str, steps: list[Step] | tuple[Step, ...]) -> Route:
        if not steps:
            raise InvalidInput(f'route "{name}" needs at least one step')
        return cls(name=name, condition=parse(condition, TASK_ATTRIBUTES), steps=tuple(steps))


@dataclasses.dataclass(frozen=True)
class Workflow:
    routes: tuple[Route, ...]
    default_queue_id: str  # where a task that matches no route waits
    offer_timeout_seconds: int = 60  # an offer nobody answers goes elsewhere after this
    sticky_window_seconds: int = 7 * 24 * 3600  # a returning customer is offered first to their last agent
    sticky_wait_seconds: int = 0  # ... and waits this long for that agent when they have no room
    sla_warning_fraction: float = 0.8  # warn when this share of the target has passed unanswered
    away_after_missed_offer: bool = True


@dataclasses.dataclass
class Task:
    """Waiting work: one conversation needing a first (or next) response."""

    id: str
    channel: str
    attributes: dict[str, Any]
    priority: float
    arrived_at: datetime  # the SLA clock starts here
    customer_id: str | None = None
    preferred_agent_id: str | None = None  # sticky routing decided by the caller (else the engine's memory)
    next_response: bool = False  # the customer wrote again: measured against the queue's next-response target
    # -- the engine's state --------------------------------------------------------------------------------
    route: str | None = None
    step_index: int = 0
    step_started_at: datetime | None = None
    queue_id: str | None = None
    deadline: datetime | None = None
    warned: bool = False
    breached: bool = False
    state: str = "new"  # new | waiting | offered | assigned | done
    agent_id: str | None = None
    rejected_by: set[str] = dataclasses.field(default_factory=set)
    escalations: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    waiting_for_agent_until: datetime | None = None  # sticky wait


@dataclasses.dataclass
class Offer:
    id: str
    task_id: str
    agent_id: str
    offered_at: datetime
    expires_at: datetime
    explanation: dict[str, Any]
    status: str = "pending"  # pending | accepted | rejected | expired | revoked


# -- what the engine reports -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str  # offered | accepted | rejected | expired | escalated | sla_warning | sla_breached | assigned
    at: datetime
    task_id: str
    agent_id: str | None = None
    offer_id: str | None = None
    queue_id: str | None = None
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)


JOB_KINDS = ("conversation", "agent", "sweep")


@dataclasses.dataclass(frozen=True)
class Job:
    """A unit of routing work (routing/handlers.py): route a conversation, fill an agent, or sweep the timers.
    Idempotent: running one twice does nothing the second time."""

    kind: str  # conversation | agent | sweep
    ref: str = ""  # the conversation or agent id; "" for a sweep

    def __post_init__(self) -> None:
        if self.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {self.kind!r}: expected one of {', '.join(JOB_KINDS)}")
        if not isinstance(self.ref, str):
            raise TypeError(f"a job's ref is a string, not {type(self.ref).__name__}")
        if self.kind != "sweep" and not self.ref:
            raise ValueError(f"a {self.kind} job needs the {self.kind}'s id as its ref")


# -- the database-backed router's record of one conversation's routing (routing/handlers.py) --------------------
@dataclasses.dataclass
class Ticket:
    """Where a conversation stands in routing: its route and step, its lane and place, its SLA clock."""

    conversation_id: str
    channel: str
    waiting: bool  # unassigned and unresolved: routers may offer it
    pool: str  # the lane's pool (routing/policies.py: pool_id)
    sort_key: float
    route: str | None
    step: int
    queue_id: str
    step_started_at: datetime
    step_due_at: datetime | None
    arrived_at: datetime
    deadline: datetime
    sla_due_at: datetime | None
    sla_state: str  # running | warned | breached | met
    rejected_by: list[str] = dataclasses.field(default_factory=list)
    escalations: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    version: int = 0
