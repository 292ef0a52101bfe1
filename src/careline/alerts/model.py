"""Alerts and volume spikes per brand, topic and sentiment (docs/alerts.md); rule alerts are in ``rules.py``.

Pure domain. The spike math is a function of counts (``assess``), not of hidden state, so that many ingestion
processes counting in a database and the in-memory ``SpikeTracker`` below raise the same alerts from the same posts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from careline.kernel.errors import InvalidInput

SEVERITIES = ("info", "warning", "critical")
SPIKE = "volume_spike"
MAX_POST_IDS = 20  # enough for an agent to see what a spike is about; the rest are a query away
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SpikeKey = tuple[str, ...]  # ("brand", "united", "negative"), ("topic", "lost luggage", "negative")


@dataclasses.dataclass(frozen=True)
class SpikeVerdict:
    """What ``assess`` concluded about one bucket of one key, with the numbers to explain it."""

    spike: bool
    count: int  # posts in the bucket so far
    expected: float  # a busy bucket of the baseline (its quantile), not its mean
    score: float  # standard deviations above expected, Poisson: (count - expected) / sqrt(max(expected, 1))
    threshold: int | None  # the smallest count that spikes in this bucket; None while warming up
    reason: str


@dataclasses.dataclass(frozen=True)
class Alert:
    """Something a supervisor should look at, raised once per incident."""

    kind: str  # volume_spike, or the kind of the rule that matched
    rule: str
    key: tuple[str, ...]  # spikes: the counted key; rule alerts: ("post", post_id)
    severity: str  # info | warning | critical
    title: str
    dedup_key: str  # one incident, one key: a store keeps the first alert with it and drops the rest
    post_ids: tuple[str, ...]
    bucket: datetime | None = None  # spikes: start of the bucket that opened the episode
    verdict: SpikeVerdict | None = None  # spikes: the numbers behind the alert


# The defaults were checked on a replay of the airline tweets (docs/alerts.md#defaults) and aim at generality:
# - one-hour buckets: fine enough to warn within the hour, coarse enough that a brand with a few posts an hour
#   has counts to compare;
# - a baseline of the last 24 buckets, the shortest window that always holds a full day, so it always holds the
#   busy hours; 12 hours flagged every morning, 48 or 72 need days of warm-up and missed clear jumps;
# - expected = the 0.9 quantile of that day (roughly its third busiest hour), not its mean: nights are quiet and a
#   mean over 24 hours makes every morning rush look like a spike (the median raised 26 alerts on the replay,
#   the 0.9 quantile 5); one or two odd hours in the day do not move it;
# - min_count 10: below that, "a spike" is a handful of posts no supervisor needs to hear about;
# - ratio 2 and z 4 together: the ratio guards busy keys, where a few standard deviations is a small change,
#   the z-score guards quiet keys, where doubling 1 post is noise;
# - cooldown 6 buckets: a burst that dips for an hour or two and comes back stays one alert; a new incident later
#   in the day is a new one. The baseline absorbs a long surge within hours, so it does not re-alert either.
@dataclasses.dataclass(frozen=True)
class SpikePolicy:
    bucket: timedelta = timedelta(hours=1)
    baseline_buckets: int = 24
    quantile: float = 0.9
    min_count: int = 10
    ratio: float = 2.0
    z: float = 4.0
    cooldown_buckets: int = 6  # buckets without a spike that end an episode; only then may the key alert again

    def __post_init__(self) -> None:
        # Buckets that divide a day start at the same instants in every process and every day (00:00 UTC).
        if not isinstance(self.bucket, timedelta) or self.bucket < timedelta(minutes=1):
            raise InvalidInput(f"bucket must be a duration of at least one minute, not {self.bucket!r}")
        if timedelta(days=1) % self.bucket:
            raise InvalidInput(f"bucket must divide a day evenly (5 min, 15 min, 1 h, ...), not {self.bucket}")
        at_least("baseline_buckets", self.baseline_buckets, 1)
        at_least("min_count", self.min_count, 1)
        at_least("cooldown_buckets", self.cooldown_buckets, 1)
        if not 0 < self.quantile <= 1:
            raise InvalidInput(f"quantile must be in (0, 1], not {self.quantile}")
        if not self.ratio >= 1:
            raise InvalidInput(f"ratio must be at least 1 (a spike is more than the usual), not {self.ratio}")
        if not self.z >= 0:
            raise InvalidInput(f"z must be zero or more standard deviations, not {self.z}")


def at_least(name: str, value: object, low: int) -> None:
    """Refuse anything but a whole number of at least ``low`` (``True`` is an int to Python, not to us)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{name} must be a whole number of at least {low}, not {value!r}")


