"""Writes of the web chat channel: an account's settings, and replies the visitor's widget displayed
(docs/channels.md#web-chat). Visitors' messages themselves are ingested like every channel's (IngestMessages)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from careline.channels.events import ReceiptRecorded
from careline.channels.handlers import save_settings
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.receipts import READ, advanced
from careline.conversations.model import Direction, explicit_thread
from careline.kernel.clock import Clock
from careline.kernel.errors import InvalidInput, NotFound
from careline.kernel.events import Event
from careline.unit_of_work import UnitOfWork
from careline.webchat.commands import ConfigureWebChat, MarkChatMessageRead

Result = tuple[Any, list[Event]]
MAX_ORIGINS = 50
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?", re.ASCII)


class WebChatHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {ConfigureWebChat: self.configure, MarkChatMessageRead: self.mark_read}

    def configure(self, c: ConfigureWebChat) -> Result:
        """Allowed origins, the offline email account and the chat's queue; each checked before it is kept."""
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            account = chat_account(uow, c.account)
            config = dict(account.config)
            if c.allowed_origins is not None:
                config["allowed_origins"] = [origin_of(value) for value in c.allowed_origins]
                if len(config["allowed_origins"]) > MAX_ORIGINS:
                    raise InvalidInput(f"allowed_origins takes at most {MAX_ORIGINS} sites")
            email = c.offline_email_account
            if email is not None:
                if email and uow.accounts.find(ChannelKind.EMAIL.value, email) is None:
                    raise InvalidInput(f"no email account {email!r}; create it first (kind email)")
                config["offline_email_account"] = email
            if c.queue is not None:
                if c.queue and uow.queues.by_name(c.queue) is None:
                    raise InvalidInput(f"no queue {c.queue!r}")
                config["queue"] = c.queue
            kept = {key: value for key, value in config.items() if value not in ("", [])}
            save_settings(uow, account, kept, agent_id=c.agent_id, at=self._clock())
            return account, uow.commit()

    def mark_read(self, c: MarkChatMessageRead) -> Result:
        """A delivered reply of the visitor's own conversation becomes read (once); anything else is ignored,
        so a widget cannot mark another conversation's replies, and a repeat changes nothing."""
        with self._uow() as uow:
            try:
                message = uow.messages.get(c.message_id)
                conversation = uow.conversations.get(message.conversation_id)
            except NotFound:
                return False, []
            status = advanced(message.delivery_status, READ)
            if (
                conversation.channel_account_id != c.account_id
                or conversation.thread_key != explicit_thread(c.thread_key)
                or message.direction is not Direction.OUTBOUND
                or status is None
            ):
                return False, []
            before, message.delivery_status = message.delivery_status, status
            uow.messages.update_outbound(message)
            uow.record(  # the same event as every channel's read receipt (channels/receipts.py)
                ReceiptRecorded(
                    occurred_at=self._clock(),
                    actor="system:channel:webchat",
                    conversation_id=conversation.id,
                    message_id=message.id,
                    status=status,
                    previous_status=before,
                    platform_message_id=message.platform_message_id,
                )
            )
            return True, uow.commit()


def chat_account(uow: UnitOfWork, name: str) -> ChannelAccount:
    account = uow.accounts.find(ChannelKind.WEBCHAT.value, name)
    if account is None:
        raise NotFound(f"web chat account {name!r} does not exist; create it first (kind webchat)")
    return account


def origin_of(value: str) -> str:
    """``https://shop.example`` (scheme, host and port only, lower-cased): what browsers send as ``Origin``."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc) or parts.path not in ("", "/"):
        raise InvalidInput(f"{value!r} is not an origin like https://shop.example (no path, no wildcard)")
    if parts.query or parts.fragment:
        raise InvalidInput(f"{value!r} is not an origin like https://shop.example (no path, no wildcard)")
    return f"{parts.scheme}://{parts.netloc.lower()}"
