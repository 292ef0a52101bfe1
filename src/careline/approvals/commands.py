"""What people ask of reply approvals (docs/approvals.md): who needs approval, which words are risky, decisions."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetNeedsApproval:
    """From now on this agent's public replies wait for an approver (or, with False, go out at once)."""

    agent_id: str
    needs_approval: bool
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetRiskyWords:
    """Replace the deployment's risky words and phrases; an empty list holds no reply for its words."""

    words: tuple[str, ...]
    actor_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApproveReply:
    """Send the held reply; ``text`` (when given) replaces the agent's text, which the approval keeps."""

    approval_id: str
    approver_id: str
    text: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RejectReply:
    approval_id: str
    approver_id: str
    reason: str
