"""Alerts raised at ingestion on a real database: rule alerts, volume spikes, de-duplication, subscriptions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.alerts import commands as cmd
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.importers import parse
from careline.kernel.errors import InvalidInput, NotFound
from integration.support import Desk


def alerts(desk: Desk) -> list[sa.Row[tuple[object, ...]]]:
    return desk.rows(t.alerts, order_by=t.alerts.c.raised_at)


def test_a_public_post_with_a_card_number_raises_one_alert_with_the_post(desk: Desk) -> None:
    result = desk.ingest(desk.message("my card 4111 1111 1111 1111 was charged twice!!"))

    [alert] = alerts(desk)
    assert (alert.kind, alert.severity) == ("public_personal_data", "warning")
    assert alert.post_ids == [result.items[0].message_id]
    assert "card" in alert.title
    [raised] = desk.events(None, "alert.raised")
    assert raised.data["alert_id"] == alert.id and raised.data["post_ids"] == alert.post_ids


def test_risk_words_are_critical_and_an_angry_influencer_is_a_warning(desk: Desk) -> None:
    desk.ingest(
        desk.message("The brakes on my new car failed on the highway, this is unsafe and I'm calling a lawyer"),
        desk.message("WORST airline ever!! lost my bag AGAIN", author_id="celebrity", author_followers=2_500_000),
        desk.message("thanks for the safety briefing, great crew", author_id="fan"),
    )

    kinds = sorted((a.kind, a.severity) for a in alerts(desk))
    assert kinds == [("angry_influential", "warning"), ("risk_words", "critical")]


def test_a_replayed_batch_raises_nothing_twice(desk: Desk) -> None:
    batch = [desk.message("I will sue you, my card 4111 1111 1111 1111 was charged twice!!")]
    desk.ingest(*batch)
    desk.ingest(*batch)

    assert Counter(a.kind for a in alerts(desk)) == {"public_personal_data": 1, "risk_words": 1}


def test_a_spike_in_the_stored_counts_alerts_once_per_episode(desk: Desk) -> None:
    """A day of 2 negative posts an hour, then 15 in an hour (in 3 batches), then more of it."""
    start = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)
    serial = 0

    def posts(hour: int, n: int) -> list:
        nonlocal serial
        items = []
        for i in range(n):
            serial += 1
            at = start + timedelta(hours=hour, minutes=i)
            items.append(desk.message("this is terrible, awful service", author_id=f"c{serial}", created_at=at))
        return items

    for hour in range(24):
        desk.ingest(*posts(hour, 2))
    assert not [a for a in alerts(desk) if a.kind == "volume_spike"]
    for _ in range(3):
        desk.ingest(*posts(24, 5))
    desk.ingest(*posts(25, 20))  # the same surge an hour later: the same episode

    [spike] = [a for a in alerts(desk) if a.kind == "volume_spike"]
    assert spike.key == "brand|acme|negative" and spike.severity == "warning"
    assert spike.dedup_key == "spike:brand|acme|negative:2024-03-05T00:00Z"
    assert spike.details["last_spike"] == "2024-03-05T01:00:00+00:00"
    with desk.app.engine.connect() as db:
        counts = dict(
            db.execute(
                sa.select(t.volume_counts.c.bucket_start, t.volume_counts.c.count).where(
                    t.volume_counts.c.key == "brand|acme|negative"
                )
            ).all()
        )
    assert counts[start + timedelta(hours=24)] == 15 and counts[start] == 2


def test_subscriptions_turn_new_alerts_into_outbox_rows(desk: Desk) -> None:
    hook = desk.app.handle(cmd.CreateAlertSubscription(kind="webhook", target="https://hooks.example/alerts"))
    desk.app.handle(cmd.CreateAlertSubscription(kind="email", target="pr@acme.example", min_severity="critical"))

    desk.ingest(desk.message("my card 4111 1111 1111 1111 got charged twice"))

    [row] = desk.rows(t.outbox, t.outbox.c.kind.like("alert_%"))
    assert row.kind == "alert_webhook" and row.payload["target"] == hook.target
    assert row.payload["alert"]["kind"] == "public_personal_data"


@pytest.mark.parametrize(
    ("kind", "target", "problem"),
    [
        ("webhook", "ftp://x", "http:// or https://"),
        ("email", "not-an-address", "not an email address"),
        ("sms", "+15551234567", "kind must be webhook or email"),
    ],
)
def test_bad_subscriptions_are_refused(desk: Desk, kind: str, target: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        desk.app.handle(cmd.CreateAlertSubscription(kind=kind, target=target))


def test_acknowledging_an_alert_records_who_and_once(desk: Desk) -> None:
    desk.ingest(desk.message("my card 4111 1111 1111 1111 was charged twice"))
    agent = desk.agent("sam")
    [alert] = alerts(desk)

    desk.app.handle(cmd.AcknowledgeAlert(alert_id=alert.id, agent_id=agent.id))
    desk.app.handle(cmd.AcknowledgeAlert(alert_id=alert.id, agent_id=agent.id))

    [acknowledged] = alerts(desk)
    assert acknowledged.acknowledged_by == agent.id and acknowledged.acknowledged_at is not None
    assert len(desk.events(None, "alert.acknowledged")) == 1
    with pytest.raises(NotFound):
        desk.app.handle(cmd.AcknowledgeAlert(alert_id="alr_missing", agent_id=agent.id))


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Careline:
    app = bootstrap(Settings(home=tmp_path / "home"))
    ensure_defaults(app)
    return app


def test_replaying_the_airline_tweets_in_time_order_raises_the_american_surge_once(
    sqlite_app: Careline, data_dir: Path
) -> None:
    """Acceptance (issue 3): a spike where negative volume for one airline jumps, none on a flat stretch, no
    alert twice. American's complaints jump on 22 February 2015 around noon; US Airways swings between 0 and
    about 24 negatives an hour every day from the 17th to the 22nd, which is its normal, not a spike."""
    items = sorted(parse(data_dir / "airline_tweets.csv", "airline").messages, key=lambda m: m.created_at)
    try:
        for start in range(0, len(items), 250):
            sqlite_app.handle(IngestMessages(items=tuple(items[start : start + 250]), create_accounts=True))
        for start in range(0, 2000, 250):  # a second replay of the first part adds nothing
            sqlite_app.handle(IngestMessages(items=tuple(items[start : start + 250]), create_accounts=True))
        with sqlite_app.engine.connect() as db:
            spikes = db.execute(sa.select(t.alerts).where(t.alerts.c.kind == "volume_spike")).all()
            events = db.execute(sa.select(t.events.c.data).where(t.events.c.type == "alert.raised")).all()
    finally:
        sqlite_app.close()

    negative = {(s.key, s.dedup_key.rsplit(":", 2)[-2]) for s in spikes if s.key.endswith("|negative")}
    assert ("brand|American|negative", "2015-02-22T12") in negative
    flat = datetime(2015, 2, 17, tzinfo=UTC), datetime(2015, 2, 22, tzinfo=UTC)
    us_airways = [s for s in spikes if s.key == "brand|US Airways|negative"]
    assert not [s for s in us_airways if flat[0] <= datetime.fromisoformat(s.details["last_spike"]) < flat[1]]
    assert len({s.dedup_key for s in spikes}) == len(spikes)
    announced = Counter(e.data["alert_id"] for e in events)
    assert set(announced.values()) == {1}
    assert len(spikes) <= 15, [s.title for s in spikes]
