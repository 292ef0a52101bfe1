"""What the approvals API accepts and returns (docs/api.md#approvals, docs/approvals.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from careline.agents.model import Agent
from careline.approvals.model import MAX_REASON, MAX_WORD, MAX_WORDS, Approval
from careline.entrypoints.api.schemas import Input, Text, no_nul

RiskyWord = Annotated[str, StringConstraints(max_length=MAX_WORD), AfterValidator(no_nul)]


class ApprovalDecision(Input):
    text: Text | None = None  # the approver's edit; absent: the agent's text is sent


class ApprovalRejection(Input):
    reason: Annotated[Text, Field(min_length=1, max_length=MAX_REASON)]


class ApprovalPublic(BaseModel):
    id: str
    conversation_id: str
    message_id: str
    requested_by: str
    requested_at: datetime
    original_text: str
    reasons: list[str]
    risky_words: list[str]
    status: str  # pending | approved | rejected
    decided_by: str | None
    decided_at: datetime | None
    final_text: str | None
    edited: bool
    rejection_reason: str | None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalPublic:
        return cls(
            id=approval.id,
            conversation_id=approval.conversation_id,
            message_id=approval.message_id,
            requested_by=approval.requested_by,
            requested_at=approval.requested_at,
            original_text=approval.original_text,
            reasons=list(approval.reasons),
            risky_words=list(approval.risky_words),
            status=approval.status.value,
            decided_by=approval.decided_by,
            decided_at=approval.decided_at,
            final_text=approval.final_text,
            edited=approval.edited,
            rejection_reason=approval.rejection_reason,
        )


class NeedsApprovalUpdate(Input):
    needs_approval: StrictBool


class NeedsApprovalPublic(BaseModel):
    agent_id: str
    needs_approval: bool

    @classmethod
    def of(cls, agent: Agent) -> NeedsApprovalPublic:
        return cls(agent_id=agent.id, needs_approval=agent.needs_approval)


class RiskyWordsUpdate(Input):
    risky_words: Annotated[list[RiskyWord], Field(max_length=MAX_WORDS)]


class RiskyWordsPublic(BaseModel):
    risky_words: list[str]
    is_default: bool  # nobody set them yet: the built-in list applies
