"""Small pure routing policies shared by the in-memory engine (routing/engine.py) and the database-backed router
(routing/handlers.py): which route, which pool, which order, which agent, and how that is explained."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from careline.routing.model import Ordering, QueueSpec, Route, Step, Workflow


def choose_route(workflow: Workflow, attributes: Mapping[str, Any]) -> Route | None:
    """The first route whose condition the task's attributes match; None: the default queue."""
    return next((r for r in workflow.routes if r.condition.evaluate(attributes)), None)


def steps_of(workflow: Workflow, route_name: str | None, queue_id: str) -> tuple[Step, ...]:
    """The steps of a named route; a task on no route (or a route since removed) waits in its queue."""
    route = next((r for r in workflow.routes if r.name == route_name), None) if route_name else None
    return route.steps if route else (Step(queue_id=queue_id),)


def pool_id(queue_id: str, step: Step | None) -> str:
    """The pool of agents a queue admits, narrowed by a step's target: a stable short id for storage."""
    if step is None or step.target is None:
        return queue_id
    digest = hashlib.sha1(step.target.source.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{queue_id}~{digest}"


def ordering_key(ordering: Ordering, priority: float, arrived: datetime, deadline: datetime) -> float:
    """Smaller goes first. PRIORITY_SLA: the SLA deadline, brought forward by priority (100 counts as one whole
    target earlier), so that among equals the work closest to breaching goes first, and no key changes with time."""
    arrived_ts = arrived.timestamp()
    if ordering is Ordering.FIFO:
        return arrived_ts
    if ordering is Ordering.PRIORITY:
        return -priority * 1e10 + arrived_ts
    deadline_ts = deadline.timestamp()
    return deadline_ts - max(0.0, min(priority, 100.0)) / 100.0 * (deadline_ts - arrived_ts)


def sla_target(queue: QueueSpec, next_response: bool) -> int:
    if next_response and queue.next_response_seconds:
        return queue.next_response_seconds
    return queue.first_response_seconds


def has_room(limit: int | None, held_on_channel: int, used_units: int, cost: int, units: int) -> bool:
    """Capacity: under the channel's own limit, and the weighted units of one more fit in the agent's total."""
    if limit is not None and held_on_channel >= limit:
        return False
    return used_units + cost <= units


def why(selection: str, candidates: int, detail: str = "") -> str:
    """The sentence an explanation gives for choosing this agent."""
    if selection == "sticky":
        return "sticky: the agent who served this customer last"
    if selection == "next_in_line":
        return f"the agent gained room; this was the first waiting work of its queues ({detail})"
    if selection == "round_robin":
        return f"round robin: next in turn among {candidates} eligible agents with room"
    if selection == "least_busy":
        return f"least busy ({detail} of capacity in use) of {candidates} eligible agents with room"
    return f"longest idle of {candidates} eligible agents with room ({detail})"


def explanation(
    *,
    route: Route | None,
    steps: Sequence[Step],
    step_index: int,
    queue: QueueSpec,
    step: Step,
    agent_attributes: Mapping[str, Any],
    selection: str,
    reason: str,
    candidates: int,
    priority: float,
    waited_seconds: float,
    deadline: datetime | None,
    escalations: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Which route, step, queue and rule chose the agent, with the values the rule saw."""
    target = queue.target.source
    match = queue.target.explain(agent_attributes)
    if step.target is not None:
        target = f"({target}) and ({step.target.source})"
        match += f"; {step.target.explain(agent_attributes)}"
    return {
        "route": route.name if route else "default",
        "route_condition": route.condition.source if route else None,
        "step": step_index + 1,
        "steps": len(steps),
        "queue_id": queue.id,
        "queue": queue.name,
        "target": target,
        "agent_match": match,
        "selection": selection,
        "reason": reason,
        "candidates": candidates,
        "priority": priority,
        "waited_seconds": round(waited_seconds, 3),
        "deadline": deadline.isoformat() if deadline else None,
        "escalations": [dict(e) for e in escalations],
    }
