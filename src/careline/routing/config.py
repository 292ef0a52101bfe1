"""A deployment's routing settings (docs/routing.md#settings): the workflow and the engine's options.

Stored as one JSON document; `RoutingSettings.parse` validates it against the queues that exist and answers bad
input with the path of the problem (``routes[1].steps[0].queue: no queue named "bilin"``); `to_spec` writes it
back. `queue_spec` and `RoutingSettings.workflow` turn the directory's queues and these settings into the
engine's model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from careline.agents.model import Queue
from careline.kernel.errors import InvalidInput
from careline.routing.calendar import BusinessHours
from careline.routing.expressions import ExpressionError, parse
from careline.routing.model import (
    AGENT_ATTRIBUTES,
    DEFAULT_UNITS,
    TASK_ATTRIBUTES,
    Ordering,
    QueueSpec,
    Route,
    Selection,
    Step,
    Workflow,
)

_KEYS = {
    "routes",
    "ordering",
    "offer_timeout_seconds",
    "sticky_window_seconds",
    "sla_warning_fraction",
    "away_after_missed_offer",
    "wrap_up_seconds",
    "units",
}
_ROUTE_KEYS = {"name", "when", "steps"}
_STEP_KEYS = {"queue", "timeout_seconds", "target", "priority_boost"}


def _fail(path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{path}: {problem}" if path else problem)


def _unknown(spec: Mapping[str, Any], allowed: set[str], path: str) -> None:
    extra = sorted(set(spec) - allowed)
    if extra:
        where = f"{path}: " if path else ""
        raise InvalidInput(f"{where}unknown setting {extra[0]!r} (known: {', '.join(sorted(allowed))})")


def _integer(value: Any, path: str, *, minimum: int, maximum: int = 10**9) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _fail(path, f"must be a whole number from {minimum} to {maximum}, not {value!r}")
    return value


def _number(value: Any, path: str, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, f"must be a number, not {value!r}")
    if not minimum <= value <= maximum:
        raise _fail(path, f"must be from {minimum} to {maximum}, not {value}")
    return float(value)


def _expression(value: Any, path: str, names: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"must be an expression in a string, not {value!r}")
    try:
        parse(value, names)
    except ExpressionError as error:
        raise _fail(path, str(error)) from None
    return value


def queue_spec(queue: Queue) -> QueueSpec:
    """The engine's view of a directory queue (its target, SLA targets, hours and selection)."""
    return QueueSpec(
        id=queue.id,
        name=queue.name,
        target=parse(queue.target_source(), AGENT_ATTRIBUTES),
        first_response_seconds=queue.first_response_target_seconds,
        next_response_seconds=queue.next_response_target_seconds,
        hours=BusinessHours.parse(queue.business_hours or None),
        selection=Selection(queue.selection),
        manual=queue.is_triage,
    )


