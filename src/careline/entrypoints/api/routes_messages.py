"""Inbound messages over HTTP: one or up to 1000, each validated on its own (docs/api.md#messages).

A bad item never costs the good ones: every item is validated alone, the valid ones are ingested in
one command, and the answer (sent after that command committed) reports each item by its index. A request
naming an account that has a signing secret must be signed with it (docs/channels.md#signing-requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from careline.channels.model import SecretsUnreadable
from careline.channels.signing import (
    SIGNATURE_HEADER,
    SIGNING_SECRET,
    TIMESTAMP_HEADER,
    SignatureInvalid,
    verify,
)
from careline.entrypoints.api.deps import CarelineDep, IngestingAgent, JsonBody, RawBody
from careline.entrypoints.api.schemas import IngestItemPublic, IngestPublic, MessageCreate, describe_errors
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult, InboundMessage

router = APIRouter(tags=["messages"])

MAX_BATCH = 1000
_item = TypeAdapter(MessageCreate)
Signature = Annotated[
    str | None,
    Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC of '{timestamp}.{body}'>, for signed accounts"),
]
Timestamp = Annotated[
    str | None, Header(alias=TIMESTAMP_HEADER, description="unix seconds the signature was made at (±5 min)")
]


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": IngestPublic, "description": "every message was a duplicate"},
        401: {"description": "no valid token, or a signed account's signature is missing, wrong or stale"},
        422: {"model": IngestPublic, "description": "some messages were rejected; the valid ones are stored"},
    },
)
def post_messages(
    careline: CarelineDep,
    _agent: IngestingAgent,
    payload: JsonBody,
    body: RawBody,
    signature: Signature = None,
    timestamp: Timestamp = None,
) -> JSONResponse:
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
        _check_signatures(careline, [message for _, message in valid], body, signature, timestamp)
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


def _check_signatures(
    careline: CarelineDep, messages: Sequence[InboundMessage], body: bytes, signature: str | None, timestamp: str | None
) -> None:
    """Each account of the request that has a signing secret must find its signature in the header; else 401
    and nothing is stored. (One signature per secret: a batch may name several signed accounts.)"""
    now = careline.clock().timestamp()
    with careline.uow(read_only=True) as uow:
        named = sorted({(message.channel, message.account) for message in messages})
        accounts = [account for key in named if (account := uow.accounts.find(*key)) is not None]
    for account in accounts:
        if SIGNING_SECRET not in account.secrets.names:
            continue
        try:
            secret = account.secrets[SIGNING_SECRET]
        except SecretsUnreadable as error:  # this server cannot check: refuse rather than take it unchecked
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
        try:
            verify(secret, body, signature, timestamp, now)
        except SignatureInvalid as error:
            detail = f"channel account {account.kind.value}/{account.name}: {error}"
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail) from None


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
