"""Ingestion through the bus on a real database: idempotency, threading, rejection, reopening, triage."""

from __future__ import annotations

from datetime import datetime

from careline.adapters.db import tables as t
from careline.conversations.commands import ResolveConversation
from careline.ingestion.model import BatchResult
from integration.support import Desk


def statuses(result: BatchResult) -> list[str]:
    return [item.status for item in result.items]


def message_ids(desk: Desk) -> list[str]:
    return sorted(row.platform_message_id for row in desk.rows(t.messages))


def test_a_customer_message_starts_a_triaged_conversation(desk: Desk) -> None:
    billing = desk.queue("billing", keywords=("refund",), rank=10)

    result = desk.ingest(desk.message("I want a refund. Worst service ever!", author_name="Ada", raw={"id": 1}))

    assert statuses(result) == ["created"]
    assert (result.conversations_created, result.customers_created) == (1, 1)
    conversation = desk.conversation(desk.conversation_of(result))
    assert (conversation.queue_id, conversation.status, conversation.thread_key) == (billing.id, "new", "msg:p1")
    assert conversation.customer_id is not None and conversation.assignee_id is None
    [message] = desk.rows(t.messages)
    assert (message.direction, message.visibility, message.sentiment_label) == ("inbound", "public", "negative")
    assert (message.customer_id, message.author_external_id) == (conversation.customer_id, "cust-1")
    assert message.raw == {"id": 1}
    assert conversation.priority == message.triage["priority"] > 50
    assert conversation.angry and message.triage["angry"]
    features = {f["feature"]: f["points"] for f in conversation.priority_explanation["features"]}
    assert features["sentiment"] > 0 and features["angry"] > 0

    created, triaged, received = desk.events(conversation.id)
    assert [created.type, triaged.type, received.type] == [
        "conversation.created",
        "conversation.triaged",
        "message.received",
    ]
    assert triaged.data["matched_rule"] == "refund" and triaged.data["queue_id"] == billing.id
    assert received.data["message_id"] == message.id and received.data["sentiment_label"] == "negative"
    assert received.actor == f"customer:{conversation.customer_id}"


def test_the_same_message_twice_in_one_batch_is_stored_once(desk: Desk) -> None:
    message = desk.message()

    result = desk.ingest(message, message)

    assert statuses(result) == ["created", "duplicate"]
    assert result.items[1].conversation_id == result.items[0].conversation_id
    assert message_ids(desk) == ["p1"]
    assert len(desk.events(None, "message.received")) == 1


def test_a_replayed_batch_stores_nothing_and_records_nothing(desk: Desk) -> None:
    batch = (desk.message("first"), desk.message("second", author_id="cust-2"))
    first = desk.ingest(*batch)
    logged = len(desk.events())

    again = desk.ingest(*batch)

    assert statuses(again) == ["duplicate", "duplicate"]
    assert [i.conversation_id for i in again.items] == [i.conversation_id for i in first.items]
    assert (again.conversations_created, again.customers_created) == (0, 0)
    assert message_ids(desk) == ["p1", "p2"]
    assert len(desk.events()) == logged


def test_the_same_platform_id_on_another_account_is_another_message(desk: Desk) -> None:
    desk.account("acme-uk")
    result = desk.ingest(
        desk.message(platform_message_id="777"), desk.message(platform_message_id="777", account="acme-uk")
    )
    assert statuses(result) == ["created", "created"]
    assert result.conversations_created == 2


def test_a_reply_joins_the_conversation_of_its_parent_in_the_same_or_a_later_batch(desk: Desk) -> None:
    first = desk.ingest(desk.message("my router is dead"), desk.message("still dead", reply_to="p1"))
    conversation_id = desk.conversation_of(first)
    assert first.items[1].conversation_id == conversation_id

    desk.clock.advance(minutes=5)
    later = desk.ingest(desk.message("hello??", reply_to="p2"))

    assert later.items[0].conversation_id == conversation_id
    assert later.conversations_created == 0
    assert [r.reply_to_platform_id for r in desk.rows(t.messages, order_by=t.messages.c.platform_message_id)] == [
        None,
        "p1",
        "p2",
    ]