@dataclasses.dataclass(frozen=True)
class RoutingSettings:
    routes: tuple[Mapping[str, Any], ...] = ()  # as stored: steps name their queue by id
    ordering: Ordering = Ordering.PRIORITY_SLA
    offer_timeout_seconds: int = 60
    sticky_window_seconds: int = 7 * 24 * 3600
    sla_warning_fraction: float = 0.8
    away_after_missed_offer: bool = True
    wrap_up_seconds: Mapping[str, int] = dataclasses.field(default_factory=dict)
    units: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_UNITS))

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None, queues: Mapping[str, Queue]) -> RoutingSettings:
        """Validate a settings document against the queues (by id, or by name) that exist."""
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise InvalidInput("routing settings must be an object")
        _unknown(spec, _KEYS, "")
        by_name = {q.name.lower(): q for q in queues.values()}
        routes_in = spec.get("routes", [])
        if not isinstance(routes_in, list):
            raise _fail("routes", "must be a list")
        routes: list[dict[str, Any]] = []
        names: set[str] = set()
        for i, route in enumerate(routes_in):
            path = f"routes[{i}]"
            if not isinstance(route, Mapping):
                raise _fail(path, "must be an object with name, when and steps")
            _unknown(route, _ROUTE_KEYS, path)
            name = route.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise _fail(f"{path}.name", "a route needs a name of 1 to 100 characters")
            if name in names:
                raise _fail(f"{path}.name", f'two routes are named "{name}"')
            names.add(name)
            when = _expression(route.get("when", "true"), f"{path}.when", TASK_ATTRIBUTES)
            steps_in = route.get("steps")
            if not isinstance(steps_in, list) or not steps_in:
                raise _fail(f"{path}.steps", "a route needs a list of at least one step")
            steps: list[dict[str, Any]] = []
            for j, step in enumerate(steps_in):
                step_path = f"{path}.steps[{j}]"
                if not isinstance(step, Mapping):
                    raise _fail(step_path, "must be an object with a queue")
                _unknown(step, _STEP_KEYS, step_path)
                ref = step.get("queue")
                queue = queues.get(ref) if isinstance(ref, str) else None
                if queue is None and isinstance(ref, str):
                    queue = by_name.get(ref.strip().lower())
                if queue is None:
                    raise _fail(f"{step_path}.queue", f"no queue named {ref!r}")
                out: dict[str, Any] = {"queue": queue.id}
                if step.get("timeout_seconds") is not None:
                    out["timeout_seconds"] = _integer(
                        step["timeout_seconds"], f"{step_path}.timeout_seconds", minimum=1, maximum=30 * 86400
                    )
                if step.get("target"):
                    out["target"] = _expression(step["target"], f"{step_path}.target", AGENT_ATTRIBUTES)
                if step.get("priority_boost"):
                    out["priority_boost"] = _number(
                        step["priority_boost"], f"{step_path}.priority_boost", minimum=-100, maximum=100
                    )
                steps.append(out)
            routes.append({"name": name, "when": when, "steps": steps})
        ordering = spec.get("ordering", Ordering.PRIORITY_SLA.value)
        if ordering not in Ordering._value2member_map_:
            raise _fail("ordering", f"must be one of {', '.join(o.value for o in Ordering)}, not {ordering!r}")
        wrap_up = spec.get("wrap_up_seconds", {})
        units = spec.get("units", DEFAULT_UNITS)
        for key, mapping in (("wrap_up_seconds", wrap_up), ("units", units)):
            if not isinstance(mapping, Mapping):
                raise _fail(key, "must be an object of channel: number")
        away = spec.get("away_after_missed_offer", True)
        if not isinstance(away, bool):
            raise _fail("away_after_missed_offer", f"must be true or false, not {away!r}")
        return cls(
            routes=tuple(routes),
            ordering=Ordering(ordering),
            offer_timeout_seconds=_integer(
                spec.get("offer_timeout_seconds", 60), "offer_timeout_seconds", minimum=5, maximum=86400
            ),
            sticky_window_seconds=_integer(
                spec.get("sticky_window_seconds", 7 * 86400), "sticky_window_seconds", minimum=0, maximum=90 * 86400
            ),
            sla_warning_fraction=_number(
                spec.get("sla_warning_fraction", 0.8), "sla_warning_fraction", minimum=0.1, maximum=1.0
            ),
            away_after_missed_offer=away,
            wrap_up_seconds={
                str(k): _integer(v, f"wrap_up_seconds.{k}", minimum=0, maximum=3600) for k, v in wrap_up.items()
            },
            units={str(k): _integer(v, f"units.{k}", minimum=1, maximum=1000) for k, v in units.items()},
        )

    def to_spec(self) -> dict[str, Any]:
        return {
            "routes": [dict(r) for r in self.routes],
            "ordering": self.ordering.value,
            "offer_timeout_seconds": self.offer_timeout_seconds,
            "sticky_window_seconds": self.sticky_window_seconds,
            "sla_warning_fraction": self.sla_warning_fraction,
            "away_after_missed_offer": self.away_after_missed_offer,
            "wrap_up_seconds": dict(self.wrap_up_seconds),
            "units": dict(self.units),
        }

    def workflow(self, default_queue_id: str) -> Workflow:
        routes = tuple(
            Route.of(
                route["name"],
                route["when"],
                [
                    Step.of(
                        step["queue"],
                        step.get("timeout_seconds"),
                        step.get("target"),
                        priority_boost=step.get("priority_boost", 0.0),
                    )
                    for step in route["steps"]
                ],
            )
            for route in self.routes
        )
        return Workflow(
            routes=routes,
            default_queue_id=default_queue_id,
            offer_timeout_seconds=self.offer_timeout_seconds,
            sticky_window_seconds=self.sticky_window_seconds,
            sla_warning_fraction=self.sla_warning_fraction,
            away_after_missed_offer=self.away_after_missed_offer,
        )
