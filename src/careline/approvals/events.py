"""Events of reply approvals (docs/approvals.md): together they are the audit trail of every held reply."""

from __future__ import annotations

import dataclasses

from careline.kernel.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReplyAwaitingApproval(Event):
    name = "reply.awaiting_approval"
    approval_id: str
    message_id: str
    agent_id: str  # who wrote the reply
    reasons: tuple[str, ...]  # "agent needs approval", "risky words: ..."
    risky_words: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReplyApproved(Event):
    name = "reply.approved"
    approval_id: str
    message_id: str
    agent_id: str
    approver_id: str
    edited: bool
    text: str | None  # the approver's text when it replaced the agent's; the original stays in the approval


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReplyRejected(Event):
    name = "reply.rejected"
    approval_id: str
    message_id: str
    agent_id: str
    approver_id: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentApprovalSet(Event):
    name = "agent.needs_approval_set"
    agent_id: str
    needs_approval: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class RiskyWordsSet(Event):
    name = "approval.risky_words_set"
    words: tuple[str, ...]
