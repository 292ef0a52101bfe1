"""The conversation state machine: statuses, first response, ownership, and the events every change records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from careline.conversations import events as ev
from careline.conversations.model import Conversation, Direction, Message, Status, Visibility
from careline.kernel.errors import Conflict, InvalidInput
from careline.kernel.events import Event

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
ACCOUNT = "acc_brand"
CUSTOMER = "cus_ada"


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def inbound(at: datetime, *, id: str = "msg_in", label: str = "negative", score: float = -0.6) -> Message:
    return Message(
        id=id,
        conversation_id="cnv_1",
        channel_account_id=ACCOUNT,
        direction=Direction.INBOUND,
        visibility=Visibility.PUBLIC,
        text="my parcel never arrived",
        created_at=at,
        received_at=at,
        customer_id=CUSTOMER,
        sentiment_label=label,
        sentiment_score=score,
    )


def outbound(at: datetime, *, id: str = "msg_out", visibility: Visibility = Visibility.PUBLIC) -> Message:
    return Message(
        id=id,
        conversation_id="cnv_1",
        channel_account_id=ACCOUNT,
        direction=Direction.OUTBOUND,
        visibility=visibility,
        text="sorry to hear that, please DM us",
        created_at=at,
        received_at=at,
        agent_id="agt_bo",
    )


def started(first: Message | None = None) -> Conversation:
    """A conversation started by a customer's message, with its creation events already taken."""
    first = first or inbound(T0)
    conversation = Conversation.start(
        id="cnv_1", message=first, customer_id=CUSTOMER, thread_key="t1", queue_id="que_general", actor="customer:x"
    )
    conversation.receive(first, actor=f"customer:{CUSTOMER}")
    conversation.events.clear()
    return conversation


def taken(conversation: Conversation) -> list[Event]:
    events = list(conversation.events)
    conversation.events.clear()
    return events


# -- arrival ----------------------------------------------------------------------------------------------


def test_start_records_created_and_receive_records_the_message_with_its_sentiment() -> None:
    first = inbound(T0)
    conversation = Conversation.start(
        id="cnv_1", message=first, customer_id=CUSTOMER, thread_key="t1", queue_id="que_general", actor="customer:x"
    )
    conversation.receive(first, actor=f"customer:{CUSTOMER}")

    assert conversation.events == [
        ev.ConversationCreated(
            occurred_at=T0, actor="customer:x", conversation_id="cnv_1", channel_account_id=ACCOUNT,
            customer_id=CUSTOMER, thread_key="t1",
        ),
        ev.MessageReceived(
            occurred_at=T0, actor=f"customer:{CUSTOMER}", conversation_id="cnv_1", message_id="msg_in",
            channel_account_id=ACCOUNT, customer_id=CUSTOMER, visibility="public", sentiment_label="negative",
            sentiment_score=-0.6,
        ),
    ]
    assert conversation.status is Status.NEW
    assert conversation.first_inbound_at == T0
    assert conversation.sentiment_label == "negative"


def test_triage_sets_queue_and_priority_and_records_why() -> None:
    conversation = started()
    conversation.triage(queue_id="que_billing", priority=74.0, rule="refund", sentiment=("negative", -0.6), at=T0)

    assert (conversation.queue_id, conversation.priority) == ("que_billing", 74.0)
    assert taken(conversation) == [
        ev.ConversationTriaged(
            occurred_at=T0, actor="system:triage", conversation_id="cnv_1", queue_id="que_billing", priority=74.0,
            sentiment_label="negative", sentiment_score=-0.6, matched_rule="refund",
        )
    ]


def test_receive_refuses_outbound_messages() -> None:
    with pytest.raises(InvalidInput):
        started().receive(outbound(minutes(1)), actor="customer:x")


def test_last_message_at_never_goes_back_in_time() -> None:
    conversation = started()
    conversation.receive(inbound(minutes(10), id="m2"), actor="customer:x")
    conversation.receive(inbound(minutes(5), id="m3"), actor="customer:x")
    assert conversation.last_message_at == minutes(10)


