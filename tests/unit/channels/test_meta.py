"""Meta's webhooks, inbound (docs/channels.md#facebook-and-instagram-inbound): each captured payload in Meta's
documented format (tests/fixtures/meta/) replayed through the parser, one test per fixture; plus the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from careline.channels.adapters.meta import MetaDelivery, parse_delivery, signature_matches

FIXTURES = Path(__file__).parents[2] / "fixtures" / "meta"
PAGE, IG = "104500000000001", "17841400000000001"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def facebook(name: str, platform_id: str | None = PAGE) -> MetaDelivery:
    return parse_delivery(fixture(name), channel="facebook", account="acme", platform_id=platform_id)


def instagram(name: str) -> MetaDelivery:
    return parse_delivery(fixture(name), channel="instagram", account="acme.ig", platform_id=IG)


def test_page_comment_is_a_public_message_starting_its_own_thread() -> None:
    delivery = facebook("page_comment")
    [message] = delivery.messages
    assert delivery.ignored == []
    assert (message.channel, message.account, message.visibility) == ("facebook", "acme", "public")
    assert message.platform_message_id == "880000000000001_990000000000001"
    assert (message.author_id, message.author_name) == ("7001000000000001", "Casey Jones")
    assert message.text == "My order 4411 never arrived, two weeks now"
    assert message.reply_to is None and message.thread_key == message.platform_message_id
    assert message.created_at == datetime(2024, 6, 1, 9, 20, tzinfo=UTC)


def test_reply_to_a_comment_names_its_parent_and_shares_its_thread() -> None:
    [reply] = facebook("page_comment_reply").messages
    parent = "880000000000001_990000000000001"
    assert (reply.reply_to, reply.thread_key) == (parent, parent)
    assert (reply.author_id, reply.text) == ("7001000000000002", "Same here, mine is stuck too")


def test_messenger_message_is_private_and_threaded_by_its_sender() -> None:
    [message] = facebook("messenger_dm").messages
    assert (message.visibility, message.platform_message_id) == ("private", "m_AbCdEf0123456789")
    assert (message.author_id, message.thread_key) == ("6100000000000001", "dm:6100000000000001")
    assert message.text == "Hi, I was charged twice for order 4411"
    assert message.created_at == datetime(2024, 6, 1, 9, 30, 0, 123000, tzinfo=UTC)  # milliseconds


def test_messenger_echo_of_the_page_own_message_is_ignored() -> None:
    delivery = facebook("messenger_echo")
    assert delivery.messages == []
    assert delivery.ignored == ["message m_EchoEcho0000001 is an echo of the account's own"]


def test_instagram_comment() -> None:
    [message] = instagram("instagram_comment").messages
    assert (message.channel, message.visibility, message.platform_message_id) == (
        "instagram",
        "public",
        "17865799348089039",
    )
    assert (message.author_id, message.author_name) == ("17841499999999991", "casey.j")
    assert message.text == "The zipper broke after one day"
    assert message.created_at == datetime(2024, 6, 1, 9, 43, 20, tzinfo=UTC)  # the entry's time


def test_instagram_mention_carries_only_ids_and_says_so() -> None:
    [message] = instagram("instagram_mention").messages
    assert message.platform_message_id == "17894227972186120"
    assert message.author_id == "mention-on-media:17918195224117851"
    assert "17918195224117851" in message.text and message.visibility == "public"


def test_instagram_direct_message() -> None:
    [message] = instagram("instagram_dm").messages
    assert (message.channel, message.visibility) == ("instagram", "private")
    assert message.platform_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw"
    assert (message.author_id, message.thread_key, message.text) == (
        "1254459154682919",
        "dm:1254459154682919",
        "Where is my refund?",
    )


def test_an_unknown_field_is_ignored_on_purpose() -> None:
    delivery = facebook("unknown_field")
    assert delivery.messages == [] and delivery.ignored == ["field 'ratings' is not supported"]


def test_an_edited_comment_is_ignored_on_purpose() -> None:
    delivery = facebook("page_comment_edited")
    assert delivery.messages == [] and delivery.ignored == ["feed 'comment' 'edited' is not a new comment"]


def test_entries_for_another_page_and_objects_for_another_channel_are_ignored() -> None:
    assert facebook("page_comment", platform_id="999").messages == []
    assert facebook("page_comment", platform_id=None).messages != []  # no platform id known: the account's
    assert parse_delivery(fixture("instagram_dm"), channel="facebook", account="acme").messages == []


def test_a_batched_delivery_keeps_every_entry_and_item_in_order() -> None:
    comment, reply, dm = fixture("page_comment"), fixture("page_comment_reply"), fixture("messenger_dm")
    batch = {"object": "page", "entry": [reply["entry"][0], {**comment["entry"][0], **dm["entry"][0]}]}
    batch["entry"][1]["changes"] = comment["entry"][0]["changes"]
    ids = [m.platform_message_id for m in facebook_document(batch).messages]
    assert ids == ["880000000000001_990000000000002", "880000000000001_990000000000001", "m_AbCdEf0123456789"]


def facebook_document(document: Any) -> MetaDelivery:
    return parse_delivery(document, channel="facebook", account="acme", platform_id=PAGE)


def test_signature_is_the_hmac_of_the_raw_body_under_the_app_secret() -> None:
    body = b'{"object": "page", "entry": []}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert signature_matches("app-secret", body, good)
    assert not signature_matches("other-secret", body, good)
    assert not signature_matches("app-secret", body + b" ", good)
    assert not signature_matches("app-secret", body, None)
    assert not signature_matches("app-secret", body, good.removeprefix("sha256="))


def test_messenger_delivery_receipt_names_the_mids_and_the_watermark() -> None:
    delivery = facebook("messenger_delivery")
    assert delivery.messages == [] and delivery.ignored == []
    [receipt] = delivery.receipts
    assert (receipt.status, receipt.reader) == ("delivered", "6100000000000001")
    assert receipt.platform_message_ids == ("m_OurReply0000000001",)
    assert receipt.watermark == datetime(2024, 6, 1, 9, 35, 0, 253000, tzinfo=UTC)


def test_messenger_read_receipt_carries_a_watermark() -> None:
    [receipt] = facebook("messenger_read").receipts
    assert (receipt.status, receipt.reader, receipt.platform_message_ids) == ("read", "6100000000000001", ())
    assert receipt.watermark == datetime(2024, 6, 1, 9, 36, 0, 253000, tzinfo=UTC)


def test_instagram_read_receipt_names_the_message_seen() -> None:
    [receipt] = instagram("instagram_read").receipts
    assert (receipt.status, receipt.reader) == ("read", "1254459154682919")
    assert receipt.platform_message_ids == ("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjOurReply",)
    assert receipt.watermark is None


def test_a_receipt_without_a_sender_or_anything_to_mark_is_ignored_on_purpose() -> None:
    document = fixture("messenger_read")
    document["entry"][0]["messaging"][0]["read"] = {}
    delivery = facebook_document(document)
    assert delivery.receipts == [] and delivery.ignored == ["read receipt without a customer sender, mids or watermark"]
