"""What the channels context is asked to do: imperative, frozen, validated by the entry point."""

from __future__ import annotations

import dataclasses

from careline.channels.receipts import Receipt


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordReceipts:
    """The platform's delivery and read receipts for replies of one channel account (a webhook delivery's)."""

    account_id: str
    receipts: tuple[Receipt, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class HideComment:
    """Hide a customer's public comment on the platform (``hidden=False``: show it again), as an agent who may
    work its conversation."""

    message_id: str
    agent_id: str
    hidden: bool = True
    conversation_id: str | None = None  # when given, the message must be in it (the page acts on one conversation)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigureMetaAccount:
    """A Facebook or Instagram account's Graph API settings; None leaves one as it is, "" removes it."""

    account: str  # the account's name
    agent_id: str
    graph_url: str | None = None
    page_id: str | None = None
    ig_user_id: str | None = None
    human_agent: bool | None = None