# -- first response ---------------------------------------------------------------------------------------


def test_the_first_outbound_after_the_first_inbound_is_the_first_response() -> None:
    conversation = started()
    conversation.send(outbound(minutes(12), id="r1"), actor="agent:agt_bo")
    conversation.send(outbound(minutes(30), id="r2"), actor="agent:agt_bo")

    assert conversation.first_response_at == minutes(12)
    sent = [e for e in taken(conversation) if isinstance(e, ev.MessageSent)]
    assert [(e.message_id, e.first_response) for e in sent] == [("r1", True), ("r2", False)]


def test_a_brand_post_before_any_customer_message_is_not_a_response() -> None:
    brand_post = outbound(T0, id="announcement")
    conversation = Conversation.start(
        id="cnv_1", message=brand_post, customer_id=None, thread_key="t1", queue_id="q", actor="brand:acme"
    )
    conversation.send(brand_post, actor="brand:acme")
    conversation.receive(inbound(minutes(3), id="question"), actor="customer:x")
    conversation.send(outbound(minutes(8), id="answer"), actor="brand:acme")

    sent = [e for e in conversation.events if isinstance(e, ev.MessageSent)]
    assert [(e.message_id, e.first_response) for e in sent] == [("announcement", False), ("answer", True)]
    assert conversation.first_response_at == minutes(8)


def test_a_reply_stamped_before_the_first_inbound_does_not_count() -> None:
    conversation = started(inbound(minutes(10)))
    conversation.send(outbound(minutes(9), id="early"), actor="brand:acme")
    assert conversation.first_response_at is None
    conversation.send(outbound(minutes(15), id="late"), actor="brand:acme")
    assert conversation.first_response_at == minutes(15)


def test_send_refuses_notes_and_inbound_messages() -> None:
    conversation = started()
    with pytest.raises(InvalidInput):
        conversation.send(outbound(minutes(1), visibility=Visibility.NOTE), actor="agent:agt_bo")
    with pytest.raises(InvalidInput):
        conversation.send(inbound(minutes(1)), actor="agent:agt_bo")
    assert conversation.events == []


# -- pending and back -------------------------------------------------------------------------------------


def test_a_reply_makes_it_pending_and_the_customer_makes_it_new_again_when_unassigned() -> None:
    conversation = started()
    conversation.send(outbound(minutes(5)), actor="brand:acme")
    assert conversation.status is Status.PENDING
    conversation.receive(inbound(minutes(9), id="m2"), actor="customer:x")
    assert conversation.status is Status.NEW


def test_the_customer_makes_it_open_again_when_someone_holds_it() -> None:
    conversation = started()
    conversation.accept("agt_bo", at=minutes(1))
    conversation.send(outbound(minutes(5)), actor="agent:agt_bo")
    assert conversation.status is Status.PENDING
    conversation.receive(inbound(minutes(9), id="m2"), actor="customer:x")
    assert conversation.status is Status.OPEN


# -- resolve and reopen -----------------------------------------------------------------------------------


def test_resolve_then_reopen_records_both_and_returns_to_open_for_the_assignee() -> None:
    conversation = started()
    conversation.accept("agt_bo", at=minutes(1))
    taken(conversation)

    conversation.resolve(at=minutes(20), actor="agent:agt_bo")
    assert conversation.status is Status.RESOLVED
    conversation.reopen(at=minutes(40), actor="agent:agt_bo")
    assert conversation.status is Status.OPEN
    assert taken(conversation) == [
        ev.ConversationResolved(occurred_at=minutes(20), actor="agent:agt_bo", conversation_id="cnv_1"),
        ev.ConversationReopened(occurred_at=minutes(40), actor="agent:agt_bo", conversation_id="cnv_1"),
    ]


def test_resolving_twice_is_a_conflict() -> None:
    conversation = started()
    conversation.resolve(at=minutes(1), actor="agent:agt_bo")
    taken(conversation)
    with pytest.raises(Conflict):
        conversation.resolve(at=minutes(2), actor="agent:agt_bo")
    assert conversation.events == []


