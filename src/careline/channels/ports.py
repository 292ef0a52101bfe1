"""The one interface every channel adapter implements (docs/channels.md)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from careline.channels.model import ChannelAccount
from careline.conversations.model import Message


@dataclasses.dataclass(frozen=True)
class Delivery:
    platform_message_id: str | None


class DeliveryError(Exception):
    """Delivery failed; ``retryable`` says whether trying again later may succeed."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class ChannelAdapter(Protocol):
    kind: str

    def deliver(
        self, account: ChannelAccount, message: Message, reply_to: str | None, idempotency_key: str
    ) -> Delivery:
        """Publish an outbound reply on the platform, or raise DeliveryError."""
        ...


class AccountRepository(Protocol):
    def get(self, account_id: str) -> ChannelAccount: ...
    def find(self, kind: str, name: str) -> ChannelAccount | None: ...
    def all(self) -> list[ChannelAccount]: ...
    def add(self, account: ChannelAccount) -> None: ...
    def save_config(self, account: ChannelAccount) -> None: ...
    def save_secrets(self, account: ChannelAccount) -> None: ...
