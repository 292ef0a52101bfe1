"""Writes of the contacts context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from careline.contacts.commands import MergeCustomers, SetCustomerTier, UpdateCustomerProfile
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict
from careline.kernel.events import Event
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]


class ContactHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {MergeCustomers: self.merge, SetCustomerTier: self.set_tier, UpdateCustomerProfile: self.set_profile}

    def set_profile(self, c: UpdateCustomerProfile) -> Result:
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            [customer] = uow.customers.locked(c.customer_id)
            customer.update_profile(c.notes, dict(c.fields), at=self._clock(), actor=f"agent:{c.agent_id}")
            return customer.id, uow.commit()

    def set_tier(self, c: SetCustomerTier) -> Result:
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            [customer] = uow.customers.locked(c.customer_id)
            customer.set_tier(c.tier, at=self._clock(), actor=f"agent:{c.agent_id}")
            return customer.id, uow.commit()

    def merge(self, c: MergeCustomers) -> Result:
        """Identities, conversations and messages of the source follow the surviving target."""
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            if c.source_customer_id == c.target_customer_id:
                raise Conflict("a customer cannot be merged into itself")
            source, target = uow.customers.locked(c.source_customer_id, c.target_customer_id)
            source.merge_into(target, at=self._clock(), actor=f"agent:{c.agent_id}")
            uow.customers.move_everything(source.id, target.id)
            return target.id, uow.commit()
