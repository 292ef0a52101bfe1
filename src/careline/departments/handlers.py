"""One handler per command of departments: load, call the domain, commit (docs/departments.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from careline.agents.model import Role
from careline.conversations.model import Direction, Message, Visibility
from careline.departments import commands as cmd
from careline.departments.model import Consultation, Department
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
EXPERT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)  # an integration account answers nothing


class DepartmentHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.CreateDepartment: self.create,
            cmd.RequestConsultation: self.request,
            cmd.AnswerConsultation: self.answer,
            cmd.MarkOverdueConsultations: self.mark_overdue,
        }

    def create(self, c: cmd.CreateDepartment) -> Result:
        with self._uow() as uow:
            members = list(dict.fromkeys(c.members))
            for agent_id in members:
                try:
                    agent = uow.agents.get(agent_id)
                except NotFound:
                    raise InvalidInput(f"members: no agent {agent_id!r}") from None
                if agent.role not in EXPERT_ROLES:
                    raise InvalidInput(f"members: {agent_id} is an {agent.role.value} account, not a person")
            department = Department.create(
                id=new_id("dep"),
                name=c.name,
                answer_target_seconds=c.answer_target_seconds,
                members=members,
                at=self._clock(),
                actor=f"agent:{c.actor_id}" if c.actor_id else "system:admin",
            )
            if uow.departments.by_name(department.name) is not None:
                raise Conflict(f"a department named {department.name!r} exists already")
            uow.departments.add(department)
            uow.record(*department.events)
            return department, uow.commit()

    def request(self, c: cmd.RequestConsultation) -> Result:
        with self._uow() as uow:
            conversation = uow.conversations.get(c.conversation_id)
            agent = uow.agents.get(c.agent_id)
            conversation.ensure_workable_by(agent.id, supervisor=agent.role in MANAGERS)
            department = _department(uow, c.department)
            consultation = Consultation.request(
                id=new_id("cns"),
                conversation=conversation,
                department=department,
                kind=c.kind,
                reason=c.reason,
                question=c.question,
                asked_by=agent.id,
                at=self._clock(),
            )
            uow.departments.add_consultation(consultation)
            uow.record(*consultation.pull_events())
            return consultation, uow.commit()

    def answer(self, c: cmd.AnswerConsultation) -> Result:
        """The answer lands on the conversation as an internal note: never delivered to the customer."""
        with self._uow() as uow:
            consultation = uow.departments.consultation(c.consultation_id)
            department = uow.departments.get(consultation.department_id)
            agent = uow.agents.get(c.agent_id)
            if agent.id not in department.members and agent.role not in MANAGERS:
                raise Forbidden(f"only members of {department.name} (or a supervisor) answer for it")
            conversation = uow.conversations.get(consultation.conversation_id)
            now = self._clock()
            note = Message(
                id=new_id("msg"),
                conversation_id=conversation.id,
                channel_account_id=conversation.channel_account_id,
                direction=Direction.OUTBOUND,
                visibility=Visibility.NOTE,
                text="",
                created_at=now,
                received_at=now,
                agent_id=agent.id,
            )
            consultation.record_answer(c.answer, by=agent.id, note_message_id=note.id, at=now)
            note.text = f"{department.name} answered ({consultation.kind.value}): {consultation.answer}"
            if not uow.departments.save_answer(consultation):
                raise Conflict(f"consultation {consultation.id} was answered already")
            conversation.add_note(note, agent_id=agent.id)
            uow.messages.add_many([note])
            uow.record(*consultation.pull_events())
            return consultation, uow.commit()

    def mark_overdue(self, c: cmd.MarkOverdueConsultations) -> Result:
        """Each consultation past due and unanswered is marked once, with a ``consultation.overdue`` event."""
        with self._uow() as uow:
            now = self._clock()
            marked = 0
            for consultation in uow.departments.due(now, c.limit):
                if consultation.mark_overdue(now) and uow.departments.save_overdue(consultation):
                    uow.record(*consultation.pull_events())
                    marked += 1
            return marked, uow.commit()


def _department(uow: UnitOfWork, ref: str) -> Department:
    """A department by id or by name; an unknown one is bad input (422), not a missing resource."""
    found = uow.departments.by_name(ref.strip())
    if found is not None:
        return found
    try:
        return uow.departments.get(ref)
    except NotFound:
        raise InvalidInput(f"department: no department named {ref!r}") from None
