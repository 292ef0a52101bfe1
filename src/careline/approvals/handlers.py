"""One handler per command of reply approvals: load, call the domain, commit (docs/approvals.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from careline.agents.model import Role
from careline.approvals import commands as cmd
from careline.approvals.events import AgentApprovalSet, RiskyWordsSet
from careline.approvals.model import REJECTED, Approval, clean_words
from careline.channels.lengths import counted_length
from careline.conversations.handlers import MAX_REPLY
from careline.conversations.model import reply_limit
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from careline.kernel.events import Event
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]


class ApprovalHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.SetNeedsApproval: self.set_needs_approval,
            cmd.SetRiskyWords: self.set_risky_words,
            cmd.ApproveReply: self.approve,
            cmd.RejectReply: self.reject,
        }

    def set_needs_approval(self, c: cmd.SetNeedsApproval) -> Result:
        if not isinstance(c.needs_approval, bool):
            raise InvalidInput("needs_approval is true or false")
        with self._uow() as uow:
            agent = uow.agents.get(c.agent_id)
            if agent.role is Role.INTEGRATION:
                raise Forbidden("an integration account writes no replies: it cannot need approval")
            if agent.needs_approval == c.needs_approval:
                return agent, []
            agent.needs_approval = c.needs_approval
            uow.agents.save(agent)
            uow.record(
                AgentApprovalSet(
                    occurred_at=self._clock(),
                    actor=f"agent:{c.actor_id}" if c.actor_id else "system:admin",
                    agent_id=agent.id,
                    needs_approval=agent.needs_approval,
                )
            )
            return agent, uow.commit()

    def set_risky_words(self, c: cmd.SetRiskyWords) -> Result:
        words = clean_words(c.words)
        now = self._clock()
        with self._uow() as uow:
            uow.approvals.set_risky_words(words, now, c.actor_id)
            actor = f"agent:{c.actor_id}" if c.actor_id else "system:admin"
            uow.record(RiskyWordsSet(occurred_at=now, actor=actor, words=words))
            return words, uow.commit()

    def approve(self, c: cmd.ApproveReply) -> Result:
        """Send the reply exactly as an unheld one is sent: queued, with its delivery in the outbox."""
        if c.text is not None and len(c.text) > MAX_REPLY:
            raise InvalidInput(f"a reply is limited to {MAX_REPLY} characters")
        now = self._clock()
        with self._uow() as uow:
            approval, approver = uow.approvals.get(c.approval_id), uow.agents.get(c.approver_id)
            conversation = uow.conversations.get(approval.conversation_id)
            message = uow.messages.get(approval.message_id)
            text = approval.approve(approver, c.text, at=now)
            channel = uow.accounts.get(conversation.channel_account_id).kind.value
            limit = reply_limit(channel, message.visibility.value, MAX_REPLY)
            if counted_length(channel, message.visibility.value, text) > limit:
                raise InvalidInput(f"a {message.visibility.value} reply on {channel} is limited to {limit} characters")
            message.text, message.delivery_status = text, "queued"
            _decide(uow, approval)
            uow.messages.update_outbound(message)
            # The customer gets it now: that is when it is sent (the first response time counts from here).
            conversation.send(dataclasses.replace(message, created_at=now), actor=f"agent:{approval.requested_by}")
            uow.enqueue_effect("deliver", f"deliver:{message.id}", {"message_id": message.id}, message.id)
            return approval, uow.commit()

    def reject(self, c: cmd.RejectReply) -> Result:
        now = self._clock()
        with self._uow() as uow:
            approval, approver = uow.approvals.get(c.approval_id), uow.agents.get(c.approver_id)
            message = uow.messages.get(approval.message_id)
            approval.reject(approver, c.reason, at=now)
            message.delivery_status = REJECTED
            _decide(uow, approval)
            uow.messages.update_outbound(message)
            return approval, uow.commit()


def _decide(uow: UnitOfWork, approval: Approval) -> None:
    if not uow.approvals.save_decision(approval):
        raise Conflict(f"approval {approval.id} was decided by someone else meanwhile")
    uow.record(*approval.pull_events())
