"""Facebook and Instagram through the desk and the delivery worker, against the fake Graph API, on SQLite and
PostgreSQL: the human-agent window (refused without the permission, tagged with it), receipts that only move a
reply forward, and hiding a comment (the platform first, then the event log)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.agents import commands as admin
from careline.channels import commands as channels
from careline.channels.queries import hidden_comments
from careline.channels.receipts import Receipt
from careline.config import Settings
from careline.conversations import commands as cmd
from careline.conversations import queries
from careline.kernel.errors import Conflict, InvalidInput
from integration.fake_graph import Answer, FakeGraph, graph_error
from integration.support import Desk

PAGE, PSID, TOKEN = "104500000000001", "6100000000000001", "EAAG-page-access-token-0123456789"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def page(desk: Desk, graph: FakeGraph) -> str:
    """A Facebook Page account named acme-page, its token sealed, its Graph API the fake; its id."""
    account = desk.account("acme-page", kind="facebook")
    desk.app.handle(admin.SetChannelSecrets(account_id=account.id, secrets=(("page_access_token", TOKEN),)))
    desk.app.handle(
        channels.ConfigureMetaAccount(
            account="acme-page", agent_id=desk.agent("admin").id, graph_url=graph.url, page_id=PAGE
        )
    )
    return account.id


def direct_message(desk: Desk, text: str = "I was charged twice") -> str:
    result = desk.ingest(
        desk.message(
            text, channel="facebook", account="acme-page", visibility="private", author_id=PSID, thread_key=f"dm:{PSID}"
        )
    )
    return desk.conversation_of(result)


def status_of(desk: Desk, message_id: str) -> tuple[str | None, str | None]:
    [row] = desk.rows(t.messages, t.messages.c.id == message_id)
    return row.delivery_status, row.platform_message_id


def test_a_late_direct_message_needs_the_human_agent_permission_and_then_carries_the_tag(
    desk: Desk, graph: FakeGraph, page: str
) -> None:
    ana = desk.agent("ana")
    wrote = desk.clock()
    dm = direct_message(desk)
    desk.clock.advance(hours=30)
    late = cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="Sorry for the wait: refunded", visibility="private")
    with pytest.raises(Conflict, match="within 24 hours"):
        desk.app.handle(late)

    desk.app.handle(channels.ConfigureMetaAccount(account="acme-page", agent_id=ana.id, human_agent=True))
    closes = queries.get_conversation(desk.app.engine, dm, with_messages=True)["reply_window_closes_at"]
    assert closes == wrote + timedelta(days=7)
    message_id = desk.app.handle(late)
    assert desk.app.delivery.run_once() == 1

    [call] = graph.calls
    assert call.path == f"/{PAGE}/messages" and call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.body["recipient"] == {"id": PSID}
    assert (call.body["messaging_type"], call.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert status_of(desk, message_id) == ("delivered", "m_OurReply0000000001")

    desk.clock.advance(days=6)  # 7 days and 6 hours after the customer wrote: even the tag is over
    with pytest.raises(Conflict, match=r"within 7 days \(human-agent tag\)"):
        desk.app.handle(late)


def test_meta_refusal_outside_the_window_fails_the_reply_for_good_with_the_reason(
    desk: Desk, graph: FakeGraph, page: str
) -> None:
    ana = desk.agent("ana")
    dm = direct_message(desk)
    message_id = desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="here", visibility="private"))
    graph.script = [Answer(400, graph_error("(#10) This message is sent outside of allowed window.", 10, 2018278))]
    desk.app.delivery.run_once()
    assert status_of(desk, message_id) == ("failed", None)
    [failed] = desk.events(dm, "message.delivery_failed")
    assert "outside its messaging window" in failed.data["reason"] and failed.data["will_retry"] is False


def test_receipts_move_a_reply_forward_once_and_never_back(desk: Desk, graph: FakeGraph, page: str) -> None:
    ana = desk.agent("ana")
    dm = direct_message(desk)
    first = desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="one", visibility="private"))
    desk.app.delivery.run_once()
    desk.clock.advance(minutes=5)
    second = desk.app.handle(cmd.SendReply(conversation_id=dm, agent_id=ana.id, text="two", visibility="private"))
    desk.app.delivery.run_once()
    read_first = Receipt(status="read", reader=PSID, watermark=desk.clock() - timedelta(minutes=1))
    delivered_both = Receipt(
        status="delivered", reader=PSID, platform_message_ids=("m_OurReply0000000001", "m_OurReply0000000002")
    )

    assert desk.app.handle(channels.RecordReceipts(account_id=page, receipts=(read_first,))) == 1
    assert desk.app.handle(channels.RecordReceipts(account_id=page, receipts=(read_first, delivered_both))) == 0
    assert (status_of(desk, first)[0], status_of(desk, second)[0]) == ("read", "delivered")
    someone_else = Receipt(status="read", reader="6199999999999999", watermark=desk.clock())
    assert desk.app.handle(channels.RecordReceipts(account_id=page, receipts=(someone_else,))) == 0
    [recorded] = desk.events(dm, "message.receipt_recorded")
    assert recorded.data == {
        "message_id": first,
        "status": "read",
        "previous_status": "delivered",
        "platform_message_id": "m_OurReply0000000001",
    }


def test_hiding_a_comment_calls_meta_then_records_it_and_showing_it_again_too(
    desk: Desk, graph: FakeGraph, page: str
) -> None:
    ana = desk.agent("ana")
    result = desk.ingest(
        desk.message("you are all crooks", channel="facebook", account="acme-page", platform_message_id="880_991")
    )
    conversation = desk.conversation_of(result)
    message_id = result.items[0].message_id
    assert message_id is not None

    desk.app.handle(channels.HideComment(message_id=message_id, agent_id=ana.id))
    assert hidden_comments(desk.app.engine, conversation) == {message_id}
    desk.app.handle(channels.HideComment(message_id=message_id, agent_id=ana.id, hidden=False))
    assert hidden_comments(desk.app.engine, conversation) == set()
    assert [(c.path, c.body) for c in graph.calls] == [
        ("/880_991", {"is_hidden": True}),
        ("/880_991", {"is_hidden": False}),
    ]
    assert [e.type for e in desk.events(conversation, "comment.hidden", "comment.unhidden")] == [
        "comment.hidden",
        "comment.unhidden",
    ]

    graph.script = [Answer(400, graph_error("(#100) Invalid parameter", 100))]
    with pytest.raises(Conflict, match=r"did not hide the comment: Graph API 400 \(code 100\)"):
        desk.app.handle(channels.HideComment(message_id=message_id, agent_id=ana.id))
    assert hidden_comments(desk.app.engine, conversation) == set()  # Meta refused: nothing recorded
    dm_message = desk.rows(t.messages, t.messages.c.conversation_id == direct_message(desk))[0].id
    with pytest.raises(InvalidInput, match="only those can be hidden"):
        desk.app.handle(channels.HideComment(message_id=dm_message, agent_id=ana.id))
    assert len(graph.calls) == 3
