"""Facebook Page and Instagram, outbound: replies and comment moderation through Meta's Graph API
(docs/channels.md#facebook-and-instagram).

What an agent's reply becomes, from its context (channels/ports.py#Outbound):

- a public reply in a comment thread: a comment under the thread's top-level comment (both networks nest one
  level: ``POST /{comment-id}/comments`` on Facebook, ``POST /{ig-comment-id}/replies`` on Instagram);
- a private message in a conversation taken private (it has no customer message yet): Meta's private reply to the
  public comment it came from, ``POST /{page-id}/messages`` with ``recipient.comment_id`` (one per comment);
- a private message in a comment thread: the same private reply, to the customer's latest comment;
- a private message in a direct-message thread: ``POST /{page-id}/messages`` to the customer's page-scoped id,
  ``messaging_type: RESPONSE`` within 24 hours of their last message, and after that, on an account granted
  Meta's human-agent permission (config ``human_agent``), ``MESSAGE_TAG`` with ``tag: HUMAN_AGENT`` (7 days).

Graph has no idempotency key: what keeps a reply from being published twice is the outbox's lease and
at-most-once claim (adapters/delivery.py); a retry happens only after an answer that says nothing was published
(a 5xx, a 429, a rate-limit error) or none came (a timeout, which may, rarely, repeat a reply Meta did publish).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from careline.channels.model import ChannelAccount, SecretsUnreadable
from careline.channels.ports import Delivery, DeliveryError, Outbound
from careline.conversations.model import REPLY_WINDOWS, Visibility, human_agent_allowed
from careline.kernel.clock import Clock, utcnow

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
ACCESS_TOKEN = "page_access_token"
PLATFORM_ID = {"facebook": "page_id", "instagram": "ig_user_id"}
# Graph error codes that mean "later": throttling (4, 17, 32, 613, 80001-80014) and temporary trouble (1, 2).
RETRYABLE_CODES = {1, 2, 4, 17, 32, 613}
OUTSIDE_WINDOW = (10, 2018278)  # (code, error_subcode): the message was sent outside the allowed window


class MetaGraphChannel:
    """One instance per kind (``facebook``, ``instagram``): the registry maps kinds to adapters."""

    def __init__(self, http: httpx.Client, kind: str, clock: Clock = utcnow) -> None:
        if kind not in PLATFORM_ID:
            raise ValueError(f"MetaGraphChannel serves facebook or instagram, not {kind!r}")
        self.kind = kind
        self._http = http
        self._clock = clock

    # -- replies ---------------------------------------------------------------------------------------------
    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        message = outbound.message
        first = outbound.first
        in_comments = first is not None and first.visibility is Visibility.PUBLIC
        if message.visibility is Visibility.PUBLIC:
            if not in_comments or first is None:
                raise DeliveryError("a public reply needs a public comment to answer", retryable=False)
            # Replies to replies are flattened by both networks: answer the thread's top-level comment.
            root = first.reply_to_platform_id or first.platform_message_id
            edge = "replies" if self.kind == "instagram" else "comments"
            answer = self._post(account, f"/{root}/{edge}", {"message": message.text})
            return Delivery(platform_message_id=_string(answer.get("id")))
        if outbound.reply_to is None or in_comments:
            comment = outbound.reply_to if in_comments else outbound.origin
            if comment is None:
                raise DeliveryError("no customer message or public comment to answer in private", retryable=False)
            body: dict[str, Any] = {"recipient": {"comment_id": comment}, "message": {"text": message.text}}
        else:
            if not outbound.recipient:
                raise DeliveryError("the customer's id on this channel is unknown", retryable=False)
            body = {"recipient": {"id": outbound.recipient}, "message": {"text": message.text}}
            body.update(self._messaging_type(account, outbound))
        answer = self._post(account, f"/{self._sender(account)}/messages", body)
        return Delivery(platform_message_id=_string(answer.get("message_id")))

    def _messaging_type(self, account: ChannelAccount, outbound: Outbound) -> dict[str, str]:
        """RESPONSE within the standard window; the human-agent tag after it, when the account may use it. Without
        the permission a late reply is still tried as a RESPONSE: Meta's clock decides, and its refusal names why."""
        standard = REPLY_WINDOWS[self.kind]
        late = outbound.last_inbound_at is not None and self._clock() > outbound.last_inbound_at + standard
        if late and human_agent_allowed(account.config):
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        return {"messaging_type": "RESPONSE"}

    # -- moderation ------------------------------------------------------------------------------------------
    def set_comment_hidden(self, account: ChannelAccount, comment_id: str, hidden: bool) -> None:
        """``POST /{comment-id}`` with ``is_hidden`` (Facebook) or ``hide`` (Instagram)."""
        field = "hide" if self.kind == "instagram" else "is_hidden"
        answer = self._post(account, f"/{comment_id}", {field: hidden})
        if answer.get("success") is False:
            raise DeliveryError(f"Meta did not {'hide' if hidden else 'unhide'} comment {comment_id}", retryable=False)

    # -- the Graph API ---------------------------------------------------------------------------------------
    def _sender(self, account: ChannelAccount) -> str:
        """The node that sends messages: the Page (an Instagram account connected through Facebook Login sets
        ``page_id`` too), else the Instagram account's own id (Instagram Login), else ``me`` (the token's owner)."""
        for name in ("page_id", PLATFORM_ID[self.kind]):
            value = account.config.get(name) or _secret_or_none(account, name)
            if value:
                return str(value)
        return "me"

    def _post(self, account: ChannelAccount, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = str(account.config.get("graph_url") or DEFAULT_GRAPH_URL).rstrip("/") + path
        headers = {"Authorization": f"Bearer {_token(account)}", "Content-Type": "application/json"}
        try:
            response = self._http.post(url, content=json.dumps(body).encode(), headers=headers)
        except httpx.TimeoutException as error:
            reason = f"the Graph API did not answer in time ({type(error).__name__})"
            raise DeliveryError(reason, retryable=True) from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"the Graph API is unreachable: {error}", retryable=True) from None
        payload = _json(response)
        if response.is_success:
            return payload
        raise _graph_error(response, payload)


