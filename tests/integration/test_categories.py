"""The user's categories on a real database: defined, applied at arrival, learned from agents' tags."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from careline.adapters.db import tables as t
from careline.conversations.commands import TagConversation
from careline.kernel.errors import Conflict, InvalidInput
from careline.triage import commands as cmd
from careline.triage.categories import CategoryLibrary
from integration.support import Desk

REASONS = ("Lost Luggage", "Cancelled Flight", "Late Flight")


def complaints(data_dir: Path) -> dict[str, list[str]]:
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = {r["tweet_id"]: r for r in csv.DictReader(handle)}.values()
    by_reason: dict[str, list[str]] = {}
    for row in rows:
        if row["negativereason"] in REASONS:
            by_reason.setdefault(row["negativereason"], []).append(row["text"])
    return by_reason


def test_categories_from_a_few_examples_place_real_complaints(desk: Desk, data_dir: Path) -> None:
    desk.queue("baggage")
    by_reason = complaints(data_dir)
    for reason in REASONS:
        desk.app.handle(
            cmd.CreateCategory(
                name=reason,
                description=f"customers complaining about: {reason.lower()}",
                examples=tuple(by_reason[reason][:40]),
                queue="baggage" if reason == "Lost Luggage" else None,
                priority_points=5 if reason == "Lost Luggage" else 0,
            )
        )
    held_out = [(reason, text) for reason in REASONS for text in by_reason[reason][200:260]]
    result = desk.ingest(*(desk.message(text, author_id=f"a{i}") for i, (_, text) in enumerate(held_out)))

    placed = right = 0
    for item, (reason, _) in zip(result.items, held_out, strict=True):
        conversation = desk.conversation(item.conversation_id)
        if conversation.category is not None:
            placed += 1
            right += conversation.category == reason
            if conversation.category == "Lost Luggage":
                assert conversation.queue_id == desk.queues["baggage"].id
                assert {"feature": "category", "value": "Lost Luggage", "points": 5.0} in (
                    conversation.priority_explanation["features"]
                )
    assert placed >= len(held_out) * 0.4, placed
    assert right / placed >= 0.75, (right, placed)


def test_an_agents_tag_teaches_the_category_and_the_next_post_is_placed(desk: Desk) -> None:
    for name, examples in {
        "billing": ("I was charged twice for my order", "refund the extra payment please"),
        "delivery": ("my parcel never arrived", "the courier left the box in the rain"),
    }.items():
        desk.app.handle(cmd.CreateCategory(name=name, examples=examples))
    library = desk.app.triage.category
    assert isinstance(library, CategoryLibrary)
    probe = "the invoice shows a subscription fee I never signed up for"

    def confidence() -> float:
        [(category, value)] = library.classify_many([probe])
        return value if category in (None, "billing") else -value

    desk.ingest(desk.message("hello", author_id="warm-up"))  # the first batch loads the categories
    before = confidence()
    agent = desk.agent("sam")
    texts = [
        "why is there a subscription fee on my invoice",
        "my invoice has a fee I did not sign up for",
        "unknown subscription charge on the invoice, remove it",
    ]
    for i, text in enumerate(texts):
        result = desk.ingest(desk.message(text, author_id=f"t{i}"))
        conversation_id = desk.conversation_of(result)
        desk.app.handle(
            TagConversation(conversation_id=conversation_id, agent_id=agent.id, add=("Billing",), remove=())
        )
        desk.app.handle(
            TagConversation(conversation_id=conversation_id, agent_id=agent.id, add=("billing",), remove=())
        )
        assert desk.conversation(conversation_id).category == "billing"

    learned = desk.rows(t.category_examples, t.category_examples.c.source == "tag")
    assert len(learned) == 3  # tagging the same conversation twice teaches once
    desk.ingest(desk.message("the next one", author_id="later"))  # the next batch learns what was tagged
    after = confidence()
    assert after > before
    [(category, _)] = library.classify_many([probe])
    assert category == "billing"


def test_an_unplaceable_complaint_waits_in_the_human_triage_queue(desk: Desk) -> None:
    triage = desk.queue("needs-triage", is_triage=True)
    desk.app.handle(cmd.CreateCategory(name="delivery", keywords=("parcel", "courier")))
    desk.app.handle(cmd.CreateCategory(name="billing", keywords=("invoice", "refund")))

    result = desk.ingest(
        desk.message("this is terrible, nobody helps me at all", author_id="a"),
        desk.message("my parcel is lost and this is terrible", author_id="b"),
    )
    lost, parcel = (desk.conversation(desk.conversation_of(result, i)) for i in range(2))
    assert lost.queue_id == triage.id and lost.category is None
    assert parcel.category == "delivery" and parcel.queue_id != triage.id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "needs a name"),
        ({"name": "x"}, "description, keywords or examples"),
        ({"name": "x", "keywords": ("k",), "queue": "nowhere"}, "queue 'nowhere' does not exist"),
        ({"name": "x", "keywords": ("k",), "priority_points": 99.0}, "priority_points"),
    ],
)
def test_bad_categories_are_refused(desk: Desk, fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        desk.app.handle(cmd.CreateCategory(**fields))  # type: ignore[arg-type]


def test_category_names_are_unique_whatever_their_case(desk: Desk) -> None:
    desk.app.handle(cmd.CreateCategory(name="Billing", keywords=("invoice",)))
    with pytest.raises(Conflict):
        desk.app.handle(cmd.CreateCategory(name="billing", keywords=("refund",)))
