"""The generic API channel: replies are POSTed as JSON to the account's callback URL (docs/channels.md)."""

from __future__ import annotations

import json

import httpx

from careline.channels.model import ChannelAccount
from careline.channels.ports import Delivery, DeliveryError
from careline.conversations.model import Message


class ApiChannel:
    kind = "api"

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def deliver(
        self, account: ChannelAccount, message: Message, reply_to: str | None, idempotency_key: str
    ) -> Delivery:
        if not account.callback_url:
            raise DeliveryError(f"channel account {account.name} has no callback_url", retryable=False)
        body = {
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "account": account.name,
            "visibility": message.visibility.value,
            "text": message.text,
            "reply_to": reply_to,
            "created_at": message.created_at.isoformat(),
        }
        try:
            response = self._client.post(
                account.callback_url, json=body, headers={"Idempotency-Key": idempotency_key}
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"callback unreachable: {error}", retryable=True) from error
        status = response.status_code
        if status >= 500 or status == 429:
            raise DeliveryError(f"callback answered {status}", retryable=True)
        if 300 <= status < 400:
            # The reply did not reach anyone; following a redirect would POST it somewhere nobody configured.
            raise DeliveryError(f"callback answered {status}; redirects are not followed", retryable=False)
        if not 200 <= status < 300:
            raise DeliveryError(f"callback refused the reply: {status}", retryable=False)
        return Delivery(platform_message_id=_platform_id(response))


def _platform_id(response: httpx.Response) -> str | None:
    """The platform's id for the reply, when a 2xx body is a JSON object that carries one.

    The reply was delivered whatever the body says, so an unreadable body only means "no id", never an error.
    """
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        payload = json.loads(response.content)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to parse
        return None
    if not isinstance(payload, dict):
        return None
    value = payload.get("platform_message_id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) or None
