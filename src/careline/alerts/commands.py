"""Commands of alerts: acknowledging one, and where alerts are sent besides the app."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class AcknowledgeAlert:
    alert_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CreateAlertSubscription:
    kind: str  # webhook | email
    target: str  # an http(s) URL, or an email address
    min_severity: str = "warning"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeleteAlertSubscription:
    subscription_id: str
