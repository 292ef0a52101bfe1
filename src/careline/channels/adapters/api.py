"""The generic API channel: replies are POSTed as JSON to the account's callback URL (docs/channels.md)."""

from __future__ import annotations

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
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"callback answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise DeliveryError(f"callback refused the reply: {response.status_code}", retryable=False)
        platform_id = None
        if response.headers.get("content-type", "").startswith("application/json"):
            payload = response.json()
            if isinstance(payload, dict) and payload.get("platform_message_id") is not None:
                platform_id = str(payload["platform_message_id"])
        return Delivery(platform_message_id=platform_id)
