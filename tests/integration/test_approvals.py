"""Approval of public replies through the bus on a real database (docs/approvals.md): what is held and what is not,
the approver's decision, who may decide, and the audit trail in the event log."""

from __future__ import annotations

import pytest

from careline.adapters.db import tables as t
from careline.agents.model import Agent
from careline.approvals import commands as ap
from careline.approvals.model import DEFAULT_RISKY_WORDS, Approval
from careline.conversations import commands as cmd
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from integration.support import Desk


@pytest.fixture
def careful(desk: Desk) -> Agent:
    """An agent whose public replies need approval."""
    agent = desk.agent("careful")
    updated: Agent = desk.app.handle(ap.SetNeedsApproval(agent_id=agent.id, needs_approval=True))
    assert updated.needs_approval
    return updated


@pytest.fixture
def boss(desk: Desk) -> Agent:
    return desk.agent("boss", role="supervisor")


@pytest.fixture
def conversation_id(desk: Desk) -> str:
    return desk.conversation_of(desk.ingest(desk.message("my parcel never arrived")))


def reply(desk: Desk, agent: Agent, conversation_id: str, text: str, visibility: str = "public") -> str:
    message_id: str = desk.app.handle(
        cmd.SendReply(conversation_id=conversation_id, agent_id=agent.id, text=text, visibility=visibility)
    )
    return message_id


def message(desk: Desk, message_id: str) -> object:
    [row] = desk.rows(t.messages, t.messages.c.id == message_id)
    return row


def outbox(desk: Desk, message_id: str) -> list[object]:
    return desk.rows(t.outbox, t.outbox.c.message_id == message_id)


def approval_of(desk: Desk, message_id: str) -> object:
    [row] = desk.rows(t.reply_approvals, t.reply_approvals.c.message_id == message_id)
    return row


def test_a_public_reply_of_an_agent_who_needs_approval_waits_undelivered(
    desk: Desk, careful: Agent, conversation_id: str
) -> None:
    desk.clock.advance(minutes=3)
    message_id = reply(desk, careful, conversation_id, "We are on it, sorry for the wait.")

    row = message(desk, message_id)
    assert (row.delivery_status, row.text) == ("awaiting_approval", "We are on it, sorry for the wait.")
    assert outbox(desk, message_id) == []
    held = approval_of(desk, message_id)
    assert (held.status, held.requested_by, held.requested_at) == ("pending", careful.id, desk.clock())
    assert (held.original_text, held.reasons, held.risky_words) == (row.text, ["agent needs approval"], [])
    types = desk.event_types(conversation_id)
    assert "reply.awaiting_approval" in types and "message.sent" not in types
    [event] = desk.events(conversation_id, "reply.awaiting_approval")
    assert event.actor == f"agent:{careful.id}"
    assert event.data == {
        "approval_id": held.id,
        "message_id": message_id,
        "agent_id": careful.id,
        "reasons": ["agent needs approval"],
        "risky_words": [],
    }
    conversation = desk.conversation(conversation_id)
    assert (conversation.assignee_id, conversation.status, conversation.first_response_at) == (
        careful.id,
        "open",
        None,
    )


def test_private_replies_and_notes_are_never_held(desk: Desk, careful: Agent, conversation_id: str) -> None:
    private = reply(desk, careful, conversation_id, "Free lawyer? Tell me in private.", visibility="private")
    note = desk.app.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=careful.id, text="free lawsuit"))

    assert message(desk, private).delivery_status == "queued" and len(outbox(desk, private)) == 1
    assert message(desk, note).delivery_status is None and outbox(desk, note) == []
    assert desk.rows(t.reply_approvals) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Our LAWYER will call you", ["lawyer"]),
        ("A refund\n  guaranteed, and compensation too", ["refund guaranteed", "compensation"]),
        ("It's free. Really FREE!", ["free"]),
        ("Freedom of choice: feel freely to ask", []),  # whole words only
        ("No lawyers involved", []),
    ],
)
def test_risky_words_hold_anyones_public_reply(
    desk: Desk, boss: Agent, conversation_id: str, text: str, found: list[str]
) -> None:
    message_id = reply(desk, boss, conversation_id, text)

    if not found:
        assert message(desk, message_id).delivery_status == "queued"
        assert desk.rows(t.reply_approvals) == []
        return
    assert message(desk, message_id).delivery_status == "awaiting_approval" and outbox(desk, message_id) == []
    held = approval_of(desk, message_id)
    assert (held.reasons, held.risky_words) == ([f"risky words: {', '.join(found)}"], found)


