"""Routing policies: work order, eligibility, longest idle, and a plan that never overfills an agent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from careline.agents.model import DEFAULT_CAPACITY, Agent, AgentStatus, Queue, Role
from careline.routing.policies import (
    AgentLoad,
    Assignment,
    WaitingWork,
    is_eligible,
    longest_idle,
    plan_assignments,
    reachable,
    work_order,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
GENERAL = Queue(id="que_general", name="general", is_default=True)
BILLING = Queue(id="que_billing", name="billing", required_skills=frozenset({"billing"}))
QUEUES = {q.id: q for q in (GENERAL, BILLING)}


def work(
    id: str, *, priority: float = 50.0, waited: float = 0, queue: str = "que_general", channel: str = "x"
) -> WaitingWork:
    return WaitingWork(id, queue, channel, priority, T0 + timedelta(minutes=waited), version=3)


def agent(
    id: str,
    *,
    idle_since: float = 0,
    skills: frozenset[str] = frozenset(),
    capacity: dict[str, int] | None = None,
    status: AgentStatus = AgentStatus.ONLINE,
    load: dict[str, int] | None = None,
) -> AgentLoad:
    person = Agent(
        id=id, name=id, email=f"{id}@example.com", role=Role.AGENT, created_at=T0, skills=skills,
        capacity=capacity if capacity is not None else {}, status=status,
    )
    return AgentLoad(person, dict(load or {}), T0 + timedelta(minutes=idle_since))


# -- work order -------------------------------------------------------------------------------------------


def test_work_order_is_highest_priority_first_then_longest_waiting() -> None:
    items = [
        work("calm-old", priority=30, waited=0),
        work("angry-new", priority=90, waited=50),
        work("angry-old", priority=90, waited=10),
        work("neutral", priority=50, waited=5),
    ]
    assert [w.conversation_id for w in work_order(items)] == ["angry-old", "angry-new", "neutral", "calm-old"]


def test_work_order_breaks_exact_ties_by_id_so_every_router_agrees() -> None:
    items = [work("b"), work("c"), work("a")]
    assert [w.conversation_id for w in work_order(items)] == ["a", "b", "c"]


# -- eligibility ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AgentStatus.AWAY, AgentStatus.OFFLINE])
def test_only_online_agents_are_eligible(status: AgentStatus) -> None:
    assert not is_eligible(agent("a", status=status), work("w"), GENERAL)
    assert is_eligible(agent("a"), work("w"), GENERAL)


def test_the_agent_needs_every_skill_the_queue_requires() -> None:
    billing_work = work("w", queue="que_billing")
    assert not is_eligible(agent("a"), billing_work, BILLING)
    assert not is_eligible(agent("a", skills=frozenset({"spanish"})), billing_work, BILLING)
    assert is_eligible(agent("a", skills=frozenset({"billing", "spanish"})), billing_work, BILLING)


def test_capacity_is_counted_per_channel() -> None:
    busy_on_x = agent("a", capacity={"x": 2, "email": 5}, load={"x": 2, "email": 1})
    assert not is_eligible(busy_on_x, work("w", channel="x"), GENERAL)
    assert is_eligible(busy_on_x, work("w", channel="email"), GENERAL)


def test_a_channel_without_its_own_capacity_uses_default_then_the_built_in_default() -> None:
    with_default = agent("a", capacity={"x": 1, "default": 2}, load={"webchat": 1})
    assert is_eligible(with_default, work("w", channel="webchat"), GENERAL)
    with_default.load["webchat"] = 2
    assert not is_eligible(with_default, work("w", channel="webchat"), GENERAL)

    no_capacity_set = agent("b", load={"email": DEFAULT_CAPACITY - 1})
    assert is_eligible(no_capacity_set, work("w", channel="email"), GENERAL)
    no_capacity_set.load["email"] = DEFAULT_CAPACITY
    assert not is_eligible(no_capacity_set, work("w", channel="email"), GENERAL)


def test_zero_capacity_on_a_channel_means_never_that_channel() -> None:
    voice_off = agent("a", capacity={"voice": 0, "default": 5})
    assert not is_eligible(voice_off, work("w", channel="voice"), GENERAL)
    assert is_eligible(voice_off, work("w", channel="x"), GENERAL)


# -- selection --------------------------------------------------------------------------------------------


def test_longest_idle_picks_the_earliest_idle_since_and_breaks_ties_by_id() -> None:
    def pick(*candidates: AgentLoad) -> str | None:
        chosen = longest_idle(candidates)
        return None if chosen is None else chosen.agent.id

    assert pick(agent("a", idle_since=20), agent("b", idle_since=5), agent("c", idle_since=10)) == "b"
    assert pick(agent("z", idle_since=5), agent("m", idle_since=5)) == "m"
    assert pick() is None


# -- planning ---------------------------------------------------------------------------------------------


def test_plan_offers_work_in_order_to_the_longest_idle_and_an_offer_sends_the_agent_to_the_back() -> None:
    agents = [agent("ann", idle_since=10), agent("bob", idle_since=0), agent("cyd", idle_since=20)]
    waiting = [work("low", priority=10), work("high", priority=90), work("mid", priority=50)]

    plan = plan_assignments(waiting, agents, QUEUES, NOW)

    assert plan == [Assignment("high", "bob", 3), Assignment("mid", "ann", 3), Assignment("low", "cyd", 3)]
    assert all(a.idle_since == NOW and a.load == {"x": 1} for a in agents)


def test_plan_respects_skills_and_skips_work_nobody_can_take() -> None:
    agents = [agent("generalist", idle_since=0), agent("biller", idle_since=30, skills=frozenset({"billing"}))]
    waiting = [work("refund", priority=90, queue="que_billing"), work("hello", priority=10)]

    plan = plan_assignments(waiting, agents, QUEUES, NOW)

    assert plan == [Assignment("refund", "biller", 3), Assignment("hello", "generalist", 3)]
    assert plan_assignments([work("refund", queue="que_billing")], [agent("generalist")], QUEUES, NOW) == []


def test_work_in_an_unknown_queue_is_left_waiting() -> None:
    assert plan_assignments([work("lost", queue="que_deleted")], [agent("a")], QUEUES, NOW) == []


def test_nobody_online_plans_nothing() -> None:
    agents = [agent("a", status=AgentStatus.AWAY), agent("b", status=AgentStatus.OFFLINE)]
    assert plan_assignments([work("w1"), work("w2")], agents, QUEUES, NOW) == []


def test_a_plan_never_exceeds_any_agents_capacity_on_any_channel() -> None:
    agents = [
        agent("ann", capacity={"x": 2, "email": 1}, load={"x": 1}),
        agent("bob", capacity={"default": 1}, skills=frozenset({"billing"})),
        agent("cyd", capacity={"x": 3, "email": 0}, idle_since=-5),
        agent("dee", capacity={"x": 9}, status=AgentStatus.AWAY),
    ]
    before = {a.agent.id: dict(a.load) for a in agents}
    kinds = [("x", "que_general"), ("email", "que_general"), ("x", "que_billing")]
    waiting = [
        work(f"w{n}", priority=n % 7, waited=n, channel=kinds[n % 3][0], queue=kinds[n % 3][1]) for n in range(30)
    ]
    channel_of = {w.conversation_id: w.channel for w in waiting}

    plan = plan_assignments(waiting, agents, QUEUES, NOW)

    assert len({a.conversation_id for a in plan}) == len(plan)
    given = Counter((a.agent_id, channel_of[a.conversation_id]) for a in plan)
    for candidate in agents:
        person = candidate.agent
        for channel in ("x", "email"):
            assert before[person.id].get(channel, 0) + given[(person.id, channel)] <= person.capacity_for(channel)
    assert not any(a.agent_id == "dee" for a in plan)
    # Every channel's room is used: x has 1 + 1 + 3 free seats, email 1 + 1 (bob's default covers both).
    assert len(plan) == 7


def test_one_pass_spreads_work_evenly_between_agents_offered_at_the_same_moment() -> None:
    agents = [agent("a", idle_since=0, capacity={"x": 3}), agent("b", idle_since=5, capacity={"x": 3})]
    plan = plan_assignments([work(f"c{i}", waited=i) for i in range(4)], agents, QUEUES, NOW)
    assert Counter(a.agent_id for a in plan) == {"a": 2, "b": 2}
    assert [a.agent_id for a in plan] == ["a", "b", "a", "b"]


def test_only_channels_and_queues_someone_can_take_now_are_reachable() -> None:
    agents = [
        agent("full-on-x", capacity={"x": 1, "email": 1}, load={"x": 1}),
        agent("biller", skills=frozenset({"billing"}), capacity={"default": 0}),
        agent("away", capacity={"x": 5}, status=AgentStatus.AWAY),
    ]
    channels, queues = reachable(agents, [GENERAL, BILLING], ["x", "email", "webchat"])
    assert channels == {"email", "webchat"}  # webchat: the default capacity applies
    assert queues == {"que_general"}  # the only billing-skilled agent has room nowhere
