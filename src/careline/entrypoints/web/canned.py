"""Canned responses in the desktop: the supervisors' page that keeps them, and their text filled in for the
conversation at hand (docs/web.md#canned-responses)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from careline.canned import commands as cmd
from careline.canned.model import VARIABLES, expand, order_id
from careline.entrypoints.web.pages import render, run_commands
from careline.entrypoints.web.security import Manager, Verified, careline_of

router = APIRouter(include_in_schema=False)


def for_conversation(careline: Any, conversation: dict[str, Any], agent_name: str) -> list[dict[str, str]]:
    """Every canned response, its variables filled in for this conversation and agent."""
    with careline.uow(read_only=True) as uow:
        saved = uow.canned.all()
    inbound = [m["text"] for m in conversation["messages"] if m["direction"] == "inbound"]
    values = {
        "customer_name": conversation.get("customer"),
        "agent_name": agent_name,
        "order_id": order_id(inbound),
        "brand": conversation.get("account"),
    }
    return [{"title": c.title, "text": expand(c.text, values)} for c in saved]


@router.get("/admin/canned")
def canned_page(request: Request, agent: Manager) -> HTMLResponse:
    with careline_of(request).uow(read_only=True) as uow:
        saved = uow.canned.all()
    return render(
        request, "canned.html", me=agent, saved=saved, variables=VARIABLES, error=request.query_params.get("error")
    )


@router.post("/admin/canned")
def save_canned(
    request: Request,
    agent: Manager,
    _checked: Verified,
    title: Annotated[str, Form(max_length=200)],
    text: Annotated[str, Form(max_length=10_000)],
    canned_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    command = cmd.SaveCannedResponse(title=title, text=text, actor_id=agent.id, canned_id=canned_id or None)
    return _run(request, command)


@router.post("/admin/canned/{canned_id}/delete")
def delete_canned(request: Request, agent: Manager, _checked: Verified, canned_id: str) -> Response:
    return _run(request, cmd.DeleteCannedResponse(canned_id=canned_id, actor_id=agent.id))


def _run(request: Request, command: Any) -> Response:
    return run_commands(request, "/admin/canned", command)
