"""Inbound messages over HTTP: one or up to 1000, each validated on its own (docs/api.md#messages).

A bad item never costs the good ones: every item is validated alone, the valid ones are ingested in
one command, and the answer (sent after that command committed) reports each item by its index.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from careline.entrypoints.api.deps import CarelineDep, IngestingAgent, JsonBody
from careline.entrypoints.api.schemas import IngestItemPublic, IngestPublic, MessageCreate, describe_errors
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult, InboundMessage

router = APIRouter(tags=["messages"])

MAX_BATCH = 1000
_item = TypeAdapter(MessageCreate)


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": IngestPublic, "description": "every message was a duplicate"},
        422: {"model": IngestPublic, "description": "some messages were rejected; the valid ones are stored"},
    },
)
def post_messages(careline: CarelineDep, _agent: IngestingAgent, payload: JsonBody) -> JSONResponse:
    """Ingest one message (an object) or a batch (a list); the answer reports each by its index.

    Admins and integration accounts only: a message's author, direction and time are taken as sent, so an
    agent able to post could write as any customer, or fake first responses in the SLA report.
    """
    items = _as_list(payload)
    results: dict[int, IngestItemPublic] = {}
    valid: list[tuple[int, InboundMessage]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, _item.validate_python(item).to_inbound()))
        except ValidationError as error:
            results[index] = IngestItemPublic(index=index, status="rejected", error=describe_errors(error.errors()))
    if valid:
        batch = _ingest(careline, tuple(message for _, message in valid))
        for (index, _), outcome in zip(valid, batch.items, strict=True):
            results[index] = IngestItemPublic(
                index=index,
                status=outcome.status,  # type: ignore[arg-type]
                message_id=outcome.message_id,
                conversation_id=outcome.conversation_id,
                error=outcome.error,
            )
    return _answer([results[i] for i in range(len(items))])


def _as_list(payload: Any) -> list[Any]:
    if isinstance(payload, dict):
        return [payload]
    if not isinstance(payload, list):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "the body must be a message object or a list of them"
        )
    if not payload:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the list of messages is empty")
    if len(payload) > MAX_BATCH:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"{len(payload)} messages in one request; the limit is {MAX_BATCH}"
        )
    return payload


def _ingest(careline: CarelineDep, messages: tuple[InboundMessage, ...]) -> BatchResult:
    """The live path does not create channel accounts; races with concurrent batches retry in the Ingestor."""
    result: BatchResult = careline.handle(IngestMessages(items=messages, create_accounts=False))
    return result


def _answer(results: list[IngestItemPublic]) -> JSONResponse:
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "duplicate", "rejected")}
    detail = None
    if counts["rejected"]:
        problems = "; ".join(f"[{r.index}] {r.error}" for r in results if r.status == "rejected")
        detail = f"{counts['rejected']} of {len(results)} messages rejected: {problems}"
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    elif counts["created"]:
        code = status.HTTP_201_CREATED
    else:
        code = status.HTTP_200_OK
    body = IngestPublic(
        results=results,
        created=counts["created"],
        duplicates=counts["duplicate"],
        rejected=counts["rejected"],
        detail=detail,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=code)
