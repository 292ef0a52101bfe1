"""Events of alerts: the in-app delivery (the event log and the live feed) of what supervisors must see."""

from __future__ import annotations

import dataclasses
from typing import Any

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlertRaised(Event):
    name = "alert.raised"
    alert_id: str
    kind: str  # volume_spike | listening | angry_influential | public_personal_data | risk_words
    rule: str
    key: str
    severity: str
    title: str
    post_ids: tuple[str, ...]
    details: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlertAcknowledged(Event):
    name = "alert.acknowledged"
    alert_id: str
    agent_id: str
