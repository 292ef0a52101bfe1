"""What the voice API accepts and returns (docs/api.md#voice--cti, docs/channels.md#voice--cti)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, StringConstraints

from careline.entrypoints.api.schemas import Email, ExternalId, IdentityPublic, Input, Label, Name, Ref, no_nul

PhoneText = Annotated[str, StringConstraints(max_length=64), AfterValidator(no_nul)]  # as the PBX writes it
Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(no_nul)]


class CallEventCreate(Input):
    """One event of one call, as the PBX sends it."""

    account: Name  # the voice channel account's name
    call_id: ExternalId  # the PBX's id of the call (click-to-call: the call_id of the dial request)
    event: Literal["ringing", "answered", "ended", "missed"]
    caller: PhoneText | None = None
    called: PhoneText | None = None
    direction: Literal["inbound", "outbound"] | None = None
    queue: Label | None = None
    agent_email: Email | None = None
    recording_url: Url | None = None
    caller_name: Name | None = None
    at: AwareDatetime | None = None


class CallPublic(BaseModel):
    id: str
    account: str
    call_id: str
    direction: str
    number: str | None
    line: str | None
    state: str
    queue: str | None
    customer_id: str | None
    agent_id: str | None
    agent_email: str | None
    created_at: datetime
    ringing_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    recording_url: str | None
    conversation_id: str | None  # the call in the customer's history, once it is over


class ScreenPopCustomer(BaseModel):
    id: str
    display_name: str
    tier: str
    identities: list[IdentityPublic]


class OpenConversation(BaseModel):
    id: str
    channel: str
    account: str
    status: str
    priority: float
    assignee_id: str | None
    last_message_at: datetime
    last_message: str


class ScreenPopPublic(BaseModel):
    call: CallPublic
    customer: ScreenPopCustomer | None  # None: the number was withheld
    open_conversations: list[OpenConversation]


class CallCreate(Input):
    """Click-to-call."""

    account: Name
    number: PhoneText
    customer_id: Ref | None = None


class DialPublic(BaseModel):
    call: CallPublic
    dial_request: dict[str, Any]  # what the telephony system needs to place the call
    handed_over: bool = False  # POSTed to the voice account's callback URL and taken (2xx)
    hand_over_error: str | None = None  # why not: no callback URL, or what the telephony system answered


class VoiceSettingsUpdate(Input):
    region: Annotated[str, StringConstraints(max_length=2)] | None = None
    line: PhoneText | None = None


class VoiceSettingsPublic(BaseModel):
    account: str
    region: str | None
    line: str | None
