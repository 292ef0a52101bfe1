"""X, inbound (docs/channels.md#x-twitter): each captured payload in X's documented formats (tests/fixtures/x/:
Account Activity deliveries and v2 pages) replayed through the parser, one test per fixture; the CRC answer and
the webhook signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from careline.channels.adapters.x import (
    XDelivery,
    crc_response,
    parse_activity,
    parse_tweets,
    signature_matches,
)
from careline.channels.lengths import counted_length, weighted_length

FIXTURES = Path(__file__).parents[2] / "fixtures" / "x"
BRAND, CASEY = "2244994945", "3001969357"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def activity(name: str, user_id: str | None = BRAND) -> XDelivery:
    return parse_activity(fixture(name), account="acme", user_id=user_id)


def test_every_fixture_has_its_test() -> None:
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    for path in FIXTURES.glob("*.json"):
        assert any(path.stem in name for name in tested), f"{path.name} has no test naming it"


def test_tweet_mention_is_a_public_message_starting_its_own_thread() -> None:
    delivery = activity("tweet_mention")
    [message] = delivery.messages
    assert delivery.ignored == []
    assert (message.channel, message.account, message.visibility) == ("x", "acme", "public")
    assert message.platform_message_id == "1798280000000000001"
    assert (message.author_id, message.author_name) == (CASEY, "caseyj")
    assert message.text == "@AcmeSupport my order 4411 never arrived & nobody answers the phone"  # unescaped
    assert message.reply_to is None and message.thread_key == "1798280000000000001"
    assert message.created_at == datetime(2024, 6, 5, 9, 20, tzinfo=UTC)
    assert (message.author_followers, message.author_verified, message.engagements) == (1520, False, 8)


def test_tweet_reply_takes_the_extended_text_and_joins_its_parent_thread() -> None:
    [reply] = activity("tweet_reply").messages
    parent = "1798280000000000001"
    assert (reply.reply_to, reply.thread_key) == (parent, parent)
    assert reply.text.endswith("a locker I have never heard of. Can someone look at it today?")  # not truncated


def test_tweet_reply_to_brand_starts_its_own_conversation() -> None:
    # Many customers answer one promotion: keyed by the brand's tweet, they would all share one conversation.
    [reply] = activity("tweet_reply_to_brand").messages
    assert reply.reply_to == "1798000000000000999"
    assert reply.thread_key == "1798290000000000003"
    assert (reply.author_verified, reply.author_followers) == (True, 98000)


def test_tweet_own_is_ignored() -> None:
    delivery = activity("tweet_own")
    assert delivery.messages == []
    assert delivery.ignored == ["tweet 1798284000000000010 is the account's own"]


def test_tweet_retweet_is_ignored() -> None:
    delivery = activity("tweet_retweet")
    assert delivery.messages == [] and delivery.ignored == ["tweet 1798300000000000020 is a retweet"]


def test_dm_message_is_private_threaded_by_sender_and_named_from_users() -> None:
    [message] = activity("dm_message").messages
    assert (message.visibility, message.platform_message_id) == ("private", "1798281234567890123")
    assert (message.author_id, message.author_name) == (CASEY, "caseyj")
    assert message.thread_key == f"dm:{CASEY}" and message.reply_to is None
    assert message.text == "Hi, the order number is 4411 and I was charged twice"
    assert message.created_at == datetime(2024, 6, 5, 9, 30, 0, 123000, tzinfo=UTC)


def test_dm_with_media_names_the_attachment() -> None:
    [message] = activity("dm_with_media").messages
    assert message.text.startswith("here is the receipt https://t.co/abcDEF1234\n[photo: https://ton.twitter.com/")


def test_dm_own_is_ignored() -> None:
    delivery = activity("dm_own")
    assert delivery.messages == []
    assert delivery.ignored == ["direct message 1798281300000000000 is the account's own"]


def ignored(name: str) -> list[str]:
    delivery = activity(name)
    assert delivery.messages == []
    return delivery.ignored


def test_favorite_events_are_ignored_on_purpose() -> None:
    assert ignored("favorite_events") == ["favorite_events are not handled"]


def test_follow_events_are_ignored_on_purpose() -> None:
    assert ignored("follow_events") == ["follow_events are not handled"]


def test_tweet_delete_events_are_ignored_on_purpose() -> None:
    # A deleted tweet stays in its conversation: the agent may already have read or answered it.
    assert ignored("tweet_delete_events") == ["tweet_delete_events are not handled"]


def test_dm_typing_and_read_receipts_are_ignored_on_purpose() -> None:
    assert ignored("dm_typing_and_read") == [
        "direct_message_indicate_typing_events are not handled",
        "direct_message_mark_read_events are not handled",
    ]


def test_a_delivery_for_another_user_is_refused_whole() -> None:
    delivery = activity("tweet_mention", user_id="999")
    assert delivery.messages == []
    assert delivery.ignored == ["delivery for user '2244994945', not this account (999)"]
    assert len(activity("tweet_mention", user_id=None).messages) == 1  # no user id configured: trust the signature


def test_not_an_object_is_ignored() -> None:
    assert parse_activity([1, 2], account="acme").ignored == ["the body is not a JSON object"]


def test_v2_mentions_page_skips_own_tweets_and_retweets() -> None:
    delivery = parse_tweets(fixture("v2_mentions_page"), account="acme", user_id=BRAND)
    assert delivery.ignored == [
        "tweet 1798288000000000101 is the account's own",
        "tweet 1798287000000000100 is a retweet",
    ]
    new, reply = delivery.messages
    assert (new.platform_message_id, new.author_id, new.author_name) == ("1798290000000000103", "4401000001", "samlee")
    assert new.text == "@AcmeSupport the app logs me out every time I open it >:("
    assert new.thread_key == new.platform_message_id and new.reply_to is None
    assert new.created_at == datetime(2024, 6, 5, 10, 5, tzinfo=UTC)
    assert (new.author_followers, new.engagements) == (88, 5)  # impressions are not engagement
    parent = "1798280000000000001"
    assert (reply.reply_to, reply.thread_key, reply.author_verified) == (parent, parent, True)


def test_v2_empty_page_has_nothing() -> None:
    delivery = parse_tweets(fixture("v2_empty_page"), account="acme", user_id=BRAND)
    assert delivery.messages == [] and delivery.ignored == []


def test_crc_response_is_the_base64_hmac_of_the_token() -> None:
    # X's documented example: consumer secret and crc_token, and the token it expects back.
    expected = base64.b64encode(hmac.new(b"secret", b"challenge", hashlib.sha256).digest()).decode()
    assert crc_response("secret", "challenge") == f"sha256={expected}"
    assert crc_response("secret", "challenge") != crc_response("other", "challenge")


def test_signature_is_checked_over_the_raw_body() -> None:
    body = json.dumps(fixture("tweet_mention")).encode()
    good = "sha256=" + base64.b64encode(hmac.new(b"consumer", body, hashlib.sha256).digest()).decode()
    assert signature_matches("consumer", body, good)
    assert not signature_matches("consumer", body + b" ", good)
    assert not signature_matches("another", body, good)
    assert not signature_matches("consumer", body, good.removeprefix("sha256="))
    assert not signature_matches("consumer", body, None)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("see https://example.com/a/very/long/path/that/goes/on/and/on?with=query", 4 + 23),
        ("注文が届きません", 16),  # CJK counts 2
        ("thanks 👍", 7 + 2),
        ("👩‍💻", 2),  # one emoji sequence (woman, ZWJ, laptop)
        ("👍🏽", 2),  # a skin tone adds nothing
        ("café", 4),  # decomposed or not, NFC first
        ("cafe\u0301", 4),
    ],
)
def test_weighted_length_counts_as_x_does(text: str, length: int) -> None:
    assert weighted_length(text) == length


def test_only_a_public_reply_on_x_is_held_to_x_s_count() -> None:
    text = "中" * 141
    assert counted_length("x", "public", text) == 282
    assert counted_length("x", "private", text) == counted_length("facebook", "public", text) == 141
