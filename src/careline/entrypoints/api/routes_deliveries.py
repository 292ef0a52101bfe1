"""Outbound delivery over HTTP: the dead-letter view (replies that failed for good, and sending one again;
docs/channels.md#dead-letters) and delivery/read receipts from generic API bridges (docs/channels.md#receipts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints

from careline.channels.commands import RecordReceipts
from careline.channels.model import ChannelKind
from careline.channels.receipts import Receipt
from careline.conversations import commands as cmd
from careline.conversations import queries
from careline.entrypoints.api.deps import CarelineDep, CurrentAgent, IngestingAgent, ManagerAgent
from careline.entrypoints.api.schemas import Input, MessagePublic, Name, Ref
from careline.kernel.errors import NotFound

router = APIRouter(prefix="/deliveries", tags=["delivery"])


class DeadLetterPublic(BaseModel):
    """A reply the outbox gave up on: where it was going, who wrote it, how often it was tried and why it failed."""

    message_id: str
    conversation_id: str
    channel: str
    account: str
    visibility: str
    text: str
    agent_id: str | None
    agent: str | None
    created_at: datetime
    attempts: int
    last_error: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterPublic]
    total: int


@router.get("/failed")
def failed_deliveries(
    careline: CarelineDep,
    _manager: ManagerAgent,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
) -> DeadLetterPage:
    """Replies whose delivery failed for good, newest first (supervisors and admins)."""
    items, total = queries.failed_deliveries(careline.engine, limit)
    return DeadLetterPage(items=[DeadLetterPublic.model_validate(item) for item in items], total=total)


@router.post("/{message_id}/retry")
def retry_delivery(careline: CarelineDep, agent: CurrentAgent, message_id: Ref) -> MessagePublic:
    """Send a failed reply back to the outbox for a fresh round of attempts, with the same idempotency key."""
    careline.handle(cmd.RetryDelivery(message_id=message_id, agent_id=agent.id))
    return MessagePublic.model_validate(queries.get_message(careline.engine, message_id))


PlatformId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ReceiptsCreate(Input):
    """A bridge reports that the customer received (``delivered``) or saw (``read``) replies it published, named
    by the platform ids its callback answered with."""

    account: Name
    status: Literal["delivered", "read"]
    platform_message_ids: Annotated[list[PlatformId], Field(min_length=1, max_length=1000)]


class ReceiptsResult(BaseModel):
    updated: int  # replies whose status moved forward (repeats and older news change nothing)


@router.post("/receipts")
def post_receipts(careline: CarelineDep, _bridge: IngestingAgent, body: ReceiptsCreate) -> ReceiptsResult:
    """Delivery and read receipts for a generic API channel account's replies; idempotent."""
    with careline.uow(read_only=True) as uow:
        account = uow.accounts.find(ChannelKind.API.value, body.account)
    if account is None:
        raise NotFound(f"no API channel account {body.account!r}")
    receipt = Receipt(status=body.status, reader="", platform_message_ids=tuple(body.platform_message_ids))
    updated: int = careline.handle(RecordReceipts(account_id=account.id, receipts=(receipt,)))
    return ReceiptsResult(updated=updated)
