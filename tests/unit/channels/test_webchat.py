"""The web chat channel's pure parts (channels/adapters/webchat.py): identity tokens checked against ones signed by
hand as docs/channels.md#web-chat tells a site to, the widget's frames as InboundMessages, and who counts as
available for the chat."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from careline.agents.model import Agent, AgentStatus, Queue, Role
from careline.channels.adapters.webchat import (
    Refused,
    WebChatChannel,
    agent_available,
    anonymous,
    chat_message,
    offline_message,
    valid_email,
    verify_identity,
)
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError, Outbound
from careline.conversations.model import Direction, Message, Visibility

SECRET = "identity-secret-0123456789abcdef"
NOW = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
CLAIMS = {"sub": "cust-42", "name": "Casey", "email": "Casey@Example.com", "exp": int(NOW.timestamp()) + 600}


def by_hand(claims: Any, secret: str = SECRET) -> str:
    """What the docs' Python snippet does: base64url(JSON) "." base64url(HMAC-SHA256 of the first part)."""
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_a_token_signed_as_documented_names_the_customer() -> None:
    visitor = verify_identity(SECRET, by_hand(CLAIMS), NOW)
    assert (visitor.author_id, visitor.name, visitor.email, visitor.identified) == (
        "cust-42",
        "Casey",
        "casey@example.com",
        True,
    )
    assert visitor.thread_key == "chat:cust-42" and visitor.platform_id("c-1234567") == "cust-42:c-1234567"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (by_hand(CLAIMS, "another-secret"), "signature does not match"),
        (by_hand(CLAIMS) + "x", "signature does not match"),
        (by_hand({**CLAIMS, "exp": int(NOW.timestamp())}), "expired"),
        (by_hand({**CLAIMS, "exp": "tomorrow"}), "no exp"),
        (by_hand({k: v for k, v in CLAIMS.items() if k != "sub"}), "sub must be"),
        (by_hand({**CLAIMS, "sub": "x" * 101}), "sub must be"),
        (by_hand({**CLAIMS, "sub": "visitor:abc"}), "may not start with"),
        (by_hand({**CLAIMS, "email": "nope"}), "email must be"),
        (by_hand([1, 2]), "not a JSON object"),
        ("a.b.c", "malformed"),
        ("no-dot", "malformed"),
        ("!!!." + by_hand(CLAIMS).split(".")[1], "malformed"),
    ],
)
def test_bad_tokens_are_refused_with_the_reason(token: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        verify_identity(SECRET, token, NOW)


@pytest.mark.parametrize("visitor", ["short", "x" * 65, "has space in it 12345", None, 12345678901234567, "é" * 20])
def test_an_anonymous_visitor_id_must_be_a_random_token(visitor: Any) -> None:
    with pytest.raises(Refused, match="visitor must be"):
        anonymous(visitor)


def test_a_chat_frame_is_a_private_message_of_the_visitor_thread() -> None:
    visitor = anonymous("v7Yq2Lr0cW9kT4mZx1Pb")
    frame = {"type": "message", "client_id": "3f1c1a52-9a55-4c0e-8d0b-6f3b9d7c2a10", "text": "<b>hi</b>"}
    item = chat_message("acme-chat", visitor, frame)
    assert (item.channel, item.account, item.visibility, item.text) == ("webchat", "acme-chat", "private", "<b>hi</b>")
    assert item.author_id == "visitor:v7Yq2Lr0cW9kT4mZx1Pb" and item.thread_key == "chat:visitor:v7Yq2Lr0cW9kT4mZx1Pb"
    assert item.platform_message_id == "visitor:v7Yq2Lr0cW9kT4mZx1Pb:3f1c1a52-9a55-4c0e-8d0b-6f3b9d7c2a10"
    for bad, reason in [({"client_id": "x"}, "client_id"), ({"text": " "}, "text"), ({"text": "a" * 4001}, "text")]:
        with pytest.raises(Refused, match=reason):
            chat_message("acme-chat", visitor, {**frame, **bad})


def test_the_offline_form_is_an_email_from_the_address_lower_cased() -> None:
    frame = {
        "type": "offline",
        "client_id": "0ff1ce00-0001",
        "name": "Casey",
        "email": " Casey@Example.COM ",
        "text": "x",
    }
    item = offline_message("help@acme.example", "acme-chat", anonymous("v7Yq2Lr0cW9kT4mZx1Pb"), frame)
    assert (item.channel, item.account, item.author_id, item.author_name) == (
        "email",
        "help@acme.example",
        "casey@example.com",
        "Casey",
    )
    assert item.thread_key is None and item.platform_message_id.startswith("webchat:acme-chat:visitor:")
    for address in ("casey", "casey@", "@example.com", "a b@example.com", "casey@example", "x" * 250 + "@e.com"):
        with pytest.raises(Refused, match="email"):
            valid_email(address)


def agent(status: AgentStatus, role: Role = Role.AGENT, skills: frozenset[str] = frozenset()) -> Agent:
    return Agent("agt_1", "Ana", "ana@example.com", role, NOW, skills=skills, status=status)


def test_someone_is_available_when_an_online_agent_may_work_the_queue_in_its_hours() -> None:
    general = Queue("que_g", "general", is_default=True)
    billing = Queue("que_b", "billing", required_skills=frozenset({"billing"}))
    assert agent_available(general, [agent(AgentStatus.ONLINE)], NOW)
    assert not agent_available(general, [agent(AgentStatus.AWAY), agent(AgentStatus.BUSY)], NOW)
    assert not agent_available(general, [agent(AgentStatus.ONLINE, Role.INTEGRATION)], NOW)
    assert not agent_available(billing, [agent(AgentStatus.ONLINE)], NOW)
    assert agent_available(billing, [agent(AgentStatus.ONLINE, skills=frozenset({"billing"}))], NOW)
    closed = Queue("que_n", "nights", business_hours={"hours": {"mon": "20:00-23:00"}})
    assert not agent_available(closed, [agent(AgentStatus.ONLINE)], NOW)


def test_a_reply_is_handed_over_at_once_when_there_is_a_visitor_to_answer() -> None:
    account = ChannelAccount("acc_1", ChannelKind.WEBCHAT, "acme-chat", NOW)
    reply = Message("msg_1", "cnv_1", "acc_1", Direction.OUTBOUND, Visibility.PUBLIC, "hi", NOW, NOW)
    delivery = WebChatChannel().deliver(
        account, Outbound(reply, "deliver:msg_1", recipient="visitor:v7Yq2Lr0cW9kT4mZx1Pb")
    )
    assert delivery.platform_message_id is None
    with pytest.raises(DeliveryError, match="no visitor"):
        WebChatChannel().deliver(account, Outbound(reply, "deliver:msg_1"))
