"""Departments through the real bus and database: consult and transfer keep the owner, the answer is a note
that is never delivered, overdue is marked once (docs/departments.md)."""

from __future__ import annotations

import pytest

from careline.adapters.db import tables as t
from careline.agents.model import Agent
from careline.conversations import commands as conv
from careline.departments import commands as cmd
from careline.departments.model import Consultation, Department
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from integration.support import Desk


def setup(desk: Desk, target: int = 600) -> tuple[str, Agent, Agent, Department]:
    """An accepted conversation, its owner, a billing expert who takes no customer work, and billing."""
    owner = desk.agent("olivia")
    expert = desk.agent("bill", role="agent")
    billing: Department = desk.app.handle(
        cmd.CreateDepartment(name="Billing", answer_target_seconds=target, members=(expert.id,))
    )
    conversation_id = desk.conversation_of(desk.ingest(desk.message("I was charged twice")))
    desk.app.handle(conv.AcceptConversation(conversation_id=conversation_id, agent_id=owner.id))
    return conversation_id, owner, expert, billing


def ask(desk: Desk, conversation_id: str, owner: Agent, kind: str = "consult") -> Consultation:
    consultation: Consultation = desk.app.handle(
        cmd.RequestConsultation(
            conversation_id=conversation_id,
            agent_id=owner.id,
            department="Billing",
            kind=kind,
            reason="double charge over my refund limit",
            question="Can we refund the second charge of 49 EUR?",
        )
    )
    return consultation


@pytest.mark.parametrize("kind", ["consult", "transfer"])
def test_the_conversation_keeps_its_owner_and_the_answer_is_an_undelivered_note(desk: Desk, kind: str) -> None:
    conversation_id, owner, expert, billing = setup(desk)
    before = desk.conversation(conversation_id)

    asked = ask(desk, conversation_id, owner, kind)

    after = desk.conversation(conversation_id)
    assert (after.assignee_id, after.queue_id, after.status) == (owner.id, before.queue_id, before.status)
    [row] = desk.rows(t.consultations, t.consultations.c.id == asked.id)
    assert (row.kind, row.owner_id, row.department_id) == (kind, owner.id, billing.id)
    assert row.asked_at == desk.clock() and (row.due_at - row.asked_at).total_seconds() == 600

    desk.clock.advance(seconds=120)
    answered: Consultation = desk.app.handle(
        cmd.AnswerConsultation(consultation_id=asked.id, agent_id=expert.id, answer="Yes, refund it.")
    )

    assert answered.within_target is True and answered.note_message_id is not None
    [note] = desk.rows(t.messages, t.messages.c.id == answered.note_message_id)
    assert (note.visibility, note.conversation_id, note.agent_id) == ("note", conversation_id, expert.id)
    assert "Yes, refund it." in note.text
    assert desk.rows(t.outbox) == []  # nothing to deliver: the customer never sees it
    assert desk.conversation(conversation_id).assignee_id == owner.id
    types = desk.event_types(conversation_id)
    assert types[-3:] == ["consultation.requested", "consultation.answered", "note.added"]
    [answered_event] = desk.events(conversation_id, "consultation.answered")
    assert answered_event.data["answer_seconds"] == 120 and answered_event.data["kind"] == kind


def test_only_members_or_supervisors_answer_and_only_once(desk: Desk) -> None:
    conversation_id, owner, expert, _ = setup(desk)
    supervisor = desk.agent("sam", role="supervisor")
    asked = ask(desk, conversation_id, owner)

    with pytest.raises(Forbidden, match="only members of Billing"):
        desk.app.handle(cmd.AnswerConsultation(consultation_id=asked.id, agent_id=owner.id, answer="I guess so"))
    desk.app.handle(cmd.AnswerConsultation(consultation_id=asked.id, agent_id=supervisor.id, answer="Approved."))
    with pytest.raises(Conflict, match="answered already"):
        desk.app.handle(cmd.AnswerConsultation(consultation_id=asked.id, agent_id=expert.id, answer="Yes."))
    assert len(desk.events(conversation_id, "consultation.answered")) == 1


def test_resolved_unassigned_and_bad_requests_are_refused(desk: Desk) -> None:
    conversation_id, owner, expert, _ = setup(desk)
    waiting_id = desk.conversation_of(desk.ingest(desk.message("another question", author_id="cust-2")))
    with pytest.raises(Conflict, match="no assignee"):
        ask(desk, waiting_id, owner)
    with pytest.raises(InvalidInput, match="no department named 'Legal'"):
        desk.app.handle(
            cmd.RequestConsultation(
                conversation_id=conversation_id, agent_id=owner.id, department="Legal", kind="consult", reason="r"
            )
        )
    with pytest.raises(InvalidInput, match="reason is required"):
        desk.app.handle(
            cmd.RequestConsultation(
                conversation_id=conversation_id, agent_id=owner.id, department="Billing", kind="consult", reason=""
            )
        )
    with pytest.raises(InvalidInput, match="members: no agent 'agt_nobody'"):
        desk.app.handle(cmd.CreateDepartment(name="Legal", answer_target_seconds=60, members=("agt_nobody",)))
    with pytest.raises(Conflict, match="exists already"):
        desk.app.handle(cmd.CreateDepartment(name="Billing", answer_target_seconds=60, members=(expert.id,)))
    desk.app.handle(conv.ResolveConversation(conversation_id=conversation_id, agent_id=owner.id))
    with pytest.raises(Conflict, match="resolved"):
        ask(desk, conversation_id, owner)
    assert desk.rows(t.consultations) == []


def test_overdue_is_marked_once_by_the_sweep(desk: Desk) -> None:
    conversation_id, owner, expert, _ = setup(desk, target=300)
    asked = ask(desk, conversation_id, owner)

    desk.clock.advance(seconds=299)
    assert desk.app.handle(cmd.MarkOverdueConsultations()) == 0
    desk.clock.advance(seconds=1)
    assert desk.app.handle(cmd.MarkOverdueConsultations()) == 1
    desk.clock.advance(seconds=60)
    assert desk.app.handle(cmd.MarkOverdueConsultations()) == 0

    [event] = desk.events(conversation_id, "consultation.overdue")
    assert event.data["consultation_id"] == asked.id
    late: Consultation = desk.app.handle(
        cmd.AnswerConsultation(consultation_id=asked.id, agent_id=expert.id, answer="Sorry for the wait: yes.")
    )
    assert late.state.value == "answered" and late.within_target is False and late.overdue_at is not None
    desk.clock.advance(hours=1)
    assert desk.app.handle(cmd.MarkOverdueConsultations()) == 0
    assert len(desk.events(conversation_id, "consultation.overdue")) == 1
