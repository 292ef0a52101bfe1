"""The outbound mail's headers: the thread every mail program follows, the subject without "Re: Re:"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from careline.channels.adapters.email_out import EmailChannel, compose, reply_subject
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError, Outbound
from careline.conversations.model import Direction, Message, Visibility

AT = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
ACCOUNT = ChannelAccount("acc_1", ChannelKind.EMAIL, "support@acme.test", AT, config={"display_name": "Acme"})


def message(id: str, visibility: Visibility = Visibility.PRIVATE, raw: dict[str, str] | None = None) -> Message:
    return Message(
        id=id, conversation_id="cnv_1", channel_account_id="acc_1", direction=Direction.OUTBOUND,
        visibility=visibility, text="Your refund is on its way.", created_at=AT, received_at=AT, raw=raw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Refund", "Re: Refund"),
        ("Re: Refund", "Re: Refund"),
        ("RE: AW: Re:Refund", "Re: Refund"),
        ("", "Re: your message"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_a_long_thread_keeps_its_root_and_latest_references() -> None:
    thread = tuple(f"<m{n}@example.org>" for n in range(30)) + ("not-an-email-id",)
    first = message("msg_0", raw={"subject": "Refund"})
    mail = compose(
        ACCOUNT, Outbound(message("msg_9"), "deliver:msg_9", "<m29@example.org>", "c@example.org", None, thread, first)
    )
    references = str(mail["References"]).split()
    assert len(references) == 20 and references[0] == "<m0@example.org>" and references[-1] == "<m29@example.org>"
    assert (mail["From"], mail["Subject"], mail["Message-ID"]) == (
        "Acme <support@acme.test>",
        "Re: Refund",
        "<msg_9@acme.test>",
    )


def test_public_replies_and_replies_without_an_address_are_refused_for_good() -> None:
    channel = EmailChannel()
    with pytest.raises(DeliveryError) as public:
        channel.deliver(ACCOUNT, Outbound(message("msg_1", Visibility.PUBLIC), "k", recipient="c@example.org"))
    assert not public.value.retryable and "public" in str(public.value)
    with pytest.raises(DeliveryError) as nobody:
        channel.deliver(ACCOUNT, Outbound(message("msg_2"), "k"))
    assert not nobody.value.retryable