def test_the_risky_words_are_the_deployments_own(desk: Desk, boss: Agent, conversation_id: str) -> None:
    with desk.app.uow(read_only=True) as uow:
        assert uow.approvals.risky_words() is None  # nobody set them: the defaults apply
    words = desk.app.handle(ap.SetRiskyWords(words=("  Voucher ", "money  back", "voucher"), actor_id=boss.id))
    assert words == ("money back", "voucher")
    [event] = desk.events(None, "approval.risky_words_set")
    assert (event.actor, event.data) == (f"agent:{boss.id}", {"words": ["money back", "voucher"]})

    assert message(desk, reply(desk, boss, conversation_id, "Enjoy a free drink")).delivery_status == "queued"
    held = reply(desk, boss, conversation_id, "Here is a VOUCHER, or your money back")
    assert approval_of(desk, held).risky_words == ["voucher", "money back"]

    assert desk.app.handle(ap.SetRiskyWords(words=())) == ()  # none: replies are held for their agent only
    assert message(desk, reply(desk, boss, conversation_id, "voucher")).delivery_status == "queued"
    with pytest.raises(InvalidInput, match="risky word"):
        desk.app.handle(ap.SetRiskyWords(words=("free!",)))
    assert "free" in DEFAULT_RISKY_WORDS


def test_an_approver_edits_and_approves_and_the_reply_is_sent_like_any_other(
    desk: Desk, careful: Agent, boss: Agent, conversation_id: str
) -> None:
    message_id = reply(desk, careful, conversation_id, "Sorry!! we'll give you compensation")
    held = approval_of(desk, message_id)
    assert held.reasons == ["agent needs approval", "risky words: compensation"]
    approved_at = desk.clock.advance(minutes=10)

    approval: Approval = desk.app.handle(
        ap.ApproveReply(approval_id=held.id, approver_id=boss.id, text="Sorry! We are looking into it.")
    )

    assert approval.status.value == "approved" and approval.edited
    row = message(desk, message_id)
    assert (row.text, row.delivery_status) == ("Sorry! We are looking into it.", "queued")
    [queued] = outbox(desk, message_id)
    assert (queued.kind, queued.idempotency_key, queued.status) == ("deliver", f"deliver:{message_id}", "pending")
    stored = approval_of(desk, message_id)
    assert (stored.status, stored.decided_by, stored.decided_at) == ("approved", boss.id, approved_at)
    assert (stored.original_text, stored.final_text) == ("Sorry!! we'll give you compensation", row.text)
    [event] = desk.events(conversation_id, "reply.approved")
    assert event.actor == f"agent:{boss.id}"
    assert event.data == {
        "approval_id": held.id,
        "message_id": message_id,
        "agent_id": careful.id,
        "approver_id": boss.id,
        "edited": True,
        "text": "Sorry! We are looking into it.",
    }
    [sent] = desk.events(conversation_id, "message.sent")
    assert (sent.occurred_at, sent.data["first_response"], sent.data["agent_id"]) == (approved_at, True, careful.id)
    conversation = desk.conversation(conversation_id)
    assert (conversation.status, conversation.first_response_at) == ("pending", approved_at)
    assert desk.event_types(conversation_id)[-2:] == ["reply.approved", "message.sent"]


