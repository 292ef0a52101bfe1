"""The acceptance replay: the airline tweets' negatives, in time order, per airline, through the default policy.

Negative posts per hour (see docs/alerts.md#defaults): American has almost none until 22 Feb 12:00 and then 57 to
72 an hour; US Airways swings every day between 0 at night and 20 or more by day without any jump.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from careline.alerts.model import Alert, SpikePolicy, SpikeTracker
from careline.ingestion.importers import parse
from careline.ingestion.model import InboundMessage


@pytest.fixture(scope="module")
def negatives(data_dir: Path) -> list[InboundMessage]:
    messages = parse(data_dir / "airline_tweets.csv", "airline").messages
    assert messages == sorted(messages, key=lambda m: m.created_at or datetime.min)
    # The file repeats 122 tweets; ingestion stores a post once, so it is counted once.
    unique: dict[str, InboundMessage] = {}
    for message in messages:
        unique.setdefault(message.platform_message_id, message)
    return [m for m in unique.values() if m.raw is not None and m.raw["airline_sentiment"] == "negative"]


def replay(messages: list[InboundMessage], policy: SpikePolicy | None = None) -> list[tuple[datetime, Alert]]:
    """Each alert with the time of the post that raised it."""
    tracker = SpikeTracker(policy)
    raised = []
    for message in messages:
        assert message.created_at is not None
        alert = tracker.observe(("brand", message.account, "negative"), message.created_at, message.platform_message_id)
        if alert is not None:
            raised.append((message.created_at, alert))
    return raised


@pytest.fixture(scope="module")
def alerts(negatives: list[InboundMessage]) -> list[tuple[datetime, Alert]]:
    return replay(negatives)


def feb(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2015, 2, day, hour, minute, tzinfo=UTC)


def test_the_american_surge_raises_an_alert_within_its_first_hour(
    negatives: list[InboundMessage], alerts: list[tuple[datetime, Alert]]
) -> None:
    american = [(at, alert) for at, alert in alerts if alert.key == ("brand", "American", "negative")]
    at, alert = american[0]
    assert alert.bucket == feb(22, 12) and feb(22, 12) <= at < feb(22, 13)
    assert alert.verdict is not None and alert.verdict.expected == 0.0 and alert.verdict.count == 10
    by_id = {m.platform_message_id: m for m in negatives}
    assert len(alert.post_ids) == 10
    posts = [by_id[post_id] for post_id in alert.post_ids]
    assert all(p.account == "American" and p.created_at and feb(22, 12) <= p.created_at <= at for p in posts)
    # American then stays at 15 to 70 an hour for two days: still one alert.
    assert len(american) == 1


def in_stretch(alert: Alert) -> bool:
    return alert.key[1] == "US Airways" and alert.bucket is not None and feb(17, 0) <= alert.bucket < feb(22, 0)


def test_a_busy_day_night_cycle_is_not_a_spike(
    negatives: list[InboundMessage], alerts: list[tuple[datetime, Alert]]
) -> None:
    stretch = [
        m for m in negatives if m.account == "US Airways" and feb(17, 0) <= (m.created_at or feb(1, 0)) < feb(22, 0)
    ]
    assert len(stretch) > 800  # about 8 an hour, from 0 at night to 24 by day
    assert [alert for _, alert in alerts if in_stretch(alert)] == []
    # The stretch has teeth: against the median of the last day, its mornings look like spikes.
    assert [alert for _, alert in replay(negatives, SpikePolicy(quantile=0.5)) if in_stretch(alert)] != []


def test_the_whole_file_raises_few_alerts_each_once_and_the_same_every_time(
    negatives: list[InboundMessage], alerts: list[tuple[datetime, Alert]]
) -> None:
    assert replay(negatives) == alerts
    dedup_keys = [alert.dedup_key for _, alert in alerts]
    assert len(dedup_keys) == len(set(dedup_keys))
    assert [(alert.key[1], alert.bucket) for _, alert in alerts] == [
        ("Delta", feb(19, 7)),
        ("United", feb(19, 16)),
        ("Delta", feb(22, 8)),
        ("American", feb(22, 12)),
        ("Southwest", feb(24, 8)),
    ]


def test_smaller_keys_per_complaint_reason_raise_a_handful_too(negatives: list[InboundMessage]) -> None:
    tracker = SpikeTracker()
    raised = []
    for m in negatives:
        assert m.raw is not None and m.created_at is not None
        alert = tracker.observe(
            ("topic", m.raw["negativereason"].lower(), "negative"), m.created_at, m.platform_message_id
        )
        raised += [alert] if alert is not None else []
    assert raised, "no topic spikes at all"
    assert len(raised) <= 10, [a.title for a in raised]  # a handful: not every busy hour of a topic
    dedup_keys = [a.dedup_key for a in raised]
    assert sorted(set(dedup_keys)) == sorted(dedup_keys)  # one alert per episode
    assert ("topic", "cancelled flight", "negative") in {a.key for a in raised}
