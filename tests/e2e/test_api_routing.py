"""Routing over the API end to end: profiles, queue targets, the workflow, offers, escalation, explanations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from careline.config import Settings

from .conftest import inbound, wait_for

MakeAgent = Callable[..., tuple[dict[str, Any], dict[str, str]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"routing_sweep_seconds": 0.2})


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _routing(client: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    result: dict[str, Any] = _ok(client.get(f"/api/v1/conversations/{conversation_id}/routing", headers=headers))
    return result


def _pending(client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = _ok(client.get("/api/v1/offers", headers=headers))
    return result


def test_skills_workflow_offers_escalation_and_explanations(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    _ok(client.post("/api/v1/queues", json={"name": "luggage", "keywords": ["luggage", "suitcase"]}, headers=admin))
    _ok(client.post("/api/v1/queues", json={"name": "supervisors"}, headers=admin))
    queues = {q["name"]: q["id"] for q in _ok(client.get("/api/v1/queues", headers=admin))}
    target = '"luggage" in skills and "en" in languages'
    routing = _ok(
        client.put(
            f"/api/v1/queues/{queues['luggage']}/routing",
            json={"target": target, "first_response_target_seconds": 900},
            headers=admin,
        )
    )
    assert routing["target"] == target
    _ok(
        client.put(
            f"/api/v1/queues/{queues['supervisors']}/routing", json={"target": 'role == "supervisor"'}, headers=admin
        )
    )
    workflow = {
        "routes": [
            {
                "name": "bags",
                "when": 'queue == "luggage"',
                "steps": [
                    {"queue": "luggage", "timeout_seconds": 1, "target": "skills.luggage >= 7"},
                    {"queue": "luggage", "timeout_seconds": 600},
                    {"queue": "supervisors"},
                ],
            }
        ],
        "offer_timeout_seconds": 120,
    }
    saved = _ok(client.put("/api/v1/routing/settings", json=workflow, headers=admin))
    assert saved["settings"]["routes"][0]["steps"][0]["queue"] == queues["luggage"]  # names are stored as ids

    expert, expert_auth = make_agent("Ana")
    junior, junior_auth = make_agent("Bob")
    _ok(
        client.put(
            f"/api/v1/agents/{expert['id']}/routing-profile",
            json={"skills": {"luggage": 9}, "languages": ["en", "es"]},
            headers=admin,
        )
    )
    profile = _ok(
        client.put(
            f"/api/v1/agents/{junior['id']}/routing-profile",
            json={"skills": {"luggage": 3}, "languages": ["en"], "capacity": {"api": 2}},
            headers=admin,
        )
    )
    assert profile["skills"] == {"luggage": 3} and profile["capacity"] == {"api": 2}
    for headers in (expert_auth, junior_auth):
        _ok(client.put("/api/v1/me/status", json={"status": "online"}, headers=headers))

    created = _ok(client.post("/api/v1/messages", json=inbound("bag-1", "my suitcase never arrived"), headers=admin))
    conversation_id = created["results"][0]["conversation_id"]

    (offer,) = wait_for(lambda: _pending(client, expert_auth), what="an offer to the expert")
    why = offer["explanation"]
    assert (why["route"], why["step"], why["steps"], why["queue"]) == ("bags", 1, 3, "luggage")
    assert why["target"] == f"({target}) and (skills.luggage >= 7)"
    assert "skills.luggage >= 7 (9)" in why["agent_match"]
    assert _pending(client, junior_auth) == []

    # Ana says no: nobody else is expert enough, so after the step's second it goes to the wider pool: Bob.
    rejected = _ok(
        client.post(f"/api/v1/offers/{offer['id']}/reject", json={"reason": "on a call"}, headers=expert_auth)
    )
    assert rejected["status"] == "rejected"
    (second,) = wait_for(lambda: _pending(client, junior_auth), what="escalation to step 2")
    assert second["explanation"]["step"] == 2
    assert [e["to_step"] for e in second["explanation"]["escalations"]] == [2]

    accepted = _ok(client.post(f"/api/v1/offers/{second['id']}/accept", headers=junior_auth))
    assert accepted["status"] == "accepted"
    conversation = _ok(client.get(f"/api/v1/conversations/{conversation_id}", headers=admin))
    assert (conversation["status"], conversation["assignee_id"]) == ("open", junior["id"])
    history = _routing(client, admin, conversation_id)
    assert [(o["agent_id"], o["status"]) for o in history["offers"]] == [
        (expert["id"], "rejected"),
        (junior["id"], "accepted"),
    ]
    assert history["ticket"]["step"] == 2 and history["ticket"]["rejected_by"] == [expert["id"]]

    # Answers to offers are checked: someone else's, twice, unknown.
    assert client.post(f"/api/v1/offers/{second['id']}/accept", headers=expert_auth).status_code == 403
    assert client.post(f"/api/v1/offers/{second['id']}/accept", headers=junior_auth).status_code == 409
    assert client.post("/api/v1/offers/ofr_nope/accept", headers=junior_auth).status_code == 404


def test_bad_routing_input_is_refused_with_where_and_what(
    client: httpx.Client, admin: dict[str, str], make_agent: MakeAgent
) -> None:
    def refused(response: httpx.Response) -> str:
        assert response.status_code == 422, response.text
        detail: str = response.json()["detail"]
        return detail

    bad_queue = {"routes": [{"name": "r", "when": "true", "steps": [{"queue": "bilin"}]}]}
    assert "routes[0].steps[0].queue: no queue named 'bilin'" in refused(
        client.put("/api/v1/routing/settings", json=bad_queue, headers=admin)
    )
    bad_filter = {"routes": [{"name": "r", "when": "priority => 50", "steps": [{"queue": "general"}]}]}
    assert 'did you mean ">="' in refused(client.put("/api/v1/routing/settings", json=bad_filter, headers=admin))
    assert "unknown setting 'colour'" in refused(
        client.put("/api/v1/routing/settings", json={"colour": "blue"}, headers=admin)
    )
    agent, agent_auth = make_agent("Cy")
    assert "proficiency is a whole number from 1 to 10" in refused(
        client.put(f"/api/v1/agents/{agent['id']}/routing-profile", json={"skills": {"billing": 11}}, headers=admin)
    )
    assert "unknown channel 'fax'" in refused(
        client.put(f"/api/v1/agents/{agent['id']}/routing-profile", json={"capacity": {"fax": 1}}, headers=admin)
    )
    queue_id = _ok(client.get("/api/v1/queues", headers=admin))[0]["id"]
    assert "target: " in refused(
        client.put(f"/api/v1/queues/{queue_id}/routing", json={"target": '"x" in skils'}, headers=admin)
    )
    assert "selection must be one of" in refused(
        client.put(f"/api/v1/queues/{queue_id}/routing", json={"selection": "random"}, headers=admin)
    )
    # Agents read routing; only supervisors and admins change it.
    assert client.get("/api/v1/routing/settings", headers=agent_auth).status_code == 200
    assert client.put("/api/v1/routing/settings", json={}, headers=agent_auth).status_code == 403
