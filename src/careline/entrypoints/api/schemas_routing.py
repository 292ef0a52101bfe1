"""What the routing API accepts and returns (docs/api.md#routing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from careline.agents.model import Agent, Queue
from careline.entrypoints.api.schemas import MAX_TARGET_SECONDS, Capacity, Input, Label, Text
from careline.routing.model import Ticket


class RoutingProfileUpdate(Input):
    skills: dict[Label, int] = Field(default_factory=dict, description="skill -> proficiency 1..10")
    languages: list[Label] = Field(default_factory=list, max_length=50)
    teams: list[Label] = Field(default_factory=list, max_length=50)
    seniority: int = Field(default=0, ge=0, le=100)
    attributes: dict[Label, Any] = Field(default_factory=dict)
    capacity: dict[Label, Capacity] = Field(default_factory=dict, description="channel (or default) -> at once")
    units: int = Field(default=100, ge=1, le=1000, description="weighted capacity across channels")


class RoutingProfilePublic(BaseModel):
    agent_id: str
    skills: dict[str, int]
    languages: list[str]
    teams: list[str]
    seniority: int
    attributes: dict[str, Any]
    capacity: dict[str, int]
    units: int
    status: str

    @classmethod
    def of(cls, agent: Agent) -> RoutingProfilePublic:
        attributes = agent.routing_attributes()
        return cls(
            agent_id=agent.id,
            skills=attributes["skills"],
            languages=list(agent.languages),
            teams=list(agent.teams),
            seniority=agent.seniority,
            attributes=dict(agent.attributes),
            capacity=dict(agent.capacity),
            units=agent.units,
            status=agent.status.value,
        )


class QueueRoutingUpdate(Input):
    target: Text | None = Field(default=None, max_length=2000, description="over agent attributes; null: skills")
    first_response_target_seconds: int = Field(default=3600, gt=0, le=MAX_TARGET_SECONDS)
    next_response_target_seconds: int | None = Field(default=None, gt=0, le=MAX_TARGET_SECONDS)
    business_hours: dict[str, Any] = Field(default_factory=dict)
    selection: str = "longest_idle"


class QueueRoutingPublic(BaseModel):
    queue_id: str
    name: str
    target: str
    first_response_target_seconds: int
    next_response_target_seconds: int | None
    business_hours: dict[str, Any]
    selection: str
    manual: bool

    @classmethod
    def of(cls, queue: Queue) -> QueueRoutingPublic:
        return cls(
            queue_id=queue.id,
            name=queue.name,
            target=queue.target_source(),
            first_response_target_seconds=queue.first_response_target_seconds,
            next_response_target_seconds=queue.next_response_target_seconds,
            business_hours=dict(queue.business_hours),
            selection=queue.selection,
            manual=queue.is_triage,
        )


class RoutingSettingsPublic(BaseModel):
    version: int
    settings: dict[str, Any]


class OfferReject(Input):
    reason: Text | None = Field(default=None, max_length=500)


class OfferPublic(BaseModel):
    id: str
    conversation_id: str
    agent_id: str
    queue_id: str
    status: str
    offered_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    reason: str | None
    explanation: dict[str, Any]

    @classmethod
    def of(cls, offer: dict[str, Any]) -> OfferPublic:
        return cls.model_validate({name: offer.get(name) for name in cls.model_fields})


class TicketPublic(BaseModel):
    waiting: bool
    route: str | None
    step: int
    queue_id: str
    channel: str
    arrived_at: datetime
    deadline: datetime
    sla_state: str
    position: int | None
    escalations: list[dict[str, Any]]
    rejected_by: list[str]

    @classmethod
    def of(cls, ticket: Ticket, position: int | None) -> TicketPublic:
        return cls(
            waiting=ticket.waiting,
            route=ticket.route,
            step=ticket.step + 1,
            queue_id=ticket.queue_id,
            channel=ticket.channel,
            arrived_at=ticket.arrived_at,
            deadline=ticket.deadline,
            sla_state=ticket.sla_state,
            position=position,
            escalations=ticket.escalations,
            rejected_by=ticket.rejected_by,
        )


class ConversationRoutingPublic(BaseModel):
    conversation_id: str
    ticket: TicketPublic | None
    offers: list[OfferPublic]
