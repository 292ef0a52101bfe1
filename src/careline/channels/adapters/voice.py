"""Voice / CTI, outbound: click-to-call's dial request POSTed to the PBX's URL (docs/channels.md#voice--cti).

Calls come in through the telephony event API (entrypoints/api/routes_voice.py); the only thing Careline sends
a PBX is a request to dial, signed like the generic API channel's callbacks when the account has a
``signing_secret``. Replies are never "delivered" on voice: a voice conversation is a call's history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.channels.ports import Delivery, DeliveryError, Outbound
from careline.channels.signing import SIGNING_SECRET, signed_headers
from careline.kernel.clock import Clock, utcnow

DIAL_TIMEOUT = 5.0  # an agent waits at the desk: a PBX that has not answered by then is reported as down


class VoiceChannel:
    kind = "voice"

    def __init__(self, client: httpx.Client, clock: Clock = utcnow) -> None:
        self._client = client
        self._clock = clock

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        raise DeliveryError("a voice conversation is a call's history: there is no message to send", retryable=False)

    def dial(self, account: ChannelAccount, request: Mapping[str, Any], idempotency_key: str) -> None:
        """POST the dial request as JSON to the account's callback URL; DeliveryError when it is not taken."""
        if not account.callback_url:
            raise DeliveryError(f"voice account {account.name} has no callback_url", retryable=False)
        content = json.dumps(dict(request)).encode()
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        if SIGNING_SECRET in account.secrets.names:
            try:
                secret = account.secrets[SIGNING_SECRET]
            except SecretsUnreadable as error:
                raise DeliveryError(str(error), retryable=True) from None
            headers.update(signed_headers(secret, int(self._clock().timestamp()), content))
        try:
            response = self._client.post(account.callback_url, content=content, headers=headers, timeout=DIAL_TIMEOUT)
        except httpx.HTTPError as error:
            raise DeliveryError(f"the telephony system is unreachable: {error}", retryable=True) from error
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"the telephony system answered {response.status_code}", retryable=False)
