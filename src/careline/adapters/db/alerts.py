"""SQL repository of alerts, spike volumes and alert subscriptions (docs/alerts.md).

Volumes are counted with an upsert that adds (``count = count + n``), so concurrent ingestion processes never
lose each other's posts; alerts are inserted with ON CONFLICT DO NOTHING on their dedup key, so a race between
two processes stores one alert and tells the other it was not first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from careline.adapters.db import tables as t
from careline.alerts.model import MAX_POST_IDS, Alert
from careline.alerts.ports import SpikeEpisode, Subscription
from careline.kernel.errors import NotFound


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL have it)."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


class AlertRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def insert(self, alert_id: str, alert: Alert, raised_at: datetime, details: Mapping[str, Any]) -> bool:
        statement = (
            _insert(self._db, t.alerts)
            .values(
                id=alert_id,
                kind=alert.kind,
                rule=alert.rule,
                key="|".join(alert.key),
                severity=alert.severity,
                title=alert.title,
                dedup_key=alert.dedup_key,
                post_ids=list(alert.post_ids),
                details=dict(details),
                raised_at=raised_at,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(t.alerts.c.id)
        )
        # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT ... ON CONFLICT.
        return self._db.execute(statement).first() is not None

    def add_posts(self, dedup_key: str, post_ids: Sequence[str]) -> None:
        a = t.alerts.c
        row = self._db.execute(sa.select(a.post_ids).where(a.dedup_key == dedup_key)).first()
        if row is None:
            return
        merged = list(dict.fromkeys([*row.post_ids, *post_ids]))[:MAX_POST_IDS]
        self._db.execute(sa.update(t.alerts).where(a.dedup_key == dedup_key).values(post_ids=merged))

    def count(self, increments: Mapping[tuple[str, datetime], int]) -> dict[tuple[str, datetime], int]:
        if not increments:
            return {}
        v = t.volume_counts.c
        # One statement for the batch, rows in a fixed order: two writers never deadlock on them.
        rows = [{"key": key, "bucket_start": bucket, "count": n} for (key, bucket), n in sorted(increments.items())]
        statement = _insert(self._db, t.volume_counts).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["key", "bucket_start"], set_={"count": v.count + statement.excluded.count}
        ).returning(v.key, v.bucket_start, v.count.label("posts"))
        return {(row.key, row.bucket_start): int(row.posts) for row in self._db.execute(statement)}

    def volumes(self, keys: Collection[str], since: datetime, until: datetime) -> dict[str, dict[datetime, int]]:
        v = t.volume_counts.c
        query = sa.select(v.key, v.bucket_start, v.count.label("posts")).where(
            v.key.in_(sorted(keys)), v.bucket_start >= since, v.bucket_start < until
        )
        found: dict[str, dict[datetime, int]] = {}
        for row in self._db.execute(query):
            found.setdefault(row.key, {})[row.bucket_start] = row.posts
        return found

    def counting_since(self) -> datetime | None:
        value: datetime | None = self._db.execute(sa.select(sa.func.min(t.volume_counts.c.bucket_start))).scalar()
        if value is not None and value.tzinfo is None:  # an aggregate skips the column type on SQLite
            value = t.UTCDateTime().process_result_value(value, self._db.dialect)
        return value

    def latest_episode(self, key: str) -> SpikeEpisode | None:
        a = t.alerts.c
        query = (
            sa.select(a.dedup_key, a.details)
            .where(a.kind == "volume_spike", a.key == key)
            .order_by(a.raised_at.desc(), a.id.desc())
            .limit(1)
        )
        row = self._db.execute(query).first()
        if row is None:
            return None
        return SpikeEpisode(row.dedup_key, datetime.fromisoformat(row.details["last_spike"]))

    def extend_episode(self, dedup_key: str, bucket: datetime) -> None:
        a = t.alerts.c
        row = self._db.execute(sa.select(a.details).where(a.dedup_key == dedup_key)).first()
        if row is not None:
            details = {**row.details, "last_spike": bucket.isoformat()}
            self._db.execute(sa.update(t.alerts).where(a.dedup_key == dedup_key).values(details=details))

    def acknowledge(self, alert_id: str, agent_id: str, at: datetime) -> bool:
        a = t.alerts.c
        if self._db.execute(sa.select(a.id).where(a.id == alert_id)).first() is None:
            raise NotFound(f"alert {alert_id} does not exist")
        done = self._db.execute(
            sa.update(t.alerts)
            .where(a.id == alert_id, a.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=agent_id)
        )
        return done.rowcount == 1

    def subscriptions(self) -> list[Subscription]:
        s = t.alert_subscriptions.c
        rows = self._db.execute(sa.select(t.alert_subscriptions).order_by(s.created_at, s.id))
        return [Subscription(r.id, r.kind, r.target, r.min_severity, r.created_at) for r in rows]

    def add_subscription(self, subscription: Subscription) -> None:
        self._db.execute(
            sa.insert(t.alert_subscriptions).values(
                id=subscription.id,
                kind=subscription.kind,
                target=subscription.target,
                min_severity=subscription.min_severity,
                created_at=subscription.created_at,
            )
        )

    def delete_subscription(self, subscription_id: str) -> None:
        self._db.execute(sa.delete(t.alert_subscriptions).where(t.alert_subscriptions.c.id == subscription_id))
