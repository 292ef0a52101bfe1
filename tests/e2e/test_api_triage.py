"""Triage over the HTTP API end to end: what an agent sees of a post, listening rules, alerts (docs/api.md#triage)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import httpx

from .conftest import inbound

CARD_POST = "@AcmeAir my card 4111 1111 1111 1111 was charged twice!!"
QUESTION = "@AcmeAir what time does the check-in desk open tomorrow?"


def _conversation(client: httpx.Client, headers: dict[str, str], conversation_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ingest(client: httpx.Client, headers: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post("/api/v1/messages", json=items, headers=headers)
    assert response.status_code == 201, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_an_angry_public_post_with_a_card_outranks_a_question_and_says_why(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    """Acceptance (issue 3): negative, angry, personal data masked, priority above a neutral question, and an
    explanation that names those features."""
    card, question = _ingest(
        client, admin, [inbound("t-1", CARD_POST), inbound("t-2", QUESTION, author_id="customer-2")]
    )
    angry = _conversation(client, admin, card["conversation_id"])
    calm = _conversation(client, admin, question["conversation_id"])

    assert (angry["sentiment"], angry["angry"]) == ("negative", True)
    [message] = angry["messages"]
    assert message["masked"] and message["pii"] == ["card"]
    assert "4111 1111 1111 1111" not in message["text"] and message["text"].endswith("was charged twice!!")
    assert angry["action"] == "take_private" and "personal-data" in angry["tags"]
    assert angry["priority"] > calm["priority"]
    explanation = angry["priority_explanation"]
    assert explanation["score"] == angry["priority"]
    named = {f["feature"]: f for f in explanation["features"]}
    assert {"sentiment", "angry", "personal_data_public"} <= set(named)
    assert all(named[f]["points"] > 0 for f in ("sentiment", "angry", "personal_data_public"))
    assert calm["angry"] is False and calm["action"] == "answer"


def test_followers_and_engagement_raise_the_priority_and_bad_values_are_refused(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    text = "@AcmeAir my flight was cancelled and nobody at the desk can help"
    plain, famous = _ingest(
        client,
        admin,
        [
            inbound("f-1", text, author_id="nobody"),
            inbound("f-2", text, author_id="famous", author_followers=1_200_000, author_verified=True, engagements=900),
        ],
    )
    low = _conversation(client, admin, plain["conversation_id"])
    high = _conversation(client, admin, famous["conversation_id"])
    assert high["priority"] > low["priority"]
    assert {"influence", "verified"} <= {f["feature"] for f in high["priority_explanation"]["features"]}

    bad = client.post("/api/v1/messages", json=[inbound("f-3", author_followers=-5)], headers=admin)
    assert bad.status_code == 422 and "author_followers" in bad.json()["results"][0]["error"]


def test_the_triage_endpoint_answers_without_storing(client: httpx.Client, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/triage", json={"texts": [CARD_POST, "thanks so much, great crew today!"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    card, praise = response.json()
    assert card["pii"] == ["card"] and card["action"] == "take_private" and "DM" not in (card["masked_text"] or "")
    assert card["suggested_reply"] and "4111" not in card["suggested_reply"]
    assert praise["sentiment"] == "positive" and praise["action"] == "acknowledge"
    assert client.get("/api/v1/conversations", headers=admin).json()["total"] == 0
    empty = client.post("/api/v1/triage", json={"texts": []}, headers=admin)
    assert empty.status_code == 422


def _airline(data_dir: Path, limit: int) -> list[dict[str, str]]:
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = {r["tweet_id"]: r for r in csv.DictReader(handle) if r["airline"] == "United"}
    return list(rows.values())[:limit]


def test_a_listening_rule_created_over_the_api_routes_the_posts_it_should(
    client: httpx.Client, admin: dict[str, str], data_dir: Path
) -> None:
    """Acceptance (issue 3): a boolean rule created over the API matches and routes the right real tweets."""
    assert client.post("/api/v1/queues", json={"name": "rebooking"}, headers=admin).status_code == 201
    query = '(cancelled OR canceled OR "Cancelled Flightled") AND (rebook* OR reflight*) -thanks'
    created = client.post(
        "/api/v1/listening-rules",
        json={"name": "Rebooking after cancellation", "query": query, "queue": "rebooking", "tags": ["rebook"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    tweets = _airline(data_dir, 600)
    results = _ingest(
        client, admin, [inbound(r["tweet_id"], r["text"], author_id=f"u{i}") for i, r in enumerate(tweets)]
    )

    def should_match(text: str) -> bool:  # the same rule, written independently
        words = re.findall(r"\w+", text.lower().replace("&amp;", "&"))
        cancelled = bool({"cancelled", "canceled"} & set(words))
        rebooked = any(w.startswith(("rebook", "reflight")) for w in words)
        return cancelled and rebooked and "thanks" not in words

    page = client.get("/api/v1/conversations", params={"queue": "rebooking", "limit": 200}, headers=admin).json()
    routed = {item["id"] for item in page["items"]}
    expected = {res["conversation_id"] for res, r in zip(results, tweets, strict=True) if should_match(r["text"])}
    assert expected and routed == expected
    stream = client.get(f"/api/v1/listening-rules/{rule['id']}", params={"limit": 200}, headers=admin).json()
    assert stream["total"] == len(expected) and all(i["terms"] for i in stream["items"])


def test_bad_listening_rules_get_clear_errors(client: httpx.Client, admin: dict[str, str]) -> None:
    cases = {
        "bag AND": "AND needs a term on both sides",
        "(bag OR luggage": "(",
        "-refund": "positive",
        "flight:123": "unknown field",
    }
    for query, fragment in cases.items():
        response = client.post("/api/v1/listening-rules", json={"name": "x", "query": query}, headers=admin)
        assert response.status_code == 422, query
        assert fragment in response.json()["detail"], (query, response.json())
    missing_queue = client.post(
        "/api/v1/listening-rules", json={"name": "x", "query": "bag", "queue": "nowhere"}, headers=admin
    )
    assert missing_queue.status_code == 422 and "nowhere" in missing_queue.json()["detail"]


def test_alerts_are_listed_acknowledged_and_subscribed_to(client: httpx.Client, admin: dict[str, str]) -> None:
    hook = client.post(
        "/api/v1/alert-subscriptions", json={"kind": "webhook", "target": "https://hooks.example/x"}, headers=admin
    )
    assert hook.status_code == 201
    bad = client.post("/api/v1/alert-subscriptions", json={"kind": "webhook", "target": "nope"}, headers=admin)
    assert bad.status_code == 422 and "http" in bad.json()["detail"]
    _ingest(client, admin, [inbound("a-1", CARD_POST)])

    listing = client.get("/api/v1/alerts", params={"unacknowledged": True}, headers=admin).json()
    [alert] = listing["items"]
    assert alert["kind"] == "public_personal_data" and alert["post_ids"]
    assert client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=admin).status_code == 204
    assert client.get("/api/v1/alerts", params={"unacknowledged": True}, headers=admin).json()["total"] == 0
    assert client.post("/api/v1/alerts/alr_nope/acknowledge", headers=admin).status_code == 404


def test_an_account_policy_decides_answer_acknowledge_ignore_or_take_private(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    [account] = [a for a in client.get("/api/v1/channel-accounts", headers=admin).json() if a["kind"] == "api"]
    url = f"/api/v1/channel-accounts/{account['id']}/policy"
    assert client.get(url, headers=admin).json()["defaults"] is True

    rules = [
        {"name": "private first", "action": "take_private", "when": {"personal_data": True}},
        {"name": "no small talk", "action": "ignore", "when": {"sentiment": ["neutral"]}},
    ]
    saved = client.put(url, json={"rules": rules}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"rules": rules, "defaults": False}
    question, card = _ingest(
        client, admin, [inbound("p-1", QUESTION), inbound("p-2", CARD_POST, author_id="customer-9")]
    )
    assert _conversation(client, admin, question["conversation_id"])["action"] == "ignore"
    assert _conversation(client, admin, card["conversation_id"])["action"] == "take_private"

    bad = client.put(url, json={"rules": [rules[0], {"action": "shout", "when": {}}]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("[1] action must be one of")
    assert client.put(url, json={"rules": []}, headers=admin).json()["defaults"] is True


def test_categories_are_defined_over_the_api_and_learn_from_tags(client: httpx.Client, admin: dict[str, str]) -> None:
    created = client.post(
        "/api/v1/categories",
        json={"name": "Billing", "keywords": ["invoice", "refund"], "examples": ["I was charged twice"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert (
        client.post("/api/v1/categories", json={"name": "Delivery", "keywords": ["parcel"]}, headers=admin).status_code
        == 201
    )
    duplicate = client.post("/api/v1/categories", json={"name": "billing", "keywords": ["x"]}, headers=admin)
    assert duplicate.status_code == 409
    empty = client.post("/api/v1/categories", json={"name": "Empty"}, headers=admin)
    assert empty.status_code == 422 and "keywords or examples" in empty.json()["detail"]

    preview = client.post("/api/v1/triage", json={"texts": ["the invoice is wrong"]}, headers=admin).json()
    assert preview[0]["category"] == "Billing" and preview[0]["category_confidence"] == 1.0  # a keyword
    [result] = _ingest(client, admin, [inbound("c-1", "where is my refund, it has been weeks")])
    conversation = _conversation(client, admin, result["conversation_id"])
    assert conversation["category"] == "Billing"
    [other] = _ingest(client, admin, [inbound("c-2", "the box was crushed", author_id="customer-7")])
    tagged = client.post(
        f"/api/v1/conversations/{other['conversation_id']}/tags", json={"add": ["delivery"]}, headers=admin
    )
    assert tagged.status_code == 200, tagged.text
    assert _conversation(client, admin, other["conversation_id"])["category"] == "Delivery"
    listing = {c["name"]: c for c in client.get("/api/v1/categories", headers=admin).json()}
    assert listing["Billing"]["examples"] == 1 and listing["Delivery"]["learned_from_tags"] == 1


def test_a_vip_customers_next_post_is_triaged_higher(client: httpx.Client, admin: dict[str, str]) -> None:
    text = "@AcmeAir my flight was cancelled and nobody at the desk can help"
    [first] = _ingest(client, admin, [inbound("v-1", text, author_id="vip-1")])
    customer_id = _conversation(client, admin, first["conversation_id"])["customer_id"]
    tiered = client.put(f"/api/v1/customers/{customer_id}/tier", json={"tier": "VIP"}, headers=admin)
    assert tiered.status_code == 200 and tiered.json()["tier"] == "vip"
    bad = client.put(f"/api/v1/customers/{customer_id}/tier", json={"tier": "very important!"}, headers=admin)
    assert bad.status_code == 422 and "tier" in bad.json()["detail"]

    [second] = _ingest(client, admin, [inbound("v-2", text, author_id="vip-1")])
    before = _conversation(client, admin, first["conversation_id"])
    after = _conversation(client, admin, second["conversation_id"])
    assert after["priority"] > before["priority"]
    features = {f["feature"]: f for f in after["priority_explanation"]["features"]}
    assert features["customer_tier"] == {"feature": "customer_tier", "value": "vip", "points": 15.0}
