"""Priority: each feature's points and sign, monotonic and capped scales, clamping, the explanation, weights."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from careline.kernel.errors import InvalidInput
from careline.triage.pii import PiiDetector
from careline.triage.policy import Action, PostFacts, decide
from careline.triage.priority import (
    MAX_SCORE,
    MIN_SCORE,
    Contribution,
    Priority,
    PrioritySignals,
    PriorityWeights,
    engagement_velocity,
    score,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
W = PriorityWeights()


def points(priority: Priority, feature: str) -> float:
    """The points of one feature, 0 when the feature did not contribute."""
    return sum(c.points for c in priority.contributions if c.feature == feature)


def ranked(priority: Priority) -> list[dict[str, object]]:
    """The explanation's features, largest effect first."""
    features = priority.explanation()["features"]
    assert isinstance(features, list)
    return features


def test_an_angry_customer_exposing_a_card_outranks_a_neutral_question() -> None:
    text = "@AcmeAir my card 4111 1111 1111 1111 was charged twice!!"
    kinds = tuple(sorted({f.kind for f in PiiDetector().find(text)}))
    assert kinds == ("card",)
    card = score(PrioritySignals(sentiment="negative", sentiment_score=-0.6, angry=True, personal_data=kinds))
    question = score(PrioritySignals(sentiment="neutral", sentiment_score=0.0))

    assert card.score > question.score
    named = [f["feature"] for f in ranked(card)]
    assert {"sentiment", "angry", "personal_data_public"} <= set(named)
    assert "card in a public post" in [c.value for c in card.contributions]
    assert decide(PostFacts(text, sentiment="negative", angry=True, personal_data=kinds)).action is Action.TAKE_PRIVATE


def test_a_post_with_nothing_known_scores_the_base_and_explains_nothing() -> None:
    result = score(PrioritySignals())
    assert result == Priority(W.base, W.base, ())
    assert result.explanation() == {"score": W.base, "base": W.base, "features": []}


@pytest.mark.parametrize(
    ("signals", "feature", "expected"),
    [
        (PrioritySignals(sentiment="negative", sentiment_score=-1.0), "sentiment", W.negative),
        (PrioritySignals(sentiment="positive", sentiment_score=1.0), "sentiment", W.positive),
        (PrioritySignals(angry=True), "angry", W.angry),
        (PrioritySignals(personal_data=("card", "phone")), "personal_data_public", W.personal_data_public),
        (PrioritySignals(followers=1_000_000), "influence", W.influence),
        (PrioritySignals(verified=True), "verified", W.verified),
        (PrioritySignals(engagements=1_000, posted_at=NOW - timedelta(minutes=10)), "velocity", W.velocity),
        (PrioritySignals(customer_tier="vip"), "customer_tier", 15.0),
        (PrioritySignals(customer_tier="silver"), "customer_tier", 4.0),
        (PrioritySignals(waiting_minutes=60, first_response_target_minutes=60), "waiting", W.waiting),
        (PrioritySignals(noise="spam"), "noise", W.noise),
        (PrioritySignals(acknowledge_only=True), "acknowledge_only", W.acknowledge_only),
    ],
)
def test_each_feature_adds_its_weight_with_its_sign(signals: PrioritySignals, feature: str, expected: float) -> None:
    result = score(signals, NOW)
    assert result.features == [feature]
    assert points(result, feature) == expected
    assert result.score == W.base + expected


def test_urgent_features_raise_the_score_and_calm_ones_lower_it() -> None:
    base = score(PrioritySignals()).score
    raising = [
        PrioritySignals(sentiment="negative", sentiment_score=-0.5),
        PrioritySignals(angry=True),
        PrioritySignals(personal_data=("email",)),
        PrioritySignals(followers=50_000),
        PrioritySignals(verified=True),
        PrioritySignals(customer_tier="gold"),
        PrioritySignals(waiting_minutes=10, first_response_target_minutes=60),
    ]
    lowering = [
        PrioritySignals(sentiment="positive", sentiment_score=0.8),
        PrioritySignals(noise="retweet"),
        PrioritySignals(acknowledge_only=True),
    ]
    assert all(score(s).score > base for s in raising)
    assert all(score(s).score < base for s in lowering)


def test_the_more_negative_the_sentiment_the_more_points_with_a_floor_for_the_label() -> None:
    by_score = [points(score(PrioritySignals("negative", s)), "sentiment") for s in (0.0, -0.2, -0.5, -0.9, -1.0)]
    assert by_score == sorted(by_score)
    assert by_score[0] == by_score[1] == pytest.approx(W.negative * 0.2)  # a negative label always counts a little
    assert by_score[-1] == W.negative


