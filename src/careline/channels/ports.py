"""The one interface every channel adapter implements (docs/channels.md)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Protocol, runtime_checkable

from careline.channels.model import ChannelAccount
from careline.conversations.model import Message


@dataclasses.dataclass(frozen=True)
class Delivery:
    platform_message_id: str | None


@dataclasses.dataclass(frozen=True)
class Outbound:
    """One reply to publish, with what any platform needs to put it on the right thread for the right person.

    ``reply_to``: the platform id of the customer's latest message in this conversation (None in a conversation
    the agent opened, e.g. one taken private). ``recipient``: the customer's own id on this channel (a PSID, an
    X user id, an email address, a chat visitor), from their latest message here or, for a conversation taken
    private, from the public thread it came from. ``origin``: for a conversation taken private, the platform id
    of the public post it came from (Meta's private reply to a comment answers that comment). ``thread``: the
    platform ids of the conversation's messages so far, oldest first (email's References). ``first``: the
    conversation's first customer message (its subject, for email), when there is one.
    """

    message: Message
    idempotency_key: str
    reply_to: str | None = None
    recipient: str | None = None
    origin: str | None = None
    thread: tuple[str, ...] = ()
    first: Message | None = None
    last_inbound_at: datetime | None = None  # when the customer last wrote here (Meta's 24-hour window)


class DeliveryError(Exception):
    """Delivery failed; ``retryable`` says whether trying again later may succeed."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class ChannelAdapter(Protocol):
    kind: str

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        """Publish an outbound reply on the platform, or raise DeliveryError (retryable or not)."""
        ...


@runtime_checkable
class CommentModerator(Protocol):
    """An adapter whose platform lets the brand hide a customer's public comment (Facebook, Instagram)."""

    def set_comment_hidden(self, account: ChannelAccount, comment_id: str, hidden: bool) -> None:
        """Hide (or show again) the comment on the platform, or raise DeliveryError."""
        ...


class AccountRepository(Protocol):
    def get(self, account_id: str) -> ChannelAccount: ...
    def find(self, kind: str, name: str) -> ChannelAccount | None: ...
    def all(self) -> list[ChannelAccount]: ...
    def add(self, account: ChannelAccount) -> None: ...
    def save_config(self, account: ChannelAccount) -> None: ...
    def save_secrets(self, account: ChannelAccount) -> None: ...
