"""How the email channel reads an SMTP server's refusals: 4xx and broken connections are tried again, 5xx not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from careline.channels.adapters.email_out import EmailChannel
from careline.channels.model import ChannelAccount, ChannelKind
from careline.channels.ports import DeliveryError, Outbound
from careline.conversations.model import Direction, Message, Visibility
from integration.dovecot import free_port

AT = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


class Refusing:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        return self.answer


def deliver(port: int) -> None:
    account = ChannelAccount(
        "acc_1", ChannelKind.EMAIL, "support@acme.test", AT,
        config={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"},
    )  # fmt: skip
    message = Message(
        id="msg_1", conversation_id="cnv_1", channel_account_id="acc_1", direction=Direction.OUTBOUND,
        visibility=Visibility.PRIVATE, text="Hello", created_at=AT, received_at=AT,
    )  # fmt: skip
    EmailChannel(timeout=5).deliver(account, Outbound(message, "deliver:msg_1", recipient="casey@example.org"))


@pytest.mark.parametrize(("answer", "retryable"), [("451 4.7.1 greylisted", True), ("550 5.1.1 no such user", False)])
def test_smtp_refusals(answer: str, retryable: bool) -> None:
    port = free_port()
    controller = Controller(Refusing(answer), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(DeliveryError) as refused:
            deliver(port)
    finally:
        controller.stop()
    assert refused.value.retryable is retryable and answer.split()[0] in str(refused.value)


def test_an_unreachable_server_is_tried_again() -> None:
    with pytest.raises(DeliveryError) as refused:
        deliver(free_port())  # nothing listens there
    assert refused.value.retryable
