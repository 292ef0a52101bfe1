"""The screen pop in the desktop: when the phone rings at an agent (or they answer), their pages show who is
calling and the caller's open conversations on every channel (docs/web.md#screen-pop, docs/channels.md#voice--cti).
The PBX's event names the agent; the live stream tells their pages, which fetch this fragment."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from careline.agents.model import Role
from careline.entrypoints.web.pages import render
from careline.entrypoints.web.security import Desk, PageForbidden, careline_of
from careline.voice import queries

router = APIRouter(include_in_schema=False)


@router.get("/calls/{call_id}/pop")
def screen_pop(request: Request, agent: Desk, call_id: str) -> HTMLResponse:
    """The caller and their open conversations: for the agent the call rings at (or who answered), and managers."""
    pop = queries.screen_pop(careline_of(request).engine, call_id)
    if pop["call"]["agent_id"] != agent.id and agent.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise PageForbidden("this call is another agent's")
    return render(request, "call_pop.html", me=agent, pop=pop)