def test_sentiment_scores_beyond_the_scale_are_clamped_and_nan_counts_as_unknown_strength() -> None:
    assert points(score(PrioritySignals("negative", -7.0)), "sentiment") == W.negative
    assert points(score(PrioritySignals("positive", 3.0)), "sentiment") == W.positive
    assert points(score(PrioritySignals("negative", math.nan)), "sentiment") == pytest.approx(W.negative * 0.2)
    assert math.isfinite(score(PrioritySignals("negative", math.nan)).score)


def test_the_sentiment_label_is_read_whatever_its_case_and_neutral_adds_nothing() -> None:
    assert points(score(PrioritySignals("NEGATIVE", -1.0)), "sentiment") == W.negative
    assert score(PrioritySignals("neutral", -0.9)).features == []
    assert score(PrioritySignals("mixed", -0.9)).features == []


def test_the_sentiment_explanation_shows_the_label_and_the_score() -> None:
    (contribution,) = score(PrioritySignals("negative", -0.75)).contributions
    assert contribution == Contribution("sentiment", "negative (-0.75)", 18.75)


def test_personal_data_counts_only_when_the_post_is_public() -> None:
    public = score(PrioritySignals(personal_data=("card",), public=True))
    private = score(PrioritySignals(personal_data=("card",), public=False))
    assert public.features == ["personal_data_public"]
    assert private.features == []
    assert score(PrioritySignals(personal_data=(), public=True)).features == []


def test_a_category_counts_only_when_the_weights_name_it_whatever_the_case() -> None:
    weights = PriorityWeights(categories={"Lost Luggage": 12.0, "praise": -3.0})
    assert points(score(PrioritySignals(category="Lost Luggage"), weights=weights), "category") == 12.0
    assert points(score(PrioritySignals(category="lost luggage"), weights=weights), "category") == 12.0
    assert points(score(PrioritySignals(category="praise"), weights=weights), "category") == -3.0
    assert score(PrioritySignals(category="Late Flight"), weights=weights).features == []
    assert score(PrioritySignals(category="Lost Luggage")).features == []  # no category weights by default


def test_influence_grows_with_followers_on_a_log_scale_and_is_capped() -> None:
    followers = [0, 50, 100, 101, 1_000, 10_000, 100_000, 1_000_000, 50_000_000]
    earned = [points(score(PrioritySignals(followers=n)), "influence") for n in followers]
    assert earned == sorted(earned)
    assert earned[:3] == [0.0, 0.0, 0.0]  # nothing at or below a hundred followers
    assert earned[4] == pytest.approx(W.influence / 4)  # 1,000 is a quarter of the way from 100 to a million
    assert earned[-2] == earned[-1] == W.influence


def test_unknown_followers_are_not_guessed() -> None:
    assert score(PrioritySignals(followers=None)).features == []
    assert score(PrioritySignals(followers=-5)).features == []


def test_the_influence_explanation_shows_the_follower_count() -> None:
    (contribution,) = score(PrioritySignals(followers=12_345)).contributions
    assert contribution.value == "12,345 followers"


def test_faster_engagement_scores_higher_and_is_capped() -> None:
    posted = NOW - timedelta(minutes=10)
    rates = [5, 10, 50, 100, 1_000, 10_000, 100_000]  # engagements in ten minutes
    earned = [points(score(PrioritySignals(engagements=n, posted_at=posted), NOW), "velocity") for n in rates]
    assert earned == sorted(earned)
    assert earned[0] == 0.0  # half an engagement a minute is nothing special
    assert earned[2] == round(W.velocity * math.log10(5) / 2, 2)
    assert earned[-3] == earned[-1] == W.velocity  # a hundred a minute and more


def test_the_same_engagements_over_a_longer_time_score_lower() -> None:
    earned = [
        points(score(PrioritySignals(engagements=600, posted_at=NOW - timedelta(minutes=m)), NOW), "velocity")
        for m in (1, 10, 60, 600)
    ]
    assert earned == sorted(earned, reverse=True)
    assert earned[-1] == 0.0


def test_velocity_needs_now_and_the_posting_time() -> None:
    posted = NOW - timedelta(minutes=1)
    assert score(PrioritySignals(engagements=500, posted_at=posted)).features == []  # no now
    assert score(PrioritySignals(engagements=500), NOW).features == []
    assert score(PrioritySignals(posted_at=posted), NOW).features == []


def test_the_velocity_explanation_shows_engagements_per_minute() -> None:
    result = score(PrioritySignals(engagements=250, posted_at=NOW - timedelta(minutes=10)), NOW)
    assert [c.value for c in result.contributions] == ["25.0 engagements/min"]


