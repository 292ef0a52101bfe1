"""Approval of public replies: the queue, approve (possibly edited) or reject, who needs approval, the risky words
(docs/api.md#approvals, docs/approvals.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from careline.agents.model import Agent, Role
from careline.approvals import commands as cmd
from careline.approvals.model import APPROVER_ROLES, Approval
from careline.approvals.policy import risky_words
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, require_role
from careline.entrypoints.api.schemas import Ref
from careline.entrypoints.api.schemas_approvals import (
    ApprovalDecision,
    ApprovalPublic,
    ApprovalRejection,
    NeedsApprovalPublic,
    NeedsApprovalUpdate,
    RiskyWordsPublic,
    RiskyWordsUpdate,
)

router = APIRouter(tags=["approvals"])
Approver = Annotated[Agent, Depends(require_role(*APPROVER_ROLES))]
Person = Annotated[Agent, Depends(require_role(Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.SOCIAL))]


@router.get("/approvals")
def list_approvals(
    careline: CarelineDep,
    _approver: Approver,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    conversation_id: Annotated[Ref | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[ApprovalPublic]:
    """Held replies, oldest first: by default the ones still waiting for a decision."""
    with careline.uow(read_only=True) as uow:
        found = uow.approvals.find(
            status=None if status == "all" else status, conversation_id=conversation_id, limit=limit
        )
    return [ApprovalPublic.of(a) for a in found]


@router.get("/approvals/{approval_id}")
def get_approval(careline: CarelineDep, _approver: Approver, approval_id: Ref) -> ApprovalPublic:
    with careline.uow(read_only=True) as uow:
        return ApprovalPublic.of(uow.approvals.get(approval_id))


@router.post("/approvals/{approval_id}/approve")
def approve(careline: CarelineDep, approver: Approver, approval_id: Ref, body: ApprovalDecision) -> ApprovalPublic:
    """Send the reply (with ``text``, edited); it is queued for delivery like any reply."""
    approval: Approval = careline.handle(
        cmd.ApproveReply(approval_id=approval_id, approver_id=approver.id, text=body.text)
    )
    return ApprovalPublic.of(approval)


@router.post("/approvals/{approval_id}/reject")
def reject(careline: CarelineDep, approver: Approver, approval_id: Ref, body: ApprovalRejection) -> ApprovalPublic:
    """The reply is never sent; its delivery status becomes ``rejected``."""
    approval: Approval = careline.handle(
        cmd.RejectReply(approval_id=approval_id, approver_id=approver.id, reason=body.reason)
    )
    return ApprovalPublic.of(approval)


@router.put("/agents/{agent_id}/needs-approval")
def set_needs_approval(
    careline: CarelineDep, admin: AdminAgent, agent_id: Ref, body: NeedsApprovalUpdate
) -> NeedsApprovalPublic:
    """Whether the agent's public replies wait for an approver."""
    agent: Agent = careline.handle(
        cmd.SetNeedsApproval(agent_id=agent_id, needs_approval=body.needs_approval, actor_id=admin.id)
    )
    return NeedsApprovalPublic.of(agent)


@router.get("/approval-settings/risky-words")
def get_risky_words(careline: CarelineDep, _person: Person) -> RiskyWordsPublic:
    with careline.uow(read_only=True) as uow:
        stored = uow.approvals.risky_words()
        return RiskyWordsPublic(risky_words=list(risky_words(uow)), is_default=stored is None)


@router.put("/approval-settings/risky-words")
def set_risky_words(careline: CarelineDep, admin: AdminAgent, body: RiskyWordsUpdate) -> RiskyWordsPublic:
    """Replace the list (matched whole, case-insensitive, in public replies); an empty list holds none for words."""
    words: tuple[str, ...] = careline.handle(cmd.SetRiskyWords(words=tuple(body.risky_words), actor_id=admin.id))
    return RiskyWordsPublic(risky_words=list(words), is_default=False)
