"""What routing decided, in the event log: offers and their answers, escalations, SLA warnings and breaches."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class OfferMade(Event):
    name = "routing.offer_made"
    offer_id: str
    agent_id: str
    queue_id: str
    route: str
    step: int
    selection: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OfferAccepted(Event):
    name = "routing.offer_accepted"
    offer_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OfferDeclined(Event):
    """An offer that fell through: rejected by the agent, expired unanswered, or revoked (the agent left)."""

    name = "routing.offer_declined"
    offer_id: str
    agent_id: str
    outcome: str  # rejected | expired | revoked
    reason: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoutingEscalated(Event):
    name = "routing.escalated"
    from_queue_id: str
    to_queue_id: str
    step: int  # the step it moved to, 1-based
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SlaWarning(Event):
    name = "routing.sla_warning"
    queue_id: str
    deadline: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SlaBreached(Event):
    name = "routing.sla_breached"
    queue_id: str
    deadline: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoutingSettingsChanged(Event):
    name = "routing.settings_changed"
    version: int
