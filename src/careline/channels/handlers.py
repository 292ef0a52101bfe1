"""One handler per command of the channels context: platform receipts, comment moderation, Meta settings
(docs/channels.md#facebook-and-instagram)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from careline.agents.model import Role
from careline.channels import commands as cmd
from careline.channels.events import ChannelConfigured, CommentHidden, CommentUnhidden, ReceiptRecorded
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import CommentModerator, DeliveryError
from careline.channels.receipts import advanced
from careline.channels.registry import ChannelRegistry
from careline.conversations.model import Direction, Message, Visibility
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.kernel.events import Event
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
META = (ChannelKind.FACEBOOK.value, ChannelKind.INSTAGRAM.value)


class ChannelHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock, registry: ChannelRegistry) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._registry = registry

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.RecordReceipts: self.record_receipts,
            cmd.HideComment: self.hide_comment,
            cmd.ConfigureMetaAccount: self.configure_meta,
        }

    def record_receipts(self, c: cmd.RecordReceipts) -> Result:
        """Each reply a receipt is about moves forward (delivered, then read) once; repeats and older news change
        nothing, so Meta's redeliveries are harmless. Returns how many replies changed."""
        with self._uow() as uow:
            account = uow.accounts.get(c.account_id)
            touched: dict[str, tuple[Message, str | None]] = {}  # id -> (the reply, its status before)
            for receipt in c.receipts:
                found = uow.messages.receipt_targets(
                    account.id, receipt.platform_message_ids, receipt.reader, receipt.watermark
                )
                for message in found:
                    reply, before = touched.get(message.id, (message, message.delivery_status))
                    status = advanced(reply.delivery_status, receipt.status)
                    if status is not None:
                        reply.delivery_status = status
                        touched[message.id] = (reply, before)
            now = self._clock()
            for reply, before in touched.values():
                uow.messages.update_outbound(reply)
                uow.record(
                    ReceiptRecorded(
                        occurred_at=now,
                        actor=f"system:channel:{account.kind.value}",
                        conversation_id=reply.conversation_id,
                        message_id=reply.id,
                        status=str(reply.delivery_status),
                        previous_status=before,
                        platform_message_id=reply.platform_message_id,
                    )
                )
            return len(touched), uow.commit()

    def hide_comment(self, c: cmd.HideComment) -> Result:
        """Hide (or unhide) the comment on the platform first, then record it: the platform call is the action
        itself, so it is not deferred to the outbox, and it is made outside any transaction (it may take seconds).
        If recording then fails, the agent sees the error and repeats it; hiding twice is harmless on Meta."""
        with self._uow() as uow:
            message = uow.messages.get(c.message_id)
            if c.conversation_id is not None and message.conversation_id != c.conversation_id:
                raise NotFound(f"message {c.message_id} is not in conversation {c.conversation_id}")
            conversation = uow.conversations.get(message.conversation_id)
            agent = uow.agents.get(c.agent_id)
            conversation.ensure_workable_by(agent.id, supervisor=agent.role in (Role.ADMIN, Role.SUPERVISOR))
            account = uow.accounts.get(message.channel_account_id)
        comment_id = _comment_id(message)
        moderator = self._registry.for_kind(account.kind.value)
        if not isinstance(moderator, CommentModerator):
            raise Conflict(f"comments on {account.kind.value} cannot be hidden from Careline")
        try:
            moderator.set_comment_hidden(account, comment_id, c.hidden)
        except DeliveryError as error:
            again = " (try again in a moment)" if error.retryable else ""
            raise Conflict(f"{account.kind.value} did not {_verb(c.hidden)} the comment: {error}{again}") from None
        with self._uow() as uow:
            event = CommentHidden if c.hidden else CommentUnhidden
            uow.record(
                event(
                    occurred_at=self._clock(),
                    actor=f"agent:{agent.id}",
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                    platform_message_id=comment_id,
                    agent_id=agent.id,
                )
            )
            return message.conversation_id, uow.commit()

    def configure_meta(self, c: cmd.ConfigureMetaAccount) -> Result:
        """Set the Graph API settings of a Facebook or Instagram account (None keeps a setting, "" removes it)."""
        with self._uow() as uow:
            uow.agents.get(c.agent_id)
            account = meta_account(uow, c.account)
            if c.graph_url and (
                urlsplit(c.graph_url).scheme not in ("https", "http") or not urlsplit(c.graph_url).netloc
            ):
                raise InvalidInput("graph_url must be an http(s) URL, such as https://graph.facebook.com/v21.0")
            config = dict(account.config)
            wanted: dict[str, Any] = {"graph_url": c.graph_url, "page_id": c.page_id, "ig_user_id": c.ig_user_id}
            if c.human_agent is not None:
                wanted["human_agent"] = c.human_agent or ""
            for key, value in wanted.items():
                if value == "":
                    config.pop(key, None)
                elif value is not None:
                    config[key] = value
            save_settings(uow, account, config, agent_id=c.agent_id, at=self._clock())
            return account, uow.commit()


def save_settings(
    uow: UnitOfWork, account: ChannelAccount, config: dict[str, Any], *, agent_id: str, at: datetime
) -> None:
    """Store an account's new settings and, when any changed, log which (``channel.configured``): every channel's
    settings command ends here."""
    changed = tuple(sorted(k for k in account.config.keys() | config.keys() if account.config.get(k) != config.get(k)))
    account.config = config
    uow.accounts.save_config(account)
    if changed:
        actor = f"agent:{agent_id}"
        uow.record(
            ChannelConfigured(
                occurred_at=at, actor=actor, account_id=account.id, kind=account.kind.value, settings=changed
            )
        )


def meta_account(uow: UnitOfWork, name: str) -> ChannelAccount:
    """The Facebook or Instagram account of that name."""
    for kind in META:
        account = uow.accounts.find(kind, name)
        if account is not None:
            return account
    raise NotFound(f"no Facebook or Instagram channel account {name!r}; create it first")


def _comment_id(message: Message) -> str:
    """The platform id of the customer's public comment the message is; refused for anything else."""
    public_comment = message.direction is Direction.INBOUND and message.visibility is Visibility.PUBLIC
    if not public_comment or not message.platform_message_id or ":" in message.platform_message_id:
        # ":" marks ids Careline made up (an Instagram caption mention), which the platform does not know.
        raise InvalidInput(f"message {message.id} is not a customer's public comment; only those can be hidden")
    return message.platform_message_id


def _verb(hidden: bool) -> str:
    return "hide" if hidden else "unhide"
