"""Meta's 24-hour messaging window on SQLite and PostgreSQL: a private reply on Messenger or Instagram after it
closed is refused with the reason; public replies and other channels have no window; the API shows the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from careline.conversations import commands as cmd
from careline.conversations import queries
from careline.kernel.errors import Conflict
from integration.support import Desk


def test_a_private_reply_after_the_window_closed_is_refused_with_the_reason(desk: Desk) -> None:
    desk.account("acme-page", kind="facebook")
    ana = desk.agent("ana")
    wrote = desk.clock()
    dm = desk.conversation_of(
        desk.ingest(
            desk.message(
                "hi, my order?", channel="facebook", account="acme-page", visibility="private", thread_key="dm:1"
            )
        )
    )
    assert queries.get_conversation(desk.app.engine, dm, with_messages=True)["reply_window_closes_at"] == wrote + (
        timedelta(hours=24)
    )

    desk.clock.advance(hours=23)
    desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="on its way", visibility="private"))
    desk.clock.advance(hours=2)  # 25 hours after the customer's message
    with pytest.raises(Conflict, match="within 24 hours of the customer's last message"):
        desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="any news?", visibility="private"))

    again = desk.message(
        "still waiting", channel="facebook", account="acme-page", visibility="private", thread_key="dm:1"
    )
    assert desk.conversation_of(desk.ingest(again)) == dm  # the customer wrote again: the window opens again
    desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="sorry, here", visibility="private"))


def test_public_replies_and_other_channels_have_no_window(desk: Desk) -> None:
    desk.account("acme-page", kind="facebook")
    ana = desk.agent("ana")
    comment = desk.conversation_of(desk.ingest(desk.message("bad service", channel="facebook", account="acme-page")))
    tweet = desk.conversation_of(desk.ingest(desk.message("bad service", visibility="private", author_id="cust-2")))
    desk.clock.advance(days=3)
    desk.app.handle(cmd.SendReply(conversation_id=comment, agent_id=ana.id, text="sorry", visibility="public"))
    desk.app.handle(cmd.SendReply(conversation_id=tweet, agent_id=ana.id, text="sorry", visibility="private"))
    assert queries.get_conversation(desk.app.engine, tweet, with_messages=True)["reply_window_closes_at"] is None
