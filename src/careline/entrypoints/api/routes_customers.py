"""Customers: one person, one identity per channel, mergeable (docs/api.md#customers)."""

from __future__ import annotations

from fastapi import APIRouter

from careline.contacts.commands import MergeCustomers, SetCustomerTier
from careline.entrypoints.api.deps import CarelineDep, CurrentAgent, ManagerAgent
from careline.entrypoints.api.schemas import CustomerMerge, CustomerPublic, IdentityPublic, Ref, TierUpdate

router = APIRouter(prefix="/customers", tags=["customers"])


def _read(careline: CarelineDep, customer_id: str) -> CustomerPublic:
    with careline.uow(read_only=True) as uow:
        customer = uow.customers.get(customer_id)
        identities = uow.customers.identities_of(customer_id)
    return CustomerPublic(
        id=customer.id,
        display_name=customer.display_name,
        tier=customer.tier,
        merged_into_id=customer.merged_into_id,
        identities=[IdentityPublic(channel=i.channel, external_id=i.external_id, handle=i.handle) for i in identities],
    )


@router.get("/{customer_id}")
def get_customer(careline: CarelineDep, _agent: CurrentAgent, customer_id: Ref) -> CustomerPublic:
    """The customer and their identities on every channel."""
    return _read(careline, customer_id)


@router.post("/{customer_id}/merge")
def merge(careline: CarelineDep, agent: ManagerAgent, customer_id: Ref, body: CustomerMerge) -> CustomerPublic:
    """The same person on two channels: this customer's identities and conversations move to ``into``."""
    target = careline.handle(
        MergeCustomers(source_customer_id=customer_id, target_customer_id=body.into, agent_id=agent.id)
    )
    return _read(careline, target)


@router.put("/{customer_id}/tier")
def set_tier(careline: CarelineDep, agent: ManagerAgent, customer_id: Ref, body: TierUpdate) -> CustomerPublic:
    """The customer's tier (standard, silver, gold, vip, ...): a vip's next post is triaged higher."""
    careline.handle(SetCustomerTier(customer_id=customer_id, tier=body.tier, agent_id=agent.id))
    return _read(careline, customer_id)