def test_engagement_velocity_is_engagements_per_minute() -> None:
    assert engagement_velocity(300, NOW - timedelta(minutes=10), NOW) == 30.0
    assert engagement_velocity(90, NOW - timedelta(hours=1, minutes=30), NOW) == 1.0


@pytest.mark.parametrize(
    ("engagements", "posted_at", "now"),
    [(None, NOW, NOW), (10, None, NOW), (10, NOW, None), (-1, NOW - timedelta(minutes=5), NOW)],
)
def test_engagement_velocity_is_unknown_without_data(
    engagements: int | None, posted_at: datetime | None, now: datetime | None
) -> None:
    assert engagement_velocity(engagements, posted_at, now) is None


def test_no_engagements_is_a_velocity_of_zero() -> None:
    assert engagement_velocity(0, NOW - timedelta(minutes=5), NOW) == 0.0
    assert score(PrioritySignals(engagements=0, posted_at=NOW - timedelta(minutes=5)), NOW).features == []


@pytest.mark.parametrize("age", [timedelta(0), timedelta(seconds=1), timedelta(seconds=59), timedelta(minutes=-3)])
def test_a_post_just_up_or_stamped_in_the_future_counts_one_minute(age: timedelta) -> None:
    velocity = engagement_velocity(120, NOW - age, NOW)
    assert velocity == 120.0
    assert math.isfinite(score(PrioritySignals(engagements=120, posted_at=NOW - age), NOW).score)


def test_a_naive_posting_time_is_read_as_utc() -> None:
    naive = datetime(2024, 5, 1, 11, 50)
    assert engagement_velocity(100, naive, NOW) == 10.0
    assert engagement_velocity(100, NOW - timedelta(minutes=10), NOW.replace(tzinfo=None)) == 10.0


def test_other_time_zones_are_compared_as_instants() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=2)))
    assert paris.hour == 14
    assert engagement_velocity(100, NOW - timedelta(minutes=20), paris) == 5.0


def test_tiers_match_whatever_the_case_and_unknown_tiers_add_nothing() -> None:
    assert points(score(PrioritySignals(customer_tier="VIP")), "customer_tier") == 15.0
    assert points(score(PrioritySignals(customer_tier=" Gold ")), "customer_tier") == 8.0
    assert score(PrioritySignals(customer_tier="bronze")).features == []
    assert score(PrioritySignals(customer_tier="")).features == []


def test_an_admins_tier_names_are_matched_without_regard_to_case() -> None:
    weights = PriorityWeights(tiers={"Platinum": 20.0})
    result = score(PrioritySignals(customer_tier="platinum"), weights=weights)
    assert result.contributions == (Contribution("customer_tier", "platinum", 20.0),)
    assert score(PrioritySignals(customer_tier="vip"), weights=weights).features == []  # the defaults are replaced


def test_waiting_grows_with_the_share_of_the_target_used_and_is_capped_when_due() -> None:
    waits = [0, 6, 15, 30, 45, 60, 90, 600]
    earned = [
        points(score(PrioritySignals(waiting_minutes=m, first_response_target_minutes=60)), "waiting") for m in waits
    ]
    assert earned == sorted(earned)
    assert earned[0] == 0.0
    assert earned[3] == W.waiting / 2
    assert earned[5] == earned[6] == earned[7] == W.waiting


@pytest.mark.parametrize(
    ("waited", "target"), [(30, None), (30, 0), (30, -60), (-5, 60), (math.nan, 60), (30, math.inf)]
)
def test_waiting_needs_a_positive_target_and_a_real_wait(waited: float, target: float | None) -> None:
    result = score(PrioritySignals(waiting_minutes=waited, first_response_target_minutes=target))
    assert result.features == []


def test_the_waiting_explanation_shows_minutes_against_the_target() -> None:
    (contribution,) = score(PrioritySignals(waiting_minutes=25, first_response_target_minutes=60)).contributions
    assert contribution.value == "25 of 60 min"


def test_noise_outweighs_acknowledgement_so_only_noise_is_counted() -> None:
    result = score(PrioritySignals(noise="promotion", acknowledge_only=True))
    assert result.features == ["noise"]
    assert result.contributions[0].value == "promotion"


def test_the_score_is_clamped_to_0_and_100() -> None:
    everything = PrioritySignals(
        sentiment="negative",
        sentiment_score=-1.0,
        angry=True,
        personal_data=("card",),
        followers=10_000_000,
        verified=True,
        engagements=100_000,
        posted_at=NOW - timedelta(minutes=1),
        customer_tier="vip",
        waiting_minutes=120,
        first_response_target_minutes=60,
    )
    top = score(everything, NOW)
    assert top.score == MAX_SCORE
    assert top.base + sum(c.points for c in top.contributions) > MAX_SCORE  # the explanation keeps every point

    calm = PrioritySignals(sentiment="positive", sentiment_score=1.0, noise="retweet")
    assert score(calm, weights=PriorityWeights(base=10.0)).score == MIN_SCORE


