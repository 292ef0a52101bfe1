"""X (Twitter), outbound: an agent's public reply goes out as a tweet in the customer's thread, a private one as a
direct message, through the v2 API with the account's user-context token (docs/channels.md#x-twitter).

X has no idempotency key: a retry after a timeout whose request did arrive can post the text again, which X then
refuses as a duplicate (403); that attempt is recorded as failed with X's words, so an agent can look.
"""

from __future__ import annotations

from typing import Any

import httpx

from careline.channels.adapters.x import TWEET_LIMIT
from careline.channels.lengths import weighted_length
from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.channels.ports import Delivery, DeliveryError, Outbound

ACCESS_TOKEN = "access_token"
DEFAULT_API = "https://api.x.com/2"


def api_url(account: ChannelAccount) -> str:
    """The v2 API's base URL: X's, or the account's ``api_url`` (a proxy, or a test's fake X)."""
    return str(account.config.get("api_url") or DEFAULT_API).rstrip("/")


def user_token(account: ChannelAccount) -> str:
    """The OAuth 2 user-context token that acts as the account (tweet.write, dm.write, like.write)."""
    if ACCESS_TOKEN not in account.secrets.names:
        raise DeliveryError(f"channel account {account.name} has no {ACCESS_TOKEN} secret", retryable=False)
    try:
        return account.secrets[ACCESS_TOKEN]
    except SecretsUnreadable as error:  # a key fixed by an admin makes a later attempt succeed
        raise DeliveryError(str(error), retryable=True) from None


class XChannel:
    kind = "x"

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        message = outbound.message
        if message.visibility.value == "private":
            if not outbound.recipient:
                raise DeliveryError("no customer to send the direct message to", retryable=False)
            path = f"/dm_conversations/with/{outbound.recipient}/messages"
            answer = self._post(account, path, {"text": message.text})
            return Delivery(platform_message_id=_id(answer, "dm_event_id"))
        # Counted as X counts (links 23, CJK and emoji 2): the desk's plain 280 characters may still be too long.
        length = weighted_length(message.text)
        if length > TWEET_LIMIT:
            raise DeliveryError(f"X counts this reply as {length} characters; the limit is 280", retryable=False)
        if not outbound.reply_to:
            # A public reply without a tweet to answer would be a new public post of the brand: never by accident.
            raise DeliveryError("no customer tweet to reply to in this conversation", retryable=False)
        body = {"text": message.text, "reply": {"in_reply_to_tweet_id": outbound.reply_to}}
        return Delivery(platform_message_id=_id(self._post(account, "/tweets", body), "id"))

    def like(self, account: ChannelAccount, tweet_id: str) -> None:
        """Like a customer's tweet as the account (POST /users/:id/likes); needs the account's ``user_id``."""
        user_id = account.config.get("user_id")
        if not user_id:
            raise DeliveryError(f"channel account {account.name} has no user_id in its settings", retryable=False)
        self._post(account, f"/users/{user_id}/likes", {"tweet_id": tweet_id})

    def _post(self, account: ChannelAccount, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {user_token(account)}"}
        try:
            response = self._client.post(api_url(account) + path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"X unreachable: {error!r}", retryable=True) from error
        status = response.status_code
        if status == 429:
            reset = response.headers.get("x-rate-limit-reset")
            raise DeliveryError(f"X rate limit reached (resets at {reset or 'unknown'})", retryable=True)
        if status >= 500:
            raise DeliveryError(f"X answered {status}: {_detail(response)}", retryable=True)
        if not 200 <= status < 300:
            raise DeliveryError(f"X refused the reply ({status}): {_detail(response)}", retryable=False)
        payload = _json(response)
        return payload if isinstance(payload, dict) else {}


def _id(answer: dict[str, Any], key: str) -> str | None:
    data = answer.get("data")
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None


def _detail(response: httpx.Response) -> str:
    """X's own explanation: v2 problems carry ``detail``/``title``, older errors ``errors[].message``."""
    payload = _json(response)
    if isinstance(payload, dict):
        parts = [str(payload[k]) for k in ("title", "detail") if payload.get(k)]
        parts += [
            str(e.get("message")) for e in payload.get("errors") or [] if isinstance(e, dict) and e.get("message")
        ]
        if parts:
            return "; ".join(parts)[:500]
    return response.text[:200] or "no detail"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None