def test_a_brand_reply_is_the_first_response_and_the_next_customer_message_waits_again(desk: Desk) -> None:
    asked = desk.ingest(desk.message("is the app down?"))
    conversation_id = desk.conversation_of(asked)

    answered_at = desk.clock.advance(minutes=12)
    desk.ingest(desk.message("we are on it", direction="outbound", author_id="acme", reply_to="p1"))

    conversation = desk.conversation(conversation_id)
    assert conversation.status == "pending" and conversation.first_response_at == answered_at
    [sent] = desk.events(conversation_id, "message.sent")
    assert sent.data["first_response"] is True and sent.actor == "brand:acme"
    [reply] = desk.rows(t.messages, t.messages.c.direction == "outbound")
    assert (reply.delivery_status, reply.customer_id, reply.sentiment_label) == ("external", None, None)

    desk.ingest(desk.message("thanks, and when will it be back?", reply_to="p2"))
    assert desk.conversation(conversation_id).status == "new"


def test_a_reply_to_an_unknown_message_starts_its_own_conversation(desk: Desk) -> None:
    result = desk.ingest(desk.message("re: my ticket", reply_to="never-seen"))
    conversation = desk.conversation(desk.conversation_of(result))
    assert result.conversations_created == 1 and conversation.thread_key == "msg:p1"


def test_a_thread_key_joins_its_thread_across_batches(desk: Desk) -> None:
    first = desk.ingest(desk.message("hi, chat here", channel="x", thread_key="chat-42"))
    second = desk.ingest(desk.message("anyone?", thread_key="chat-42"), desk.message("other", thread_key="chat-43"))

    assert second.items[0].conversation_id == desk.conversation_of(first)
    assert second.items[1].conversation_id != desk.conversation_of(first)
    assert desk.conversation(desk.conversation_of(first)).thread_key == "key:chat-42"
    assert second.conversations_created == 1


def test_an_unknown_account_is_rejected_and_the_rest_of_the_batch_is_stored(desk: Desk) -> None:
    result = desk.ingest(
        desk.message("good one"),
        desk.message("to nobody", account="no-such-brand"),
        desk.message("another good one", author_id="cust-2"),
    )

    assert statuses(result) == ["created", "rejected", "created"]
    assert result.items[1].error == "unknown channel account x/no-such-brand; create it first"
    assert result.items[1].conversation_id is None
    assert message_ids(desk) == ["p1", "p3"]
    assert len(desk.events(None, "message.received")) == 2


def test_each_invalid_item_is_rejected_with_its_reason(desk: Desk) -> None:
    result = desk.ingest(
        desk.message("   "),
        desk.message("naive", created_at=datetime(2024, 3, 4, 9, 0)),
        desk.message("sideways", direction="sideways"),
        desk.message("pigeon", channel="pigeon"),
        desk.message("hidden", visibility="note"),
        desk.message("fine"),
    )

    assert statuses(result) == ["rejected"] * 5 + ["created"]
    assert [item.error for item in result.items[:5]] == [
        "text must not be empty",
        "created_at must carry a time zone",
        "direction must be inbound or outbound",
        "channel must be one of x, facebook, instagram, email, webchat, voice, api",
        "visibility must be public or private",
    ]
    assert message_ids(desk) == ["p6"]


def test_importers_may_create_the_brand_account(desk: Desk) -> None:
    result = desk.ingest(desk.message(account="NewBrand"), create_accounts=True)
    assert statuses(result) == ["created"]
    assert sorted((row.kind, row.name) for row in desk.rows(t.channel_accounts)) == [("x", "NewBrand"), ("x", "acme")]
    assert result.items[0].conversation_id is not None


