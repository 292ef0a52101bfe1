"""Agent actions through the bus on a real database: state, rows, outbox and the event log they leave."""

from __future__ import annotations

import pytest

from careline.adapters.db import tables as t
from careline.agents.model import Agent
from careline.conversations import commands as cmd
from careline.kernel.errors import Conflict, InvalidInput, NotFound
from integration.support import Desk


@pytest.fixture
def bo(desk: Desk) -> Agent:
    return desk.agent("bo")


@pytest.fixture
def cy(desk: Desk) -> Agent:
    return desk.agent("cy")


@pytest.fixture
def conversation_id(desk: Desk) -> str:
    """A waiting customer post, received at the clock's start."""
    return desk.conversation_of(desk.ingest(desk.message("my order 1234 never arrived")))


def new_events(desk: Desk, conversation_id: str, seen: int) -> list[str]:
    return desk.event_types(conversation_id)[seen:]


def test_accept_assigns_and_opens(desk: Desk, bo: Agent, conversation_id: str) -> None:
    seen = len(desk.event_types(conversation_id))

    assert desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id)) == conversation_id

    row = desk.conversation(conversation_id)
    assert (row.assignee_id, row.status, row.version) == (bo.id, "open", 1)
    assert new_events(desk, conversation_id, seen) == ["conversation.assigned", "conversation.accepted"]
    assigned, accepted = desk.events(conversation_id)[seen:]
    assert assigned.data == {"agent_id": bo.id, "queue_id": row.queue_id, "previous_agent_id": None}
    assert accepted.actor == f"agent:{bo.id}" and accepted.occurred_at == desk.clock()


def test_accepting_what_another_agent_holds_is_a_conflict(
    desk: Desk, bo: Agent, cy: Agent, conversation_id: str
) -> None:
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    seen = len(desk.event_types(conversation_id))

    with pytest.raises(Conflict):
        desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=cy.id))

    assert desk.conversation(conversation_id).assignee_id == bo.id
    assert new_events(desk, conversation_id, seen) == []


def test_a_reply_is_stored_queued_for_delivery_and_logged_in_one_transaction(
    desk: Desk, bo: Agent, conversation_id: str
) -> None:
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    replied_at = desk.clock.advance(minutes=7)

    message_id = desk.app.handle(
        cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text="Sorry! Sending a new one today.")
    )

    [reply] = desk.rows(t.messages, t.messages.c.id == message_id)
    assert (reply.direction, reply.visibility, reply.delivery_status, reply.agent_id) == (
        "outbound",
        "public",
        "queued",
        bo.id,
    )
    [outbox] = desk.rows(t.outbox)
    assert (outbox.kind, outbox.message_id, outbox.status, outbox.attempts) == ("deliver", message_id, "pending", 0)
    assert outbox.idempotency_key == f"deliver:{message_id}" and outbox.payload == {"message_id": message_id}
    [sent] = desk.events(conversation_id, "message.sent")
    assert sent.data["message_id"] == message_id and sent.data["first_response"] is True
    assert sent.data["agent_id"] == bo.id and sent.actor == f"agent:{bo.id}"
    row = desk.conversation(conversation_id)
    assert (row.status, row.first_response_at) == ("pending", replied_at)


def test_replying_to_an_unassigned_conversation_takes_it(desk: Desk, bo: Agent, conversation_id: str) -> None:
    seen = len(desk.event_types(conversation_id))
    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text="Looking into it"))
    assert desk.conversation(conversation_id).assignee_id == bo.id
    assert new_events(desk, conversation_id, seen) == ["conversation.assigned", "conversation.accepted", "message.sent"]


def test_a_private_reply_is_a_direct_message(desk: Desk, bo: Agent, conversation_id: str) -> None:
    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text="DM", visibility="private"))
    [sent] = desk.events(conversation_id, "message.sent")
    assert sent.data["visibility"] == "private"


def test_only_the_assignee_or_a_supervisor_may_reply(desk: Desk, bo: Agent, cy: Agent, conversation_id: str) -> None:
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    with pytest.raises(Conflict):
        desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=cy.id, text="me too"))
    assert desk.rows(t.outbox) == []

    supervisor = desk.agent("sue", role="supervisor")
    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=supervisor.id, text="stepping in"))
    assert desk.conversation(conversation_id).assignee_id == bo.id
    assert len(desk.rows(t.outbox)) == 1


@pytest.mark.parametrize(
    ("text", "visibility", "error"),
    [
        ("  ", "public", "a reply needs text"),
        ("x" * 10_001, "public", "limited to"),
        ("ok", "note", "visibility"),
        ("中" * 141, "public", "limited to 280"),  # 141 characters, 282 as X counts them (docs/channels.md)
    ],
)
def test_invalid_replies_are_refused_before_anything_is_written(
    desk: Desk, bo: Agent, conversation_id: str, text: str, visibility: str, error: str
) -> None:
    seen = len(desk.event_types(conversation_id))
    with pytest.raises(InvalidInput, match=error):
        desk.app.handle(
            cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text=text, visibility=visibility)
        )
    assert new_events(desk, conversation_id, seen) == [] and desk.rows(t.outbox) == []


def test_a_note_is_stored_logged_and_never_delivered(desk: Desk, bo: Agent, conversation_id: str) -> None:
    message_id = desk.app.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=bo.id, text="VIP customer"))

    [note] = desk.rows(t.messages, t.messages.c.id == message_id)
    assert (note.visibility, note.delivery_status) == ("note", None)
    assert desk.rows(t.outbox) == []
    [added] = desk.events(conversation_id, "note.added")
    assert added.data == {"message_id": message_id, "agent_id": bo.id}
    row = desk.conversation(conversation_id)
    assert (row.status, row.first_response_at) == ("new", None)