def test_approved_unedited_keeps_the_agents_text(desk: Desk, careful: Agent, boss: Agent, conversation_id: str) -> None:
    message_id = reply(desk, careful, conversation_id, "On its way.")
    desk.app.handle(ap.ApproveReply(approval_id=approval_of(desk, message_id).id, approver_id=boss.id))
    assert message(desk, message_id).text == "On its way." and len(outbox(desk, message_id)) == 1
    [event] = desk.events(conversation_id, "reply.approved")
    assert (event.data["edited"], event.data["text"]) == (False, None)


def test_a_rejected_reply_is_never_sent_and_a_decision_is_made_once(
    desk: Desk, careful: Agent, boss: Agent, conversation_id: str
) -> None:
    message_id = reply(desk, careful, conversation_id, "Sue them, lawsuit time")
    held = approval_of(desk, message_id)
    with pytest.raises(InvalidInput, match="reason"):
        desk.app.handle(ap.RejectReply(approval_id=held.id, approver_id=boss.id, reason="  "))

    desk.app.handle(ap.RejectReply(approval_id=held.id, approver_id=boss.id, reason="Legal must answer this"))

    assert message(desk, message_id).delivery_status == "rejected" and outbox(desk, message_id) == []
    stored = approval_of(desk, message_id)
    assert (stored.status, stored.rejection_reason, stored.final_text) == ("rejected", "Legal must answer this", None)
    [event] = desk.events(conversation_id, "reply.rejected")
    assert event.data["reason"] == "Legal must answer this" and event.data["approver_id"] == boss.id
    with pytest.raises(Conflict, match="rejected already"):
        desk.app.handle(ap.ApproveReply(approval_id=held.id, approver_id=boss.id))
    with pytest.raises(Conflict):
        desk.app.handle(ap.RejectReply(approval_id=held.id, approver_id=boss.id, reason="again"))
    assert outbox(desk, message_id) == [] and "message.sent" not in desk.event_types(conversation_id)


def test_only_other_approvers_decide(desk: Desk, careful: Agent, conversation_id: str) -> None:
    colleague = desk.agent("colleague")
    social = desk.agent("social", role="social")
    supervisor = desk.agent("chief", role="supervisor")
    desk.app.handle(ap.SetNeedsApproval(agent_id=supervisor.id, needs_approval=True))
    held = approval_of(desk, reply(desk, careful, conversation_id, "Hello"))

    with pytest.raises(Forbidden, match="role"):
        desk.app.handle(ap.ApproveReply(approval_id=held.id, approver_id=colleague.id))
    own = approval_of(desk, reply(desk, supervisor, conversation_id, "Mine"))
    with pytest.raises(Forbidden, match="own reply"):
        desk.app.handle(ap.ApproveReply(approval_id=own.id, approver_id=supervisor.id))
    assert approval_of(desk, own.message_id).status == "pending"

    desk.app.handle(ap.ApproveReply(approval_id=held.id, approver_id=social.id))  # the social team approves
    assert approval_of(desk, held.message_id).decided_by == social.id


def test_the_flag_is_set_once_audited_and_kept(desk: Desk, careful: Agent, boss: Agent) -> None:
    [event] = desk.events(None, "agent.needs_approval_set")
    assert (event.actor, event.data) == ("system:admin", {"agent_id": careful.id, "needs_approval": True})
    desk.app.handle(ap.SetNeedsApproval(agent_id=careful.id, needs_approval=True))  # unchanged: no event
    assert len(desk.events(None, "agent.needs_approval_set")) == 1

    desk.app.handle(ap.SetNeedsApproval(agent_id=careful.id, needs_approval=False, actor_id=boss.id))
    with desk.app.uow(read_only=True) as uow:
        assert uow.agents.get(careful.id).needs_approval is False
        assert uow.agents.get(boss.id).needs_approval is False
    feed = desk.agent("feed", role="integration")
    with pytest.raises(Forbidden):
        desk.app.handle(ap.SetNeedsApproval(agent_id=feed.id, needs_approval=True))
