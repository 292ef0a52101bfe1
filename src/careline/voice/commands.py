"""What the telephony system and agents ask of calls (docs/channels.md#voice--cti)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordCallEvent:
    """One event of a call as the PBX reports it; repeats and late events are harmless."""

    account: str  # the voice channel account's name
    call_id: str  # the PBX's id of the call
    event: str  # ringing | answered | ended | missed
    caller: str | None = None
    called: str | None = None
    direction: str | None = None  # inbound (default for a new call) | outbound
    queue: str | None = None
    agent_email: str | None = None
    recording_url: str | None = None
    caller_name: str | None = None  # the caller id name, for a customer we do not know yet
    at: datetime | None = None  # when it happened at the PBX; default: when it was received


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartOutboundCall:
    """Click-to-call: an agent asks the telephony system to dial a customer's number."""

    account: str
    number: str
    agent_id: str
    customer_id: str | None = None  # the customer the agent calls, when it is known


@dataclasses.dataclass(frozen=True, kw_only=True)
class HandOverDial:
    """Give click-to-call's dial request to the telephony system, when the voice account has a callback URL."""

    call_id: str
    request: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigureVoiceAccount:
    """The voice account's settings; None leaves one as it is, "" removes it. (Its signing secret is one of the
    account's sealed secrets, set like any channel's: docs/channels.md#credentials.)"""

    account: str
    agent_id: str
    region: str | None = None  # where numbers without a country code are read (US, GB...)
    line: str | None = None  # the number click-to-call shows to the customer
