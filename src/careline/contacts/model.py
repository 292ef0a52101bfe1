"""Customers and their identities: one identity per channel, mergeable into one person."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from careline.contacts import events as ev
from careline.contacts.events import CustomersMerged
from careline.kernel.errors import Conflict, InvalidInput
from careline.kernel.events import Event

TIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
FIELD = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}")  # a CRM field's name: "plan", "account number"
MAX_NOTES, MAX_FIELDS, MAX_VALUE = 5_000, 30, 200


@dataclasses.dataclass
class Identity:
    """Who the customer is on one channel (an X handle, an email address, a phone number)."""

    channel: str
    external_id: str
    customer_id: str
    handle: str | None = None


@dataclasses.dataclass
class Customer:
    id: str
    display_name: str
    created_at: datetime
    tier: str = "standard"
    merged_into_id: str | None = None
    notes: str = ""  # what the team knows of this person, shown beside every conversation
    fields: dict[str, str] = dataclasses.field(default_factory=dict)  # CRM fields: plan, account number...
    events: list[Event] = dataclasses.field(default_factory=list, repr=False, compare=False)

    def set_tier(self, tier: str, *, at: datetime, actor: str) -> None:
        tier = tier.strip().lower()
        if not TIER.fullmatch(tier):
            raise InvalidInput("a tier is 1-32 lowercase letters, digits, '-' or '_' (standard, silver, gold, vip...)")
        if tier == self.tier:
            return
        previous, self.tier = self.tier, tier
        self.events.append(
            ev.CustomerTierChanged(occurred_at=at, actor=actor, customer_id=self.id, tier=tier, previous_tier=previous)
        )

    def update_profile(self, notes: str, fields: dict[str, str], *, at: datetime, actor: str) -> None:
        """The team's notes and CRM fields (an empty value removes a field)."""
        notes = notes.strip()
        if len(notes) > MAX_NOTES:
            raise InvalidInput(f"customer notes are limited to {MAX_NOTES} characters")
        cleaned: dict[str, str] = {}
        for name, value in fields.items():
            name, value = name.strip(), value.strip()
            if not FIELD.fullmatch(name):
                raise InvalidInput(f"field name {name!r}: 1-40 letters, digits, spaces, '.', '_' or '-'")
            if len(value) > MAX_VALUE:
                raise InvalidInput(f"field {name!r} is limited to {MAX_VALUE} characters")
            if value:
                cleaned[name] = value
        if len(cleaned) > MAX_FIELDS:
            raise InvalidInput(f"a customer has at most {MAX_FIELDS} fields")
        if (notes, cleaned) == (self.notes, self.fields):
            return
        changed = sorted(set(cleaned) ^ set(self.fields) | {k for k in cleaned if self.fields.get(k) != cleaned[k]})
        self.notes, self.fields = notes, cleaned
        self.events.append(
            ev.CustomerProfileChanged(occurred_at=at, actor=actor, customer_id=self.id, fields=tuple(changed))
        )

    def merge_into(self, target: Customer, *, at: datetime, actor: str) -> None:
        """This customer becomes an alias of ``target``; identities and conversations follow."""
        if target.id == self.id:
            raise Conflict("a customer cannot be merged into itself")
        if self.merged_into_id or target.merged_into_id:
            raise Conflict("merge into the surviving customer, not into a merged one")
        self.merged_into_id = target.id
        self.events.append(
            CustomersMerged(occurred_at=at, actor=actor, source_customer_id=self.id, target_customer_id=target.id)
        )
