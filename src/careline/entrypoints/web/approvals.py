"""The approval queue of the desktop (docs/web.md#approvals, docs/approvals.md): held public replies, each with its
conversation, its agent, why it was held, and its text to edit, approve or reject. Approvers only: admins,
supervisors and the social team; the decision goes through the same commands as the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from careline.agents.model import Agent
from careline.approvals import commands as cmd
from careline.approvals.model import APPROVER_ROLES, MAX_REASON
from careline.conversations.handlers import MAX_REPLY
from careline.entrypoints.web.pages import render, run_commands
from careline.entrypoints.web.security import Verified, careline_of, requires

router = APIRouter(include_in_schema=False)
Approver = Annotated[Agent, Depends(requires(*APPROVER_ROLES))]
DONE = {"approved": "Approved: the reply is queued for delivery.", "rejected": "Rejected: the reply will not be sent."}


def _pending(request: Request) -> list[dict[str, Any]]:
    """The pending approvals, oldest first, with their agent's name and their conversation's channel."""
    with careline_of(request).uow(read_only=True) as uow:
        approvals = uow.approvals.find(status="pending")
        names = {a.id: a.name for a in uow.agents.all()}
        conversations = uow.conversations.by_ids({a.conversation_id for a in approvals})
        channels = {account.id: account.kind.value for account in uow.accounts.all()}
    return [
        {
            "approval": approval,
            "agent": names.get(approval.requested_by, approval.requested_by),
            "channel": channels.get(conversations[approval.conversation_id].channel_account_id, "")
            if approval.conversation_id in conversations
            else "",
        }
        for approval in approvals
    ]


@router.get("/approvals")
def approvals_page(request: Request, agent: Approver) -> HTMLResponse:
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "approvals.html",
        me=agent,
        pending=_pending(request),
        error=request.query_params.get("error"),
        done=done,
        max_reply=MAX_REPLY,
        max_reason=MAX_REASON,
    )


def _decide(request: Request, command: Any, done: str) -> Response:
    return run_commands(request, "/approvals", command, then=f"/approvals?done={done}")


@router.post("/approvals/{approval_id}/approve")
def approve(
    request: Request,
    agent: Approver,
    _checked: Verified,
    approval_id: str,
    text: Annotated[str, Form(max_length=MAX_REPLY)],
) -> Response:
    command = cmd.ApproveReply(approval_id=approval_id, approver_id=agent.id, text=text.replace("\r\n", "\n"))
    return _decide(request, command, "approved")


@router.post("/approvals/{approval_id}/reject")
def reject(
    request: Request,
    agent: Approver,
    _checked: Verified,
    approval_id: str,
    reason: Annotated[str, Form(max_length=MAX_REASON)],
) -> Response:
    return _decide(request, cmd.RejectReply(approval_id=approval_id, approver_id=agent.id, reason=reason), "rejected")
