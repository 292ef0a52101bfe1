"""Voice / CTI over real HTTP (docs/channels.md#voice--cti): the acceptance check — a "ringing" event for a
known number answers with the customer and their open conversations, and the call is in the customer's
history after "ended" — plus signatures, roles and validation. SQLite and PostgreSQL. Latency is measured by
bench/voice.py, never asserted here."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from careline.adapters.secret_box import new_key
from careline.config import Settings

from .conftest import CallbackServer, inbound

NUMBER = "+14155550123"
SECRET = "pbx-signing-secret-0123456789"
EARLIER = "2024-03-04T09:00:00+00:00"
Maker = Callable[..., tuple[dict[str, Any], dict[str, str]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def pbx(client: httpx.Client, admin: dict[str, str], make_agent: Maker) -> dict[str, str]:
    """A voice account and the integration account the PBX authenticates as."""
    created = client.post("/api/v1/channel-accounts", json={"kind": "voice", "name": "switchboard"}, headers=admin)
    assert created.status_code == 201, created.text
    _, headers = make_agent("Pbx", role="integration")
    return headers


def call_event(client: httpx.Client, auth: dict[str, str], call_id: str, event: str, **fields: Any) -> httpx.Response:
    body = {"account": "switchboard", "call_id": call_id, "event": event, "caller": NUMBER, **fields}
    return client.post("/api/v1/voice/events", json=body, headers=auth)


def test_ringing_pops_the_known_customer_and_the_ended_call_joins_their_history(
    client: httpx.Client, admin: dict[str, str], pbx: dict[str, str], make_agent: Maker
) -> None:
    # A known customer: they wrote twice through a connector whose author ids are phone numbers.
    written = client.post(
        "/api/v1/messages",
        json=[
            inbound("m1", "my refund never arrived", author_id=NUMBER, author_name="Casey Jones", created_at=EARLIER),
            inbound("m2", "hello? order 1234", author_id=NUMBER, author_name="Casey Jones", reply_to="m1"),
        ],
        headers=admin,
    )
    assert written.status_code == 201, written.text
    open_conversation = written.json()["results"][0]["conversation_id"]
    agent, agent_auth = make_agent("Ana")

    ringing = call_event(client, pbx, "pbx-77", "ringing", called="+18005550100", queue="general")

    assert ringing.status_code == 200, ringing.text
    screen = ringing.json()
    assert screen["call"]["state"] == "ringing" and screen["call"]["number"] == NUMBER
    customer = screen["customer"]
    assert customer["display_name"] == "Casey Jones" and customer["tier"] == "standard"
    assert {(i["channel"], i["external_id"]) for i in customer["identities"]} == {("api", NUMBER), ("voice", NUMBER)}
    [conversation] = screen["open_conversations"]
    assert conversation["id"] == open_conversation
    assert (conversation["channel"], conversation["status"]) == ("api", "new")
    assert conversation["last_message"] == "hello? order 1234"

    answered = call_event(client, pbx, "pbx-77", "answered", agent_email="ana@example.com")
    assert answered.json()["call"]["agent_id"] == agent["id"]
    ended = call_event(client, pbx, "pbx-77", "ended", recording_url="https://pbx.example/rec/77.mp3")
    assert ended.status_code == 200, ended.text
    again = call_event(client, pbx, "pbx-77", "ended")  # the PBX retries: nothing changes
    assert again.json()["call"] == ended.json()["call"]

    call = client.get(f"/api/v1/voice/calls/{screen['call']['id']}", headers=agent_auth).json()
    assert call["state"] == "ended" and call["recording_url"] == "https://pbx.example/rec/77.mp3"
    history = client.get(f"/api/v1/conversations/{call['conversation_id']}", headers=agent_auth).json()
    assert (history["customer_id"], history["channel"], history["status"]) == (customer["id"], "voice", "resolved")
    [message] = history["messages"]
    assert message["visibility"] == "private" and message["direction"] == "inbound"
    assert message["text"].startswith(f"Call from {NUMBER}, answered by Ana, ")
    assert message["text"].endswith("recording: https://pbx.example/rec/77.mp3")
    events = client.get(f"/api/v1/conversations/{call['conversation_id']}/events", headers=agent_auth).json()
    assert events[0]["type"] == "call.ended"
    # The open social conversation is still there for the next call; the call itself is not "open".
    next_pop = call_event(client, pbx, "pbx-78", "ringing").json()
    assert [c["id"] for c in next_pop["open_conversations"]] == [open_conversation]
    report = client.get("/api/v1/reports/summary", headers=agent_auth).json()
    assert report["messages"]["by_channel"]["voice"] == {"inbound": 1, "outbound": 0}


def test_a_signed_voice_account_refuses_unsigned_events(
    client: httpx.Client, admin: dict[str, str], pbx: dict[str, str]
) -> None:
    accounts = client.get("/api/v1/channel-accounts", headers=admin).json()
    account_id = next(a["id"] for a in accounts if a["kind"] == "voice")
    put = client.put(
        f"/api/v1/channel-accounts/{account_id}/secrets", json={"secrets": {"signing_secret": SECRET}}, headers=admin
    )
    assert put.status_code == 200, put.text
    body = json.dumps({"account": "switchboard", "call_id": "c1", "event": "ringing", "caller": NUMBER}).encode()
    headers = {**pbx, "Content-Type": "application/json"}

    unsigned = client.post("/api/v1/voice/events", content=body, headers=headers)
    moment = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    signature = {"X-Careline-Timestamp": str(moment), "X-Careline-Signature": f"sha256={digest}"}
    tampered = client.post("/api/v1/voice/events", content=body.replace(b"c1", b"c2"), headers={**headers, **signature})
    signed = client.post("/api/v1/voice/events", content=body, headers={**headers, **signature})

    assert unsigned.status_code == 401 and "X-Careline-Signature" in unsigned.json()["detail"]
    assert tampered.status_code == 401
    assert signed.status_code == 200, signed.text
    assert signed.json()["call"]["call_id"] == "c1"


def test_click_to_call_is_for_agents_and_events_for_the_pbx(
    client: httpx.Client, admin: dict[str, str], pbx: dict[str, str], make_agent: Maker
) -> None:
    agent, agent_auth = make_agent("Ana")
    settings = {"region": "us", "line": "+1 800 555 0100"}
    configured = client.put("/api/v1/voice/accounts/switchboard/settings", json=settings, headers=admin)
    assert configured.json() == {"account": "switchboard", "region": "US", "line": "+18005550100"}
    assert (
        client.put("/api/v1/voice/accounts/switchboard/settings", json=settings, headers=agent_auth).status_code == 403
    )
    local = client.post(
        "/api/v1/voice/calls", json={"account": "switchboard", "number": "(415) 555-0199"}, headers=agent_auth
    )
    assert local.status_code == 201 and local.json()["dial_request"]["number"] == "+14155550199"

    dialled = client.post(
        "/api/v1/voice/calls", json={"account": "switchboard", "number": "+1 415 555 0123"}, headers=agent_auth
    )

    assert dialled.status_code == 201, dialled.text
    answer = dialled.json()
    assert answer["call"]["state"] == "dialing" and answer["call"]["direction"] == "outbound"
    assert answer["dial_request"]["number"] == NUMBER and answer["dial_request"]["agent"]["id"] == agent["id"]
    assert answer["dial_request"]["call_id"] == answer["call"]["call_id"]
    rang = call_event(client, pbx, answer["dial_request"]["call_id"], "ringing", caller="+18005550100", called=NUMBER)
    assert rang.json()["call"]["id"] == answer["call"]["id"] and rang.json()["call"]["state"] == "ringing"
    again = client.get(f"/api/v1/voice/calls/{answer['call']['id']}/screen-pop", headers=agent_auth).json()
    assert again["customer"]["identities"] == [{"channel": "voice", "external_id": NUMBER, "handle": None}]

    assert (
        client.post("/api/v1/voice/calls", json={"account": "switchboard", "number": NUMBER}, headers=pbx).status_code
        == 403
    )
    assert call_event(client, agent_auth, "c9", "ringing").status_code == 403
    bad_number = client.post("/api/v1/voice/calls", json={"account": "switchboard", "number": "12"}, headers=agent_auth)
    assert bad_number.status_code == 422


def test_bad_events_are_422_and_unknown_accounts_404(client: httpx.Client, pbx: dict[str, str]) -> None:
    unknown_event = call_event(client, pbx, "c1", "hung-up")
    assert unknown_event.status_code == 422 and unknown_event.json()["detail"].startswith("body.event:")
    naive_time = call_event(client, pbx, "c1", "ringing", at="2024-03-04T09:00:00")
    assert naive_time.status_code == 422
    assert call_event(client, pbx, "c1", "ringing", account="nowhere").status_code == 404
    not_json = client.post("/api/v1/voice/events", content=b"ring ring", headers=pbx)
    assert not_json.status_code == 400


def test_click_to_call_hands_the_signed_dial_request_to_the_pbx_and_reports_a_refusal(
    client: httpx.Client, admin: dict[str, str], pbx: dict[str, str], make_agent: Maker
) -> None:
    agent, agent_auth = make_agent("Ana")
    without_url = client.post(
        "/api/v1/voice/calls", json={"account": "switchboard", "number": NUMBER}, headers=agent_auth
    )
    assert without_url.json()["handed_over"] is False
    assert "no callback_url" in without_url.json()["hand_over_error"]

    with CallbackServer(statuses=[200, 503]) as telephony:
        account = {"kind": "voice", "name": "cloud-pbx", "callback_url": telephony.url}
        created = client.post("/api/v1/channel-accounts", json=account, headers=admin).json()
        secrets = {"secrets": {"signing_secret": SECRET}}
        assert client.put(f"/api/v1/channel-accounts/{created['id']}/secrets", json=secrets, headers=admin).is_success

        taken = client.post("/api/v1/voice/calls", json={"account": "cloud-pbx", "number": NUMBER}, headers=agent_auth)
        refused = client.post(
            "/api/v1/voice/calls", json={"account": "cloud-pbx", "number": NUMBER}, headers=agent_auth
        )

    assert (taken.status_code, taken.json()["handed_over"], taken.json()["hand_over_error"]) == (201, True, None)
    [first, second] = telephony.received
    assert first.body == taken.json()["dial_request"]
    assert first.body["number"] == NUMBER and first.body["agent"]["id"] == agent["id"]
    assert first.headers["Idempotency-Key"] == f"dial:{taken.json()['call']['id']}"
    stamp = first.headers["X-Careline-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + first.raw, hashlib.sha256).hexdigest()
    assert first.headers["X-Careline-Signature"] == f"sha256={expected}"

    assert refused.status_code == 201
    assert (refused.json()["handed_over"], refused.json()["hand_over_error"]) == (
        False,
        "the telephony system answered 503",
    )
    assert second.body["call_id"] == refused.json()["call"]["call_id"]
