"""Commands of the routing context: answers to offers, and the deployment's routing settings."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class AcceptOffer:
    offer_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RejectOffer:
    offer_id: str
    agent_id: str
    reason: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SaveRoutingSettings:
    spec: dict[str, Any]
    actor_id: str | None = None
