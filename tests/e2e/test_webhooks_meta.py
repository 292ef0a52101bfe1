"""Meta's webhooks over real HTTP (docs/channels.md#facebook-and-instagram-inbound): the verification handshake,
signatures (a bad one stores nothing), Meta's repeated and out-of-order deliveries (each message once, a reply in
its parent's conversation), and direct messages with the right customer identity. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.bootstrap import Careline
from careline.config import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"
APP_SECRET = "meta-app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-me-please-0123456789"
PAGE = "104500000000001"
PARENT, REPLY = "880000000000001_990000000000001", "880000000000001_990000000000002"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def page(client: httpx.Client, admin: dict[str, str]) -> str:
    """A Facebook Page account with its app secret, verify token and page id; its webhook URL."""
    created = client.post("/api/v1/channel-accounts", json={"kind": "facebook", "name": "acme"}, headers=admin)
    assert created.status_code == 201, created.text
    secrets = {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_id": PAGE}
    stored = client.put(
        f"/api/v1/channel-accounts/{created.json()['id']}/secrets", json={"secrets": secrets}, headers=admin
    )
    assert stored.status_code == 200, stored.text
    return "/api/v1/webhooks/meta/acme"


def fixture_bytes(name: str) -> bytes:
    return json.dumps(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))).encode()


def deliver(client: httpx.Client, url: str, body: bytes, secret: str = APP_SECRET) -> httpx.Response:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    return client.post(url, content=body, headers=headers)


def messages(app: Careline) -> list[dict[str, Any]]:
    with app.engine.connect() as db:
        rows = db.execute(sa.select(t.messages).order_by(t.messages.c.platform_message_id)).mappings().all()
    return [dict(row) for row in rows]


def test_the_verification_handshake_echoes_the_challenge_only_for_the_right_token(
    client: httpx.Client, page: str
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    good = client.get(page, params=query)
    assert good.status_code == 200 and good.text == "1158201444"
    assert good.headers["content-type"].startswith("text/plain")

    assert client.get(page, params={**query, "hub.verify_token": "guess"}).status_code == 403
    assert client.get(page, params={**query, "hub.mode": "unsubscribe"}).status_code == 403
    assert client.get("/api/v1/webhooks/meta/nobody", params=query).status_code == 404


def test_a_bad_or_missing_signature_is_refused_and_stores_nothing(
    client: httpx.Client, app: Careline, page: str
) -> None:
    body = fixture_bytes("page_comment")
    assert deliver(client, page, body, secret="not-the-app-secret").status_code == 401
    assert client.post(page, content=body, headers={"Content-Type": "application/json"}).status_code == 401
    tampered = deliver(client, page, body).request.headers["X-Hub-Signature-256"]  # a good one, for another body
    assert client.post(page, content=body + b" ", headers={"X-Hub-Signature-256": tampered}).status_code == 401
    assert [m["platform_message_id"] for m in messages(app)] == [PARENT]  # only the one correctly signed


def test_repeated_and_out_of_order_deliveries_store_each_comment_once_in_one_conversation(
    client: httpx.Client, app: Careline, page: str
) -> None:
    reply, parent = fixture_bytes("page_comment_reply"), fixture_bytes("page_comment")
    outcomes = [deliver(client, page, reply) for _ in range(5)] + [deliver(client, page, parent) for _ in range(5)]

    assert all(response.status_code == 200 for response in outcomes), [r.text for r in outcomes]
    assert [r.json()["created"] for r in outcomes] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    stored = messages(app)
    assert [m["platform_message_id"] for m in stored] == [PARENT, REPLY]
    assert stored[0]["conversation_id"] == stored[1]["conversation_id"]
    assert stored[1]["reply_to_platform_id"] == PARENT
    assert {m["visibility"] for m in stored} == {"public"}


def test_a_messenger_message_lands_in_the_customer_private_thread(
    client: httpx.Client, app: Careline, admin: dict[str, str], page: str
) -> None:
    first = json.loads(fixture_bytes("messenger_dm"))
    second = json.loads(json.dumps(first))
    second["entry"][0]["messaging"][0]["message"] = {"mid": "m_Second000000001", "text": "hello?"}
    batch = {
        "object": "page",
        "entry": [first["entry"][0], second["entry"][0], *json.loads(fixture_bytes("messenger_echo"))["entry"]],
    }

    answer = deliver(client, page, json.dumps(batch).encode())

    assert answer.status_code == 200, answer.text
    expected = {"created": 2, "duplicates": 0, "ignored": 1, "receipts": 0, "repeat": False, "queued": False}
    assert answer.json() == expected  # ignored: the echo
    dm, second_dm = messages(app)
    assert dm["conversation_id"] == second_dm["conversation_id"] and dm["visibility"] == "private"
    conversation = client.get(f"/api/v1/conversations/{dm['conversation_id']}", headers=admin)
    assert conversation.status_code == 200, conversation.text
    assert conversation.json()["channel"] == "facebook"
    with app.engine.connect() as db:
        identity = db.execute(sa.select(t.identities).where(t.identities.c.customer_id == dm["customer_id"])).one()
    assert (identity.channel, identity.external_id) == ("facebook", "6100000000000001")


def test_unsupported_items_are_acknowledged_and_ignored(client: httpx.Client, app: Careline, page: str) -> None:
    for name in ("unknown_field", "page_comment_edited", "instagram_dm"):
        answer = deliver(client, page, fixture_bytes(name))
        assert answer.status_code == 200 and answer.json()["created"] == 0, answer.text
    assert messages(app) == []
