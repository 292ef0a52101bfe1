"""Facebook Page and Instagram webhooks, inbound: Meta's delivery JSON to InboundMessages
(docs/channels.md#facebook-and-instagram-inbound). Pure: no framework, no I/O; the route verifies and ingests.

Supported: Page feed comments and replies (field ``feed``, item ``comment``, verb ``add``), Messenger messages,
Instagram comments (field ``comments``), mentions (field ``mentions``) and direct messages; and the delivery and
read receipts of Messenger and Instagram (``delivery``: ``mids`` and ``watermark``; ``read``: ``watermark``, or
Instagram's ``mid``) as ``Receipt``s. Everything else (edits, removals, reactions, echoes, the account's own
comments, other fields) is ignored on purpose and named in ``MetaDelivery.ignored``, so a new kind of event Meta
starts sending never breaks a delivery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from careline.channels.receipts import DELIVERED, READ, Receipt
from careline.ingestion.model import InboundMessage

CHANNEL_OF_OBJECT = {"page": "facebook", "instagram": "instagram"}
SIGNATURE_HEADER = "X-Hub-Signature-256"


@dataclasses.dataclass
class MetaDelivery:
    """What one webhook delivery carries for one account: the messages, and a reason for each item skipped."""

    messages: list[InboundMessage] = dataclasses.field(default_factory=list)
    receipts: list[Receipt] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)


def parse_delivery(document: Any, *, channel: str, account: str, platform_id: str | None = None) -> MetaDelivery:
    """The delivery's items for ``account`` on ``channel`` (facebook or instagram), in the order Meta sent them.

    ``platform_id`` (the page id or Instagram user id), when known, keeps only the entries addressed to it.
    """
    delivery = MetaDelivery()
    if not isinstance(document, dict):
        delivery.ignored.append("the body is not a JSON object")
        return delivery
    kind = CHANNEL_OF_OBJECT.get(str(document.get("object")))
    if kind != channel:
        delivery.ignored.append(f"object {document.get('object')!r} is not for a {channel} account")
        return delivery
    for entry in _list(document.get("entry")):
        entry_id = str(entry.get("id", ""))
        if platform_id and entry_id != platform_id:
            delivery.ignored.append(f"entry for {entry_id!r}, not this account ({platform_id})")
            continue
        context = _Entry(channel, account, entry_id, _seconds(entry.get("time")))
        for change in _list(entry.get("changes")):
            _add(delivery, context.change(change))
        for event in _list(entry.get("messaging")):
            _add(delivery, context.direct_message(event))
    return delivery


@dataclasses.dataclass(frozen=True)
class _Entry:
    channel: str
    account: str
    owner_id: str  # the page or Instagram account the entry is about (our side)
    time: datetime | None

    def change(self, change: dict[str, Any]) -> InboundMessage | str:
        field = change.get("field")
        value = change.get("value")
        if not isinstance(value, dict):
            return f"change {field!r} without a value"
        if self.channel == "facebook" and field == "feed":
            return self._page_comment(value)
        if self.channel == "instagram" and field == "comments":
            return self._instagram_comment(value)
        if self.channel == "instagram" and field == "mentions":
            return self._instagram_mention(value)
        return f"field {field!r} is not supported"

    def _page_comment(self, value: dict[str, Any]) -> InboundMessage | str:
        if value.get("item") != "comment" or value.get("verb") != "add":
            return f"feed {value.get('item')!r} {value.get('verb')!r} is not a new comment"
        comment_id, author = str(value.get("comment_id", "")), _dict(value.get("from"))
        if not comment_id or not author.get("id"):
            return "feed comment without comment_id or from.id"
        if str(author["id"]) == self.owner_id:
            return f"comment {comment_id} is the page's own"
        parent = str(value.get("parent_id") or "")
        is_reply = bool(parent) and parent != str(value.get("post_id") or "")
        return self._comment(
            comment_id,
            author,
            str(value.get("message") or ""),
            parent if is_reply else None,
            _seconds(value.get("created_time")),
            value,
        )

    def _instagram_comment(self, value: dict[str, Any]) -> InboundMessage | str:
        comment_id, author = str(value.get("id", "")), _dict(value.get("from"))
        if not comment_id or not author.get("id"):
            return "instagram comment without id or from.id"
        if str(author["id"]) == self.owner_id:
            return f"comment {comment_id} is the account's own"
        parent = str(value.get("parent_id") or "") or None
        return self._comment(comment_id, author, str(value.get("text") or ""), parent, None, value)

    def _comment(
        self,
        comment_id: str,
        author: dict[str, Any],
        text: str,
        parent: str | None,
        created_at: datetime | None,
        raw: dict[str, Any],
    ) -> InboundMessage:
        # A reply's conversation is its parent comment's: keyed by the parent's id, so a reply that arrives
        # before its parent still starts the thread the parent then joins.
        return InboundMessage(
            channel=self.channel,
            account=self.account,
            platform_message_id=comment_id,
            author_id=str(author["id"]),
            author_name=author.get("name") or author.get("username"),
            text=text,
            created_at=created_at or self.time,
            visibility="public",
            reply_to=parent,
            thread_key=parent or comment_id,
            raw=raw,
        )

    def _instagram_mention(self, value: dict[str, Any]) -> InboundMessage | str:
        # Meta sends only ids here; the comment's text and author are read through the Graph API, which is not
        # built yet, so the message says so and its author is a placeholder per media (never one shared customer).
        media_id, comment_id = str(value.get("media_id") or ""), str(value.get("comment_id") or "")
        if not media_id:
            return "mention without media_id"
        author = _dict(value.get("from"))
        where = f"a comment ({comment_id})" if comment_id else "a caption"
        return InboundMessage(
            channel=self.channel,
            account=self.account,
            platform_message_id=comment_id or f"caption:{media_id}",
            author_id=str(author.get("id") or f"mention-on-media:{media_id}"),
            author_name=author.get("username") or author.get("name") or "Instagram mention",
            text=str(value.get("text") or f"Mentioned the account in {where} on Instagram media {media_id}."),
            created_at=self.time,
            visibility="public",
            raw=value,
        )

    def direct_message(self, event: dict[str, Any]) -> InboundMessage | Receipt | str:
        if "delivery" in event or "read" in event:
            return self._receipt(event)
        message = _dict(event.get("message"))
        if not message:
            return "messaging event without a message (reaction, postback, referral…)"
        mid = str(message.get("mid") or "")
        sender = str(_dict(event.get("sender")).get("id") or "")
        if not mid or not sender:
            return "message without mid or sender.id"
        if message.get("is_echo") or sender == self.owner_id:
            return f"message {mid} is an echo of the account's own"
        if message.get("is_deleted"):
            return f"message {mid} was deleted"
        return InboundMessage(
            channel=self.channel,
            account=self.account,
            platform_message_id=mid,
            author_id=sender,
            text=str(message.get("text") or _attachments(message)),
            created_at=_seconds(event.get("timestamp")) or self.time,
            visibility="private",
            reply_to=_dict(message.get("reply_to")).get("mid"),
            thread_key=f"dm:{sender}",  # one private thread per customer and account
            raw=event,
        )

    def _receipt(self, event: dict[str, Any]) -> Receipt | str:
        """``delivery``: the mids delivered, and all our messages up to the watermark; ``read``: all up to the
        watermark (Messenger), or the one ``mid`` seen (Instagram)."""
        status = DELIVERED if "delivery" in event else READ
        body = _dict(event.get("delivery" if status == DELIVERED else "read"))
        reader = str(_dict(event.get("sender")).get("id") or "")
        mids = [str(mid) for mid in body.get("mids") or [] if isinstance(mid, str) and mid][:100]
        if isinstance(body.get("mid"), str) and body["mid"]:
            mids.append(body["mid"])
        watermark = _seconds(body.get("watermark"))
        if not reader or reader == self.owner_id or not (mids or watermark):
            return f"{status} receipt without a customer sender, mids or watermark"
        return Receipt(status=status, reader=reader, platform_message_ids=tuple(mids), watermark=watermark)


def signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app secret>``, in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().lower().encode())


def _attachments(message: dict[str, Any]) -> str:
    kinds = [str(_dict(a).get("type") or "file") for a in _list(message.get("attachments"))]
    return f"[{', '.join(kinds)}]" if kinds else "[empty message]"


def _add(delivery: MetaDelivery, item: InboundMessage | Receipt | str) -> None:
    if isinstance(item, str):
        delivery.ignored.append(item)
    elif isinstance(item, Receipt):
        delivery.receipts.append(item)
    else:
        delivery.messages.append(item)


def _seconds(value: Any) -> datetime | None:
    """Meta's times: unix seconds, or milliseconds (Messenger's timestamps)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, tz=UTC)


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
