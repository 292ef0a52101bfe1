"""Routing: agents' routing profiles, queue targets, the workflow, offers and every decision's reasons
(docs/api.md#routing)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from careline.agents import commands as admin
from careline.entrypoints.api.deps import CarelineDep, CurrentAgent, ManagerAgent
from careline.entrypoints.api.schemas import Ref
from careline.entrypoints.api.schemas_routing import (
    ConversationRoutingPublic,
    OfferPublic,
    OfferReject,
    QueueRoutingPublic,
    QueueRoutingUpdate,
    RoutingProfilePublic,
    RoutingProfileUpdate,
    RoutingSettingsPublic,
    TicketPublic,
)
from careline.kernel.errors import InvalidInput
from careline.routing import commands as cmd
from careline.routing.config import RoutingSettings

router = APIRouter(tags=["routing"])


@router.get("/agents/{agent_id}/routing-profile")
def get_profile(careline: CarelineDep, _agent: CurrentAgent, agent_id: Ref) -> RoutingProfilePublic:
    with careline.uow(read_only=True) as uow:
        return RoutingProfilePublic.of(uow.agents.get(agent_id))


@router.put("/agents/{agent_id}/routing-profile")
def set_profile(
    careline: CarelineDep, manager: ManagerAgent, agent_id: Ref, body: RoutingProfileUpdate
) -> RoutingProfilePublic:
    agent = careline.handle(
        admin.SetRoutingProfile(
            agent_id=agent_id,
            proficiency=tuple(body.skills.items()),
            languages=tuple(body.languages),
            teams=tuple(body.teams),
            seniority=body.seniority,
            attributes=tuple(body.attributes.items()),
            capacity=tuple(body.capacity.items()),
            units=body.units,
            actor_id=manager.id,
        )
    )
    return RoutingProfilePublic.of(agent)


@router.get("/queues/{queue_id}/routing")
def get_queue_routing(careline: CarelineDep, _agent: CurrentAgent, queue_id: Ref) -> QueueRoutingPublic:
    with careline.uow(read_only=True) as uow:
        return QueueRoutingPublic.of(uow.queues.get(queue_id))


@router.put("/queues/{queue_id}/routing")
def set_queue_routing(
    careline: CarelineDep, manager: ManagerAgent, queue_id: Ref, body: QueueRoutingUpdate
) -> QueueRoutingPublic:
    queue = careline.handle(
        admin.SetQueueRouting(
            queue_id=queue_id,
            target=body.target,
            first_response_target_seconds=body.first_response_target_seconds,
            next_response_target_seconds=body.next_response_target_seconds,
            business_hours=tuple(body.business_hours.items()),
            selection=body.selection,
            actor_id=manager.id,
        )
    )
    return QueueRoutingPublic.of(queue)


@router.get("/routing/settings")
def get_settings(careline: CarelineDep, _agent: CurrentAgent) -> RoutingSettingsPublic:
    with careline.uow(read_only=True) as uow:
        spec, version = uow.routing.settings()
        queues = {q.id: q for q in uow.queues.all()}
    return RoutingSettingsPublic(version=version, settings=RoutingSettings.parse(spec, queues).to_spec())


@router.put("/routing/settings")
def put_settings(
    careline: CarelineDep, manager: ManagerAgent, body: Annotated[dict[str, Any], Body()]
) -> RoutingSettingsPublic:
    """Replace the workflow and options; refused as a whole (422, with where) when anything in it is wrong."""
    if not isinstance(body, dict):
        raise InvalidInput("routing settings must be a JSON object")
    settings = careline.handle(cmd.SaveRoutingSettings(spec=body, actor_id=manager.id))
    with careline.uow(read_only=True) as uow:
        version = uow.routing.version()
    return RoutingSettingsPublic(version=version, settings=settings.to_spec())


@router.get("/offers")
def my_offers(careline: CarelineDep, agent: CurrentAgent, status: str = "pending") -> list[OfferPublic]:
    """The caller's offers (pending ones by default), each with the reasons it was made."""
    if status not in ("pending", "accepted", "rejected", "expired", "revoked"):
        raise InvalidInput("status must be pending, accepted, rejected, expired or revoked")
    with careline.uow(read_only=True) as uow:
        return [OfferPublic.of(o) for o in uow.routing.offers_of_agent(agent.id, status)]


@router.post("/offers/{offer_id}/accept")
def accept_offer(careline: CarelineDep, agent: CurrentAgent, offer_id: Ref) -> OfferPublic:
    return OfferPublic.of(careline.handle(cmd.AcceptOffer(offer_id=offer_id, agent_id=agent.id)))


@router.post("/offers/{offer_id}/reject")
def reject_offer(
    careline: CarelineDep, agent: CurrentAgent, offer_id: Ref, body: OfferReject | None = None
) -> OfferPublic:
    reason = body.reason if body else None
    return OfferPublic.of(careline.handle(cmd.RejectOffer(offer_id=offer_id, agent_id=agent.id, reason=reason)))


@router.get("/conversations/{conversation_id}/routing")
def conversation_routing(
    careline: CarelineDep, _agent: CurrentAgent, conversation_id: Ref
) -> ConversationRoutingPublic:
    """Where the conversation stands in routing and why each offer went to whom: the route and step, the
    queue and its target, the values the agent matched on, the selection rule."""
    with careline.uow(read_only=True) as uow:
        uow.conversations.get(conversation_id)  # 404 for an unknown one
        ticket = uow.routing.ticket(conversation_id)
        position = None
        if ticket is not None and ticket.waiting:
            position = uow.routing.waiting_count(ticket.pool, ticket.channel, ticket.sort_key) + 1
        offers = [OfferPublic.of(o) for o in uow.routing.offers_of_conversation(conversation_id)]
    return ConversationRoutingPublic(
        conversation_id=conversation_id,
        ticket=TicketPublic.of(ticket, position) if ticket else None,
        offers=offers,
    )
