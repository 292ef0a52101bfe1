"""Routing settings: validated against the queues, refused with the path of the problem (routing/config.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careline.agents.model import Queue
from careline.kernel.errors import InvalidInput
from careline.routing.config import RoutingSettings, queue_spec
from careline.routing.model import Ordering, Selection

QUEUES = {
    "que_g": Queue("que_g", "general", is_default=True),
    "que_b": Queue("que_b", "billing", required_skills=frozenset({"billing", "en"})),
    "que_t": Queue("que_t", "triage", is_triage=True),
}


def parse(spec: dict[str, Any] | None) -> RoutingSettings:
    return RoutingSettings.parse(spec, QUEUES)


def test_defaults_and_a_round_trip() -> None:
    assert parse(None) == RoutingSettings() == parse({})
    spec = {
        "routes": [
            {
                "name": "money",
                "when": 'category == "Billing"',
                "steps": [
                    {"queue": "Billing", "timeout_seconds": 300, "target": "skills.billing >= 5"},
                    {"queue": "que_g"},
                ],
            }
        ],
        "ordering": "fifo",
        "offer_timeout_seconds": 45,
        "wrap_up_seconds": {"voice": 30},
    }
    settings = parse(spec)
    assert settings.ordering is Ordering.FIFO and settings.offer_timeout_seconds == 45
    assert settings.routes[0]["steps"][0] == {"queue": "que_b", "timeout_seconds": 300, "target": "skills.billing >= 5"}
    assert parse(settings.to_spec()) == settings
    workflow = settings.workflow("que_g")
    assert workflow.routes[0].steps[0].timeout_seconds == 300 and workflow.default_queue_id == "que_g"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "must be an object"),
        ({"colour": 1}, "unknown setting 'colour'"),
        ({"routes": {}}, "routes: must be a list"),
        ({"routes": [{"when": "true", "steps": [{"queue": "general"}]}]}, "routes[0].name: a route needs a name"),
        ({"routes": [{"name": "a", "steps": []}]}, "routes[0].steps: a route needs a list of at least one step"),
        ({"routes": [{"name": "a", "steps": [{"queue": "nope"}]}]}, "routes[0].steps[0].queue: no queue named 'nope'"),
        ({"routes": [{"name": "a", "when": "prio >", "steps": [{"queue": "general"}]}]}, "routes[0].when: "),
        (
            {"routes": [{"name": "a", "when": "skills.x > 1", "steps": [{"queue": "general"}]}]},
            'unknown attribute "skills"',
        ),
        (
            {"routes": [{"name": "a", "steps": [{"queue": "general", "target": "channel == 1"}]}]},
            'routes[0].steps[0].target: unknown attribute "channel"',
        ),
        (
            {"routes": [{"name": "a", "steps": [{"queue": "general", "timeout_seconds": 0}]}]},
            "timeout_seconds: must be",
        ),
        ({"routes": [{"name": "a", "steps": [{"queue": "general", "speed": 1}]}]}, "unknown setting 'speed'"),
        (
            {
                "routes": [
                    {"name": "a", "steps": [{"queue": "general"}]},
                    {"name": "a", "steps": [{"queue": "general"}]},
                ]
            },
            'two routes are named "a"',
        ),
        ({"ordering": "random"}, "ordering: must be one of fifo, priority, priority_sla"),
        ({"offer_timeout_seconds": 1}, "offer_timeout_seconds: must be a whole number from 5"),
        ({"sla_warning_fraction": 2}, "sla_warning_fraction: must be from 0.1 to 1.0"),
        ({"away_after_missed_offer": "yes"}, "must be true or false"),
        ({"units": {"voice": 0}}, "units.voice: must be a whole number from 1"),
        ({"wrap_up_seconds": [1]}, "wrap_up_seconds: must be an object"),
    ],
)
def test_bad_settings_are_refused_with_the_path(spec: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(spec)
    assert message in str(refused.value)


def test_queue_spec_derives_the_target_from_required_skills_and_keeps_hours() -> None:
    billing = queue_spec(QUEUES["que_b"])
    assert billing.target.source == '"billing" in skills and "en" in skills'
    assert queue_spec(QUEUES["que_g"]).target.source == "true"
    assert queue_spec(QUEUES["que_t"]).manual
    custom = Queue(
        "que_x",
        "x",
        target='"social" in teams',
        selection="round_robin",
        business_hours={"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}},
    )
    spec = queue_spec(custom)
    assert spec.selection is Selection.ROUND_ROBIN
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert not spec.hours.is_open(saturday)