@pytest.mark.parametrize("sentiment", ["negative", "neutral", "positive"])
@pytest.mark.parametrize("angry", [False, True])
@pytest.mark.parametrize("noise", [None, "spam"])
@pytest.mark.parametrize("followers", [None, 10, 10**9])
def test_every_combination_stays_within_bounds(
    sentiment: str, angry: bool, noise: str | None, followers: int | None
) -> None:
    signals = PrioritySignals(
        sentiment=sentiment, sentiment_score=-1.0 if sentiment == "negative" else 1.0, angry=angry, noise=noise
    )
    result = score(dataclasses.replace(signals, followers=followers))
    assert MIN_SCORE <= result.score <= MAX_SCORE


def test_points_and_the_score_are_rounded_to_two_places() -> None:
    result = score(PrioritySignals(sentiment="negative", sentiment_score=-0.333333, followers=777))
    assert all(c.points == round(c.points, 2) for c in result.contributions)
    assert result.score == round(result.score, 2)


def test_the_explanation_lists_the_largest_effect_first() -> None:
    result = score(
        PrioritySignals(
            sentiment="negative",
            sentiment_score=-0.4,  # 10 points
            angry=True,  # 15
            verified=True,  # 5
            noise="spam",  # -25
            customer_tier="gold",  # 8
        )
    )
    features = ranked(result)
    assert [f["feature"] for f in features] == ["noise", "angry", "sentiment", "customer_tier", "verified"]
    assert features[0] == {"feature": "noise", "value": "spam", "points": -25.0}
    assert result.explanation()["score"] == result.score
    assert result.explanation()["base"] == W.base


def test_equal_effects_are_listed_by_feature_name() -> None:
    weights = PriorityWeights(angry=10.0, verified=10.0, personal_data_public=-10.0)
    result = score(PrioritySignals(verified=True, angry=True, personal_data=("card",)), weights=weights)
    assert [f["feature"] for f in ranked(result)] == ["angry", "personal_data_public", "verified"]


def test_features_keep_the_order_they_were_scored_in() -> None:
    result = score(PrioritySignals(verified=True, angry=True, noise="spam"))
    assert result.features == ["angry", "noise", "verified"]


def test_a_feature_weighted_zero_is_left_out_of_the_explanation() -> None:
    weights = PriorityWeights(angry=0.0, verified=0.0)
    result = score(PrioritySignals(angry=True, verified=True, personal_data=("card",)), weights=weights)
    assert result.features == ["personal_data_public"]


def test_custom_weights_change_the_score() -> None:
    weights = PriorityWeights(base=50.0, angry=40.0)
    assert score(PrioritySignals(angry=True), weights=weights).score == 90.0


@pytest.mark.parametrize(
    "changes",
    [
        {"angry": math.nan},
        {"negative": math.inf},
        {"noise": -101.0},
        {"verified": 100.5},
        {"velocity": True},
        {"waiting": "20"},
    ],
)
def test_scalar_weights_must_be_finite_numbers_within_100_points(changes: dict[str, object]) -> None:
    (name,) = changes
    with pytest.raises(InvalidInput, match=f"priority weight '{name}' must be a number between -100 and 100"):
        PriorityWeights(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("base", [-1.0, 100.1, math.nan, "30"])
def test_the_base_must_be_a_possible_score(base: object) -> None:
    with pytest.raises(InvalidInput, match="'base' must be a number between 0 and 100"):
        PriorityWeights(base=base)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["tiers", "categories"])
@pytest.mark.parametrize("value", [math.nan, 150.0, -100.5, "high", None])
def test_tier_and_category_points_must_be_finite_numbers_within_100_points(field: str, value: object) -> None:
    with pytest.raises(InvalidInput, match="priority weight 'x' must be a number between -100 and 100"):
        PriorityWeights(**{field: {"x": value}})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "   ", 3])
def test_tier_and_category_names_must_be_text(name: object) -> None:
    with pytest.raises(InvalidInput, match="need non-empty names"):
        PriorityWeights(tiers={name: 5.0})  # type: ignore[dict-item]


def test_tiers_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="'tiers' must map names to points"):
        PriorityWeights(tiers=[("vip", 5.0)])  # type: ignore[arg-type]


def test_valid_edge_weights_are_accepted() -> None:
    weights = PriorityWeights(base=0.0, angry=100.0, noise=-100.0, tiers={"vip": 100}, categories={})
    assert weights.tiers == {"vip": 100.0}
    assert PriorityWeights(base=100.0).base == 100.0


def test_weights_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        W.angry = 1.0  # type: ignore[misc]
