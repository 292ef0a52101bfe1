"""X over real HTTP (docs/channels.md#x-twitter): the CRC check, signatures (a bad one stores nothing), X's
deliveries (each tweet once, the right customer, a reply in its parent's conversation, a DM in the customer's
private thread), the account's settings, and agents' replies and likes leaving for a local fake X API in X's
format. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
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
from e2e.conftest import wait_for
from integration.fake_x import BRAND, FakeX

FIXTURES = Path(__file__).parents[1] / "fixtures" / "x"
CONSUMER_SECRET = "x-consumer-secret-0123456789abcdef"
ACCESS_TOKEN = "x-user-access-token-0123456789"
URL = "/api/v1/webhooks/x/acme"
CASEY, MENTION, REPLY = "3001969357", "1798280000000000001", "1798285000000000002"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The server's X poller looks for due streams often, so the poll-mode check below waits little.
    return settings.model_copy(update={"secret_key": SecretStr(new_key()), "x_poll_seconds": 0.2})


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX(lambda: datetime.now(UTC), token=ACCESS_TOKEN) as fake:
        yield fake


@pytest.fixture
def account(client: httpx.Client, admin: dict[str, str], fake_x: FakeX) -> str:
    """An X account in webhook mode with its consumer secret and user token, pointed at the fake X."""
    created = client.post("/api/v1/channel-accounts", json={"kind": "x", "name": "acme"}, headers=admin)
    assert created.status_code == 201, created.text
    secrets = {"consumer_secret": CONSUMER_SECRET, "access_token": ACCESS_TOKEN}
    stored = client.put(
        f"/api/v1/channel-accounts/{created.json()['id']}/secrets", json={"secrets": secrets}, headers=admin
    )
    assert stored.status_code == 200, stored.text
    body = {"mode": "webhook", "user_id": BRAND, "api_url": fake_x.url}
    configured = client.put("/api/v1/x/accounts/acme/settings", json=body, headers=admin)
    assert configured.status_code == 200, configured.text
    return created.json()["id"]


def fixture_bytes(name: str) -> bytes:
    return json.dumps(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))).encode()


def deliver(client: httpx.Client, body: bytes, secret: str = CONSUMER_SECRET) -> httpx.Response:
    signature = "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": signature}
    return client.post(URL, content=body, headers=headers)


def messages(app: Careline) -> list[dict[str, Any]]:
    with app.engine.connect() as db:
        rows = db.execute(sa.select(t.messages).order_by(t.messages.c.created_at, t.messages.c.id)).mappings().all()
    return [dict(row) for row in rows]


def test_crc_signatures_and_unsupported_events(client: httpx.Client, app: Careline, account: str) -> None:
    answer = client.get(URL, params={"crc_token": "crc-token-from-x"})
    assert answer.status_code == 200, answer.text
    digest = hmac.new(CONSUMER_SECRET.encode(), b"crc-token-from-x", hashlib.sha256).digest()
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}
    assert client.get(URL).status_code == 422  # no crc_token
    assert client.get("/api/v1/webhooks/x/nobody", params={"crc_token": "x"}).status_code == 404

    body = fixture_bytes("tweet_mention")  # a bad or missing signature is refused and stores nothing
    assert deliver(client, body, secret="not-the-consumer-secret").status_code == 401
    assert client.post(URL, content=body, headers={"Content-Type": "application/json"}).status_code == 401
    good = deliver(client, fixture_bytes("dm_message")).request.headers["x-twitter-webhooks-signature"]
    assert client.post(URL, content=body, headers={"x-twitter-webhooks-signature": good}).status_code == 401

    for name in ("favorite_events", "follow_events", "tweet_delete_events", "dm_typing_and_read", "tweet_retweet"):
        answer = deliver(client, fixture_bytes(name))
        assert answer.status_code == 200 and answer.json()["created"] == 0, answer.text
    assert [m["platform_message_id"] for m in messages(app)] == ["1798281234567890123"]  # only the signed DM


def test_a_mention_and_its_reply_land_once_in_one_conversation_with_the_customer(
    client: httpx.Client, app: Careline, admin: dict[str, str], account: str
) -> None:
    outcomes = [deliver(client, fixture_bytes("tweet_reply")) for _ in range(3)]
    outcomes += [deliver(client, fixture_bytes("tweet_mention")) for _ in range(3)]
    outcomes.append(deliver(client, fixture_bytes("tweet_own")))

    assert [r.status_code for r in outcomes] == [200] * 7, [r.text for r in outcomes]
    assert [r.json()["created"] for r in outcomes] == [1, 0, 0, 1, 0, 0, 0]
    assert [r.json()["repeat"] for r in outcomes] == [False, True, True, False, True, True, False]  # X's retries
    assert outcomes[-1].json() | {"created": 0, "duplicates": 0, "ignored": 1} == outcomes[-1].json()
    mention, reply = sorted(messages(app), key=lambda m: m["platform_message_id"])
    assert (mention["platform_message_id"], reply["platform_message_id"]) == (MENTION, REPLY)
    assert mention["conversation_id"] == reply["conversation_id"] and reply["reply_to_platform_id"] == MENTION
    conversation = client.get(f"/api/v1/conversations/{mention['conversation_id']}", headers=admin)
    assert conversation.status_code == 200, conversation.text
    assert conversation.json()["channel"] == "x"
    with app.engine.connect() as db:
        identity = db.execute(sa.select(t.identities).where(t.identities.c.customer_id == mention["customer_id"])).one()
    assert (identity.channel, identity.external_id) == ("x", CASEY)


def test_agent_replies_leave_as_a_threaded_tweet_and_a_direct_message(
    client: httpx.Client, app: Careline, admin: dict[str, str], account: str, fake_x: FakeX
) -> None:
    assert deliver(client, fixture_bytes("tweet_mention")).json()["created"] == 1
    assert deliver(client, fixture_bytes("dm_message")).json()["created"] == 1
    public, private = (m["conversation_id"] for m in messages(app))

    sent = client.post(f"/api/v1/conversations/{public}/replies", json={"text": "Sorry Casey, on it!"}, headers=admin)
    assert sent.status_code == 201, sent.text
    body = {"text": "Refund issued for 4411.", "visibility": "private"}
    assert client.post(f"/api/v1/conversations/{private}/replies", json=body, headers=admin).status_code == 201
    wait_for(lambda: len(fake_x.posts) == 2, what="both replies at the fake X")

    (tweet_path, tweet_headers, tweet), (dm_path, _, dm) = sorted(fake_x.posts, key=lambda p: p[0] != "/2/tweets")
    assert (tweet_path, tweet) == (
        "/2/tweets",
        {"text": "Sorry Casey, on it!", "reply": {"in_reply_to_tweet_id": MENTION}},
    )
    assert tweet_headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert (dm_path, dm) == (f"/2/dm_conversations/with/{CASEY}/messages", {"text": "Refund issued for 4411."})

    def delivered() -> list[str]:
        found = [m for m in messages(app) if m["direction"] == "outbound" and m["delivery_status"] == "delivered"]
        return sorted(m["platform_message_id"] for m in found)

    ids = wait_for(lambda: len(delivered()) == 2 and delivered(), what="both replies delivered")
    assert all(i.startswith(("18000000000000", "19000000000000")) for i in ids)  # X's tweet id and DM event id

    liked = client.post(f"/api/v1/messages/{messages(app)[0]['id']}/like", headers=admin)
    assert liked.status_code == 200, liked.text
    assert fake_x.posts[-1][0] == f"/2/users/{BRAND}/likes" and fake_x.posts[-1][2] == {"tweet_id": MENTION}
    [liked_event] = logged(app, "tweet.liked")
    assert liked_event["platform_message_id"] == MENTION


def test_settings_and_a_reply_x_counts_over_280_refused_before_reaching_x(
    client: httpx.Client, app: Careline, admin: dict[str, str], account: str, fake_x: FakeX
) -> None:
    deliver(client, fixture_bytes("tweet_mention"))
    [mention] = messages(app)
    text = "申し訳ありません" * 20  # 160 characters, which X counts as 320
    sent = client.post(
        f"/api/v1/conversations/{mention['conversation_id']}/replies", json={"text": text}, headers=admin
    )
    assert sent.status_code == 422, sent.text  # refused when the agent sends it, never queued
    assert "limited to 280" in sent.json()["detail"]
    assert fake_x.posts == [] and [m for m in messages(app) if m["direction"] == "outbound"] == []

    # the account's settings: validated, and read back; in poll mode the server's poller reads its mentions
    polled = fake_x.mention("880100001", "does the poller see me?")
    body = {"mode": "poll", "user_id": BRAND, "search": ["@AcmeSupport refund"], "requests_per_window": 5}
    body["api_url"] = fake_x.url  # the server's poller now reads the fake, never the real X
    answer = client.put("/api/v1/x/accounts/acme/settings", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() | body == answer.json() and answer.json()["poll_seconds"] == 60
    assert client.get("/api/v1/x/accounts/acme/settings", headers=admin).json() == answer.json()
    [configured] = [e for e in logged(app, "channel.configured") if "search" in e["settings"]]
    assert configured["kind"] == "x" and {"mode", "search", "requests_per_window"} <= set(configured["settings"])
    nothing = client.put("/api/v1/x/accounts/acme/settings", json={"mode": "poll"}, headers=admin)
    assert nothing.status_code == 422 and "nothing to poll" in nothing.text
    wait_for(lambda: polled in {m["platform_message_id"] for m in messages(app)}, what="the polled mention")
    both = {f"/2/users/{BRAND}/mentions", "/2/tweets/search/recent"}
    wait_for(lambda: {path for path, _ in list(fake_x.reads)} == both, what="the mentions and the search read")


def logged(app: Careline, kind: str) -> list[dict[str, Any]]:
    """The data of the event log's entries of one type, oldest first."""
    with app.engine.connect() as db:
        query = sa.select(t.events.c.data).where(t.events.c.type == kind).order_by(t.events.c.seq)
        return [dict(data) for data in db.execute(query).scalars()]