def _graph_error(response: httpx.Response, payload: dict[str, Any]) -> DeliveryError:
    """Meta's error answer as a DeliveryError: retryable for 5xx, 429 and throttling codes, final otherwise."""
    status = response.status_code
    found = payload.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    detail = str(error.get("message") or response.reason_phrase or "no reason given")
    named = f"Graph API {status}" + (f" (code {code}" + (f", subcode {subcode})" if subcode else ")") if code else "")
    if (code, subcode) == OUTSIDE_WINDOW:
        return DeliveryError(
            f"{named}: Meta refused the message outside its messaging window (24 hours after the customer's last "
            f"message; 7 days with the human-agent permission): {detail}",
            retryable=False,
        )
    throttled = status == 429 or code in RETRYABLE_CODES or (isinstance(code, int) and 80001 <= code <= 80014)
    if status >= 500 or throttled or error.get("is_transient") is True:
        return DeliveryError(f"{named}: {detail}{_regain(response)}", retryable=True)
    return DeliveryError(f"{named}: {detail}", retryable=False)


def _regain(response: httpx.Response) -> str:
    """When Meta says access comes back (Retry-After, or the usage headers' estimated_time_to_regain_access)."""
    if response.headers.get("Retry-After", "").isdigit():
        return f"; retry after {response.headers['Retry-After']} s"
    usage = response.headers.get("X-Business-Use-Case-Usage")
    try:
        entries = [entry for items in json.loads(usage).values() for entry in items] if usage else []
        minutes = max(int(entry.get("estimated_time_to_regain_access") or 0) for entry in entries) if entries else 0
    except (ValueError, TypeError, AttributeError):
        return ""
    return f"; Meta expects access again in {timedelta(minutes=minutes)}" if minutes else ""


def _token(account: ChannelAccount) -> str:
    if ACCESS_TOKEN not in account.secrets.names:
        raise DeliveryError(f"channel account {account.name} has no {ACCESS_TOKEN} secret", retryable=False)
    try:
        return account.secrets[ACCESS_TOKEN]
    except SecretsUnreadable as error:  # a wrong CARELINE_SECRET_KEY: fixed by an operator, then retried
        raise DeliveryError(str(error), retryable=True) from None


def _secret_or_none(account: ChannelAccount, name: str) -> str | None:
    """A platform id the API stored with the secrets (not sensitive); None when absent or unreadable."""
    if name not in account.secrets.names:
        return None
    try:
        return account.secrets[name]
    except SecretsUnreadable:
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = json.loads(response.content)
    except (ValueError, RecursionError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _string(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None
