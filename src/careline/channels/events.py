"""Events of the channels context; their names are the event log's contract (docs/ARCHITECTURE.md#events)."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiptRecorded(Event):
    """A platform's receipt moved a reply's delivery status forward (delivered, or read)."""

    name = "message.receipt_recorded"
    message_id: str
    status: str
    previous_status: str | None
    platform_message_id: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommentHidden(Event):
    """An agent hid a customer's public comment on the platform."""

    name = "comment.hidden"
    message_id: str
    platform_message_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommentUnhidden(Event):
    """An agent showed a hidden comment again."""

    name = "comment.unhidden"
    message_id: str
    platform_message_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class TweetLiked(Event):
    """An agent liked a customer's tweet as the brand (made on X before this was recorded)."""

    name = "tweet.liked"
    message_id: str
    platform_message_id: str
    agent_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChannelConfigured(Event):
    """A channel account's own settings changed (Meta's Page id, X's mode and budget, the IMAP/SMTP servers):
    which ones, never their values' secrets (those are set apart, as channel.secrets_set)."""

    name = "channel.configured"
    account_id: str
    kind: str
    settings: tuple[str, ...]
