"""What alerting needs from storage (implemented in adapters/db/alerts.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from careline.alerts.model import Alert


@dataclasses.dataclass(frozen=True)
class Subscription:
    id: str
    kind: str  # webhook | email
    target: str
    min_severity: str
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class SpikeEpisode:
    dedup_key: str  # of the alert that opened it
    last_spike: datetime  # the latest bucket that spiked


class AlertRepository(Protocol):
    def insert(self, alert_id: str, alert: Alert, raised_at: datetime, details: Mapping[str, Any]) -> bool:
        """Store an alert; False (and nothing stored) when its dedup key was raised before."""
        ...

    def add_posts(self, dedup_key: str, post_ids: Sequence[str]) -> None: ...
    def count(self, increments: Mapping[tuple[str, datetime], int]) -> dict[tuple[str, datetime], int]:
        """Add to the volume of each (key, bucket); the new totals."""
        ...

    def volumes(self, keys: Collection[str], since: datetime, until: datetime) -> dict[str, dict[datetime, int]]:
        """Counted buckets of these keys in [since, until), by key."""
        ...

    def counting_since(self) -> datetime | None: ...
    def latest_episode(self, key: str) -> SpikeEpisode | None: ...
    def extend_episode(self, dedup_key: str, bucket: datetime) -> None: ...
    def acknowledge(self, alert_id: str, agent_id: str, at: datetime) -> bool: ...
    def subscriptions(self) -> list[Subscription]: ...
    def add_subscription(self, subscription: Subscription) -> None: ...
    def delete_subscription(self, subscription_id: str) -> None: ...