def test_a_customer_message_reopens_a_resolved_conversation(desk: Desk) -> None:
    agent = desk.agent("bo")
    conversation_id = desk.conversation_of(desk.ingest(desk.message("my card was charged twice")))
    desk.app.handle(ResolveConversation(conversation_id=conversation_id, agent_id=agent.id))
    assert desk.conversation(conversation_id).status == "resolved"

    desk.clock.advance(hours=2)
    result = desk.ingest(desk.message("it happened again", reply_to="p1"))

    assert result.items[0].conversation_id == conversation_id
    assert desk.conversation(conversation_id).status == "new"
    assert desk.event_types(conversation_id)[-3:] == [
        "conversation.resolved",
        "conversation.reopened",
        "message.received",
    ]


def test_a_thread_the_brand_started_gets_its_customer_when_one_answers(desk: Desk) -> None:
    post = desk.ingest(desk.message("our summer sale starts today", direction="outbound", author_id="acme"))
    conversation_id = desk.conversation_of(post)
    assert post.customers_created == 0 and desk.conversation(conversation_id).customer_id is None

    answer = desk.ingest(desk.message("does it include phones?", author_id="cust-9", reply_to="p1"))

    assert answer.items[0].conversation_id == conversation_id
    [customer] = desk.rows(t.customers)
    assert desk.conversation(conversation_id).customer_id == customer.id


def test_a_message_id_never_collides_with_a_channels_thread_key(desk: Desk) -> None:
    """A post whose id equals another thread's key starts its own thread; the batch around it is stored."""
    keyed = desk.ingest(desk.message("chat opened", platform_message_id="A", thread_key="X"))
    result = desk.ingest(
        desk.message("good one", platform_message_id="good-1"), desk.message("new post", platform_message_id="X")
    )
    assert statuses(result) == ["created", "created"]
    assert len({desk.conversation_of(keyed), desk.conversation_of(result, 0), desk.conversation_of(result, 1)}) == 3


def test_personal_data_in_a_public_post_is_found_masked_and_flags_the_thread(desk: Desk) -> None:
    card_post = desk.message("@AcmeAir my card 4111 1111 1111 1111 was charged twice!!")
    spanish = desk.message("Hola, mi vuelo de Madrid fue cancelado y nadie me responde", author_id="cust-2")
    result = desk.ingest(card_post, spanish)

    card_message, spanish_message = sorted(desk.rows(t.messages), key=lambda m: m.platform_message_id)
    assert card_message.pii == ["card"] and card_message.language == "en"
    assert card_message.masked_text == "@AcmeAir my card •••• •••• •••• 1111 was charged twice!!"
    assert card_message.text.startswith("@AcmeAir my card 4111")  # the original is kept, only shown masked
    assert (spanish_message.pii, spanish_message.masked_text, spanish_message.language) == (None, None, "es")

    flagged = desk.conversation(desk.conversation_of(result, 0))
    assert flagged.tags == ["personal-data"]
    assert desk.conversation(desk.conversation_of(result, 1)).tags == []
    [received] = desk.events(flagged.id, "message.received")
    assert (received.data["pii"], received.data["language"]) == (["card"], "en")


def test_an_angrier_reply_in_the_thread_raises_its_priority_and_a_calmer_one_does_not(desk: Desk) -> None:
    first = desk.ingest(desk.message("hi, where can I see my booking?"))
    conversation_id = desk.conversation_of(first)
    calm_priority = desk.conversation(conversation_id).priority

    desk.clock.advance(minutes=5)
    desk.ingest(desk.message("STILL NO ANSWER!! this is ridiculous, worst service ever", reply_to="p1"))
    angry = desk.conversation(conversation_id)
    assert angry.angry and angry.priority > calm_priority
    assert {f["feature"] for f in angry.priority_explanation["features"]} >= {"angry", "sentiment"}
    [escalated] = [
        e
        for e in desk.events(conversation_id, "conversation.triaged")
        if e.data["matched_rule"] == "escalated by a later message"
    ]
    assert escalated.data["sentiment_label"] == "negative" and escalated.data["sentiment_score"] < 0

    desk.ingest(desk.message("ok thanks", reply_to="p2"))
    after = desk.conversation(conversation_id)
    assert (after.priority, after.angry) == (angry.priority, True)
    assert len(desk.events(conversation_id, "conversation.triaged")) == 2