def test_reopening_an_unresolved_conversation_is_a_conflict() -> None:
    conversation = started()
    with pytest.raises(Conflict):
        conversation.reopen(at=minutes(1), actor="agent:agt_bo")
    assert conversation.status is Status.NEW and conversation.events == []


def test_a_customer_message_reopens_a_resolved_conversation() -> None:
    conversation = started()
    conversation.resolve(at=minutes(1), actor="agent:agt_bo")
    taken(conversation)

    conversation.receive(inbound(minutes(60), id="again"), actor="customer:x")

    assert conversation.status is Status.NEW
    assert [type(e) for e in taken(conversation)] == [ev.ConversationReopened, ev.MessageReceived]


def test_writing_again_on_a_resolved_conversation_reopens_it_and_waits_on_the_customer() -> None:
    conversation = started()
    conversation.resolve(at=minutes(1), actor="agent:agt_bo")
    conversation.events.clear()
    conversation.send(outbound(minutes(2)), actor="agent:agt_bo")
    assert conversation.status is Status.PENDING
    assert [e.name for e in conversation.events] == ["conversation.reopened", "message.sent"]


def test_only_the_assignee_or_a_supervisor_may_work_an_assigned_conversation() -> None:
    conversation = started()
    conversation.ensure_workable_by("agt_anyone")  # unassigned: anyone may take it
    conversation.accept("agt_bo", at=minutes(1))
    conversation.ensure_workable_by("agt_bo")
    conversation.ensure_workable_by("agt_lead", supervisor=True)
    with pytest.raises(Conflict, match="another agent"):
        conversation.ensure_workable_by("agt_cy")


# -- ownership --------------------------------------------------------------------------------------------


def test_accept_assigns_opens_and_records_assigned_then_accepted() -> None:
    conversation = started()
    conversation.accept("agt_bo", at=minutes(2))

    assert (conversation.assignee_id, conversation.status) == ("agt_bo", Status.OPEN)
    assert taken(conversation) == [
        ev.ConversationAssigned(
            occurred_at=minutes(2), actor="agent:agt_bo", conversation_id="cnv_1", agent_id="agt_bo",
            queue_id="que_general", previous_agent_id=None,
        ),
        ev.ConversationAccepted(
            occurred_at=minutes(2), actor="agent:agt_bo", conversation_id="cnv_1", agent_id="agt_bo"
        ),
    ]


def test_accepting_an_offer_records_only_the_acceptance() -> None:
    conversation = started()
    conversation.assign("agt_bo", at=minutes(1), actor="system:router")
    taken(conversation)
    conversation.accept("agt_bo", at=minutes(2))
    assert [type(e) for e in taken(conversation)] == [ev.ConversationAccepted]


def test_accepting_what_another_agent_holds_is_a_conflict() -> None:
    conversation = started()
    conversation.accept("agt_bo", at=minutes(1))
    taken(conversation)
    with pytest.raises(Conflict):
        conversation.accept("agt_cy", at=minutes(2))
    assert conversation.assignee_id == "agt_bo" and conversation.events == []


def test_assigning_a_resolved_conversation_is_a_conflict() -> None:
    conversation = started()
    conversation.resolve(at=minutes(1), actor="agent:agt_bo")
    with pytest.raises(Conflict):
        conversation.assign("agt_bo", at=minutes(2), actor="system:router")


def test_reassigning_names_the_previous_agent_and_assigning_the_same_agent_is_silent() -> None:
    conversation = started()
    conversation.assign("agt_bo", at=minutes(1), actor="system:router")
    conversation.assign("agt_cy", at=minutes(2), actor="agent:sup")
    conversation.assign("agt_cy", at=minutes(3), actor="agent:sup")
    assigned = [e for e in taken(conversation) if isinstance(e, ev.ConversationAssigned)]
    assert [(e.agent_id, e.previous_agent_id) for e in assigned] == [("agt_bo", None), ("agt_cy", "agt_bo")]


