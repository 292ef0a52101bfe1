"""X's Account Activity webhook for one X account: the CRC check and signed deliveries
(docs/channels.md#x-twitter, docs/api.md#x-webhooks).

Thin: a delivery is verified and stored (entrypoints/api/webhook_inbox.py) before it is answered, then processed:
parsed (channels/adapters/x.py) and ingested, idempotent on the platform ids (tweet id, direct message event id),
so X's retries and repeats store nothing twice.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, status
from pydantic import BaseModel

from careline.channels.adapters.x import SIGNATURE_HEADER, crc_response, parse_activity, signature_matches
from careline.channels.model import ChannelAccount, ChannelKind
from careline.entrypoints.api.deps import CarelineDep, RawBody
from careline.entrypoints.api.webhook_inbox import receive_json, webhook_account, webhook_secret
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/x", tags=["webhooks"])

SOURCE = "x"  # the webhook inbox's name for these deliveries
CONSUMER_SECRET = "consumer_secret"
AccountRef = Annotated[str, Path(min_length=1, max_length=200, description="the account's id or name")]
Signature = Annotated[
    str | None,
    Header(alias=SIGNATURE_HEADER, description="sha256=<base64 HMAC-SHA256 of the raw body, consumer secret>"),
]


class CrcAnswer(BaseModel):
    response_token: str


class WebhookResult(BaseModel):
    """What a delivery did: messages stored, repeats of stored ones, items ignored on purpose."""

    created: int = 0
    duplicates: int = 0
    ignored: int = 0
    repeat: bool = False  # the same bytes were received before: nothing was done twice
    queued: bool = False  # stored, but processing failed just now: a worker tries again (docs/channels.md#delivery)


@router.get("/{account}")
def answer_crc(
    careline: CarelineDep,
    account: AccountRef,
    crc_token: Annotated[str, Query(min_length=1, max_length=1000)],
) -> CrcAnswer:
    """X's challenge-response check (at registration and about hourly): the token signed with the consumer
    secret. Only the holder of the secret can answer, which is what X checks."""
    secret = _consumer_secret(webhook_account(careline, account, ChannelKind.X))
    return CrcAnswer(response_token=crc_response(secret, crc_token))


@router.post("/{account}")
def receive_delivery(
    request: Request, careline: CarelineDep, account: AccountRef, body: RawBody, signature: Signature = None
) -> WebhookResult:
    """One signed delivery; 401 and nothing stored when the signature is missing or wrong. The verified body is
    stored before anything else, so a 200 means it cannot be lost; it is processed at once, and ``queued`` says
    when that failed and a worker will try again."""
    channel_account = webhook_account(careline, account, ChannelKind.X)
    if not signature_matches(_consumer_secret(channel_account), body, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{SIGNATURE_HEADER} is missing or does not match")
    received = receive_json(request, SOURCE, channel_account, body)
    return WebhookResult(**received.counts, repeat=received.repeat, queued=received.queued)


def process(careline: Any, account: ChannelAccount, body: bytes) -> dict[str, int]:
    """A stored delivery's tweets and direct messages, ingested (idempotent on X's ids)."""
    user_id = account.config.get("user_id")
    delivery = parse_activity(json.loads(body), account=account.name, user_id=str(user_id) if user_id else None)
    for reason in delivery.ignored:
        log.info("x webhook for %s: ignored: %s", account.name, reason)
    result = {"created": 0, "duplicates": 0, "ignored": len(delivery.ignored)}
    if delivery.messages:
        batch: BatchResult = careline.handle(IngestMessages(items=tuple(delivery.messages)))
        result["created"], result["duplicates"] = batch.count("created"), batch.count("duplicate")
    return result


def _consumer_secret(account: ChannelAccount) -> str:
    return webhook_secret(account, CONSUMER_SECRET)
