"""The web chat channel (docs/channels.md#web-chat): the widget's socket messages as InboundMessages, the
signed identity tokens a site gives its logged-in customers, and the adapter that "delivers" agents' replies.
Pure: no framework, no I/O; entrypoints/api/routes_webchat.py runs the socket.

Delivery: the visitor's socket is not something the delivery worker can reach (it lives in whichever API
process the visitor is connected to). So ``deliver`` only validates the reply and returns at once; the
worker then marks it ``delivered`` and writes ``message.delivered``, and every socket of that conversation,
in any process, picks delivered replies up from the event log. "Delivered" thus means "committed and
handed to the visitor's open widgets (or shown in its history on their next visit)"; "read" means a widget
displayed it and said so (``{"type": "seen"}``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any

from careline.agents.model import Agent, AgentStatus, Queue, Role
from careline.channels.model import ChannelAccount
from careline.channels.ports import Delivery, DeliveryError, Outbound
from careline.ingestion.model import InboundMessage
from careline.routing.config import queue_spec

KIND = "webchat"
IDENTITY_SECRET = "identity_secret"  # the account secret identity tokens are signed with
MAX_TEXT = 4000  # characters of one chat message (a chat line, not a letter)
MAX_SUB = 100
MAX_NAME = 200
MAX_EMAIL = 254
MAX_TOKEN = 4096
VISITOR = re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII)  # a random id the widget keeps in localStorage
CLIENT_ID = re.compile(r"[A-Za-z0-9-]{8,64}", re.ASCII)  # a uuid the widget makes per message
EMAIL = re.compile(r"[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", re.ASCII)
ANONYMOUS = "visitor:"  # author ids of anonymous visitors; a token's sub may not start with it
TAKES_NO_WORK = (Role.INTEGRATION, Role.SOCIAL)


class Refused(Exception):
    """The socket's input is not acceptable; the message says why, for the visitor's widget and the log."""


@dataclasses.dataclass(frozen=True)
class Visitor:
    """Who is on the other end of a socket: a customer the site vouched for, or an anonymous visitor."""

    author_id: str  # the identity in Careline: the token's sub, or "visitor:<random id>"
    name: str | None = None
    email: str | None = None
    identified: bool = False

    @property
    def thread_key(self) -> str:
        """One conversation per person and chat account (a resolved one reopens when they write again)."""
        return f"chat:{self.author_id}"

    def platform_id(self, client_id: str) -> str:
        """Unique per message and stable across resends: a resend after a reconnect is a duplicate."""
        return f"{self.author_id}:{client_id}"


class WebChatChannel:
    """Replies reach visitors through their sockets, which read delivered replies from the database."""

    kind = KIND

    def deliver(self, account: ChannelAccount, outbound: Outbound) -> Delivery:
        # A chat has one audience, the visitor: a reply marked public (the API's default) reaches them the same.
        if not outbound.recipient:
            raise DeliveryError(f"no visitor to answer in {account.name}'s conversation", retryable=False)
        return Delivery(platform_message_id=None)


def sign_identity(secret: str, claims: dict[str, Any]) -> str:
    """An identity token: base64url(JSON claims) "." base64url(HMAC-SHA256 of the first part under the secret)."""
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify_identity(secret: str, token: str, now: datetime) -> Visitor:
    """The customer a site's token names; Refused (with the reason) when it is malformed, forged or expired."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        raise Refused("identity token is malformed (expected <payload>.<signature>)")
    payload, signature = token.split(".")
    try:
        given = _unb64(signature)
        claims = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("identity token is malformed (not base64url JSON)") from None
    if not hmac.compare_digest(given, _mac(secret, payload)):
        raise Refused("identity token signature does not match")
    if not isinstance(claims, dict):
        raise Refused("identity token payload is not a JSON object")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise Refused("identity token has no exp (unix seconds)")
    if expires <= now.timestamp():
        raise Refused("identity token expired")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB or "\x00" in sub:
        raise Refused(f"identity token sub must be a string of 1 to {MAX_SUB} characters")
    if sub.startswith(ANONYMOUS):
        raise Refused(f"identity token sub may not start with {ANONYMOUS!r}")
    name = _text(claims.get("name"), MAX_NAME)
    email = claims.get("email")
    return Visitor(sub, name, valid_email(email) if email is not None else None, identified=True)


def anonymous(visitor_id: Any) -> Visitor:
    """The anonymous visitor the widget's random id names (validated: it is what keeps chats apart)."""
    if not isinstance(visitor_id, str) or not VISITOR.fullmatch(visitor_id):
        raise Refused("visitor must be 16 to 64 characters of A-Z, a-z, 0-9, _ and -")
    return Visitor(f"{ANONYMOUS}{visitor_id}", f"Visitor {visitor_id[:6]}")


def valid_email(value: Any) -> str:
    """The address lower-cased; Refused when it does not look like one."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not EMAIL.fullmatch(value.strip()):
        raise Refused("email must be an address like name@example.com")
    return value.strip().lower()


def chat_message(account: str, visitor: Visitor, frame: dict[str, Any]) -> InboundMessage:
    """A ``{"type": "message", "client_id", "text"}`` frame as the visitor's inbound message."""
    client_id = client_id_of(frame)
    return InboundMessage(
        channel=KIND,
        account=account,
        platform_message_id=visitor.platform_id(client_id),
        author_id=visitor.author_id,
        author_name=visitor.name,
        text=_message_text(frame.get("text")),
        visibility="private",
        thread_key=visitor.thread_key,
        raw={"client_id": client_id, **({"email": visitor.email} if visitor.email else {})},
    )


def offline_message(email_account: str, chat_account: str, visitor: Visitor, frame: dict[str, Any]) -> InboundMessage:
    """The offline form (``{"type": "offline", "client_id", "name", "email", "text"}``) as an email received on
    ``email_account``: its author is the address, so the agent's reply goes out by email."""
    client_id = client_id_of(frame)
    email = valid_email(frame.get("email"))
    name = _text(frame.get("name"), MAX_NAME)
    return InboundMessage(
        channel="email",
        account=email_account,
        platform_message_id=f"webchat:{chat_account}:{visitor.platform_id(client_id)}",
        author_id=email,
        author_name=name or email,
        text=_message_text(frame.get("text")),
        visibility="private",
        raw={"source": "webchat offline form", "webchat_account": chat_account, "subject": "Message from the chat"},
    )


def client_id_of(frame: dict[str, Any]) -> str:
    client_id = frame.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise Refused("client_id must be 8 to 64 characters of A-Z, a-z, 0-9 and - (a uuid)")
    return client_id


def agent_available(queue: Queue, agents: list[Agent], now: datetime) -> bool:
    """Someone could take a chat now: the queue is within its business hours and an online agent who does agent
    work matches its target (what the router itself requires; room for one more is not needed to chat)."""
    spec = queue_spec(queue)
    if not spec.hours.is_open(now):
        return False
    return any(
        agent.status is AgentStatus.ONLINE
        and agent.role not in TAKES_NO_WORK
        and spec.target.evaluate(agent.routing_attributes())
        for agent in agents
    )


def _message_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refused("text must be a non-empty string")
    if len(value) > MAX_TEXT or "\x00" in value:
        raise Refused(f"text must be at most {MAX_TEXT} characters, without NUL")
    return value


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Refused(f"names are strings of at most {limit} characters")
    return value.strip() or None


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode(), payload.encode("ascii", "replace"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text, re.ASCII):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