def test_transfer_unassigns_moves_queue_and_waits_again() -> None:
    conversation = started()
    conversation.accept("agt_bo", at=minutes(1))
    taken(conversation)

    conversation.transfer("que_billing", at=minutes(5), actor="agent:agt_bo")

    assert (conversation.queue_id, conversation.assignee_id, conversation.status) == ("que_billing", None, Status.NEW)
    assert taken(conversation) == [
        ev.ConversationUnassigned(
            occurred_at=minutes(5), actor="agent:agt_bo", conversation_id="cnv_1", agent_id="agt_bo"
        ),
        ev.ConversationTransferred(
            occurred_at=minutes(5), actor="agent:agt_bo", conversation_id="cnv_1", from_queue_id="que_general",
            to_queue_id="que_billing",
        ),
    ]


def test_transfer_of_an_unassigned_conversation_records_no_unassignment() -> None:
    conversation = started()
    conversation.transfer("que_billing", at=minutes(5), actor="agent:sup")
    assert [type(e) for e in taken(conversation)] == [ev.ConversationTransferred]


def test_transfer_to_the_same_queue_or_of_a_resolved_conversation_is_a_conflict() -> None:
    conversation = started()
    with pytest.raises(Conflict):
        conversation.transfer("que_general", at=minutes(1), actor="agent:agt_bo")
    conversation.resolve(at=minutes(2), actor="agent:agt_bo")
    taken(conversation)
    with pytest.raises(Conflict):
        conversation.transfer("que_billing", at=minutes(3), actor="agent:agt_bo")
    assert conversation.queue_id == "que_general" and conversation.events == []


def test_unassign_of_an_unassigned_conversation_records_nothing() -> None:
    conversation = started()
    conversation.unassign(at=minutes(1), actor="agent:sup")
    assert conversation.events == []


# -- tags and notes ---------------------------------------------------------------------------------------


def test_tags_are_normalised_and_only_real_changes_are_recorded() -> None:
    conversation = started()
    conversation.tag(add={" Refund ", "VIP", "  "}, remove=set(), at=minutes(1), actor="agent:agt_bo")
    conversation.tag(add={"vip"}, remove={"REFUND", "never-there"}, at=minutes(2), actor="agent:agt_bo")
    conversation.tag(add={"VIP"}, remove={"refund"}, at=minutes(3), actor="agent:agt_bo")

    assert conversation.tags == {"vip"}
    assert taken(conversation) == [
        ev.ConversationTagged(
            occurred_at=minutes(1), actor="agent:agt_bo", conversation_id="cnv_1", added=("refund", "vip"), removed=()
        ),
        ev.ConversationTagged(
            occurred_at=minutes(2), actor="agent:agt_bo", conversation_id="cnv_1", added=(), removed=("refund",)
        ),
    ]


def test_a_note_is_recorded_and_changes_no_status_or_first_response() -> None:
    conversation = started()
    note = outbound(minutes(1), id="note1", visibility=Visibility.NOTE)
    conversation.add_note(note, agent_id="agt_bo")

    assert conversation.status is Status.NEW and conversation.first_response_at is None
    assert taken(conversation) == [
        ev.NoteAdded(occurred_at=minutes(1), actor="agent:agt_bo", conversation_id="cnv_1", message_id="note1",
                     agent_id="agt_bo")
    ]
    with pytest.raises(InvalidInput):
        conversation.add_note(outbound(minutes(2)), agent_id="agt_bo")


def test_link_private_records_the_private_thread() -> None:
    conversation = started()
    conversation.link_private("cnv_dm", at=minutes(4), actor="agent:agt_bo")
    assert conversation.private_conversation_id == "cnv_dm"
    assert taken(conversation) == [
        ev.ConversationTakenPrivate(
            occurred_at=minutes(4), actor="agent:agt_bo", conversation_id="cnv_1", private_conversation_id="cnv_dm"
        )
    ]
