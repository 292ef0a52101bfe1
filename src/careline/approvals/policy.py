"""Whether a reply goes out at once or waits for an approver (docs/approvals.md); called by the reply handler."""

from __future__ import annotations

from datetime import datetime

from careline.agents.model import Agent
from careline.approvals.model import AWAITING_APPROVAL, DEFAULT_RISKY_WORDS, Approval, hold_reasons
from careline.conversations.model import Message
from careline.kernel.ids import new_id
from careline.unit_of_work import UnitOfWork


def risky_words(uow: UnitOfWork) -> tuple[str, ...]:
    stored = uow.approvals.risky_words()
    return DEFAULT_RISKY_WORDS if stored is None else stored


def hold_for_approval(uow: UnitOfWork, agent: Agent, message: Message, now: datetime) -> Approval | None:
    """Hold ``message`` (not yet stored) when a rule says so: it waits, undelivered, with an approval record."""
    reasons, found = hold_reasons(agent, message.visibility.value, message.text, risky_words(uow))
    if not reasons:
        return None
    message.delivery_status = AWAITING_APPROVAL
    approval = Approval.request(
        id=new_id("apr"),
        conversation_id=message.conversation_id,
        message_id=message.id,
        agent_id=agent.id,
        text=message.text,
        reasons=reasons,
        risky_words=found,
        at=now,
    )
    uow.approvals.add(approval)
    uow.record(*approval.pull_events())
    return approval