def test_tags_are_normalised_stored_and_logged(desk: Desk, bo: Agent, conversation_id: str) -> None:
    tags = desk.app.handle(
        cmd.TagConversation(conversation_id=conversation_id, agent_id=bo.id, add=frozenset({" Refund", "VIP"}))
    )
    assert tags == ["refund", "vip"]
    tags = desk.app.handle(
        cmd.TagConversation(conversation_id=conversation_id, agent_id=bo.id, remove=frozenset({"VIP"}))
    )

    assert tags == ["refund"] and desk.conversation(conversation_id).tags == ["refund"]
    assert [e.data for e in desk.events(conversation_id, "conversation.tagged")] == [
        {"added": ["refund", "vip"], "removed": []},
        {"added": [], "removed": ["vip"]},
    ]


def test_transfer_moves_the_queue_and_frees_the_agent(desk: Desk, bo: Agent, conversation_id: str) -> None:
    billing = desk.queue("billing")
    general = desk.conversation(conversation_id).queue_id
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    seen = len(desk.event_types(conversation_id))

    desk.app.handle(cmd.TransferConversation(conversation_id=conversation_id, agent_id=bo.id, queue_id=billing.id))

    row = desk.conversation(conversation_id)
    assert (row.queue_id, row.assignee_id, row.status) == (billing.id, None, "new")
    assert new_events(desk, conversation_id, seen) == ["conversation.unassigned", "conversation.transferred"]
    [transferred] = desk.events(conversation_id, "conversation.transferred")
    assert transferred.data == {"from_queue_id": general, "to_queue_id": billing.id}


def test_transfer_to_a_queue_that_does_not_exist_changes_nothing(desk: Desk, bo: Agent, conversation_id: str) -> None:
    before = desk.conversation(conversation_id)
    with pytest.raises(NotFound):
        desk.app.handle(cmd.TransferConversation(conversation_id=conversation_id, agent_id=bo.id, queue_id="que_x"))
    assert desk.conversation(conversation_id) == before


def test_resolve_and_reopen(desk: Desk, bo: Agent, conversation_id: str) -> None:
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    seen = len(desk.event_types(conversation_id))

    desk.app.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id=bo.id))
    assert desk.conversation(conversation_id).status == "resolved"
    with pytest.raises(Conflict):
        desk.app.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id=bo.id))

    desk.app.handle(cmd.ReopenConversation(conversation_id=conversation_id, agent_id=bo.id))
    assert desk.conversation(conversation_id).status == "open"
    with pytest.raises(Conflict):
        desk.app.handle(cmd.ReopenConversation(conversation_id=conversation_id, agent_id=bo.id))

    assert new_events(desk, conversation_id, seen) == ["conversation.resolved", "conversation.reopened"]


def test_unknown_conversations_and_agents_are_not_found(desk: Desk, bo: Agent, conversation_id: str) -> None:
    with pytest.raises(NotFound):
        desk.app.handle(cmd.AcceptConversation(conversation_id="cnv_missing", agent_id=bo.id))
    with pytest.raises(NotFound):
        desk.app.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id="agt_missing"))
    assert desk.conversation(conversation_id).status == "new"


def test_another_agent_may_neither_reopen_nor_write_privately_into_held_work(
    desk: Desk, bo: Agent, cy: Agent, conversation_id: str
) -> None:
    desk.app.handle(cmd.AcceptConversation(conversation_id=conversation_id, agent_id=bo.id))
    private_id = desk.app.handle(cmd.TakePrivate(conversation_id=conversation_id, agent_id=bo.id, text="DM us"))
    desk.app.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id=bo.id))

    with pytest.raises(Conflict, match="another agent"):
        desk.app.handle(cmd.ReopenConversation(conversation_id=conversation_id, agent_id=cy.id))
    with pytest.raises(Conflict, match="another agent"):
        desk.app.handle(cmd.SendReply(conversation_id=private_id, agent_id=cy.id, text="me too"))
    assert desk.conversation(conversation_id).status == "resolved"

    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text="one more thing"))
    assert desk.conversation(conversation_id).status == "pending"  # writing again reopened it
    assert desk.event_types(conversation_id)[-2:] == ["conversation.reopened", "message.sent"]


def test_a_private_conversation_is_triaged_into_its_public_threads_queue(
    desk: Desk, bo: Agent, conversation_id: str
) -> None:
    private_id = desk.app.handle(cmd.TakePrivate(conversation_id=conversation_id, agent_id=bo.id, text="DM us"))
    public, private = desk.conversation(conversation_id), desk.conversation(private_id)
    assert private.queue_id == public.queue_id and private.priority == public.priority
    assert desk.event_types(private_id)[:2] == ["conversation.created", "conversation.triaged"]
    assert desk.app.reports.summary()["conversations"]["by_queue"] == {"general": 2}


@pytest.mark.parametrize("kind", ["email", "webchat"])
def test_a_reply_on_a_channel_whose_only_audience_is_the_customer_is_private(desk: Desk, bo: Agent, kind: str) -> None:
    desk.account("help", kind=kind)
    inbound = desk.message("where is my refund?", channel=kind, account="help", author_id="casey@example.com")
    conversation_id = desk.conversation_of(desk.ingest(inbound))

    reply_id = desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=bo.id, text="On its way"))

    [reply] = desk.rows(t.messages, t.messages.c.id == reply_id)
    assert (reply.visibility, reply.delivery_status) == ("private", "queued")
