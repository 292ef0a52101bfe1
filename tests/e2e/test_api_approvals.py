"""Approval of public replies over the API end to end (docs/api.md#approvals): a held reply reaches the customer's
callback only once approved, with the approver's text; a rejected one never does; who may do what; risky words."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from .conftest import CallbackServer, inbound, wait_for

MakeAgent = Callable[..., tuple[dict[str, Any], dict[str, str]]]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _message(client: httpx.Client, headers: dict[str, str], conversation_id: str, message_id: str) -> dict[str, Any]:
    messages = _ok(client.get(f"/api/v1/conversations/{conversation_id}", headers=headers))["messages"]
    found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
    return found


def test_a_held_reply_is_delivered_only_once_approved_and_a_rejected_one_never(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    kim, kim_auth = make_agent("Kim")
    _, sue_auth = make_agent("Sue", role="supervisor")
    flag = f"/api/v1/agents/{kim['id']}/needs-approval"
    assert client.put(flag, json={"needs_approval": True}, headers=sue_auth).status_code == 403
    assert client.put(flag, json={"needs_approval": "yes"}, headers=admin).status_code == 422
    assert (
        client.put("/api/v1/agents/nobody/needs-approval", json={"needs_approval": True}, headers=admin).status_code
        == 404
    )
    assert _ok(client.put(flag, json={"needs_approval": True}, headers=admin)) == {
        "agent_id": kim["id"],
        "needs_approval": True,
    }

    with CallbackServer(statuses=[]) as callback:
        account = {"kind": "api", "name": "shop", "callback_url": callback.url}
        _ok(client.post("/api/v1/channel-accounts", json=account, headers=admin))
        posted = _ok(client.post("/api/v1/messages", json=inbound("shop-1", account="shop"), headers=admin))
        cid = posted["results"][0]["conversation_id"]
        replies = f"/api/v1/conversations/{cid}/replies"
        held = client.post(replies, json={"text": "We will refund everything"}, headers=kim_auth)
        assert held.status_code == 201 and held.json()["delivery_status"] == "awaiting_approval"
        reply_id = held.json()["id"]

        assert client.get("/api/v1/approvals", headers=kim_auth).status_code == 403
        [pending] = _ok(client.get("/api/v1/approvals", params={"status": "pending"}, headers=sue_auth))
        assert (pending["message_id"], pending["requested_by"], pending["reasons"]) == (
            reply_id,
            kim["id"],
            ["agent needs approval"],
        )
        assert client.get("/api/v1/approvals", params={"status": "maybe"}, headers=sue_auth).status_code == 422
        time.sleep(0.5)  # the delivery loop polls meanwhile: nothing held may go out
        assert callback.received == []
        assert _message(client, kim_auth, cid, reply_id)["delivery_status"] == "awaiting_approval"

        approve = f"/api/v1/approvals/{pending['id']}/approve"
        assert client.post(approve, json={}, headers=kim_auth).status_code == 403
        assert client.post("/api/v1/approvals/apr_none/approve", json={}, headers=sue_auth).status_code == 404
        approved = _ok(client.post(approve, json={"text": "We are checking your order now."}, headers=sue_auth))
        assert (approved["status"], approved["edited"], approved["original_text"]) == (
            "approved",
            True,
            "We will refund everything",
        )
        wait_for(
            lambda: _message(client, kim_auth, cid, reply_id)["delivery_status"] == "delivered",
            what="the approved reply to be delivered",
        )
        assert [r.body["text"] for r in callback.received] == ["We are checking your order now."]
        assert callback.received[0].headers.get("Idempotency-Key") == f"deliver:{reply_id}"
        again = client.post(approve, json={}, headers=sue_auth)
        assert again.status_code == 409 and "approved already" in again.json()["detail"]

        second = _ok(client.post(replies, json={"text": "Call our lawyer"}, headers=kim_auth))
        [pending] = _ok(client.get("/api/v1/approvals", headers=sue_auth))
        reject = f"/api/v1/approvals/{pending['id']}/reject"
        assert client.post(reject, json={"reason": ""}, headers=sue_auth).status_code == 422
        rejected = _ok(client.post(reject, json={"reason": "Not in public, please"}, headers=sue_auth))
        assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "Not in public, please")
        assert _message(client, kim_auth, cid, second["id"])["delivery_status"] == "rejected"
        time.sleep(0.5)
        assert len(callback.received) == 1
    decided = _ok(client.get("/api/v1/approvals", params={"status": "all", "conversation_id": cid}, headers=sue_auth))
    assert [a["status"] for a in decided] == ["approved", "rejected"]
    history = [e["type"] for e in _ok(client.get(f"/api/v1/conversations/{cid}/events", headers=kim_auth))]
    assert [t for t in history if t.startswith("reply.")] == [
        "reply.awaiting_approval",
        "reply.approved",
        "reply.awaiting_approval",
        "reply.rejected",
    ]


def test_admins_set_the_risky_words(client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent) -> None:
    _, ana_auth = make_agent("Ana")
    path = "/api/v1/approval-settings/risky-words"
    defaults = _ok(client.get(path, headers=ana_auth))
    assert defaults["is_default"] is True and "lawsuit" in defaults["risky_words"]
    assert client.put(path, json={"risky_words": ["voucher"]}, headers=ana_auth).status_code == 403
    bad = client.put(path, json={"risky_words": ["free!"]}, headers=admin)
    assert bad.status_code == 422 and "free!" in bad.json()["detail"]
    assert client.put(path, json={"risky_words": "voucher"}, headers=admin).status_code == 422
    saved = _ok(client.put(path, json={"risky_words": ["Voucher", "money back"]}, headers=admin))
    assert saved == {"risky_words": ["money back", "voucher"], "is_default": False}
    assert _ok(client.get(path, headers=ana_auth)) == saved

    posted = _ok(client.post("/api/v1/messages", json=inbound("r-1"), headers=admin))
    cid = posted["results"][0]["conversation_id"]
    replies = f"/api/v1/conversations/{cid}/replies"
    free = _ok(client.post(replies, json={"text": "A free coffee for you"}, headers=ana_auth))
    assert free["delivery_status"] == "queued"  # "free" is no longer on this deployment's list
    held = _ok(client.post(replies, json={"text": "Here is a VOUCHER"}, headers=ana_auth))
    assert held["delivery_status"] == "awaiting_approval"
    [pending] = _ok(client.get("/api/v1/approvals", headers=admin))
    assert (pending["reasons"], pending["risky_words"]) == (["risky words: voucher"], ["voucher"])
    private = _ok(client.post(replies, json={"text": "voucher", "visibility": "private"}, headers=ana_auth))
    assert private["delivery_status"] == "queued"
