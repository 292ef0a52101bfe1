"""Row <-> domain object mapping for the SQL repositories."""

from __future__ import annotations

from typing import Any

from careline.agents.model import Agent, AgentStatus, Queue, Role
from careline.channels.model import ChannelAccount, ChannelKind
from careline.contacts.model import Customer
from careline.conversations.model import Conversation, Direction, Message, Status, Visibility


def conversation_from_row(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        channel_account_id=row.channel_account_id,
        customer_id=row.customer_id,
        thread_key=row.thread_key,
        queue_id=row.queue_id,
        created_at=row.created_at,
        last_message_at=row.last_message_at,
        status=Status(row.status),
        priority=row.priority,
        assignee_id=row.assignee_id,
        tags=set(row.tags or ()),
        private_conversation_id=row.private_conversation_id,
        first_inbound_at=row.first_inbound_at,
        first_response_at=row.first_response_at,
        sentiment_label=row.sentiment_label,
        category=row.category,
        angry=row.angry,
        action=row.action,
        priority_explanation=row.priority_explanation,
        version=row.version,
    )


def conversation_to_row(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "channel_account_id": c.channel_account_id,
        "customer_id": c.customer_id,
        "thread_key": c.thread_key,
        "queue_id": c.queue_id,
        "status": c.status.value,
        "priority": c.priority,
        "assignee_id": c.assignee_id,
        "tags": sorted(c.tags),
        "private_conversation_id": c.private_conversation_id,
        "first_inbound_at": c.first_inbound_at,
        "first_response_at": c.first_response_at,
        "sentiment_label": c.sentiment_label,
        "category": c.category,
        "angry": c.angry,
        "action": c.action,
        "priority_explanation": c.priority_explanation,
        "created_at": c.created_at,
        "last_message_at": c.last_message_at,
        "version": c.version,
    }


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        channel_account_id=row.channel_account_id,
        direction=Direction(row.direction),
        visibility=Visibility(row.visibility),
        text=row.text,
        created_at=row.created_at,
        received_at=row.received_at,
        platform_message_id=row.platform_message_id,
        reply_to_platform_id=row.reply_to_platform_id,
        author_external_id=row.author_external_id,
        customer_id=row.customer_id,
        agent_id=row.agent_id,
        raw=row.raw,
        sentiment_label=row.sentiment_label,
        sentiment_score=row.sentiment_score,
        delivery_status=row.delivery_status,
        language=row.language,
        pii=tuple(row.pii or ()),
        masked_text=row.masked_text,
        triage=row.triage,
    )


def message_to_row(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "channel_account_id": m.channel_account_id,
        "platform_message_id": m.platform_message_id,
        "direction": m.direction.value,
        "visibility": m.visibility.value,
        "text": m.text,
        "author_external_id": m.author_external_id,
        "customer_id": m.customer_id,
        "agent_id": m.agent_id,
        "reply_to_platform_id": m.reply_to_platform_id,
        "created_at": m.created_at,
        "received_at": m.received_at,
        "raw": m.raw,
        "sentiment_label": m.sentiment_label,
        "sentiment_score": m.sentiment_score,
        "delivery_status": m.delivery_status,
        "language": m.language,
        "pii": list(m.pii) or None,
        "masked_text": m.masked_text,
        "triage": m.triage,
    }


def account_from_row(row: Any) -> ChannelAccount:
    return ChannelAccount(
        id=row.id,
        kind=ChannelKind(row.kind),
        name=row.name,
        created_at=row.created_at,
        callback_url=row.callback_url,
        config=dict(row.config or {}),
    )


def customer_from_row(row: Any) -> Customer:
    return Customer(
        id=row.id,
        display_name=row.display_name,
        created_at=row.created_at,
        tier=row.tier,
        merged_into_id=row.merged_into_id,
        notes=row.notes or "",
        fields=dict(row.fields or {}),
    )


def agent_from_row(row: Any) -> Agent:
    return Agent(
        id=row.id,
        name=row.name,
        email=row.email,
        role=Role(row.role),
        created_at=row.created_at,
        skills=frozenset(row.skills or ()),
        capacity=dict(row.capacity or {}),
        status=AgentStatus(row.status),
        available_since=row.available_since,
        password_hash=row.password_hash,
        proficiency=dict(row.proficiency or {}),
        languages=tuple(row.languages or ()),
        teams=tuple(row.teams or ()),
        seniority=row.seniority,
        attributes=dict(row.attributes or {}),
        units=row.units,
        needs_approval=row.needs_approval,
    )


def agent_to_row(a: Agent) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "role": a.role.value,
        "skills": sorted(a.skills),
        "capacity": a.capacity,
        "status": a.status.value,
        "available_since": a.available_since,
        "password_hash": a.password_hash,
        "created_at": a.created_at,
        "proficiency": a.proficiency,
        "languages": list(a.languages),
        "teams": list(a.teams),
        "seniority": a.seniority,
        "attributes": a.attributes,
        "units": a.units,
        "needs_approval": a.needs_approval,
    }


def queue_from_row(row: Any) -> Queue:
    return Queue(
        id=row.id,
        name=row.name,
        required_skills=frozenset(row.required_skills or ()),
        first_response_target_seconds=row.first_response_target_seconds,
        keywords=tuple(row.keywords or ()),
        rank=row.rank,
        is_default=row.is_default,
        is_triage=row.is_triage,
        target=row.target,
        next_response_target_seconds=row.next_response_target_seconds,
        business_hours=dict(row.business_hours or {}),
        selection=row.selection,
    )


def queue_to_row(q: Queue) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name,
        "required_skills": sorted(q.required_skills),
        "first_response_target_seconds": q.first_response_target_seconds,
        "keywords": list(q.keywords),
        "rank": q.rank,
        "is_default": q.is_default,
        "is_triage": q.is_triage,
        "target": q.target,
        "next_response_target_seconds": q.next_response_target_seconds,
        "business_hours": q.business_hours,
        "selection": q.selection,
    }
