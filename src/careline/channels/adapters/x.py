"""X (Twitter), inbound: Account Activity API deliveries and v2 tweet pages to InboundMessages, the CRC answer, the
webhook signature, and X's weighted tweet length (docs/channels.md#x-twitter). Pure: no framework, no I/O.

Supported: ``tweet_create_events`` (tweets that mention or reply to the account) and ``direct_message_events``
of type ``message_create``, and v2 tweet pages (mentions timeline, recent search) for the poller. Everything else
(likes, follows, deletions, typing and read receipts, the account's own tweets and messages, retweets, unknown
keys) is ignored on purpose and named in ``XDelivery.ignored``, so a new kind of event never breaks a delivery.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import html
from datetime import UTC, datetime
from typing import Any

from careline.ingestion.model import InboundMessage

CHANNEL = "x"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# Keys of a delivery that describe it rather than carry events: never reported as ignored.
ENVELOPE_KEYS = frozenset({"for_user_id", "users", "apps", "user_has_blocked", "source", "is_blocked_by"})
TWEET_LIMIT = 280
TWEPOCH_MS = 1288834974657  # X's ids are milliseconds since this moment, shifted left 22 bits (Snowflake)


@dataclasses.dataclass
class XDelivery:
    """What one delivery (or one v2 page) carries: the messages, and a reason for each item skipped."""

    messages: list[InboundMessage] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)

    def add(self, item: InboundMessage | str) -> None:
        if isinstance(item, str):
            self.ignored.append(item)
        else:
            self.messages.append(item)


def parse_activity(document: Any, *, account: str, user_id: str | None = None) -> XDelivery:
    """An Account Activity delivery's tweets and direct messages for ``account``, in X's order.

    ``user_id`` (the account's X user id), when known, refuses deliveries for another user: one webhook URL per
    account, but a subscription mistake must not file another brand's mentions here.
    """
    delivery = XDelivery()
    if not isinstance(document, dict):
        delivery.ignored.append("the body is not a JSON object")
        return delivery
    owner = str(document.get("for_user_id") or "")
    if user_id and owner != user_id:
        delivery.ignored.append(f"delivery for user {owner!r}, not this account ({user_id})")
        return delivery
    owner = owner or (user_id or "")
    users = _dict(document.get("users"))
    for key, value in document.items():
        if key == "tweet_create_events":
            for tweet in _list(value):
                delivery.add(_v1_tweet(tweet, account, owner))
        elif key == "direct_message_events":
            for event in _list(value):
                delivery.add(_direct_message(event, account, owner, users))
        elif key not in ENVELOPE_KEYS:
            delivery.ignored.append(f"{key} are not handled")
    return delivery


def _v1_tweet(tweet: dict[str, Any], account: str, owner: str) -> InboundMessage | str:
    tweet_id, user = str(tweet.get("id_str") or ""), _dict(tweet.get("user"))
    author = str(user.get("id_str") or "")
    if not tweet_id or not author:
        return "tweet without id_str or user.id_str"
    if author == owner:
        return f"tweet {tweet_id} is the account's own"
    if "retweeted_status" in tweet:
        return f"tweet {tweet_id} is a retweet"
    extended = _dict(tweet.get("extended_tweet"))
    text = extended.get("full_text") or tweet.get("full_text") or tweet.get("text") or ""
    counts = [tweet.get(k) for k in ("favorite_count", "retweet_count", "reply_count", "quote_count")]
    return _public(
        account,
        tweet_id,
        author,
        user.get("screen_name"),
        html.unescape(str(text)),  # X escapes &, < and > in tweet text
        _v1_time(tweet.get("created_at")) or _milliseconds(tweet.get("timestamp_ms")),
        parent=str(tweet.get("in_reply_to_status_id_str") or "") or None,
        parent_is_ours=bool(owner) and str(tweet.get("in_reply_to_user_id_str") or "") == owner,
        followers=_int(user.get("followers_count")),
        verified=bool(user.get("verified")),
        engagements=sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool)),
        raw=tweet,
    )


def _public(
    account: str,
    tweet_id: str,
    author: str,
    username: Any,
    text: str,
    created_at: datetime | None,
    *,
    parent: str | None,
    parent_is_ours: bool,
    followers: int | None,
    verified: bool,
    engagements: int | None,
    raw: dict[str, Any],
) -> InboundMessage:
    # Threading, as for Meta's comments: ``reply_to`` puts a reply in its parent's conversation when the parent is
    # stored (our reply included). Otherwise a reply to a customer's tweet is keyed by that parent, so the parent
    # arriving later joins it; but a reply to one of the account's own tweets (a promotion many people answer)
    # starts its own conversation: keyed by the parent, every customer answering it would share one.
    thread = tweet_id if parent is None or parent_is_ours else parent
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        platform_message_id=tweet_id,
        author_id=author,
        author_name=str(username) if username else None,
        text=text,
        created_at=created_at,
        visibility="public",
        reply_to=parent,
        thread_key=thread,
        raw=raw,
        author_followers=followers,
        author_verified=verified,
        engagements=engagements,
    )


def _direct_message(event: dict[str, Any], account: str, owner: str, users: dict[str, Any]) -> InboundMessage | str:
    if event.get("type") != "message_create":
        return f"direct message event of type {event.get('type')!r} is not a new message"
    event_id, created = str(event.get("id") or ""), _dict(event.get("message_create"))
    sender = str(created.get("sender_id") or "")
    if not event_id or not sender:
        return "direct message without id or message_create.sender_id"
    if sender == owner:
        return f"direct message {event_id} is the account's own"
    data = _dict(created.get("message_data"))
    text = html.unescape(str(data.get("text") or ""))
    media = _dict(_dict(data.get("attachment")).get("media"))
    if media:
        link = media.get("media_url_https") or media.get("url") or ""
        text = f"{text}\n[{media.get('type') or 'media'}: {link}]".strip()
    profile = _dict(users.get(sender))
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        platform_message_id=event_id,
        author_id=sender,
        author_name=profile.get("screen_name") or None,
        text=text or "[empty message]",
        created_at=_milliseconds(event.get("created_timestamp")),
        visibility="private",
        thread_key=f"dm:{sender}",  # one private thread per customer and account
        raw=event,
        author_followers=_int(profile.get("followers_count")),
        author_verified=bool(profile.get("verified")),
    )


def parse_tweets(page: Any, *, account: str, user_id: str | None) -> XDelivery:
    """One page of the v2 API (``/users/:id/mentions``, ``/tweets/search/recent``): its tweets as messages."""
    delivery = XDelivery()
    if not isinstance(page, dict):
        delivery.ignored.append("the page is not a JSON object")
        return delivery
    people = {str(u.get("id")): u for u in _list(_dict(page.get("includes")).get("users"))}
    for tweet in _list(page.get("data")):
        tweet_id, author = str(tweet.get("id") or ""), str(tweet.get("author_id") or "")
        if not tweet_id or not author:
            delivery.ignored.append("tweet without id or author_id")
            continue
        if user_id and author == user_id:
            delivery.ignored.append(f"tweet {tweet_id} is the account's own")
            continue
        references = {str(r.get("type")): str(r.get("id")) for r in _list(tweet.get("referenced_tweets"))}
        if "retweeted" in references:
            delivery.ignored.append(f"tweet {tweet_id} is a retweet")
            continue
        person, metrics = _dict(people.get(author)), _dict(tweet.get("public_metrics"))
        counts = [v for k, v in metrics.items() if k.endswith("_count") and k != "impression_count"]
        delivery.add(
            _public(
                account,
                tweet_id,
                author,
                person.get("username"),
                html.unescape(str(_dict(tweet.get("note_tweet")).get("text") or tweet.get("text") or "")),
                _iso(tweet.get("created_at")),
                parent=references.get("replied_to"),
                parent_is_ours=bool(user_id) and str(tweet.get("in_reply_to_user_id") or "") == user_id,
                followers=_int(_dict(person.get("public_metrics")).get("followers_count")),
                verified=bool(person.get("verified")),
                engagements=sum(c for c in counts if isinstance(c, int)) if metrics else None,
                raw=tweet,
            )
        )
    return delivery


def crc_response(consumer_secret: str, crc_token: str) -> str:
    """The CRC answer: ``sha256=`` + base64 of HMAC-SHA256 of the token under the app's consumer secret."""
    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def signature_matches(consumer_secret: str, body: bytes, header: str | None) -> bool:
    """``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the raw body>``, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = base64.b64encode(hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().encode())


def snowflake_at(moment: datetime) -> int:
    """The smallest X id of a tweet created at ``moment``: ids grow with their creation time."""
    return max(int(moment.timestamp() * 1000) - TWEPOCH_MS, 0) << 22


def _v1_time(value: Any) -> datetime | None:
    """v1.1's ``Wed Oct 10 20:19:24 +0000 2018``."""
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return None


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _milliseconds(value: Any) -> datetime | None:
    try:
        millis = int(str(value))
    except ValueError:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis > 0 else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
