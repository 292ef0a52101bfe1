"""Voice / CTI over HTTP: the PBX's call events (answered with the screen pop), calls, click-to-call
(docs/api.md#voice--cti, docs/channels.md#voice--cti)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from careline.channels.model import ChannelKind
from careline.channels.signing import SIGNATURE_HEADER, SIGNING_SECRET, TIMESTAMP_HEADER, SignatureInvalid, verify
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, CurrentAgent, IngestingAgent
from careline.entrypoints.api.schemas import Name, Ref
from careline.entrypoints.api.schemas_voice import (
    CallCreate,
    CallEventCreate,
    CallPublic,
    DialPublic,
    ScreenPopPublic,
    VoiceSettingsPublic,
    VoiceSettingsUpdate,
)
from careline.kernel.errors import NotFound
from careline.voice import queries
from careline.voice.commands import ConfigureVoiceAccount, HandOverDial, RecordCallEvent, StartOutboundCall
from careline.voice.handlers import DialRequest, HandOver
from careline.voice.model import Call

router = APIRouter(prefix="/voice", tags=["voice"])
MAX_EVENT_BYTES = 64 * 1024


async def raw_body(request: Request) -> bytes:
    """The request's bytes as sent (a signature signs exactly those), read with a size limit."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_EVENT_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"a call event is at most {MAX_EVENT_BYTES} bytes")
    return bytes(body)


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post("/events")
def post_event(careline: CarelineDep, _pbx: IngestingAgent, request: Request, body: RawBody) -> ScreenPopPublic:
    """One call event from the PBX (ringing, answered, ended, missed); repeats and late events are harmless.

    The answer is the screen pop: the call, the customer the number belongs to (created on a first call) and
    their open conversations on every channel. When the voice account has a `signing_secret`, the body must be
    signed like the generic API channel's (X-Careline-Timestamp and X-Careline-Signature).
    """
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body is not valid JSON: {error}") from error
    if isinstance(document, dict) and isinstance(document.get("account"), str):
        _check_signature(careline, document["account"], body, request)
    try:
        event = CallEventCreate.model_validate(document)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from error
    call: Call = careline.handle(RecordCallEvent(**event.model_dump()))
    return ScreenPopPublic.model_validate(queries.screen_pop(careline.engine, call.id))


def _check_signature(careline: CarelineDep, account_name: str, body: bytes, request: Request) -> None:
    with careline.uow(read_only=True) as uow:
        account = uow.accounts.find(ChannelKind.VOICE.value, account_name)
        if account is None or SIGNING_SECRET not in account.secrets.names:
            return  # an unknown account is refused by the command (404); an unsigned account takes tokens alone
        secret = account.secrets[SIGNING_SECRET]
    try:
        verify(
            secret,
            body,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            careline.clock().timestamp(),
        )
    except SignatureInvalid as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error)) from error


@router.get("/calls/{call_id}")
def get_call(careline: CarelineDep, _agent: CurrentAgent, call_id: Ref) -> CallPublic:
    """One call: its state, customer, agent, times, recording and its place in the customer's history."""
    return CallPublic.model_validate(queries.get_call(careline.engine, call_id))


@router.get("/calls/{call_id}/screen-pop")
def get_screen_pop(careline: CarelineDep, _agent: CurrentAgent, call_id: Ref) -> ScreenPopPublic:
    """What the agent sees when the phone rings, read again (a desktop that joins late)."""
    return ScreenPopPublic.model_validate(queries.screen_pop(careline.engine, call_id))


@router.post("/calls", status_code=status.HTTP_201_CREATED)
def click_to_call(careline: CarelineDep, agent: CurrentAgent, body: CallCreate) -> DialPublic:
    """Click-to-call: an outbound call in state dialing, its dial request handed to the telephony system when the
    voice account has a callback URL (``handed_over``, else ``hand_over_error`` says why), and the request."""
    dial: DialRequest = careline.handle(
        StartOutboundCall(account=body.account, number=body.number, agent_id=agent.id, customer_id=body.customer_id)
    )
    outcome: HandOver = careline.handle(HandOverDial(call_id=dial.call.id, request=dial.request))
    call = CallPublic.model_validate(queries.get_call(careline.engine, dial.call.id))
    return DialPublic(
        call=call, dial_request=dial.request, handed_over=outcome.handed_over, hand_over_error=outcome.reason
    )


@router.put("/accounts/{name}/settings")
def put_settings(
    careline: CarelineDep, admin: AdminAgent, name: Name, body: VoiceSettingsUpdate
) -> VoiceSettingsPublic:
    """The voice account's home region (numbers without a country code) and the line click-to-call shows."""
    careline.handle(ConfigureVoiceAccount(account=name, agent_id=admin.id, region=body.region, line=body.line))
    return _settings(careline, name)


def _settings(careline: CarelineDep, name: str) -> VoiceSettingsPublic:
    with careline.uow(read_only=True) as uow:
        account = uow.accounts.find(ChannelKind.VOICE.value, name)
    if account is None:
        raise NotFound(f"voice account {name!r} does not exist")
    config: dict[str, Any] = account.config
    return VoiceSettingsPublic(account=account.name, region=config.get("region"), line=config.get("line"))
