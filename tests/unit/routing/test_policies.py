"""The small pure policies the engine and the database router share (routing/policies.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from careline.routing.model import Ordering, QueueSpec, Route, Step, Workflow
from careline.routing.policies import choose_route, explanation, has_room, ordering_key, pool_id, steps_of, why

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_first_matching_route_wins_and_none_means_the_queue_it_is_in() -> None:
    urgent = Route.of("urgent", "priority >= 60", [Step.of("vip")])
    angry = Route.of("angry", "angry", [Step.of("care")])
    workflow = Workflow((urgent, angry), "general")
    assert choose_route(workflow, {"priority": 70, "angry": True}) is urgent
    assert choose_route(workflow, {"priority": 10, "angry": True}) is angry
    assert choose_route(workflow, {"priority": 10}) is None
    assert steps_of(workflow, "angry", "x") == angry.steps
    assert steps_of(workflow, None, "billing") == (Step(queue_id="billing"),)
    assert steps_of(workflow, "a route since removed", "billing") == (Step(queue_id="billing"),)


def test_pool_ids_are_short_stable_and_distinct_per_target() -> None:
    plain = pool_id("que_1", None)
    expert = pool_id("que_1", Step.of("que_1", 60, "skills.luggage >= 7"))
    assert plain == "que_1" and expert.startswith("que_1~") and len(expert) <= 80
    assert expert == pool_id("que_1", Step.of("que_1", 30, "skills.luggage >= 7"))
    assert expert != pool_id("que_1", Step.of("que_1", 60, "skills.luggage >= 8"))


def test_ordering_keys() -> None:
    deadline = T0 + timedelta(hours=1)
    assert ordering_key(Ordering.FIFO, 99, T0, deadline) == T0.timestamp()
    assert ordering_key(Ordering.PRIORITY, 90, T0, deadline) < ordering_key(Ordering.PRIORITY, 10, T0, deadline)
    # PRIORITY_SLA: the deadline brought forward by priority; 100 counts as one whole target earlier.
    assert ordering_key(Ordering.PRIORITY_SLA, 0, T0, deadline) == deadline.timestamp()
    assert ordering_key(Ordering.PRIORITY_SLA, 100, T0, deadline) == T0.timestamp()
    assert ordering_key(Ordering.PRIORITY_SLA, 50, T0, deadline) == (T0 + timedelta(minutes=30)).timestamp()
    assert ordering_key(Ordering.PRIORITY_SLA, 250, T0, deadline) == T0.timestamp()  # clamped
    # Among equals the one closest to breaching goes first, whatever arrived first.
    early_long = ordering_key(Ordering.PRIORITY_SLA, 30, T0, T0 + timedelta(hours=2))
    late_short = ordering_key(Ordering.PRIORITY_SLA, 30, T0 + timedelta(minutes=5), T0 + timedelta(minutes=35))
    assert late_short < early_long


def test_capacity_is_the_channel_limit_and_the_weighted_total() -> None:
    assert has_room(limit=2, held_on_channel=1, used_units=20, cost=20, units=100)
    assert not has_room(limit=2, held_on_channel=2, used_units=40, cost=20, units=100)
    assert has_room(limit=None, held_on_channel=9, used_units=80, cost=20, units=100)
    assert not has_room(limit=None, held_on_channel=0, used_units=70, cost=35, units=100)  # two chats and a...
    assert not has_room(limit=1, held_on_channel=0, used_units=20, cost=100, units=100)  # ...no call on top


def test_explanations_name_the_route_step_queue_target_and_the_values_seen() -> None:
    queue = QueueSpec.of("que_l", "luggage", '"luggage" in skills')
    step = Step.of("que_l", 60, "skills.luggage >= 7")
    route = Route.of("bags", 'category == "Lost Luggage"', [step, Step.of("que_l")])
    explained = explanation(
        route=route,
        steps=route.steps,
        step_index=0,
        queue=queue,
        step=step,
        agent_attributes={"skills": {"luggage": 8}},
        selection="longest_idle",
        reason=why("longest_idle", 4, "idle since 09:00:00"),
        candidates=4,
        priority=70.0,
        waited_seconds=12.5,
        deadline=T0,
        escalations=[],
    )
    assert explained["route"] == "bags" and explained["step"] == 1 and explained["steps"] == 2
    assert explained["target"] == '("luggage" in skills) and (skills.luggage >= 7)'
    assert explained["agent_match"].endswith("matched: skills.luggage >= 7 (8)")
    assert explained["reason"] == "longest idle of 4 eligible agents with room (idle since 09:00:00)"
    assert why("sticky", 1) == "sticky: the agent who served this customer last"
