"""Channel accounts: the brand's presence on one channel (an X handle, a Facebook page, a mailbox)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    EMAIL = "email"
    WEBCHAT = "webchat"
    VOICE = "voice"
    API = "api"


@dataclasses.dataclass
class ChannelAccount:
    id: str
    kind: ChannelKind
    name: str  # the brand's handle or address on that channel
    created_at: datetime
    callback_url: str | None = None  # where outbound replies are delivered (generic API channel)
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
