"""The routing engine, scenario by scenario: who gets each offer, escalation, sticky routing, capacity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.routing.engine import RoutingEngine
from careline.routing.model import (
    AgentProfile,
    Availability,
    Ordering,
    Outcome,
    QueueSpec,
    Route,
    Selection,
    Step,
    Task,
    Workflow,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AVAILABLE = Availability.AVAILABLE


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queues(**overrides: QueueSpec) -> list[QueueSpec]:
    base = {
        "general": QueueSpec.of("general", "General", "true", first_response_seconds=1800),
        "luggage": QueueSpec.of(
            "luggage", "Luggage", '"luggage" in skills and "es" in languages', first_response_seconds=600
        ),
        "billing": QueueSpec.of("billing", "Billing", '"billing" in skills', first_response_seconds=900),
        "supervisors": QueueSpec.of("supervisors", "Supervisors", 'role == "supervisor"'),
        "triage": QueueSpec.of("triage", "Triage", "true", manual=True),
    }
    base.update(overrides)
    return list(base.values())


LUGGAGE = Route.of(
    "lost bags in Spanish",
    'category == "Lost Luggage" and language == "es"',
    [
        Step.of("luggage", 60, "skills.luggage >= 7"),  # the experts first
        Step.of("luggage", 120),  # then anyone who speaks Spanish and knows luggage
        Step.of("supervisors"),  # then a supervisor
    ],
)
BILLING = Route.of("billing", 'category == "Billing"', [Step.of("billing", 300), Step.of("general")])


def engine(*routes: Route, **options: object) -> RoutingEngine:
    workflow_fields = {k: options.pop(k) for k in list(options) if k in Workflow.__dataclass_fields__}
    workflow = Workflow(routes=routes or (LUGGAGE, BILLING), default_queue_id="general", **workflow_fields)  # type: ignore[arg-type]
    return RoutingEngine(queues(), workflow, **options)  # type: ignore[arg-type]


def agent(agent_id: str, **attributes: object) -> AgentProfile:
    capacity = attributes.pop("capacity", {})
    units = attributes.pop("units", 100)
    return AgentProfile(agent_id, dict(attributes), dict(capacity), units)  # type: ignore[call-overload]


def task(task_id: str, channel: str = "x", priority: float = 30.0, arrived: float = 0, **attributes: object) -> Task:
    customer = attributes.pop("customer", None)
    return Task(task_id, channel, dict(attributes), priority, at(arrived), customer_id=customer)  # type: ignore[arg-type]


def offers(outcomes: list[Outcome]) -> list[tuple[str, str | None]]:
    return [(o.task_id, o.agent_id) for o in outcomes if o.kind == "offered"]


def spanish_bag(task_id: str, **fields: object) -> Task:
    return task(task_id, category="Lost Luggage", language="es", **fields)  # type: ignore[arg-type]


# -- who gets the offer ------------------------------------------------------------------------------------------
def test_each_offer_goes_to_the_agent_the_queue_target_and_step_admit() -> None:
    e = engine()
    e.add_agent(agent("expert", skills={"luggage": 9}, languages=["es"]), AVAILABLE, T0)
    e.add_agent(agent("junior", skills={"luggage": 3}, languages=["es"]), AVAILABLE, T0)
    e.add_agent(agent("english", skills={"luggage": 10}, languages=["en"]), AVAILABLE, at(-5))
    e.add_agent(agent("biller", skills={"billing": 5}, languages=["en"]), AVAILABLE, T0)

    assert offers(e.enqueue(spanish_bag("bag"), T0)) == [("bag", "expert")]
    assert offers(e.enqueue(task("invoice", category="Billing"), T0)) == [("invoice", "biller")]
    # No route matches: the default queue, anyone; the longest idle of those with room.
    assert offers(e.enqueue(task("hello"), T0)) == [("hello", "english")]
    assert e.violations() == []


def test_longest_idle_agent_gets_the_work_and_an_offer_resets_idleness() -> None:
    e = engine()
    e.add_agent(agent("a"), AVAILABLE, at(-30))
    e.add_agent(agent("b"), AVAILABLE, at(-60))
    e.add_agent(agent("c"), AVAILABLE, at(-10))
    got = [offers(e.enqueue(task(f"t{i}"), at(i)))[0][1] for i in range(4)]
    assert got == ["b", "a", "c", "b"]


def test_longest_idle_breaks_ties_by_agent_id_in_wide_and_narrow_pools() -> None:
    e = engine()
    for n in range(20):  # many agents with room, two of them billers: billing is a narrow pool among them
        e.add_agent(agent(f"g{n:02}"), AVAILABLE, T0)
    e.add_agent(agent("bill-b", skills={"billing": 5}), AVAILABLE, T0)
    e.add_agent(agent("bill-a", skills={"billing": 5}), AVAILABLE, T0)
    (first,) = e.enqueue(task("invoice", category="Billing"), at(1))
    assert (first.agent_id, first.detail["candidates"]) == ("bill-a", 2)  # idle as long as bill-b: the id decides
    (second,) = e.enqueue(task("hello"), at(2))
    assert (second.agent_id, second.detail["candidates"]) == ("bill-b", 22)  # bill-a's offer reset its idleness
    rejected = e.reject(second.offer_id or "", at(3))
    assert [(o.agent_id, o.detail["candidates"]) for o in rejected if o.kind == "offered"] == [("g00", 21)]
    assert e.violations() == []


def test_round_robin_and_least_busy_selection() -> None:
    rr = RoutingEngine([QueueSpec.of("general", "General", selection=Selection.ROUND_ROBIN)], Workflow((), "general"))
    for name in ("a", "b", "c"):
        rr.add_agent(agent(name), AVAILABLE, T0)
    assert [offers(rr.enqueue(task(f"t{i}"), at(i)))[0][1] for i in range(5)] == ["a", "b", "c", "a", "b"]

    lb = RoutingEngine([QueueSpec.of("general", "General", selection=Selection.LEAST_BUSY)], Workflow((), "general"))
    lb.add_agent(agent("big", units=200), AVAILABLE, at(-100))
    lb.add_agent(agent("small", units=100), AVAILABLE, T0)
    # big holds 20 of 200 units (10%) after its first post, small 0%: the second post goes to small.
    assert [offers(lb.enqueue(task(f"t{i}"), at(i)))[0][1] for i in range(3)] == ["big", "small", "big"]


def test_work_waits_in_priority_and_deadline_order_and_drains_as_capacity_frees() -> None:
    e = engine()
    e.add_agent(agent("solo", capacity={"x": 1}), AVAILABLE, T0)
    first = e.enqueue(task("busy"), T0)
    e.accept(first[0].offer_id or "", T0)
    e.enqueue(task("low-old", priority=10, arrived=-600), T0)
    e.enqueue(task("high", priority=90, arrived=0), T0)
    e.enqueue(task("mid", priority=50, arrived=-60), T0)
    assert e.position("high", T0)["position"] == 1
    order = []
    for i, finished in enumerate(["busy", "high", "mid"]):
        outcome = e.complete(finished, at(10 * i + 10))
        ((task_id, _),) = offers(outcome)
        order.append(task_id)
        e.accept(outcome[0].offer_id or "", at(10 * i + 10))
    assert order == ["high", "mid", "low-old"]


def test_priority_sla_puts_the_work_closest_to_breaching_first_among_equals() -> None:
    e = engine()
    e.add_agent(agent("solo", capacity={"x": 1}), AVAILABLE, T0)
    e.accept(e.enqueue(task("busy"), T0)[0].offer_id or "", T0)
    # Equal priority: the billing post (15 min target) breaches before the general one (30 min) that came earlier.
    e.enqueue(task("general", arrived=-300), T0)
    e.enqueue(task("bill", category="Billing", arrived=0), T0)
    e.add_agent(agent("solo", capacity={"x": 1}, skills={"billing": 5}), AVAILABLE, T0)  # now it may take billing
    assert offers(e.complete("busy", at(1))) == [("bill", "solo")]


def test_fifo_ignores_priority() -> None:
    e = engine(ordering=Ordering.FIFO)
    e.add_agent(agent("solo", capacity={"x": 1}), AVAILABLE, T0)
    e.accept(e.enqueue(task("busy"), T0)[0].offer_id or "", T0)
    e.enqueue(task("old", priority=5, arrived=-60), T0)
    e.enqueue(task("urgent", priority=95), T0)
    assert offers(e.complete("busy", at(1))) == [("old", "solo")]


@pytest.mark.parametrize("ordering", [Ordering.PRIORITY_SLA, Ordering.FIFO])
def test_under_priority_sla_a_breached_task_waits_behind_work_that_can_still_meet_its_target(
    ordering: Ordering,
) -> None:
    e = engine(ordering=ordering)
    e.add_agent(agent("solo", capacity={"x": 1}), AVAILABLE, T0)
    e.accept(e.enqueue(task("busy"), T0)[0].offer_id or "", T0)
    e.enqueue(task("late", priority=90), T0)  # general: a 30-minute target, keyed 27 minutes early
    assert [o.kind for o in e.advance(at(1800)) if o.task_id == "late"] == ["sla_warning", "sla_breached"]
    e.enqueue(task("fresh", priority=10, arrived=1800), at(1800))
    demoted = ordering is Ordering.PRIORITY_SLA
    assert e.position("fresh", at(1801))["position"] == (1 if demoted else 2)
    assert offers(e.complete("busy", at(1801))) == [("fresh" if demoted else "late", "solo")]
    assert e.violations() == []


def test_a_breached_task_keeps_its_order_among_other_breached_tasks() -> None:
    e = engine()
    e.add_agent(agent("solo", capacity={"x": 1}), AVAILABLE, T0)
    e.accept(e.enqueue(task("busy"), T0)[0].offer_id or "", T0)
    e.enqueue(task("low", priority=10), T0)
    e.enqueue(task("high", priority=90, arrived=60), at(60))
    e.advance(at(1900))  # both breached: the order among them is still the one of their keys
    assert [e.position(t, at(1900))["position"] for t in ("high", "low")] == [1, 2]
    assert offers(e.complete("busy", at(1901))) == [("high", "solo")]


# -- escalation --------------------------------------------------------------------------------------------------
def test_timeouts_escalate_step_by_step() -> None:
    e = engine()
    e.add_agent(agent("expert", skills={"luggage": 9}, languages=["es"]), Availability.BUSY, T0)
    e.add_agent(agent("junior", skills={"luggage": 3}, languages=["es"]), Availability.BUSY, T0)
    e.add_agent(agent("boss", role="supervisor"), Availability.BUSY, T0)
    assert e.enqueue(spanish_bag("bag"), T0) == []
    assert e.task("bag").queue_id == "luggage" and e.task("bag").step_index == 0

    assert e.advance(at(59)) == []
    first = e.advance(at(60))
    assert [(o.kind, o.queue_id) for o in first] == [("escalated", "luggage")]
    assert first[0].detail["to_step"] == 2

    e.set_status("expert", AVAILABLE, at(61))  # the expert is back, but the task no longer asks for experts only...
    assert e.task("bag").state == "offered" and e.task("bag").agent_id == "expert"  # ...and experts qualify too
    e.reject(next(o.id for o in e.pending_offers()), at(62), "on a call")
    # Rejected: nobody else with room at step 2, so it waits; at 60 + 120 s it reaches the supervisors.
    assert e.task("bag").state == "waiting"
    escalated = e.advance(at(180))
    assert [o.kind for o in escalated] == ["escalated"]
    assert e.task("bag").queue_id == "supervisors"
    assert offers(e.set_status("boss", AVAILABLE, at(181))) == [("bag", "boss")]
    explanation = e.pending_offers()[0].explanation
    assert explanation["route"] == "lost bags in Spanish" and explanation["step"] == 3
    assert [x["to_step"] for x in explanation["escalations"]] == [2, 3]


def test_a_step_that_times_out_while_its_offer_is_open_escalates_when_the_offer_falls_through() -> None:
    e = engine(offer_timeout_seconds=90, away_after_missed_offer=False)
    e.add_agent(agent("expert", skills={"luggage": 9}, languages=["es"]), AVAILABLE, T0)
    e.enqueue(spanish_bag("bag"), T0)
    assert e.advance(at(60)) == []  # under offer: no escalation yet
    expired = e.advance(at(90))
    assert [o.kind for o in expired][:2] == ["expired", "escalated"]
    assert e.task("bag").step_index == 1
    assert e.task("bag").rejected_by == {"expert"}


def test_last_step_waits_without_timeout() -> None:
    e = engine(BILLING)
    e.add_agent(agent("busy-one"), Availability.BUSY, T0)
    e.enqueue(task("invoice", category="Billing"), T0)
    assert [o.kind for o in e.advance(at(300))] == ["escalated"]
    # The deadline is the first queue's target (billing, 15 min) from arrival: escalating does not move it.
    assert [(o.kind, o.at) for o in e.advance(at(100_000))] == [("sla_warning", at(720)), ("sla_breached", at(900))]
    assert e.advance(at(200_000)) == []
    assert e.task("invoice").queue_id == "general" and e.task("invoice").state == "waiting"


# -- offers --------------------------------------------------------------------------------------------------------
def test_rejected_offer_goes_to_another_agent_and_never_back_to_the_one_who_rejected() -> None:
    e = engine()
    e.add_agent(agent("a"), AVAILABLE, at(-20))
    e.add_agent(agent("b"), AVAILABLE, at(-10))
    (offer,) = e.enqueue(task("t"), T0)
    assert offer.agent_id == "a"
    after = e.reject(offer.offer_id or "", at(5), "not my area")
    assert [(o.kind, o.agent_id) for o in after] == [("rejected", "a"), ("offered", "b")]
    b_offer = after[1].offer_id or ""
    e.reject(b_offer, at(6))
    assert e.task("t").state == "waiting"  # both said no: it waits for someone else
    with pytest.raises(Conflict, match="rejected, not pending"):
        e.accept(b_offer, at(7))
    with pytest.raises(NotFound):
        e.accept("offer-nope", at(7))
    e.add_agent(agent("c"), AVAILABLE, at(8))
    assert e.task("t").agent_id == "c"


def test_an_unanswered_offer_expires_the_agent_goes_away_and_the_work_moves_on() -> None:
    e = engine(offer_timeout_seconds=30)
    e.add_agent(agent("asleep"), AVAILABLE, at(-20))
    e.add_agent(agent("awake", capacity={"x": 1}), AVAILABLE, at(-10))
    e.enqueue(task("one"), T0)
    e.enqueue(task("two"), T0)  # asleep gets both (awake has room for one, asleep is idle longer... then awake)
    assert {o.agent_id for o in e.pending_offers()} == {"asleep", "awake"}
    e.accept(next(o.id for o in e.pending_offers() if o.agent_id == "awake"), at(1))
    expired = e.advance(at(30))
    assert [o.kind for o in expired][:2] == ["expired", "agent_away"]
    assert e.agent_load("asleep")["status"] == "away"
    assert e.task("one").state == "waiting" or e.task("two").state == "waiting"
    e.complete(next(t.id for t in e.tasks() if t.agent_id == "awake" and t.state == "assigned"), at(40))
    assert {t.state for t in e.tasks()} == {"offered"}
    assert e.violations() == []


# -- sticky routing ------------------------------------------------------------------------------------------------
def test_a_returning_customer_goes_first_to_the_agent_who_served_them_last_within_the_window() -> None:
    e = engine(sticky_window_seconds=3600)
    e.add_agent(agent("mia"), AVAILABLE, at(-100))
    e.add_agent(agent("noah"), AVAILABLE, at(-200))
    (first,) = e.enqueue(task("c1", customer="cust-9"), T0)
    assert first.agent_id == "noah"  # longest idle
    e.accept(first.offer_id or "", T0)
    e.complete("c1", at(600))
    (again,) = e.enqueue(task("c2", customer="cust-9", arrived=1200), at(1200))
    assert again.agent_id == "noah" and again.detail["selection"] == "sticky"  # mia has been idle longer
    e.accept(again.offer_id or "", at(1200))
    e.complete("c2", at(1300))
    (late,) = e.enqueue(task("c3", customer="cust-9", arrived=1300 + 3601), at(1300 + 3601))
    assert late.agent_id == "mia" and late.detail["selection"] == "longest_idle"  # outside the window


def test_sticky_wait_holds_work_for_the_last_agent_for_a_while_then_lets_anyone_take_it() -> None:
    e = engine(sticky_wait_seconds=120)
    e.add_agent(agent("noah", capacity={"x": 1}), AVAILABLE, at(-200))
    e.add_agent(agent("mia", capacity={"x": 1}), AVAILABLE, at(-100))
    e.accept(e.enqueue(task("c1", customer="cust-9"), T0)[0].offer_id or "", T0)
    e.complete("c1", at(10))
    e.set_status("noah", Availability.BUSY, at(20))  # in a meeting: no room for now
    assert e.enqueue(task("c2", customer="cust-9", arrived=30), at(30)) == []  # waits for noah though mia is free
    assert e.position("c2", at(31))["position"] == 1
    assert offers(e.set_status("noah", AVAILABLE, at(60))) == [("c2", "noah")]

    e.accept(e.pending_offers()[0].id, at(61))
    e.complete("c2", at(70))
    e.set_status("noah", Availability.BUSY, at(80))
    assert e.enqueue(task("c3", customer="cust-9", arrived=90), at(90)) == []
    assert e.advance(at(209)) == []
    assert offers(e.advance(at(210))) == [("c3", "mia")]  # noah did not free up in 120 s
    assert e.violations() == []


# -- capacity --------------------------------------------------------------------------------------------------
def test_a_blended_agent_never_exceeds_capacity_across_channels() -> None:
    e = engine()
    e.add_agent(agent("blend", capacity={"voice": 1, "webchat": 2, "x": 5}), AVAILABLE, T0)
    # 100 units: two chats (70) and a post (20) fit; a second post does not (110), nor a call.
    assert offers(e.enqueue(task("chat1", "webchat"), T0)) == [("chat1", "blend")]
    assert offers(e.enqueue(task("chat2", "webchat"), T0)) == [("chat2", "blend")]
    assert offers(e.enqueue(task("post1", "x"), T0)) == [("post1", "blend")]
    assert e.enqueue(task("post2", "x"), T0) == []
    assert e.enqueue(task("call", "voice", priority=99), T0) == []
    assert e.agent_load("blend")["units_used"] == 90
    # The call needs all 100 units: only when everything is finished does it get the call, ahead of the post.
    e.complete("chat1", at(1))
    assert e.task("post2").state == "waiting" or e.task("post2").agent_id == "blend"
    for done in ("chat2", "post1", "post2"):
        e.complete(done, at(2))
    assert e.task("call").state == "offered"
    assert e.agent_load("blend") == {
        "status": "available",
        "load": {"voice": 1},
        "units_used": 100,
        "units": 100,
        "holding": ["call"],
        "wrapping_up": 0,
    }
    assert e.violations() == []


def test_per_channel_limit_and_wrap_up_hold_the_slot() -> None:
    e = engine(wrap_up_seconds={"voice": 45})
    e.add_agent(agent("phone", capacity={"voice": 1, "x": 0}), AVAILABLE, T0)
    assert e.enqueue(task("post", "x"), T0) == []  # x limit 0: dedicated to voice
    e.accept(e.enqueue(task("call1", "voice"), T0)[0].offer_id or "", T0)
    e.enqueue(task("call2", "voice"), at(1))
    assert e.complete("call1", at(100)) == []  # wrap-up: the slot stays held for 45 s
    assert e.agent_load("phone")["wrapping_up"] == 1
    assert e.advance(at(144)) == []
    assert offers(e.advance(at(145))) == [("call2", "phone")]


def test_going_away_revokes_pending_offers_and_offline_agents_get_nothing() -> None:
    e = engine()
    e.add_agent(agent("a"), AVAILABLE, at(-10))
    e.add_agent(agent("b"), AVAILABLE, T0)
    (offer,) = e.enqueue(task("t"), T0)
    assert offer.agent_id == "a"
    moved = e.set_status("a", Availability.OFFLINE, at(1))
    assert [(o.kind, o.agent_id) for o in moved] == [("revoked", "a"), ("offered", "b")]
    assert "a" not in e.task("t").rejected_by  # a revoked offer is no refusal


# -- manual triage (stage 2) ----------------------------------------------------------------------------------
def test_manual_triage_queue_offers_nothing_until_a_person_moves_the_work() -> None:
    triage = Route.of("everything to triage", "true", [Step.of("triage")])
    e = engine(triage)
    e.add_agent(agent("biller", skills={"billing": 5}), AVAILABLE, T0)
    assert e.enqueue(task("t"), T0) == []
    assert e.queue_stats(at(30))["triage"]["waiting"] == 1
    moved = e.transfer("t", "billing", at(60), actor="supervisor:sam")
    assert offers(moved) == [("t", "biller")]
    assert moved[0].detail["escalations"][-1]["reason"] == "transferred supervisor:sam"
    assert e.task("t").deadline == at(3600)  # the SLA clock did not restart: the triage queue's hour


# -- SLA ---------------------------------------------------------------------------------------------------------
def test_sla_warning_before_and_breach_at_the_deadline_unless_answered() -> None:
    e = engine()
    e.add_agent(agent("busy"), Availability.BUSY, T0)
    e.enqueue(task("late"), T0)  # general: 30 min target, warning at 80%
    e.enqueue(task("answered"), T0)
    assert e.advance(at(1439)) == []
    assert [(o.kind, o.task_id) for o in e.advance(at(1440))] == [("sla_warning", "late"), ("sla_warning", "answered")]
    e.respond("answered")
    assert [(o.kind, o.task_id) for o in e.advance(at(1800))] == [("sla_breached", "late")]
    assert e.task("late").breached and not e.task("answered").breached


def test_explanations_and_positions() -> None:
    e = engine()
    e.add_agent(agent("expert", skills={"luggage": 9}, languages=["es"]), AVAILABLE, T0)
    (offer,) = e.enqueue(spanish_bag("bag", priority=70), T0)
    why = offer.detail
    assert why["route"] == "lost bags in Spanish"
    assert why["route_condition"] == 'category == "Lost Luggage" and language == "es"'
    assert why["queue"] == "Luggage" and why["step"] == 1 and why["steps"] == 3
    assert why["target"] == '("luggage" in skills and "es" in languages) and (skills.luggage >= 7)'
    assert "skills.luggage >= 7 (9)" in why["agent_match"]
    assert why["selection"] == "longest_idle" and why["candidates"] == 1
    e.set_status("expert", Availability.BUSY, T0)
    for i in range(3):
        e.enqueue(task(f"w{i}", arrived=i), at(i))
    assert [e.position(f"w{i}", at(5))["position"] for i in range(3)] == [1, 2, 3]
    assert e.position("bag", at(5))["state"] == "offered"


def test_bad_configuration_and_input_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="unknown queue 'nowhere'"):
        RoutingEngine(queues(), Workflow((Route.of("r", "true", [Step.of("nowhere")]),), "general"))
    with pytest.raises(InvalidInput, match="default queue 'nope'"):
        RoutingEngine(queues(), Workflow((), "nope"))
    with pytest.raises(InvalidInput, match="two routes"):
        RoutingEngine(queues(), Workflow((BILLING, BILLING), "general"))
    with pytest.raises(InvalidInput, match="needs at least one step"):
        Route.of("empty", "true", [])
    with pytest.raises(InvalidInput, match="unknown attribute"):
        Route.of("r", "skills.luggage > 3", [Step.of("general")])  # an agent attribute in a task filter
    with pytest.raises(InvalidInput, match="timeout must be positive"):
        Step.of("general", 0)
    e = engine()
    e.enqueue(task("t"), T0)
    with pytest.raises(Conflict, match="already being routed"):
        e.enqueue(task("t"), T0)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        e.advance(datetime(2026, 1, 1))  # noqa: DTZ001
