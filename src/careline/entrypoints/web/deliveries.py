"""The dead-letter page: replies the outbox gave up on, why, and a button to send one again
(docs/channels.md#dead-letters)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from careline.conversations import commands as cmd
from careline.conversations import queries
from careline.entrypoints.web.pages import render, run_commands
from careline.entrypoints.web.security import Manager, Verified, careline_of

router = APIRouter(include_in_schema=False)
PAGE = "/admin/deliveries"


@router.get(PAGE)
def dead_letters(request: Request, agent: Manager) -> HTMLResponse:
    failed, total = queries.failed_deliveries(careline_of(request).engine)
    return render(
        request, "deliveries.html", me=agent, failed=failed, total=total, error=request.query_params.get("error")
    )


@router.post(PAGE + "/{message_id}/retry")
def retry(request: Request, agent: Manager, _checked: Verified, message_id: str) -> Response:
    return run_commands(request, PAGE, cmd.RetryDelivery(message_id=message_id, agent_id=agent.id))