def bucket_start(at: datetime, policy: SpikePolicy) -> datetime:
    """The start of the bucket holding ``at``, in UTC, aligned on the epoch (so on midnight UTC)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"{at.isoformat()} has no time zone; spike buckets need aware datetimes")
    return EPOCH + (at.astimezone(UTC) - EPOCH) // policy.bucket * policy.bucket


def _quantile(values: Sequence[int], q: float) -> float:
    """Linear interpolation between closest ranks, the usual 'type 7' definition."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def assess(current: int, baseline: Sequence[int], policy: SpikePolicy) -> SpikeVerdict:
    """Whether ``current`` posts in a bucket (complete or not) spike over the counts of the buckets before it.

    ``baseline`` is oldest first, one count per bucket, zeros included; only the last ``baseline_buckets`` are
    used. Buckets before counting began are unknown, not quiet: leave them out, and the verdict waits for a full
    window rather than comparing a first morning with the night before it.
    """
    if current < 0 or any(count < 0 for count in baseline):
        raise InvalidInput("counts cannot be negative")
    window = list(baseline[max(len(baseline) - policy.baseline_buckets, 0) :])
    expected = _quantile(window, policy.quantile) if window else 0.0
    spread = math.sqrt(max(expected, 1.0))  # Poisson; a floor of 1 keeps an empty baseline from dividing by zero
    score = (current - expected) / spread
    if len(window) < policy.baseline_buckets:
        reason = f"warming up: {len(window)} of {policy.baseline_buckets} buckets of history"
        return SpikeVerdict(False, current, expected, score, None, reason)
    # A count is whole, so each condition is a whole-number floor; the epsilon keeps 2.0 * 5.0 from needing 11.
    floors = {
        "the minimum": policy.min_count,
        "the ratio": math.ceil(policy.ratio * expected - 1e-9),
        "the z-score": math.ceil(expected + policy.z * spread - 1e-9),
    }
    threshold = max(floors.values())
    if current >= threshold:
        reason = f"{current} posts against an expected {expected:.1f}: {score:.1f} standard deviations above"
    else:
        binding = max(floors, key=lambda name: floors[name])
        reason = f"{current} posts is below {threshold}, set by {binding} (expected {expected:.1f})"
    return SpikeVerdict(current >= threshold, current, expected, score, threshold, reason)


@dataclasses.dataclass
class _KeyState:
    counts: dict[datetime, int] = dataclasses.field(default_factory=dict)
    post_ids: dict[datetime, list[str]] = dataclasses.field(default_factory=dict)
    last_spike: datetime | None = None  # the latest bucket that spiked: the episode ends cooldown buckets later


class SpikeTracker:
    """Counts posts per key and bucket in memory and raises one alert per episode; the reference for stored counts.

    Posts come in time order. Counting starts at the first post observed (by any key): the window before it is
    unknown, so no key alerts during the first ``baseline_buckets``.
    """

    def __init__(self, policy: SpikePolicy | None = None) -> None:
        self.policy = policy or SpikePolicy()
        self._started: datetime | None = None
        self._keys: dict[SpikeKey, _KeyState] = {}

    def observe(self, key: SpikeKey, at: datetime, post_id: str) -> Alert | None:
        """Count one post; an alert the moment its bucket crosses the threshold, if no episode is running."""
        bucket = bucket_start(at, self.policy)
        if self._started is None:
            self._started = bucket
        state = self._keys.setdefault(key, _KeyState())
        state.counts[bucket] = state.counts.get(bucket, 0) + 1
        sample = state.post_ids.setdefault(bucket, [])
        if len(sample) < MAX_POST_IDS:
            sample.append(post_id)
        self._forget(state, bucket)
        verdict = assess(state.counts[bucket], self._baseline(state, bucket), self.policy)
        if not verdict.spike:
            return None
        if state.last_spike is not None:
            quiet = (bucket - state.last_spike) // self.policy.bucket - 1
            if quiet < self.policy.cooldown_buckets:  # still the same episode (or a late post from it)
                state.last_spike = max(state.last_spike, bucket)
                return None
        state.last_spike = bucket
        return spike_alert(key, bucket, verdict, tuple(sample), self.policy)

    def _baseline(self, state: _KeyState, bucket: datetime) -> list[int]:
        assert self._started is not None
        size = self.policy.bucket
        first = max(self._started, bucket - self.policy.baseline_buckets * size)
        return [state.counts.get(first + i * size, 0) for i in range(max((bucket - first) // size, 0))]

    def _forget(self, state: _KeyState, bucket: datetime) -> None:
        """Drop buckets older than any baseline can reach, so memory stays bounded on an endless stream."""
        oldest = bucket - self.policy.baseline_buckets * self.policy.bucket
        for old in [b for b in state.counts if b < oldest]:
            del state.counts[old]
            state.post_ids.pop(old, None)


def spike_alert(
    key: SpikeKey, bucket: datetime, verdict: SpikeVerdict, post_ids: tuple[str, ...], policy: SpikePolicy
) -> Alert:
    """The alert for a key whose bucket spiked; its dedup key names the episode's first bucket."""
    minutes = int(policy.bucket / timedelta(minutes=1))
    period = "hour" if minutes == 60 else f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes} minutes"
    title = (
        f"Volume spike for {', '.join(key)}: {verdict.count} posts since {bucket:%Y-%m-%d %H:%M} UTC, "
        f"where a busy {period} of the baseline had {verdict.expected:.0f}"
    )
    dedup_key = f"spike:{'|'.join(key)}:{bucket:%Y-%m-%dT%H:%MZ}"
    return Alert(SPIKE, SPIKE, key, "warning", title, dedup_key, post_ids[:MAX_POST_IDS], bucket, verdict)
