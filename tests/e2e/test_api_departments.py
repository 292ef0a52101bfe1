"""Departments over the API end to end: create one, consult it, answer as an expert, read the note and the stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .conftest import inbound

MakeAgent = Callable[..., tuple[dict[str, Any], dict[str, str]]]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def test_consult_a_department_and_read_its_answer_as_a_note(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    owner, owner_auth = make_agent("Olivia")
    expert, expert_auth = make_agent("Bill")
    billing = _ok(
        client.post(
            "/api/v1/departments",
            json={"name": "Billing", "answer_target_seconds": 900, "members": [expert["id"]]},
            headers=admin,
        )
    )
    assert billing["members"] == [expert["id"]]
    refused = client.post("/api/v1/departments", json={"name": "PR", "answer_target_seconds": 60}, headers=owner_auth)
    assert refused.status_code == 403
    unknown = client.post(
        "/api/v1/departments", json={"name": "Legal", "answer_target_seconds": 60, "members": ["x"]}, headers=admin
    )
    assert unknown.status_code == 422 and "no agent 'x'" in unknown.json()["detail"]

    posted = _ok(client.post("/api/v1/messages", json=inbound("d1", "I was charged twice"), headers=admin))
    conversation_id = posted["results"][0]["conversation_id"]
    path = f"/api/v1/conversations/{conversation_id}/consultations"
    body = {"department": "Billing", "kind": "consult", "reason": "refund over my limit", "question": "Refund?"}
    unassigned = client.post(path, json=body, headers=owner_auth)
    assert unassigned.status_code == 409 and "no assignee" in unassigned.json()["detail"]
    _ok(client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=owner_auth))

    bad = client.post(path, json={**body, "department": "Legal"}, headers=owner_auth)
    assert bad.status_code == 422 and "no department named 'Legal'" in bad.json()["detail"]
    missing = client.post(path, json={"department": "Billing"}, headers=owner_auth)
    assert missing.status_code == 422 and "reason" in missing.json()["detail"]
    too_long = client.post(path, json={**body, "reason": "x" * 501}, headers=owner_auth)
    assert too_long.status_code == 422

    created = client.post(path, json=body, headers=owner_auth)
    assert created.status_code == 201, created.text
    consultation = created.json()
    assert (consultation["state"], consultation["owner_id"]) == ("open", owner["id"])
    waiting = _ok(
        client.get("/api/v1/consultations", params={"department": "Billing", "state": "open"}, headers=expert_auth)
    )
    assert [c["id"] for c in waiting] == [consultation["id"]]

    answer_path = f"/api/v1/consultations/{consultation['id']}/answer"
    assert client.post(answer_path, json={"answer": "me?"}, headers=owner_auth).status_code == 403
    answered = _ok(client.post(answer_path, json={"answer": "Yes, refund it."}, headers=expert_auth))
    assert answered["state"] == "answered" and answered["within_target"] is True
    assert client.post(answer_path, json={"answer": "again"}, headers=expert_auth).status_code == 409

    detail = _ok(client.get(f"/api/v1/conversations/{conversation_id}", headers=owner_auth))
    assert detail["assignee_id"] == owner["id"]
    [note] = [m for m in detail["messages"] if m["id"] == answered["note_message_id"]]
    assert note["visibility"] == "note" and "Yes, refund it." in note["text"]
    assert [c["state"] for c in _ok(client.get(path, headers=owner_auth))] == ["answered"]

    stats = _ok(client.get(f"/api/v1/departments/{billing['id']}/stats", headers=owner_auth))
    assert (stats["asked"], stats["answered"], stats["within_target_share"]) == (1, 1, 1.0)
    assert stats["p50_seconds"] is not None and stats["p50_seconds"] < 900
