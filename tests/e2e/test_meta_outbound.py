"""The acceptance flow for Facebook, over real HTTP end to end (docs/channels.md#facebook-and-instagram): Meta's
signed webhooks into the live server create messages for the right customer; agents reply in public, in private
from a comment (take it private) and in a Messenger thread; the running app's delivery loop publishes each in the
Graph API's format to a local fake Graph API; the reply ends delivered with Meta's id, a read receipt webhook marks
it read, and an agent hides a comment. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from careline.adapters.secret_box import new_key
from careline.config import Settings
from e2e.conftest import wait_for
from integration.fake_graph import Call, FakeGraph

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"
APP_SECRET, TOKEN = "meta-app-secret-0123456789abcdef", "EAAG-page-access-token-0123456789"
PAGE, PSID, COMMENTER = "104500000000001", "6100000000000001", "7001000000000001"
COMMENT = "880000000000001_990000000000001"
WEBHOOK = "/api/v1/webhooks/meta/acme"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key()), "delivery_poll_seconds": 0.1})


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def page(client: httpx.Client, admin: dict[str, str], graph: FakeGraph) -> None:
    """The Facebook Page account "acme": secrets as an admin sets them, and the Graph API pointed at the fake."""
    created = client.post("/api/v1/channel-accounts", json={"kind": "facebook", "name": "acme"}, headers=admin)
    assert created.status_code == 201, created.text
    secrets = {"app_secret": APP_SECRET, "verify_token": "verify-0123456789", "page_access_token": TOKEN}
    stored = client.put(
        f"/api/v1/channel-accounts/{created.json()['id']}/secrets", json={"secrets": secrets}, headers=admin
    )
    assert stored.status_code == 200, stored.text
    settings = {"graph_url": graph.url, "page_id": PAGE}
    configured = client.put("/api/v1/meta/accounts/acme/settings", json=settings, headers=admin)
    assert configured.status_code == 200, configured.text
    assert configured.json() == {
        "account": "acme",
        "kind": "facebook",
        "ig_user_id": None,
        "human_agent": False,
        **settings,
    }


def deliver(client: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    """A delivery signed as Meta signs it; its answer."""
    body = json.dumps(document).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = client.post(
        WEBHOOK, content=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def fixture(name: str, **messaging: Any) -> dict[str, Any]:
    """A captured delivery; ``messaging`` replaces fields of its first messaging event (times of today)."""
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    if messaging:
        document["entry"][0]["messaging"][0].update(messaging)
    return document


def conversation(client: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    found = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


def sent(client: httpx.Client, headers: dict[str, str], conversation_id: str, message_id: str) -> dict[str, Any]:
    """The reply once the delivery loop has settled it."""

    def settled() -> dict[str, Any] | None:
        [message] = [m for m in conversation(client, headers, conversation_id)["messages"] if m["id"] == message_id]
        return message if message["delivery_status"] not in ("queued", None) else None

    result: dict[str, Any] = wait_for(settled, what=f"delivery of {message_id}")
    return result


def call_for(graph: FakeGraph, text: str) -> Call:
    [call] = [c for c in graph.calls if text in json.dumps(c.body)]
    return call


def test_facebook_comments_and_messages_in_and_out_through_the_graph_api(
    client: httpx.Client,
    admin: dict[str, str],
    make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    graph: FakeGraph,
    page: None,
) -> None:
    _ana, ana = make_agent("Ana")
    settings = "/api/v1/meta/accounts/acme/settings"
    assert client.put(settings, json={"human_agent": True}, headers=ana).status_code == 403  # admins only
    assert client.put(settings, json={"graph_url": "ftp://graph.example"}, headers=admin).status_code == 422
    assert client.get(settings, headers=admin).json()["graph_url"] == graph.url  # unchanged
    assert deliver(client, fixture("page_comment"))["created"] == 1
    [public] = client.get("/api/v1/conversations", headers=ana).json()["items"]
    thread = conversation(client, ana, public["id"])
    [customer_comment] = thread["messages"]
    assert (customer_comment["platform_message_id"], customer_comment["author_external_id"]) == (COMMENT, COMMENTER)
    assert thread["channel"] == "facebook" and thread["account"] == "acme"

    # a public reply, then the conversation taken private: a private reply to the comment
    answer = client.post(
        f"/api/v1/conversations/{public['id']}/replies",
        json={"text": "So sorry, Casey!", "visibility": "public"},
        headers=ana,
    )
    assert answer.status_code == 201, answer.text
    public_reply = sent(client, ana, public["id"], answer.json()["id"])
    taken = client.post(
        f"/api/v1/conversations/{public['id']}/take-private",
        json={"text": "Could you send the order number?"},
        headers=ana,
    )
    assert taken.status_code == 201, taken.text
    [private_reply] = conversation(client, ana, taken.json()["id"])["messages"]
    private_reply = sent(client, ana, taken.json()["id"], private_reply["id"])

    comment_call, private_call = call_for(graph, "So sorry, Casey!"), call_for(graph, "order number")
    assert (comment_call.path, comment_call.body) == (f"/{COMMENT}/comments", {"message": "So sorry, Casey!"})
    assert comment_call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (private_call.path, private_call.body["recipient"]) == (f"/{PAGE}/messages", {"comment_id": COMMENT})
    assert (public_reply["delivery_status"], public_reply["platform_message_id"]) == ("delivered", f"{COMMENT}_reply1")
    assert private_reply["delivery_status"] == "delivered"
    assert private_reply["platform_message_id"].startswith("m_OurReply")

    # a Messenger message, answered in private, then read by the customer
    now_ms = int(time.time() * 1000)
    assert deliver(client, fixture("messenger_dm", timestamp=now_ms))["created"] == 1
    known = {public["id"], taken.json()["id"]}
    [dm] = [c for c in client.get("/api/v1/conversations", headers=ana).json()["items"] if c["id"] not in known]
    [customer_dm] = conversation(client, ana, dm["id"])["messages"]
    assert customer_dm["author_external_id"] == PSID
    answer = client.post(
        f"/api/v1/conversations/{dm['id']}/replies",
        json={"text": "Refunded today", "visibility": "private"},
        headers=ana,
    )
    assert answer.status_code == 201, answer.text
    dm_reply = sent(client, ana, dm["id"], answer.json()["id"])
    dm_call = call_for(graph, "Refunded today")
    assert dm_call.path == f"/{PAGE}/messages"
    assert dm_call.body == {
        "recipient": {"id": PSID},
        "message": {"text": "Refunded today"},
        "messaging_type": "RESPONSE",
    }
    assert dm_reply["delivery_status"] == "delivered"

    read = fixture("messenger_read", timestamp=now_ms + 60_000, read={"watermark": now_ms + 60_000})
    assert deliver(client, read) == {
        "created": 0,
        "duplicates": 0,
        "ignored": 0,
        "receipts": 1,
        "repeat": False,
        "queued": False,
    }
    assert deliver(client, read)["repeat"] is True  # Meta's redelivery of the same bytes is not processed again
    [after] = [m for m in conversation(client, ana, dm["id"])["messages"] if m["id"] == dm_reply["id"]]
    assert after["delivery_status"] == "read"

    # the customer's comment hidden on Facebook by the agent
    hidden = client.post(f"/api/v1/messages/{customer_comment['id']}/hide", json={"hidden": True}, headers=ana)
    assert hidden.status_code == 200, hidden.text
    assert hidden.json() == {"message_id": customer_comment["id"], "hidden": True}
    assert (graph.calls[-1].path, graph.calls[-1].body) == (f"/{COMMENT}", {"is_hidden": True})
