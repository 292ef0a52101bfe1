"""Spike math: the policy's validation, bucket alignment, the pure verdict, and the tracker's one alert per episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from careline.alerts.model import MAX_POST_IDS, SpikePolicy, SpikeTracker, assess, bucket_start
from careline.kernel.errors import InvalidInput

T0 = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)
KEY = ("brand", "acme", "negative")
# Small numbers keep the scenarios readable: 4 hours of baseline, a spike is >= 5 posts, 2x and 2 sd above.
SMALL = SpikePolicy(baseline_buckets=4, quantile=0.9, min_count=5, ratio=2.0, z=2.0, cooldown_buckets=2)


def hour(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def feed(tracker: SpikeTracker, counts: list[int], key: tuple[str, ...] = KEY, start: int = 0) -> list[str]:
    """``counts[i]`` posts in hour ``start + i``, spread over the hour; the dedup keys of the alerts raised."""
    raised = []
    for index, count in enumerate(counts):
        for n in range(count):
            alert = tracker.observe(key, hour(start + index + n / max(count, 1)), f"p{start + index}-{n}")
            if alert is not None:
                raised.append(alert.dedup_key)
    return raised


# -- policy -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bucket": timedelta(seconds=30)}, "at least one minute"),
        ({"bucket": timedelta(minutes=7)}, "divide a day"),
        ({"baseline_buckets": 0}, "baseline_buckets"),
        ({"baseline_buckets": 2.5}, "whole number"),
        ({"min_count": 0}, "min_count"),
        ({"cooldown_buckets": 0}, "cooldown_buckets"),
        ({"cooldown_buckets": True}, "cooldown_buckets"),
        ({"quantile": 0}, "quantile"),
        ({"quantile": 1.5}, "quantile"),
        ({"ratio": 0.5}, "ratio"),
        ({"ratio": float("nan")}, "ratio"),
        ({"z": -1}, "z must be"),
    ],
)
def test_the_policy_refuses_nonsense_with_a_clear_message(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SpikePolicy(**changes)  # type: ignore[arg-type]


def test_the_defaults_are_valid_and_buckets_that_divide_a_day_are_accepted() -> None:
    policy = SpikePolicy()
    assert (policy.bucket, policy.baseline_buckets, policy.min_count) == (timedelta(hours=1), 24, 10)
    assert SpikePolicy(bucket=timedelta(minutes=15), baseline_buckets=96).bucket == timedelta(minutes=15)


# -- buckets ----------------------------------------------------------------------------------------------------


def test_buckets_are_aligned_in_utc_whatever_the_zone_of_the_input() -> None:
    paris = timezone(timedelta(hours=1))
    assert bucket_start(datetime(2024, 3, 4, 10, 59, 59, tzinfo=paris), SpikePolicy()) == datetime(
        2024, 3, 4, 9, tzinfo=UTC
    )
    quarter = SpikePolicy(bucket=timedelta(minutes=15), baseline_buckets=96)
    assert bucket_start(datetime(2024, 3, 4, 9, 44, tzinfo=UTC), quarter) == datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    assert bucket_start(datetime(2024, 3, 4, 9, 45, tzinfo=UTC), quarter) == datetime(2024, 3, 4, 9, 45, tzinfo=UTC)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        bucket_start(datetime(2024, 3, 4, 9), SpikePolicy())


# -- the verdict ------------------------------------------------------------------------------------------------


def test_no_verdict_before_a_full_window_of_history() -> None:
    verdict = assess(50, [0, 0, 0], SMALL)
    assert not verdict.spike and verdict.threshold is None
    assert verdict.reason == "warming up: 3 of 4 buckets of history"


def test_a_jump_over_a_quiet_baseline_spikes_once_it_reaches_the_minimum() -> None:
    assert not assess(4, [0, 1, 0, 1], SMALL).spike
    verdict = assess(5, [0, 1, 0, 1], SMALL)
    assert verdict.spike and verdict.threshold == 5 and "5 posts against an expected" in verdict.reason


def test_expected_is_a_busy_bucket_of_the_baseline_not_its_mean() -> None:
    # A day of quiet nights and busy days: the mean is 5, the 0.9 quantile is close to the busy level.
    day = [0] * 12 + [10] * 12
    policy = SpikePolicy()
    assert assess(15, day, policy).expected == 10.0
    assert not assess(15, day, policy).spike
    assert assess(30, day, policy).spike


def test_the_threshold_is_set_by_the_strictest_of_minimum_ratio_and_z() -> None:
    policy = SpikePolicy(baseline_buckets=4, quantile=1.0, min_count=3, ratio=2.0, z=0.0)
    verdict = assess(19, [10, 10, 10, 10], policy)
    assert verdict.threshold == 20 and not verdict.spike and "the ratio" in verdict.reason
    # 2.0 * 10.0 is exactly 20: a float product must not round the threshold up to 21
    assert assess(20, [10, 10, 10, 10], policy).spike
    busy = SpikePolicy(baseline_buckets=4, quantile=1.0, min_count=3, ratio=1.0, z=4.0)
    assert assess(100, [100] * 4, busy).threshold == 140  # 100 + 4 * sqrt(100)


def test_only_the_last_window_of_the_baseline_counts() -> None:
    assert assess(6, [100, 100, 0, 0, 0, 0], SMALL) == assess(6, [0, 0, 0, 0], SMALL)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        assess(1, [0, -1, 0, 0], SMALL)


# -- the tracker ------------------------------------------------------------------------------------------------


def test_nothing_alerts_while_the_tracker_warms_up() -> None:
    assert feed(SpikeTracker(SMALL), [50, 50, 50, 50]) == []


def test_an_alert_fires_as_the_running_bucket_crosses_the_threshold_with_its_posts() -> None:
    tracker = SpikeTracker(SMALL)
    feed(tracker, [1, 0, 1, 0])
    alerts = [tracker.observe(KEY, hour(4) + timedelta(minutes=n), f"late-{n}") for n in range(8)]
    assert [a is not None for a in alerts] == [False] * 4 + [True] + [False] * 3
    alert = alerts[4]
    assert alert is not None
    assert (alert.kind, alert.severity, alert.bucket) == ("volume_spike", "warning", hour(4))
    assert alert.post_ids == tuple(f"late-{n}" for n in range(5))
    assert alert.dedup_key == "spike:brand|acme|negative:2024-03-04T04:00Z"
    assert alert.verdict is not None and alert.verdict.count == 5
    assert "brand, acme, negative: 5 posts since 2024-03-04 04:00 UTC" in alert.title


def test_a_long_surge_is_one_alert() -> None:
    tracker = SpikeTracker(SMALL)
    assert feed(tracker, [1, 0, 1, 0, 10, 12, 15, 20, 30, 40]) == ["spike:brand|acme|negative:2024-03-04T04:00Z"]


def test_a_new_spike_after_the_cooldown_is_a_new_episode_but_not_within_it() -> None:
    within = SpikeTracker(SMALL)
    assert len(feed(within, [1, 0, 1, 0, 10, 0, 10])) == 1  # one quiet bucket, cooldown is two
    after = SpikeTracker(SMALL)
    raised = feed(after, [1, 0, 1, 0, 10, 0, 0, 0, 0, 0, 10])
    assert raised == ["spike:brand|acme|negative:2024-03-04T04:00Z", "spike:brand|acme|negative:2024-03-04T10:00Z"]


def test_keys_are_independent() -> None:
    tracker = SpikeTracker(SMALL)
    feed(tracker, [1, 0, 1, 0], key=("brand", "acme", "negative"))
    feed(tracker, [1, 0, 1, 0], key=("topic", "lost luggage", "negative"))
    assert feed(tracker, [9], key=("topic", "lost luggage", "negative"), start=4) == [
        "spike:topic|lost luggage|negative:2024-03-04T04:00Z"
    ]
    assert feed(tracker, [2], key=("brand", "acme", "negative"), start=4) == []


def test_a_key_first_seen_after_the_start_has_a_quiet_history_not_an_unknown_one() -> None:
    tracker = SpikeTracker(SMALL)
    feed(tracker, [1, 1, 1, 1, 1], key=("brand", "other", "negative"))
    assert len(feed(tracker, [6], key=("brand", "new", "negative"), start=5)) == 1


def test_an_alert_carries_at_most_twenty_post_ids() -> None:
    tracker = SpikeTracker(SpikePolicy(baseline_buckets=1, min_count=30, ratio=1.0, z=0.0))
    feed(tracker, [1])
    alerts = [a for n in range(40) if (a := tracker.observe(KEY, hour(1) + timedelta(seconds=n), f"p{n}"))]
    assert len(alerts) == 1 and len(alerts[0].post_ids) == MAX_POST_IDS == 20
    assert alerts[0].post_ids[0] == "p0"


def diurnal_week(policy: SpikePolicy) -> list[str]:
    """Quiet nights, a morning ramp and a busy day, with some noise, seven times over."""
    day = [0, 0, 1, 0, 1, 2, 6, 14, 20, 22, 18, 19, 21, 17, 20, 22, 18, 15, 12, 9, 6, 4, 2, 1]
    tracker = SpikeTracker(policy)
    raised = []
    for d in range(7):
        noisy = [count + (d * 7 + i) % 5 - 2 if count > 2 else count for i, count in enumerate(day)]
        raised += feed(tracker, noisy, start=24 * d)
    return raised


def test_a_diurnal_week_raises_nothing() -> None:
    assert diurnal_week(SpikePolicy()) == []
    # What the defaults avoid: a half-day window sees every morning as a spike, a median baseline some.
    assert [key[-6:] for key in diurnal_week(SpikePolicy(baseline_buckets=12))] == ["08:00Z"] * 6
    assert len(diurnal_week(SpikePolicy(quantile=0.5))) == 3
