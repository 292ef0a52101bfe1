"""Commands of the contacts context."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class MergeCustomers:
    """The same person reached us on two channels: ``source`` becomes part of ``target``."""

    source_customer_id: str
    target_customer_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetCustomerTier:
    """The customer's tier (standard, silver, gold, vip or the contact center's own): it weighs in priority."""

    customer_id: str
    tier: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpdateCustomerProfile:
    """The team's notes and CRM fields of a customer (an empty value removes a field)."""

    customer_id: str
    agent_id: str
    notes: str = ""
    fields: tuple[tuple[str, str], ...] = ()
