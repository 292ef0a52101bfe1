"""The simulation loop on small synthetic traces: order, abandonment, occupancy, shifts, policies (docs/routing.md)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from careline.kernel.errors import InvalidInput
from careline.routing.model import QueueSpec, Route, Step, Workflow
from careline.routing.simulation import (
    ABANDONED,
    ANSWERED,
    POLICIES,
    Arrival,
    Duration,
    HandleTimes,
    RunResult,
    Shift,
    StaffingPlan,
    Team,
    engine_for,
    percentile,
    simulate,
    summarise,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
MINUTE = 60.0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(n: int, minutes: float, priority: float = 30.0, sentiment: str = "neutral", **attributes: object) -> Arrival:
    return Arrival(f"p{n}", at(minutes), "x", priority, sentiment, attributes)


TEN_MINUTES, AT_ONCE = Duration.fixed(10 * MINUTE), Duration.fixed(0)


def plan(
    *teams: Team,
    handle: Duration = TEN_MINUTES,
    patience: Duration | None = None,
    think: Duration = AT_ONCE,
    wrap_up: int = 0,
) -> StaffingPlan:
    queues = (
        QueueSpec.of("social", "Social", '"social" in teams', first_response_seconds=1800),
        QueueSpec.of("billing", "Billing", "skills.billing >= 5", first_response_seconds=1800),
    )
    routes = (Route.of("billing", 'category == "billing"', [Step.of("billing", 300), Step.of("social")]),)
    return StaffingPlan(
        queues=queues,
        workflow=Workflow(routes, "social"),
        teams=teams or (team(),),
        handle_time=HandleTimes(handle),
        patience=patience,
        think_time=think,
        wrap_up_seconds={"x": wrap_up},
    )


def team(
    name: str = "solo", agents: int = 1, shift: Shift | None = None, capacity: int = 1, **attributes: object
) -> Team:
    return Team(
        name, agents, shift or Shift(always=True), {"teams": ["social"], **attributes}, capacity={"x": capacity}
    )


def run(staffing: StaffingPlan, arrivals: list[Arrival], policy: str = "fifo", seed: int = 7) -> RunResult:
    result = simulate(staffing, arrivals, policy, seed=seed)
    assert result.violations == []
    return result


def answered_order(result: RunResult) -> list[str]:
    answered = [r for r in result.records if r.answered_at is not None]
    return [r.arrival.id for r in sorted(answered, key=lambda r: r.answered_at or 0.0)]


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    rng = random.Random(1)
    arrivals = [post(n, rng.uniform(0, 240), priority=rng.uniform(0, 100)) for n in range(150)]
    staffing = plan(
        team(agents=2, capacity=3),
        handle=Duration.lognormal(6 * MINUTE, 15 * MINUTE),
        patience=Duration.exponential(40 * MINUTE),
        think=Duration.exponential(10),
    )

    first, again = summarise(run(staffing, arrivals, seed=3)), summarise(run(staffing, arrivals, seed=3))
    other = summarise(run(staffing, arrivals, seed=4))

    assert first == again
    assert first != other


def test_fifo_with_one_agent_answers_in_arrival_order_whatever_the_priority() -> None:
    arrivals = [post(n, n, priority=100 - 10 * n) for n in range(6)][::-1]  # listed newest first, urgent first

    result = run(plan(), arrivals, "fifo")

    assert answered_order(result) == [f"p{n}" for n in range(6)]
    waits = {r.arrival.id: r.first_response for r in result.records}
    assert waits["p0"] == 0 and waits["p1"] == 10 * MINUTE - MINUTE  # behind one 10-minute post
    assert all(r.outcome == ANSWERED for r in result.records)


def test_priority_sla_answers_the_urgent_post_first_under_overload() -> None:
    arrivals = [post(0, 0), post(1, 1, priority=10), post(2, 2, priority=10), post(3, 3, priority=95)]

    fifo = run(plan(), arrivals, "fifo")
    aging = run(plan(), arrivals, "priority_sla")

    assert answered_order(fifo) == ["p0", "p1", "p2", "p3"]
    assert answered_order(aging) == ["p0", "p3", "p1", "p2"]


def test_aging_lets_old_low_priority_work_go_before_fresh_urgent_work() -> None:
    # 30-minute targets: priority 20 is keyed 24 minutes after arrival, priority 80 six minutes after.
    arrivals = [post(0, 0), post(1, 1, priority=20), post(2, 25, priority=80)]

    result = run(plan(handle=Duration.fixed(28 * MINUTE)), arrivals, "priority_sla")  # frees at 28, p1 due at 31

    assert answered_order(result) == ["p0", "p1", "p2"]


def test_work_that_has_missed_its_target_waits_behind_work_that_can_still_make_it() -> None:
    arrivals = [post(0, 0), post(1, 1, priority=20), post(2, 25, priority=80)]

    result = run(plan(handle=Duration.fixed(40 * MINUTE)), arrivals, "priority_sla")  # p1 breaches at 31

    assert answered_order(result) == ["p0", "p2", "p1"]


def test_a_customer_who_waits_past_their_patience_abandons_and_counts_against_the_service_level() -> None:
    arrivals = [post(0, 0), post(1, 1), post(2, 2)]
    staffing = plan(handle=Duration.fixed(60 * MINUTE), patience=Duration.fixed(5 * MINUTE))

    result = run(staffing, arrivals)
    metrics = summarise(result)

    assert [r.outcome for r in result.records] == [ANSWERED, ABANDONED, ABANDONED]
    assert [r.abandoned_at for r in result.records][1:] == [at(6).timestamp(), at(7).timestamp()]
    assert (metrics["answered"], metrics["abandoned"], metrics["abandonment"]) == (1, 2, 0.6667)
    assert metrics["service_level"] == 0.3333


def test_a_post_under_offer_is_not_abandoned() -> None:
    staffing = plan(patience=Duration.fixed(10), think=Duration.fixed(30))

    result = run(staffing, [post(0, 0)])

    assert result.records[0].outcome == ANSWERED and result.records[0].first_response == 30


def test_occupancy_is_units_held_over_units_staffed() -> None:
    # One agent on duty all day who can hold one post (20 of its 100 units): one 30-minute post + 5 of wrap-up.
    result = run(plan(wrap_up=300, handle=Duration.fixed(30 * MINUTE)), [post(0, 0)])
    metrics = summarise(result)

    assert metrics["occupancy"] == round(35 / (24 * 60), 4)
    assert metrics["agent_hours"] == 24.0
    assert metrics["by_team"]["solo"]["busiest_day_occupancy"] == metrics["occupancy"]


def test_occupancy_stays_between_zero_and_one_under_overload() -> None:
    rng = random.Random(5)
    arrivals = [post(n, rng.uniform(0, 120)) for n in range(300)]
    staffing = plan(
        team(agents=3, capacity=3),
        handle=Duration.lognormal(8 * MINUTE, 20 * MINUTE),
        patience=Duration.lognormal(30 * MINUTE, 90 * MINUTE),
        think=Duration.fixed(15),
        wrap_up=30,
    )

    for policy in POLICIES:
        metrics = summarise(run(staffing, arrivals, policy))
        assert 0 < metrics["occupancy"] <= 1
        assert 0 < metrics["busiest_day"]["occupancy"] <= 1
        assert metrics["answered"] + metrics["abandoned"] + metrics["unanswered"] == 300


def test_work_waits_for_the_shift_and_a_leaving_agent_finishes_what_it_holds() -> None:
    day = team(shift=Shift(10 * 60, 11 * 60))  # 10:00-11:00 UTC
    arrivals = [post(0, 0), post(1, 115)]  # 09:00, before the shift; 10:55, five minutes before its end

    result = run(plan(day, handle=Duration.fixed(20 * MINUTE)), arrivals)
    early, late = result.records

    assert early.answered_at == at(60).timestamp()  # when the shift starts
    assert late.answered_at == at(115).timestamp()
    assert result.ledger.agent_seconds[("solo", "2026-03-02")] == (135 - 60) * MINUTE  # 10:00 to 11:15


def test_an_overnight_shift_spans_midnight_on_the_days_it_starts() -> None:
    late = Shift(22 * 60, 2 * 60, frozenset({0}))  # Monday 22:00 to Tuesday 02:00

    assert late.is_on(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    assert late.is_on(datetime(2026, 3, 3, 1, 59, tzinfo=UTC))
    assert not late.is_on(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    assert not late.is_on(datetime(2026, 3, 3, 23, 0, tzinfo=UTC))  # Tuesday night: not its day
    assert not late.is_on(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Sunday's night


def test_skills_overflow_escalates_after_the_step_timeout_and_one_pool_ignores_skills() -> None:
    # Nobody has the billing skill: skill routing waits five minutes, then overflows to the social queue.
    arrivals = [post(0, 0), post(1, 1, category="billing")]

    skills = run(plan(), arrivals, "skills_overflow")
    pooled = run(plan(), arrivals, "priority_sla")

    billing = skills.records[1]
    assert (billing.escalations, billing.queue_id, billing.answered_in) == (1, "billing", "social")
    assert skills.counts["escalations"] == 1
    assert billing.first_response == 10 * MINUTE - MINUTE  # free at 10:00 already; still waited its turn
    assert pooled.records[1].escalations == 0 and pooled.records[1].answered_in == "billing"


def test_the_skilled_agent_takes_the_skill_queue_first() -> None:
    expert = team("expert", skills={"billing": 8})
    generalist = team("generalist")
    arrivals = [post(0, 0, category="billing")]

    result = run(plan(generalist, expert), arrivals, "skills_overflow")

    assert result.records[0].answered_by == "expert-1"


def test_high_priority_within_target_counts_negative_posts_above_the_threshold_only() -> None:
    arrivals = [
        post(0, 0, priority=70, sentiment="negative"),
        post(1, 0.5, priority=90, sentiment="positive"),
        post(2, 1, priority=65, sentiment="negative"),
    ]
    staffing = plan(handle=Duration.fixed(40 * MINUTE))

    metrics = summarise(run(staffing, arrivals, "fifo"))

    assert metrics["high_priority_offered"] == 2
    assert metrics["high_priority_within_target"] == 0.5  # the second waited 79 minutes
    assert set(metrics["by_priority"]) == {"high (>= 60)"}
    assert metrics["by_queue"]["social"]["offered"] == 3


def test_every_policy_builds_an_engine_with_the_plans_targets() -> None:
    staffing = plan()
    for name, policy in POLICIES.items():
        engine = engine_for(staffing, policy)
        assert {q.first_response_seconds for q in engine.queues.values()} == {1800}, name
        assert engine.ordering is policy.ordering


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Duration("gamma"), "unknown distribution"),
        (lambda: Duration.lognormal(600, 300), "median <= p90"),
        (lambda: Duration.exponential(0), "positive mean"),
        (lambda: Shift(25 * 60, 0), "within the day"),
        (lambda: Shift(0, 60, frozenset()), "weekday"),
    ],
)
def test_bad_plan_parts_are_refused(build: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()  # type: ignore[operator]


def test_a_lognormal_duration_has_the_median_and_p90_it_was_given() -> None:
    rng = random.Random(11)
    duration = Duration.lognormal(6 * MINUTE, 15 * MINUTE)
    draws = [duration.sample(rng) for _ in range(20000)]

    assert percentile(draws, 50) == pytest.approx(6 * MINUTE, rel=0.03)
    assert percentile(draws, 90) == pytest.approx(15 * MINUTE, rel=0.03)
    assert sum(draws) / len(draws) == pytest.approx(duration.average(), rel=0.03)
