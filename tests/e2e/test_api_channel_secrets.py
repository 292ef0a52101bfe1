"""Channel accounts' secrets and the signed generic API channel, over real HTTP (docs/channels.md).

SQLite and PostgreSQL; the server runs with CARELINE_SECRET_KEY set. Signatures are computed here with
hmac/hashlib, as a connector would, not with Careline's own helper.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.bootstrap import Careline
from careline.config import Settings

from .conftest import CallbackServer, inbound, wait_for

SIGNING_SECRET = "whsec_0123456789abcdef-the-shop"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


def sign(body: bytes, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Careline-Timestamp": str(moment), "X-Careline-Signature": f"sha256={digest}"}


def post(client: httpx.Client, auth: dict[str, str], body: bytes, **headers: str) -> httpx.Response:
    return client.post(
        "/api/v1/messages", content=body, headers={**auth, "Content-Type": "application/json", **headers}
    )


def signed_account(client: httpx.Client, admin: dict[str, str], callback_url: str | None = None) -> dict[str, Any]:
    account = {"kind": "api", "name": "shop", "callback_url": callback_url}
    created = client.post("/api/v1/channel-accounts", json=account, headers=admin)
    assert created.status_code == 201, created.text
    body = {"secrets": {"signing_secret": SIGNING_SECRET}}
    response = client.put(f"/api/v1/channel-accounts/{created.json()['id']}/secrets", json=body, headers=admin)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def stored_messages(app: Careline) -> list[str]:
    with app.engine.connect() as db:
        return sorted(db.execute(sa.select(t.messages.c.platform_message_id)).scalars())


def test_secrets_are_set_by_an_admin_and_only_ever_shown_masked(
    client: httpx.Client, admin: dict[str, str], make_agent: Any, app: Careline
) -> None:
    account = signed_account(client, admin)
    assert account["secrets"] == {"signing_secret": "••••shop"} and account["secrets_error"] is None

    listed = client.get("/api/v1/channel-accounts", headers=admin)
    assert SIGNING_SECRET not in listed.text
    [shop] = [a for a in listed.json() if a["name"] == "shop"]
    assert shop["secrets"] == {"signing_secret": "••••shop"}
    [default] = [a for a in listed.json() if a["name"] == "default"]
    assert default["secrets"] == {}

    path = f"/api/v1/channel-accounts/{account['id']}/secrets"
    rotated = client.put(path, json={"secrets": {"signing_secret": "short-one", "api_token": "t" * 20}}, headers=admin)
    assert rotated.status_code == 200
    assert rotated.json()["secrets"] == {"api_token": "••••tttt", "signing_secret": "••••"}  # short: nothing shown

    _, agent = make_agent("Sam")
    assert client.put(path, json={"secrets": {}}, headers=agent).status_code == 403
    bad_name = client.put(path, json={"secrets": {"Bad Name": "x" * 20}}, headers=admin)
    assert bad_name.status_code == 422 and "secret name" in bad_name.json()["detail"]
    assert "x" * 20 not in bad_name.text
    assert (
        client.put("/api/v1/channel-accounts/acc_nope/secrets", json={"secrets": {}}, headers=admin).status_code == 404
    )

    with app.engine.connect() as db:
        config = db.execute(sa.select(t.channel_accounts.c.config).where(t.channel_accounts.c.id == account["id"]))
        raw = json.dumps(config.scalar_one())
        events = json.dumps([e.data for e in db.execute(sa.select(t.events.c.data))])
    assert "short-one" not in raw and "t" * 20 not in raw and SIGNING_SECRET not in raw
    assert "short-one" not in events and SIGNING_SECRET not in events

    removed = client.put(path, json={"secrets": {}}, headers=admin)
    assert removed.status_code == 200 and removed.json()["secrets"] == {}


def test_a_signed_account_takes_only_signed_fresh_requests(
    client: httpx.Client, admin: dict[str, str], app: Careline
) -> None:
    signed_account(client, admin)
    body = json.dumps(inbound("shop-1", account="shop")).encode()

    missing = post(client, admin, body)
    assert missing.status_code == 401 and "missing X-Careline-Signature" in missing.json()["detail"]
    wrong = post(client, admin, body, **sign(body, secret="not-the-secret"))
    assert wrong.status_code == 401 and "does not match" in wrong.json()["detail"]
    tampered = json.dumps(inbound("shop-1", account="shop", text="a different text")).encode()
    assert post(client, admin, tampered, **sign(body)).status_code == 401
    stale = post(client, admin, body, **sign(body, timestamp=int(time.time()) - 301))
    assert stale.status_code == 401 and "300 seconds" in stale.json()["detail"]
    no_token = post(client, {}, body, **sign(body))
    assert no_token.status_code == 401  # the signature never replaces the bearer token
    # A batch naming the signed account with an unsigned one: refused whole, nothing of it stored.
    mixed = json.dumps([inbound("default-1"), inbound("shop-2", account="shop")]).encode()
    assert post(client, admin, mixed).status_code == 401
    assert stored_messages(app) == []

    good = post(client, admin, body, **sign(body))
    assert good.status_code == 201, good.text
    again = post(client, admin, body, **sign(body))  # the connector's retry of the same delivery
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert post(client, admin, mixed, **sign(mixed)).status_code == 201  # the signature covers the whole batch
    assert stored_messages(app) == ["default-1", "shop-1", "shop-2"]

    unsigned_account = post(client, admin, json.dumps(inbound("default-2")).encode())
    assert unsigned_account.status_code == 201  # accounts without a signing secret are as before


def test_replies_to_a_signed_account_carry_a_signature_the_receiver_can_check(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    with CallbackServer(statuses=[]) as callback:
        signed_account(client, admin, callback.url)
        body = json.dumps(inbound("shop-1", account="shop")).encode()
        conversation_id = post(client, admin, body, **sign(body)).json()["results"][0]["conversation_id"]
        reply = client.post(
            f"/api/v1/conversations/{conversation_id}/replies", json={"text": "On its way!"}, headers=admin
        )
        assert reply.status_code == 201, reply.text
        [received] = wait_for(lambda: list(callback.received), what="the reply at the callback")

    timestamp = received.headers["X-Careline-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert received.headers["X-Careline-Signature"] == sign(received.raw, int(timestamp))["X-Careline-Signature"]
    assert received.headers["Idempotency-Key"] == f"deliver:{reply.json()['id']}"
    assert received.body["text"] == "On its way!"
