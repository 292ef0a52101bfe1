"""Taking a public thread private, and merging a customer known on two channels, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .conftest import inbound


def test_taking_a_public_post_private_links_both_conversations(
    client: httpx.Client, admin: dict[str, str], make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]]
) -> None:
    _, agent = make_agent("Pat")
    posted = client.post("/api/v1/messages", json=inbound("p-1", "charged twice on card 4111"), headers=admin)
    public_id = posted.json()["results"][0]["conversation_id"]

    answer = client.post(
        f"/api/v1/conversations/{public_id}/take-private", json={"text": "Sorry! Please send us the details here."},
        headers=agent,
    )
    assert answer.status_code == 201, answer.text
    private = answer.json()
    assert private["id"] != public_id and private["assignee_id"] is not None and private["status"] == "pending"

    public = client.get(f"/api/v1/conversations/{public_id}", headers=agent).json()
    assert public["private_conversation_id"] == private["id"]
    detail = client.get(f"/api/v1/conversations/{private['id']}", headers=agent).json()
    assert [(m["direction"], m["visibility"]) for m in detail["messages"]] == [("outbound", "private")]
    types = [e["type"] for e in client.get(f"/api/v1/conversations/{public_id}/events", headers=agent).json()]
    assert "conversation.taken_private" in types

    again = client.post(
        f"/api/v1/conversations/{public_id}/take-private", json={"text": "Any news?"}, headers=agent
    )
    assert again.json()["id"] == private["id"]  # one private conversation per customer, reused


def test_merging_customers_moves_identities_and_needs_a_supervisor(
    client: httpx.Client, admin: dict[str, str], make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]]
) -> None:
    _, agent = make_agent("Robin")
    first = client.post("/api/v1/messages", json=inbound("m-1", author_id="casey-x"), headers=admin).json()
    second = client.post("/api/v1/messages", json=inbound("m-2", author_id="casey-mail"), headers=admin).json()
    one = client.get(f"/api/v1/conversations/{first['results'][0]['conversation_id']}", headers=admin).json()
    two = client.get(f"/api/v1/conversations/{second['results'][0]['conversation_id']}", headers=admin).json()
    source, target = two["customer_id"], one["customer_id"]
    assert source != target

    refused = client.post(f"/api/v1/customers/{source}/merge", json={"into": target}, headers=agent)
    assert refused.status_code == 403

    merged = client.post(f"/api/v1/customers/{source}/merge", json={"into": target}, headers=admin)
    assert merged.status_code == 200, merged.text
    assert sorted(i["external_id"] for i in merged.json()["identities"]) == ["casey-mail", "casey-x"]
    assert client.get(f"/api/v1/customers/{source}", headers=admin).json()["merged_into_id"] == target
    moved = client.get(f"/api/v1/conversations/{two['id']}", headers=admin).json()
    assert moved["customer_id"] == target

    assert client.post(f"/api/v1/customers/{target}/merge", json={"into": target}, headers=admin).status_code == 409
    assert client.get("/api/v1/customers/cus_missing", headers=admin).status_code == 404


def test_agents_read_personal_data_masked(
    client: httpx.Client, admin: dict[str, str], make_agent: Callable[..., tuple[dict[str, Any], dict[str, str]]]
) -> None:
    _, agent = make_agent("Sam")
    text = "@AcmeAir my card 4111 1111 1111 1111 was charged twice!! call me on (415) 555-0132"
    posted = client.post("/api/v1/messages", json=inbound("pd-1", text), headers=admin).json()
    conversation = client.get(f"/api/v1/conversations/{posted['results'][0]['conversation_id']}", headers=agent).json()
    [message] = conversation["messages"]
    assert message["masked"] is True and message["pii"] == ["card", "phone"]
    assert "4111 1111" not in message["text"] and "•••• •••• •••• 1111" in message["text"]
    assert "555-0132" not in message["text"] and message["language"] == "en"
    assert "personal-data" in conversation["tags"]
