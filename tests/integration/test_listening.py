"""Listening rules on a real database: saved through commands, matched at arrival, acted on, listed as a stream."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.ingestion.model import InboundMessage
from careline.kernel.errors import Conflict, InvalidInput, NotFound
from careline.triage import commands as cmd
from careline.triage import queries
from careline.triage.listening import QueryError
from integration.support import Desk

LUGGAGE = '(bag OR bags OR luggage OR suitcase) -"thank you" -thanks'


def airline_tweets(data_dir: Path, airline: str, limit: int) -> list[dict[str, str]]:
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["airline"] == airline]
    unique = {r["tweet_id"]: r for r in rows}
    return list(unique.values())[:limit]


def expected_luggage(text: str) -> bool:
    """The rule, written independently as regular expressions over the decoded text."""
    text = text.replace("&amp;", "&").lower()
    words = set(re.findall(r"\w+", text))
    return (
        bool(words & {"bag", "bags", "luggage", "suitcase"})
        and "thanks" not in words
        and not re.search(r"\bthank\W+you\b", text)
    )


def test_a_rule_routes_tags_and_raises_the_priority_of_what_it_matches_and_nothing_else(
    desk: Desk, data_dir: Path
) -> None:
    baggage = desk.queue("baggage")
    rule = desk.app.handle(
        cmd.CreateListeningRule(
            name="Lost luggage", query=LUGGAGE, queue="baggage", priority_points=10, tags=("luggage",)
        )
    )
    tweets = airline_tweets(data_dir, "United", 500)
    items = [
        InboundMessage(
            channel="x", account="acme", platform_message_id=r["tweet_id"], author_id=f"a{i}", text=r["text"]
        )
        for i, r in enumerate(tweets)
    ]
    result = desk.ingest(*items)

    wanted = {r["tweet_id"] for r in tweets if expected_luggage(r["text"])}
    assert 5 <= len(wanted) < len(tweets) / 2
    matched = {row.message_id for row in desk.rows(t.listening_matches)}
    by_message = {item.message_id: item for item in result.items}
    ids = {by_message[m].message_id for m in matched}
    with desk.app.engine.connect() as db:
        platform_ids = set(
            db.execute(sa.select(t.messages.c.platform_message_id).where(t.messages.c.id.in_(ids))).scalars()
        )
    assert platform_ids == wanted
    for item, tweet in zip(result.items, tweets, strict=True):
        conversation = desk.conversation(item.conversation_id)
        if tweet["tweet_id"] in wanted:
            assert conversation.queue_id == baggage.id and "luggage" in conversation.tags
            features = [f for f in conversation.priority_explanation["features"] if f["feature"] == "listening_rule"]
            assert features == [{"feature": "listening_rule", "value": "Lost luggage", "points": 10.0}]
        else:
            assert conversation.queue_id != baggage.id and "luggage" not in conversation.tags

    items_page, total = queries.stream(desk.app.engine, rule.id, limit=200)
    assert total == len(wanted) and {i["message_id"] for i in items_page} == ids
    assert all(i["terms"] for i in items_page)


def test_a_rule_that_alerts_raises_one_alert_an_hour_with_its_posts(desk: Desk) -> None:
    desk.app.handle(cmd.CreateListeningRule(name="competitor", query='"globex air" OR @globex', alert=True))
    desk.ingest(
        desk.message("switching to Globex Air next time", author_id="a"),
        desk.message("@globex is cheaper anyway", author_id="b"),
        desk.message("nothing to see here", author_id="c"),
    )
    desk.ingest(desk.message("globex air has free wifi", author_id="d"))

    [alert] = desk.rows(t.alerts)
    assert (alert.kind, alert.rule, alert.severity) == ("listening", "competitor", "info")
    assert len(alert.post_ids) == 3


def test_an_inactive_rule_matches_nothing_and_a_deleted_rule_takes_its_stream_with_it(desk: Desk) -> None:
    rule = desk.app.handle(cmd.CreateListeningRule(name="refunds", query="refund*"))
    desk.app.handle(cmd.UpdateListeningRule(rule_id=rule.id, active=False))
    desk.ingest(desk.message("I want a refund", author_id="a"))
    assert desk.rows(t.listening_matches) == []

    desk.app.handle(cmd.UpdateListeningRule(rule_id=rule.id, active=True, query="refund* OR money"))
    desk.ingest(desk.message("refunded at last", author_id="b"))
    assert len(desk.rows(t.listening_matches)) == 1

    desk.app.handle(cmd.DeleteListeningRule(rule_id=rule.id))
    assert desk.rows(t.listening_matches) == [] and desk.rows(t.listening_rules) == []
    assert [e.type for e in desk.events(None, "listening.rule_saved", "listening.rule_deleted")] == [
        "listening.rule_saved",
        "listening.rule_saved",
        "listening.rule_saved",
        "listening.rule_deleted",
    ]
    with pytest.raises(NotFound):
        desk.app.handle(cmd.DeleteListeningRule(rule_id=rule.id))


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"query": "bag AND"}, QueryError, "AND needs a term on both sides"),
        ({"query": '"lost bag'}, QueryError, "unclosed quote"),
        ({"query": "-refund"}, QueryError, "positive"),
        ({"query": "bag", "queue": "nowhere"}, InvalidInput, "queue 'nowhere' does not exist"),
        ({"query": "bag", "priority_points": 500.0}, InvalidInput, "priority_points must be between"),
        ({"query": "bag", "name": "  "}, InvalidInput, "needs a name"),
    ],
)
def test_bad_rules_are_refused_with_what_is_wrong(
    desk: Desk, fields: dict[str, object], error: type[Exception], message: str
) -> None:
    values: dict[str, object] = {"name": "bags", **fields}
    with pytest.raises(error, match=message):
        desk.app.handle(cmd.CreateListeningRule(**values))  # type: ignore[arg-type]
    assert desk.rows(t.listening_rules) == []


def test_two_rules_cannot_share_a_name(desk: Desk) -> None:
    desk.app.handle(cmd.CreateListeningRule(name="bags", query="bag"))
    with pytest.raises(Conflict, match="exists already"):
        desk.app.handle(cmd.CreateListeningRule(name="bags", query="luggage"))
