"""X's outbound adapter against the local fake X API (docs/channels.md#x-twitter): X's request formats, which
failures are retried (429, 5xx, timeouts) and which are final (other 4xx, with X's words), and what is refused
before reaching X (too long for X's count, nothing to reply to, no token)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from careline.channels.adapters.x_out import XChannel
from careline.channels.model import AccountSecrets, ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError, Outbound
from careline.conversations.model import Direction, Message, Visibility
from integration.fake_x import BRAND, FakeX

T0 = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
TOKEN = "user-token-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX(lambda: T0, token=TOKEN) as fake:
        yield fake


@pytest.fixture
def channel() -> Iterator[XChannel]:
    with httpx.Client(timeout=0.3) as client:
        yield XChannel(client)


def account(fake: FakeX, **secrets: str) -> ChannelAccount:
    config = {"user_id": BRAND, "api_url": fake.url}
    return ChannelAccount("acc_x", ChannelKind.X, "acme", T0, config=config, secrets=AccountSecrets(secrets))


def reply(text: str = "We are on it.", visibility: Visibility = Visibility.PUBLIC, **fields: str) -> Outbound:
    message = Message("msg_1", "cnv_1", "acc_x", Direction.OUTBOUND, visibility, text, T0, T0)
    return Outbound(message=message, idempotency_key="deliver:msg_1", **fields)


def failure(channel: XChannel, acme: ChannelAccount, outbound: Outbound) -> DeliveryError:
    with pytest.raises(DeliveryError) as raised:
        channel.deliver(acme, outbound)
    return raised.value


def test_retryable_and_final_failures(fake: FakeX, channel: XChannel) -> None:
    acme, outbound = account(fake, access_token=TOKEN), reply(reply_to="1798280000000000001")
    fake.post_statuses = [429, 503, 0, 403]
    answers = [failure(channel, acme, outbound) for _ in range(4)]
    assert [a.retryable for a in answers] == [True, True, True, False]
    assert str(answers[0]).startswith("X rate limit reached")
    assert "X unreachable" in str(answers[2])
    assert str(answers[3]) == (
        "X refused the reply (403): Forbidden; You are not allowed to create a Tweet with duplicate content."
    )
    assert channel.deliver(acme, outbound).platform_message_id == "1800000000000000005"
    assert len(fake.posts) == 5  # every attempt reached X (the timeout's too)


def test_refused_before_reaching_x(fake: FakeX, channel: XChannel) -> None:
    acme = account(fake, access_token=TOKEN)
    too_long = failure(channel, acme, reply("x" * 270 + "中文中文中文", reply_to="1"))  # 276 characters
    assert (str(too_long), too_long.retryable) == ("X counts this reply as 282 characters; the limit is 280", False)
    long_link = "x" * 256 + " https://example.com/" + "y" * 40  # 318 characters, 280 as X counts them
    assert channel.deliver(acme, reply(long_link, reply_to="1")).platform_message_id
    assert not failure(channel, acme, reply()).retryable  # a public reply with no tweet to answer
    assert not failure(channel, acme, reply(visibility=Visibility.PRIVATE)).retryable  # a DM to nobody
    assert not failure(channel, account(fake), reply(reply_to="1")).retryable  # no access_token
    assert [path for path, _, _ in fake.posts] == ["/2/tweets"]
