"""Commands of the web chat channel."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfigureWebChat:
    """A chat account's settings; None leaves one as it is, an empty value removes it. (Its identity secret is
    one of the account's sealed secrets, set like any channel's: docs/channels.md#credentials.)"""

    account: str  # the web chat account's name
    agent_id: str
    allowed_origins: tuple[str, ...] | None = None  # the sites whose pages may open its socket
    offline_email_account: str | None = None  # the email account offline messages are received on
    queue: str | None = None  # the queue whose agents make the chat "online" (default: the default queue)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarkChatMessageRead:
    """The visitor's widget displayed an agent's reply (``{"type": "seen"}`` on the socket)."""

    account_id: str
    thread_key: str  # the visitor's conversation (channels/adapters/webchat.py#Visitor): only its replies
    message_id: str
