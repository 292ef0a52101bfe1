"""The dead-letter view over HTTP: failed replies listed for supervisors, and sent again
(docs/channels.md#dead-letters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .conftest import CallbackServer, inbound, wait_for

MakeAgent = Callable[..., tuple[dict[str, Any], dict[str, str]]]


def test_a_refused_reply_is_listed_and_a_retry_delivers_it(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _, agent = make_agent("Kim")
    _, boss = make_agent("Sam", role="supervisor")
    with CallbackServer(statuses=[400]) as callback:  # refused once (final), then taken
        account = {"kind": "api", "name": "shop", "callback_url": callback.url}
        assert client.post("/api/v1/channel-accounts", json=account, headers=admin).status_code == 201
        posted = client.post("/api/v1/messages", json=inbound("shop-1", account="shop"), headers=admin)
        conversation_id = posted.json()["results"][0]["conversation_id"]
        reply = client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Sorted"}, headers=agent)
        reply_id = reply.json()["id"]

        def dead_letters() -> list[dict[str, Any]]:
            answer = client.get("/api/v1/deliveries/failed", headers=boss)
            assert answer.status_code == 200, answer.text
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        [dead] = wait_for(dead_letters, what="the refused reply in the dead letters")
        assert (dead["message_id"], dead["agent"], dead["account"]) == (reply_id, "Kim", "shop")
        assert dead["last_error"] == "callback refused the reply: 400"
        assert client.get("/api/v1/deliveries/failed", headers=agent).status_code == 403

        retried = client.post(f"/api/v1/deliveries/{reply_id}/retry", headers=agent)  # its author may
        assert retried.status_code == 200, retried.text
        assert retried.json()["delivery_status"] in ("queued", "delivered")

        def delivered() -> bool:
            message = client.get(f"/api/v1/conversations/{conversation_id}", headers=agent).json()["messages"][-1]
            return bool(message["delivery_status"] == "delivered")

        wait_for(delivered, what="the retried reply to be delivered")
        keys = [r.headers.get("Idempotency-Key") for r in callback.received]
    assert keys == [f"deliver:{reply_id}"] * 2
    assert dead_letters() == []
    again = client.post(f"/api/v1/deliveries/{reply_id}/retry", headers=boss)
    assert again.status_code == 409
    assert "has not failed" in again.json()["detail"]
    assert client.post("/api/v1/deliveries/nope/retry", headers=boss).status_code == 404


def test_a_bridge_s_receipts_move_a_reply_forward_once(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _, agent = make_agent("Kim")
    _, bridge = make_agent("Bridge", role="integration")
    with CallbackServer(statuses=[]) as callback:  # answers {"platform_message_id": "cb-1"}
        account = {"kind": "api", "name": "shop", "callback_url": callback.url}
        assert client.post("/api/v1/channel-accounts", json=account, headers=admin).status_code == 201
        posted = client.post("/api/v1/messages", json=inbound("shop-1", account="shop"), headers=bridge)
        conversation_id = posted.json()["results"][0]["conversation_id"]
        client.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Sorted"}, headers=agent)

        def reply() -> dict[str, Any]:
            messages = client.get(f"/api/v1/conversations/{conversation_id}", headers=agent).json()["messages"]
            last: dict[str, Any] = messages[-1]
            return last

        wait_for(lambda: reply()["delivery_status"] == "delivered", what="the reply to be delivered")

    def receipt(status: str, ids: list[str], who: dict[str, str] = bridge, name: str = "shop") -> httpx.Response:
        body = {"account": name, "status": status, "platform_message_ids": ids}
        return client.post("/api/v1/deliveries/receipts", json=body, headers=who)

    assert receipt("read", ["cb-1", "unknown"]).json() == {"updated": 1}
    assert reply()["delivery_status"] == "read"
    assert receipt("delivered", ["cb-1"]).json() == {"updated": 0}  # older news: read stays read
    assert receipt("read", ["cb-1"]).json() == {"updated": 0}
    assert reply()["delivery_status"] == "read"
    assert receipt("read", ["cb-1"], who=agent).status_code == 403
    assert receipt("read", ["cb-1"], name="nowhere").status_code == 404
    assert receipt("read", []).status_code == 422
    assert receipt("seen", ["cb-1"]).status_code == 422
