"""Meta's webhooks for one Facebook Page or Instagram account: the verification handshake and signed deliveries
(docs/channels.md#facebook-and-instagram-inbound, docs/api.md#meta-webhooks).

A delivery is verified, parsed (channels/adapters/meta.py) and ingested in the same request, in one transaction,
and answered 200 only after the commit: Meta retries anything else, and ingestion is idempotent on the platform
ids (comment id, message mid), so its retries and repeats store nothing twice.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from careline.channels.adapters.meta import SIGNATURE_HEADER, parse_delivery, signature_matches
from careline.channels.commands import RecordReceipts
from careline.channels.model import ChannelAccount, ChannelKind
from careline.entrypoints.api.deps import CarelineDep, RawBody
from careline.entrypoints.api.webhook_inbox import receive_json, webhook_account, webhook_secret
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/meta", tags=["webhooks"])
SOURCE = "meta"  # the processor this module registers with the webhook inbox

APP_SECRET = "app_secret"
VERIFY_TOKEN = "verify_token"
PLATFORM_ID = {ChannelKind.FACEBOOK: "page_id", ChannelKind.INSTAGRAM: "ig_user_id"}
AccountRef = Annotated[str, Path(min_length=1, max_length=200, description="the account's id or name")]
Signature = Annotated[
    str | None, Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC-SHA256 of the raw body, app secret>")
]


class WebhookResult(BaseModel):
    """What a delivery did: messages stored, repeats of stored ones, items ignored on purpose, and replies whose
    delivery status a delivery or read receipt moved forward."""

    created: int = 0
    duplicates: int = 0
    ignored: int = 0
    receipts: int = 0
    repeat: bool = False  # the same bytes were received before: nothing was done twice
    queued: bool = False  # stored, but processing failed just now: a worker tries again (docs/channels.md#delivery)


@router.get("/{account}", response_class=PlainTextResponse)
def verify_subscription(
    careline: CarelineDep,
    account: AccountRef,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=1000)] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=1000)] = "",
) -> PlainTextResponse:
    """Meta's handshake: ``hub.challenge`` echoed as text when the verify token is the account's, else 403."""
    expected = webhook_secret(webhook_account(careline, account, *PLATFORM_ID), VERIFY_TOKEN)
    if mode != "subscribe" or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "hub.mode must be subscribe, with the account's verify token")
    return PlainTextResponse(challenge)


@router.post("/{account}")
def receive_delivery(
    request: Request, careline: CarelineDep, account: AccountRef, body: RawBody, signature: Signature = None
) -> WebhookResult:
    """One signed delivery (several entries, changes and messages); 401 and nothing stored when the signature is
    missing or wrong. The verified body is stored before anything else (entrypoints/api/webhook_inbox.py), so a
    200 means it cannot be lost; it is processed at once, and ``queued`` says when that failed and a worker will
    try again. A byte-identical repeat (Meta's retry) is answered ``repeat`` without being processed twice."""
    channel_account = webhook_account(careline, account, *PLATFORM_ID)
    if not signature_matches(webhook_secret(channel_account, APP_SECRET), body, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{SIGNATURE_HEADER} is missing or does not match")
    received = receive_json(request, SOURCE, channel_account, body)
    return WebhookResult(**received.counts, repeat=received.repeat, queued=received.queued)


def process(careline: Any, account: ChannelAccount, body: bytes) -> dict[str, int]:
    """A stored delivery's items: messages ingested and receipts recorded, each idempotent on Meta's ids."""
    delivery = parse_delivery(
        json.loads(body), channel=account.kind.value, account=account.name, platform_id=_platform_id(account)
    )
    for reason in delivery.ignored:
        log.info("meta webhook for %s: ignored: %s", account.name, reason)
    result = {"created": 0, "duplicates": 0, "ignored": len(delivery.ignored), "receipts": 0}
    if delivery.messages:
        batch: BatchResult = careline.handle(IngestMessages(items=tuple(delivery.messages)))
        result["created"], result["duplicates"] = batch.count("created"), batch.count("duplicate")
    if delivery.receipts:
        result["receipts"] = careline.handle(RecordReceipts(account_id=account.id, receipts=tuple(delivery.receipts)))
    return result


def _platform_id(account: ChannelAccount) -> str | None:
    """The page id or Instagram user id deliveries must be addressed to: from the account's config, or set with
    its secrets (the API sets secrets; it is not sensitive). Without one, every entry of a verified delivery is
    the account's."""
    name = PLATFORM_ID[account.kind]
    if account.config.get(name):
        return str(account.config[name])
    return webhook_secret(account, name) if name in account.secrets.names else None
