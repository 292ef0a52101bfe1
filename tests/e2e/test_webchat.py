"""The web chat socket over a real server (docs/channels.md#web-chat): a visitor's message is acknowledged after
its commit and stored once however often it is resent; identity tokens and Origins are checked; an agent's reply
made through the API reaches the socket (and a reconnect resumes without repeats); offline, the widget's form
becomes an email conversation. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.bootstrap import Careline
from careline.channels.adapters.webchat import sign_identity
from careline.config import Settings
from careline.entrypoints.api.server import ServerHandle

from .conftest import wait_for

SITE = "https://shop.example"
SECRET = "identity-secret-0123456789abcdef"
VISITOR = "v7Yq2Lr0cW9kT4mZx1Pb"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def chat(client: httpx.Client, admin: dict[str, str]) -> str:
    """The acme-chat account, embeddable on SITE, with an identity secret; its socket's path."""
    created = client.post("/api/v1/channel-accounts", json={"kind": "webchat", "name": "acme-chat"}, headers=admin)
    assert created.status_code == 201, created.text
    secrets = {"secrets": {"identity_secret": SECRET}}
    stored = client.put(f"/api/v1/channel-accounts/{created.json()['id']}/secrets", json=secrets, headers=admin)
    assert stored.status_code == 200, stored.text
    configured = client.put("/api/v1/webchat/acme-chat/settings", json={"allowed_origins": [SITE + "/"]}, headers=admin)
    assert configured.status_code == 200, configured.text
    assert configured.json()["allowed_origins"] == [SITE] and configured.json()["identity_secret"] is True
    return "/api/v1/webchat/acme-chat/socket"


@pytest.fixture
def open_socket(server: ServerHandle, chat: str) -> Callable[..., Any]:
    @contextmanager
    def open_(origin: str | None = SITE, path: str = chat) -> Iterator[ClientConnection]:
        url = f"ws://127.0.0.1:{server.port}{path}"
        with connect(url, origin=Origin(origin) if origin else None, open_timeout=10) as socket:
            yield socket

    return open_


def hello(socket: ClientConnection, **fields: Any) -> dict[str, Any]:
    """Say hello (an anonymous visitor unless told otherwise); the welcome frame."""
    socket.send(json.dumps({"type": "hello", "visitor": VISITOR, **fields}))
    return frame(socket, "welcome")


