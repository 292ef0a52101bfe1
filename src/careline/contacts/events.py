"""Events of the contacts context."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomerCreated(Event):
    name = "customer.created"
    customer_id: str
    channel: str
    external_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomersMerged(Event):
    name = "customer.merged"
    source_customer_id: str
    target_customer_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomerTierChanged(Event):
    name = "customer.tier_changed"
    customer_id: str
    tier: str
    previous_tier: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CustomerProfileChanged(Event):
    """The notes or CRM fields changed (the fields named; values stay out of the log)."""

    name = "customer.profile_changed"
    customer_id: str
    fields: tuple[str, ...] = ()
