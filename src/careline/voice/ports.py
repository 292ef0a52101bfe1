"""What calls need from storage (implemented in adapters/db/calls.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from careline.channels.model import ChannelAccount
from careline.voice.model import Call


class CallRepository(Protocol):
    def get(self, call_id: str) -> Call: ...
    def by_platform_id(self, account_id: str, platform_call_id: str) -> Call | None:
        """The call, row-locked until commit (two events of one call are applied one after the other)."""
        ...

    def customers_with_number(self, number: str) -> list[str]:
        """The customers who have this number as an identity on any channel (an SMS or WhatsApp connector)."""
        ...

    def add(self, call: Call) -> None: ...
    def save(self, call: Call) -> None:
        """Store a loaded call's changes; Conflict when someone else changed it meanwhile."""
        ...


class Dialer(Protocol):
    """Hands click-to-call's dial request to the telephony system (channels/adapters/voice.py)."""

    def dial(self, account: ChannelAccount, request: Mapping[str, Any], idempotency_key: str) -> None:
        """Send it, or raise channels.ports.DeliveryError saying why the telephony system did not take it."""
        ...