def frame(socket: ClientConnection, kind: str, seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The next frame of this type; the ones before it go to ``seen``."""
    deadline = time.monotonic() + 20
    while True:
        received = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if received["type"] == kind:
            return dict(received)
        if seen is not None:
            seen.append(received)


def rows(app: Careline, table: sa.Table, *where: Any) -> list[dict[str, Any]]:
    with app.engine.connect() as db:
        return [dict(r) for r in db.execute(sa.select(table).where(*where)).mappings()]


def test_a_visitor_message_is_acknowledged_after_commit_and_a_resend_is_stored_once(
    app: Careline, open_socket: Callable[..., Any]
) -> None:
    with open_socket() as socket:
        welcome = hello(socket)
        assert welcome["identified"] is False and welcome["online"] is False and welcome["offline_form"] is False
        assert frame(socket, "history")["messages"] == []
        message = {"type": "message", "client_id": "3f1c1a52-9a55-4c0e-8d0b-6f3b9d7c2a10", "text": "Where is it?"}
        socket.send(json.dumps(message))
        ack = frame(socket, "ack")
        stored = rows(app, t.messages, t.messages.c.id == ack["message_id"])  # read right after the ack
        socket.send(json.dumps(message))  # the widget resends after a reconnect: the same client id
        again = frame(socket, "ack")
        after_resend = len(rows(app, t.messages))
        for n in range(30):  # a flood: 10 at once (2 taken already), then one every 2 s
            socket.send(json.dumps({**message, "client_id": f"flood-0000-{n:04d}"}))
        answers: list[dict[str, Any]] = []
        while len(answers) < 30:
            received = json.loads(socket.recv(timeout=20))
            if received["type"] in ("ack", "error"):
                answers.append(received)

    slowed = [a for a in answers if a["type"] == "error"]
    assert slowed and all(a["retry"] is True and "too many" in a["reason"] for a in slowed)
    assert len(rows(app, t.messages)) == 1 + 30 - len(slowed)  # the ones acknowledged, each once
    assert ack["client_id"] == message["client_id"] and again["message_id"] == ack["message_id"]
    assert len(stored) == 1 and stored[0]["text"] == "Where is it?" and stored[0]["visibility"] == "private"
    assert stored[0]["author_external_id"] == f"visitor:{VISITOR}"
    assert stored[0]["platform_message_id"] == f"visitor:{VISITOR}:{message['client_id']}"
    assert after_resend == 1
    (conversation,) = rows(app, t.conversations)
    assert conversation["id"] == stored[0]["conversation_id"]
    assert conversation["thread_key"] == f"key:chat:visitor:{VISITOR}"
    (identity,) = rows(app, t.identities)
    assert (identity["channel"], identity["external_id"]) == ("webchat", f"visitor:{VISITOR}")
    assert identity["customer_id"] == conversation["customer_id"]


def test_a_signed_token_names_the_customer_and_bad_tokens_are_refused(
    app: Careline, open_socket: Callable[..., Any]
) -> None:
    claims = {"sub": "cust-42", "name": "Casey Jones", "email": "Casey@Example.com", "exp": int(time.time()) + 600}
    with open_socket() as socket:
        welcome = hello(socket, visitor=None, identity=sign_identity(SECRET, claims))
        socket.send(json.dumps({"type": "message", "client_id": "c0ffee00-1111", "text": "hello, it's Casey"}))
        ack = frame(socket, "ack")
    assert welcome["identified"] is True and welcome["name"] == "Casey Jones"
    (stored,) = rows(app, t.messages, t.messages.c.id == ack["message_id"])
    assert stored["author_external_id"] == "cust-42" and stored["raw"]["email"] == "casey@example.com"
    (customer,) = rows(app, t.customers, t.customers.c.id == stored["customer_id"])
    assert customer["display_name"] == "Casey Jones"

    refusals = {
        "signature does not match": sign_identity("another-site-secret-0123456789", claims),
        "expired": sign_identity(SECRET, {**claims, "exp": int(time.time()) - 1}),
        "malformed": "not-a-token",
        "may not start with 'visitor:'": sign_identity(SECRET, {**claims, "sub": f"visitor:{VISITOR}"}),
    }
    for reason, token in refusals.items():
        with open_socket() as socket:
            socket.send(json.dumps({"type": "hello", "identity": token}))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401, reason
        assert reason in closed.value.rcvd.reason
    assert len(rows(app, t.messages)) == 1


def test_origins_the_account_does_not_allow_and_bad_hellos_are_refused(
    open_socket: Callable[..., Any],
) -> None:
    for origin in ("https://evil.example", "http://shop.example", None):
        with pytest.raises(InvalidStatus) as refused, open_socket(origin=origin):
            pass
        assert refused.value.response.status_code == 403, origin
    with pytest.raises(InvalidStatus) as unknown, open_socket(path="/api/v1/webchat/nobody/socket"):
        pass
    assert unknown.value.response.status_code == 404

    bad_hellos = {
        "the first frame must be hello": {"type": "message", "client_id": "3f1c1a52-9a55", "text": "hi"},
        "visitor must be": {"type": "hello", "visitor": "../../admin"},
    }
    for reason, first in bad_hellos.items():
        with open_socket() as socket:
            socket.send(json.dumps(first))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        assert reason in closed.value.rcvd.reason


def test_an_agent_reply_reaches_the_socket_and_a_reconnect_resumes_without_repeats(
    app: Careline, client: httpx.Client, admin: dict[str, str], open_socket: Callable[..., Any]
) -> None:
    with open_socket() as socket:
        hello(socket)
        socket.send(json.dumps({"type": "message", "client_id": "a1b2c3d4-0001", "text": "anyone there?"}))
        conversation = rows(app, t.messages, t.messages.c.id == frame(socket, "ack")["message_id"])[0][
            "conversation_id"
        ]
        first = client.post(
            f"/api/v1/conversations/{conversation}/replies", json={"text": "Hi! Looking now."}, headers=admin
        )
        assert first.status_code == 201, first.text
        shown: list[dict[str, Any]] = []
        while not any(f.get("message", {}).get("id") == first.json()["id"] for f in shown):
            shown.append(frame(socket, "message"))
        reply = shown[-1]["message"]
        assert (reply["from"], reply["text"], reply["status"]) == ("agent", "Hi! Looking now.", "delivered")
        socket.send(json.dumps({"type": "seen", "message_id": reply["id"]}))
        (outbox,) = rows(app, t.outbox, t.outbox.c.message_id == reply["id"])
        assert outbox["status"] == "done"
        cursor = reply["cursor"]
        wait_for(lambda: rows(app, t.messages, t.messages.c.id == reply["id"])[0]["delivery_status"] == "read")

    second = client.post(f"/api/v1/conversations/{conversation}/replies", json={"text": "Found it."}, headers=admin)
    assert second.status_code == 201, second.text
    with open_socket() as socket:
        welcome = hello(socket, after=cursor)
        before: list[dict[str, Any]] = []
        resumed = frame(socket, "message", before)
    assert welcome["cursor"] == cursor
    assert before == []  # no history, and not the first reply again
    assert (resumed["message"]["id"], resumed["message"]["text"]) == (second.json()["id"], "Found it.")


def test_offline_the_form_becomes_an_email_conversation(
    app: Careline,
    client: httpx.Client,
    admin: dict[str, str],
    open_socket: Callable[..., Any],
    make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]],
) -> None:
    created = client.post(
        "/api/v1/channel-accounts", json={"kind": "email", "name": "help@acme.example"}, headers=admin
    )
    assert created.status_code == 201, created.text
    settings = {"offline_email_account": "help@acme.example"}
    assert client.put("/api/v1/webchat/acme-chat/settings", json=settings, headers=admin).status_code == 200
    form = {"type": "offline", "client_id": "0ff1ce00-0001", "name": "Casey", "text": "Call me back please"}

    with open_socket() as socket:
        assert hello(socket)["offline_form"] is True
        socket.send(json.dumps({**form, "email": "not an address"}))
        assert "email" in frame(socket, "error")["reason"]
        socket.send(json.dumps({**form, "email": "Casey@Example.COM"}))
        ack = frame(socket, "ack")

    assert ack["offline"] is True
    (stored,) = rows(app, t.messages, t.messages.c.id == ack["message_id"])
    assert stored["channel_account_id"] == created.json()["id"] and stored["text"] == "Call me back please"
    assert stored["author_external_id"] == "casey@example.com"
    (identity,) = rows(app, t.identities, t.identities.c.channel == "email")
    assert identity["external_id"] == "casey@example.com"

    _agent, headers = make_agent("Ana")
    assert client.put("/api/v1/me/status", json={"status": "online"}, headers=headers).status_code == 200
    with open_socket() as socket:
        welcome = hello(socket)
    assert welcome["online"] is True and welcome["offline_form"] is False
