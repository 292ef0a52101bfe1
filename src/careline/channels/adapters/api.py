"""The generic API channel: replies are POSTed as JSON to the account's callback URL (docs/channels.md).

An account with a ``signing_secret`` gets every POST signed like the requests it sends us (channels/signing.py).
"""

from __future__ import annotations

import json

import httpx

from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.channels.ports import Delivery, DeliveryError, Outbound
from careline.channels.signing import SIGNING_SECRET, signed_headers
from careline.kernel.clock import Clock, utcnow


class ApiChannel:
    kind = "api"

    def __init__(self, client: httpx.Client, clock: Clock = utcnow) -> None:
        self._client = client
        self._clock = clock

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        message = outbound.message
        if not account.callback_url:
            raise DeliveryError(f"channel account {account.name} has no callback_url", retryable=False)
        body = {
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "account": account.name,
            "visibility": message.visibility.value,
            "text": message.text,
            "reply_to": outbound.reply_to,
            "recipient": outbound.recipient,
            "created_at": message.created_at.isoformat(),
        }
        content = json.dumps(body).encode()
        headers = {"Idempotency-Key": outbound.idempotency_key, "Content-Type": "application/json"}
        headers.update(self._signature(account, content))
        try:
            response = self._client.post(account.callback_url, content=content, headers=headers)
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

    def _signature(self, account: ChannelAccount, content: bytes) -> dict[str, str]:
        """The signature headers when the account has a signing secret; a fresh timestamp on every attempt."""
        if SIGNING_SECRET not in account.secrets.names:
            return {}
        try:
            secret = account.secrets[SIGNING_SECRET]
        except SecretsUnreadable as error:
            # Never send it unsigned: the receiver would rightly refuse it. A fixed key makes a retry succeed.
            raise DeliveryError(str(error), retryable=True) from None
        return signed_headers(secret, int(self._clock().timestamp()), content)


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
