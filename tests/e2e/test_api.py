"""The HTTP API end to end: a real server, real HTTP, SQLite and PostgreSQL (docs/api.md)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from careline.bootstrap import Careline
from careline.entrypoints.api.server import ServerHandle

from .conftest import ADMIN_EMAIL, PASSWORD, CallbackServer, inbound, login, wait_for

MakeAgent = Callable[..., tuple[dict[str, Any], dict[str, str]]]


def _post(client: httpx.Client, headers: dict[str, str], body: Any) -> httpx.Response:
    return client.post("/api/v1/messages", json=body, headers=headers)


def _conversation(client: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_health_and_token_login(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}

    good = client.post("/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert good.status_code == 200
    assert good.json()["agent"]["role"] == "admin"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {good.json()['token']}"})
    assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL

    bad = client.post("/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": "wrong password"})
    assert bad.status_code == 401 and "wrong email or password" in bad.json()["detail"]
    assert client.get("/api/v1/me").status_code == 401
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer clt_not-a-token"})
    assert forged.status_code == 401 and forged.json()["detail"]


def test_a_malformed_message_is_rejected_by_name_and_the_valid_one_is_stored(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    naive_time = inbound("m-2", created_at="2024-05-01T10:00:00")
    no_text = {k: v for k, v in inbound("m-3").items() if k != "text"}
    unknown_account = inbound("m-4", account="nobody")
    response = _post(client, admin, [inbound("m-1"), naive_time, no_text, unknown_account])

    assert response.status_code == 422
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (1, 0, 3)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "rejected", "rejected", "rejected"]
    assert "created_at" in body["results"][1]["error"] and "timezone" in body["results"][1]["error"]
    assert "text" in body["results"][2]["error"]
    assert "unknown channel account api/nobody" in body["results"][3]["error"]
    stored = _conversation(client, admin, body["results"][0]["conversation_id"])
    assert [m["platform_message_id"] for m in stored["messages"]] == ["m-1"]


def test_bodies_that_are_not_messages_are_refused_with_a_reason(client: httpx.Client, admin: dict[str, str]) -> None:
    not_json = client.post("/api/v1/messages", content=b"{nope", headers={**admin, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]
    assert "object or a list" in _post(client, admin, "hello").json()["detail"]
    assert _post(client, admin, []).status_code == 422
    too_many = _post(client, admin, [inbound(f"m-{i}") for i in range(1001)])
    assert too_many.status_code == 413 and "1000" in too_many.json()["detail"]
    assert _post(client, {}, inbound("m-1")).status_code == 401
    other_route = client.post("/api/v1/queues", content=b"{nope", headers={**admin, "Content-Type": "application/json"})
    assert other_route.status_code == 422 and "JSON decode error" in other_route.json()["detail"]


def test_the_same_message_twice_is_stored_once(client: httpx.Client, admin: dict[str, str]) -> None:
    first = _post(client, admin, inbound("dup-1", created_at="2024-05-01T10:00:00+02:00"))
    assert first.status_code == 201 and first.json()["results"][0]["status"] == "created"
    again = _post(client, admin, inbound("dup-1", created_at="2024-05-01T10:00:00+02:00"))
    assert again.status_code == 200
    assert again.json()["results"][0]["status"] == "duplicate" and again.json()["duplicates"] == 1
    conversation_id = first.json()["results"][0]["conversation_id"]
    assert again.json()["results"][0]["conversation_id"] == conversation_id
    assert len(_conversation(client, admin, conversation_id)["messages"]) == 1


def test_a_reply_chain_lands_in_one_conversation(client: httpx.Client, admin: dict[str, str]) -> None:
    batch = [
        inbound("chain-1", "my card was charged twice", created_at="2024-05-01T10:00:00Z"),
        inbound(
            "chain-2", "we are sorry, DM us", author_id="brand", direction="outbound",
            reply_to="chain-1", created_at="2024-05-01T10:05:00Z",
        ),
    ]
    created = _post(client, admin, batch).json()["results"]
    later = _post(client, admin, inbound("chain-3", "still waiting", reply_to="chain-2")).json()["results"]
    conversation_id = created[0]["conversation_id"]
    assert created[1]["conversation_id"] == later[0]["conversation_id"] == conversation_id
    messages = _conversation(client, admin, conversation_id)["messages"]
    assert [m["platform_message_id"] for m in messages] == ["chain-1", "chain-2", "chain-3"]
    assert messages[1]["direction"] == "outbound" and messages[1]["delivery_status"] == "external"


def test_an_agent_going_online_is_assigned_waiting_work(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    agent, headers = make_agent("Robin")
    waiting = _post(client, admin, inbound("route-1")).json()["results"][0]["conversation_id"]
    unassigned = client.get("/api/v1/conversations", params={"assignee": "none"}, headers=headers).json()
    assert [c["id"] for c in unassigned["items"]] == [waiting]

    online = client.put("/api/v1/me/status", json={"status": "online"}, headers=headers)
    assert online.status_code == 200 and online.json()["status"] == "online"
    mine = client.get("/api/v1/conversations", params={"assignee": "me"}, headers=headers).json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == waiting
    assert mine["items"][0]["assignee_id"] == agent["id"] and mine["items"][0]["queue"] == "general"

    arriving = _post(client, admin, inbound("route-2", author_id="customer-2")).json()["results"][0]
    assert _conversation(client, headers, arriving["conversation_id"])["assignee_id"] == agent["id"]
    bad_status = client.put("/api/v1/me/status", json={"status": "asleep"}, headers=headers)
    assert bad_status.status_code == 422 and "status" in bad_status.json()["detail"]


def test_agent_work_on_a_conversation_is_recorded_in_its_events(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    agent, headers = make_agent("Sam")
    assert client.post("/api/v1/queues", json={"name": "billing"}, headers=admin).status_code == 201
    cid = _post(client, admin, inbound("work-1")).json()["results"][0]["conversation_id"]
    url = f"/api/v1/conversations/{cid}"

    accepted = client.post(f"{url}/accept", headers=headers).json()
    assert (accepted["assignee_id"], accepted["status"]) == (agent["id"], "open")
    reply = client.post(f"{url}/replies", json={"text": "Sorry! Checking now."}, headers=headers)
    assert reply.status_code == 201
    assert (reply.json()["agent_id"], reply.json()["delivery_status"]) == (agent["id"], "queued")
    note = client.post(f"{url}/notes", json={"text": "VIP customer"}, headers=headers)
    assert note.status_code == 201 and note.json()["visibility"] == "note"
    tagged = client.post(f"{url}/tags", json={"add": ["Refund", "vip"], "remove": []}, headers=headers).json()
    assert tagged["tags"] == ["refund", "vip"]
    moved = client.post(f"{url}/transfer", json={"queue": "billing"}, headers=headers).json()
    assert (moved["queue"], moved["assignee_id"], moved["status"]) == ("billing", None, "new")
    assert client.post(f"{url}/resolve", headers=headers).json()["status"] == "resolved"
    assert client.post(f"{url}/resolve", headers=headers).status_code == 409
    assert client.post(f"{url}/reopen", headers=headers).json()["status"] == "new"

    events = client.get(f"{url}/events", headers=headers).json()
    types = [e["type"] for e in events]
    expected = [
        "conversation.created", "message.received", "conversation.assigned", "conversation.accepted",
        "message.sent", "note.added", "conversation.tagged", "conversation.unassigned",
        "conversation.transferred", "conversation.resolved", "conversation.reopened",
    ]
    assert [t for t in types if t in expected] == expected
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    tag_event = next(e for e in events if e["type"] == "conversation.tagged")
    assert tag_event["actor"] == f"agent:{agent['id']}" and tag_event["data"]["added"] == ["refund", "vip"]
    assert client.get("/api/v1/conversations/cnv_missing/events", headers=headers).status_code == 404
    missing_queue = client.post(f"{url}/transfer", json={"queue": "nowhere"}, headers=headers)
    assert missing_queue.status_code == 404 and "nowhere" in missing_queue.json()["detail"]


def test_a_second_agent_replying_to_a_taken_conversation_collides(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    first, first_headers = make_agent("Ada")
    _, second_headers = make_agent("Bo")
    client.put("/api/v1/me/status", json={"status": "online"}, headers=first_headers)
    cid = _post(client, admin, inbound("collide-1")).json()["results"][0]["conversation_id"]
    assert _conversation(client, admin, cid)["assignee_id"] == first["id"]

    clash = client.post(f"/api/v1/conversations/{cid}/replies", json={"text": "me too"}, headers=second_headers)
    assert clash.status_code == 409 and "another agent" in clash.json()["detail"]
    assert client.post(f"/api/v1/conversations/{cid}/accept", headers=second_headers).status_code == 409
    assert len(_conversation(client, admin, cid)["messages"]) == 1


def test_a_reply_is_delivered_to_the_callback_with_a_stable_idempotency_key(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _, headers = make_agent("Kim")
    with CallbackServer(statuses=[503]) as callback:
        account = {"kind": "api", "name": "shop", "callback_url": callback.url}
        assert client.post("/api/v1/channel-accounts", json=account, headers=admin).status_code == 201
        cid = _post(client, admin, inbound("shop-1", account="shop")).json()["results"][0]["conversation_id"]
        reply = client.post(f"/api/v1/conversations/{cid}/replies", json={"text": "On its way!"}, headers=headers)
        assert reply.status_code == 201
        reply_id = reply.json()["id"]

        def delivered() -> dict[str, Any] | None:
            messages = _conversation(client, headers, cid)["messages"]
            message = next(m for m in messages if m["id"] == reply_id)
            return message if message["delivery_status"] == "delivered" else None

        message = wait_for(delivered, what="the reply to be delivered")
        keys = [r.headers.get("Idempotency-Key") for r in callback.received]
    assert len(callback.received) == 2  # 503, then the retry that succeeded
    assert keys == [f"deliver:{reply_id}"] * 2
    assert callback.received[1].body["text"] == "On its way!"
    assert callback.received[1].body["reply_to"] == "shop-1"
    assert message["platform_message_id"] == "cb-2"
    history = client.get(f"/api/v1/conversations/{cid}/events", headers=headers).json()
    outcomes = [(e["type"], e["data"]) for e in history if e["type"].startswith("message.deliver")]
    assert [(kind, data["attempts"]) for kind, data in outcomes] == [
        ("message.delivery_failed", 1), ("message.delivered", 2)
    ]
    assert outcomes[0][1]["will_retry"] is True and "503" in outcomes[0][1]["reason"]


def test_administration_needs_the_right_role(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _, agent = make_agent("Lee")
    _, supervisor = make_agent("Max", role="supervisor")
    queue = {"name": "vip", "keywords": ["premium"], "required_skills": ["vip"], "first_response_target_seconds": 600}
    assert client.post("/api/v1/queues", json=queue, headers=agent).status_code == 403
    created = client.post("/api/v1/queues", json=queue, headers=supervisor)
    assert created.status_code == 201 and created.json()["required_skills"] == ["vip"]
    assert client.post("/api/v1/queues", json=queue, headers=supervisor).status_code == 409
    assert {q["name"] for q in client.get("/api/v1/queues", headers=agent).json()} == {"general", "vip"}

    newcomer = {"name": "Nia", "email": "nia@example.com", "password": PASSWORD, "capacity": {"api": 5}}
    refused = client.post("/api/v1/agents", json=newcomer, headers=supervisor)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    made = client.post("/api/v1/agents", json=newcomer, headers=admin)
    assert made.status_code == 201 and made.json()["capacity"] == {"api": 5}
    assert "nia@example.com" in {a["email"] for a in client.get("/api/v1/agents", headers=agent).json()}
    login(client, "nia@example.com")

    bad_kind = client.post("/api/v1/channel-accounts", json={"kind": "fax", "name": "x"}, headers=admin)
    assert bad_kind.status_code == 422 and "kind must be one of" in bad_kind.json()["detail"]
    accounts = client.get("/api/v1/channel-accounts", headers=agent).json()
    assert [(a["kind"], a["name"]) for a in accounts] == [("api", "default")]


def test_listing_filters_and_pages_in_priority_order(client: httpx.Client, admin: dict[str, str]) -> None:
    angry = inbound("list-1", "this is terrible, awful, the worst service ever", author_id="c-1")
    calm = inbound("list-2", "hello, a question about my order", author_id="c-2")
    _post(client, admin, [calm, angry])
    page = client.get("/api/v1/conversations", params={"limit": 1}, headers=admin).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    everything = client.get("/api/v1/conversations", headers=admin).json()["items"]
    assert [c["priority"] for c in everything] == sorted((c["priority"] for c in everything), reverse=True)
    assert client.get("/api/v1/conversations", params={"status": "resolved"}, headers=admin).json()["total"] == 0
    assert client.get("/api/v1/conversations", params={"queue": "general"}, headers=admin).json()["total"] == 2
    unknown = client.get("/api/v1/conversations", params={"status": "sleeping"}, headers=admin)
    assert unknown.status_code == 422 and "status must be one of" in unknown.json()["detail"]
    assert client.get("/api/v1/conversations", params={"limit": 0}, headers=admin).status_code == 422


def test_the_report_is_the_same_as_the_cli_report(
    app: Careline, server: ServerHandle, client: httpx.Client, admin: dict[str, str]
) -> None:
    _post(client, admin, [inbound("rep-1", created_at="2024-05-01T10:00:00Z"), inbound("rep-2", author_id="c-9")])
    conversation = _post(client, admin, inbound("rep-3", author_id="c-7")).json()["results"][0]["conversation_id"]
    client.post(f"/api/v1/conversations/{conversation}/replies", json={"text": "hi"}, headers=admin)
    response = client.get("/api/v1/reports/summary", headers=admin)
    assert response.status_code == 200
    assert response.json() == app.reports.summary()
    assert response.json()["messages"]["inbound"] == 3

    window = {"since": "2024-05-01T00:00:00Z", "until": "2024-05-02T00:00:00Z"}
    may_first = client.get("/api/v1/reports/summary", params=window, headers=admin).json()
    assert may_first["conversations"]["total"] == 1 and may_first["messages"]["inbound"] == 1
    backwards = {"since": window["until"], "until": window["since"]}
    assert client.get("/api/v1/reports/summary", params=backwards, headers=admin).status_code == 422
    assert client.get("/api/v1/reports/summary", params={"since": "2024-05-01"}, headers=admin).status_code == 422


def test_the_same_batch_posted_concurrently_is_stored_once(client: httpx.Client, admin: dict[str, str]) -> None:
    batch = [inbound(f"race-{i}", author_id=f"racer-{i % 3}") for i in range(20)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: _post(client, admin, batch), range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert sum(r.json()["created"] for r in responses) == 20
    listing = client.get("/api/v1/conversations", params={"limit": 200}, headers=admin).json()
    assert listing["total"] == 20


def test_only_admins_and_integrations_post_messages_and_integrations_do_nothing_else(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _, agent = make_agent("Pat")
    _, supervisor = make_agent("Val", role="supervisor")
    connector, integration = make_agent("Connector", role="integration")
    assert connector["role"] == "integration"
    fake_first_response = inbound("fake-1", author_id="brand", direction="outbound", created_at="2024-05-01T10:00:00Z")
    for headers in (agent, supervisor):
        refused = _post(client, headers, [inbound("fake-0"), fake_first_response])
        assert refused.status_code == 403 and "admin or integration" in refused.json()["detail"]
    assert client.get("/api/v1/conversations", headers=admin).json()["total"] == 0

    posted = _post(client, integration, inbound("conn-1"))
    assert posted.status_code == 201
    cid = posted.json()["results"][0]["conversation_id"]
    me = client.get("/api/v1/me", headers=integration)
    assert me.status_code == 200 and me.json()["role"] == "integration"
    customer_id = _conversation(client, admin, cid)["customer_id"]
    agent_work = [
        ("GET", "/api/v1/conversations", None),
        ("GET", f"/api/v1/conversations/{cid}", None),
        ("GET", f"/api/v1/conversations/{cid}/events", None),
        ("POST", f"/api/v1/conversations/{cid}/accept", None),
        ("POST", f"/api/v1/conversations/{cid}/replies", {"text": "hello"}),
        ("POST", f"/api/v1/conversations/{cid}/notes", {"text": "note"}),
        ("POST", f"/api/v1/conversations/{cid}/resolve", None),
        ("PUT", "/api/v1/me/status", {"status": "online"}),
        ("GET", "/api/v1/queues", None),
        ("POST", "/api/v1/queues", {"name": "sneaky"}),
        ("GET", "/api/v1/agents", None),
        ("POST", "/api/v1/agents", {"name": "X", "email": "x@example.com", "role": "admin"}),
        ("GET", "/api/v1/channel-accounts", None),
        ("GET", "/api/v1/reports/summary", None),
        ("GET", f"/api/v1/customers/{customer_id}", None),
    ]
    for method, url, body in agent_work:
        response = client.request(method, url, json=body, headers=integration)
        assert response.status_code == 403, (method, url, response.text)
        assert "you are integration" in response.json()["detail"]
    untouched = _conversation(client, admin, cid)
    assert (untouched["assignee_id"], untouched["status"], len(untouched["messages"])) == (None, "new", 1)
    assert client.get("/api/v1/me", headers=integration).json()["status"] == "offline"


def test_log_in_answers_the_same_for_an_unknown_email_and_a_wrong_password(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    passwordless = {"name": "No Password", "email": "nopass@example.com"}
    assert client.post("/api/v1/agents", json=passwordless, headers=admin).status_code == 201
    attempts = [
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": ADMIN_EMAIL, "password": "wrong password"},
        {"email": "nopass@example.com", "password": PASSWORD},
    ]
    answers = [client.post("/api/v1/auth/token", json=body) for body in attempts]
    assert {(a.status_code, a.text, a.headers.get("WWW-Authenticate")) for a in answers} == {
        (401, '{"detail":"wrong email or password"}', "Bearer")
    }


def test_a_revoked_token_stops_working_and_others_do_not(client: httpx.Client, admin: dict[str, str]) -> None:
    other = login(client, ADMIN_EMAIL)
    revoked = client.delete("/api/v1/auth/token", headers=admin)
    assert revoked.status_code == 204 and revoked.content == b""
    after = client.get("/api/v1/me", headers=admin)
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    assert client.delete("/api/v1/auth/token", headers=admin).status_code == 401
    assert client.delete("/api/v1/auth/token").status_code == 401
    assert client.get("/api/v1/me", headers=other).status_code == 200


def test_numbers_and_text_the_database_cannot_hold_are_refused_by_name(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    def refused(response: httpx.Response, field: str) -> bool:
        return response.status_code == 422 and field in response.json()["detail"]

    queues = "/api/v1/queues"
    for target in (10**12, 0, -5):
        body = {"name": "slow", "first_response_target_seconds": target}
        assert refused(client.post(queues, json=body, headers=admin), "first_response_target_seconds")
    for rank in (10**12, -(10**7)):
        assert refused(client.post(queues, json={"name": "far", "rank": rank}, headers=admin), "rank")
    edge = {"name": "edge", "first_response_target_seconds": 10**8, "rank": -(10**6)}
    assert client.post(queues, json=edge, headers=admin).status_code == 201
    nul_keyword = client.post(queues, json={"name": "nul", "keywords": ["a\x00b"]}, headers=admin)
    assert refused(nul_keyword, "keywords") and "NUL" in nul_keyword.json()["detail"]

    listing = "/api/v1/conversations"
    for offset in ("1e20", str(10**19), "-1"):
        assert refused(client.get(listing, params={"offset": offset}, headers=admin), "offset")
    assert refused(client.get(listing, params={"queue": "a\x00"}, headers=admin), "queue")
    assert refused(client.get(f"{listing}/cnv%00x", headers=admin), "conversation_id")
    assert client.get(listing, params={"offset": 10**9}, headers=admin).json()["items"] == []

    agents = "/api/v1/agents"
    for capacity in (10**30, 1001, -1):
        body = {"name": "Cap", "email": "cap@example.com", "capacity": {"api": capacity}}
        assert refused(client.post(agents, json=body, headers=admin), "capacity")
    nul_name = {"name": "Nul\x00", "email": "nul@example.com"}
    assert refused(client.post(agents, json=nul_name, headers=admin), "name")
    assert refused(client.post("/api/v1/auth/token", json={"email": "a\x00@x.com", "password": "x"}), "email")

    cid = _post(client, admin, inbound("nul-1")).json()["results"][0]["conversation_id"]
    for action in ("replies", "notes"):
        sent = client.post(f"{listing}/{cid}/{action}", json={"text": "hi\x00"}, headers=admin)
        assert refused(sent, "text")
    assert len(_conversation(client, admin, cid)["messages"]) == 1


def test_there_is_only_one_default_queue(client: httpx.Client, admin: dict[str, str]) -> None:
    second = client.post("/api/v1/queues", json={"name": "catch-all", "is_default": True}, headers=admin)
    assert second.status_code == 409 and "general is the default queue" in second.json()["detail"]
    queues = client.get("/api/v1/queues", headers=admin).json()
    assert [(q["name"], q["is_default"]) for q in queues] == [("general", True)]
    assert client.post("/api/v1/queues", json={"name": "billing"}, headers=admin).status_code == 201
