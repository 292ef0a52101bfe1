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
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from careline.channels.adapters.meta import SIGNATURE_HEADER, parse_delivery, signature_matches
from careline.channels.model import ChannelAccount, ChannelKind, SecretsUnreadable
from careline.entrypoints.api.deps import CarelineDep, RawBody
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import BatchResult
from careline.kernel.errors import NotFound

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/meta", tags=["webhooks"])

APP_SECRET = "app_secret"
VERIFY_TOKEN = "verify_token"
PLATFORM_ID = {ChannelKind.FACEBOOK: "page_id", ChannelKind.INSTAGRAM: "ig_user_id"}
AccountRef = Annotated[str, Path(min_length=1, max_length=200, description="the account's id or name")]
Signature = Annotated[
    str | None, Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC-SHA256 of the raw body, app secret>")
]


class WebhookResult(BaseModel):
    """What a delivery did: messages stored, repeats of stored ones, items ignored on purpose."""

    created: int = 0
    duplicates: int = 0
    ignored: int = 0


@router.get("/{account}", response_class=PlainTextResponse)
def verify_subscription(
    careline: CarelineDep,
    account: AccountRef,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=1000)] = None,
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=1000)] = "",
) -> PlainTextResponse:
    """Meta's handshake: ``hub.challenge`` echoed as text when the verify token is the account's, else 403."""
    expected = _secret(_account(careline, account), VERIFY_TOKEN)
    if mode != "subscribe" or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "hub.mode must be subscribe, with the account's verify token")
    return PlainTextResponse(challenge)


@router.post("/{account}")
def receive_delivery(
    careline: CarelineDep, account: AccountRef, body: RawBody, signature: Signature = None
) -> WebhookResult:
    """One signed delivery (several entries, changes and messages); 401 and nothing stored when the signature is
    missing or wrong. Answered after the commit, so a 200 means every supported item is stored."""
    channel_account = _account(careline, account)
    if not signature_matches(_secret(channel_account, APP_SECRET), body, signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{SIGNATURE_HEADER} is missing or does not match")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body is not valid JSON: {error}") from None
    delivery = parse_delivery(
        document,
        channel=channel_account.kind.value,
        account=channel_account.name,
        platform_id=_platform_id(channel_account),
    )
    for reason in delivery.ignored:
        log.info("meta webhook for %s: ignored: %s", channel_account.name, reason)
    result = WebhookResult(ignored=len(delivery.ignored))
    if delivery.messages:
        batch: BatchResult = careline.handle(IngestMessages(items=tuple(delivery.messages)))
        result.created, result.duplicates = batch.count("created"), batch.count("duplicate")
    return result


def _account(careline: CarelineDep, reference: str) -> ChannelAccount:
    """The Facebook or Instagram account by id, else by name."""
    with careline.uow(read_only=True) as uow:
        try:
            found: ChannelAccount | None = uow.accounts.get(reference)
        except NotFound:
            found = uow.accounts.find(ChannelKind.FACEBOOK.value, reference) or uow.accounts.find(
                ChannelKind.INSTAGRAM.value, reference
            )
    if found is None or found.kind not in PLATFORM_ID:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no Facebook or Instagram channel account {reference!r}")
    return found


def _secret(account: ChannelAccount, name: str) -> str:
    if name not in account.secrets.names:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"channel account {account.name} has no {name} secret (docs/channels.md)"
        )
    try:
        return account.secrets[name]
    except SecretsUnreadable as error:  # this server cannot check: refuse rather than take anything unchecked
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None


def _platform_id(account: ChannelAccount) -> str | None:
    """The page id or Instagram user id deliveries must be addressed to: from the account's config, or set with
    its secrets (the API sets secrets; it is not sensitive). Without one, every entry of a verified delivery is
    the account's."""
    name = PLATFORM_ID[account.kind]
    if account.config.get(name):
        return str(account.config[name])
    return _secret(account, name) if name in account.secrets.names else None
