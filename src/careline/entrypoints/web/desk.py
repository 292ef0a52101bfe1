"""The agent's own tools beyond replying: presence (status and the capacity in use), take it private, tags,
transfer to another queue, consult or transfer to a department (docs/web.md)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from careline.agents import commands as admin
from careline.channels.commands import HideComment
from careline.contacts.commands import MergeCustomers, UpdateCustomerProfile
from careline.conversations import commands as cmd
from careline.departments import commands as departments
from careline.entrypoints.web import reads
from careline.entrypoints.web.pages import back, run_commands, visible_or_refuse
from careline.entrypoints.web.security import Desk, Verified, careline_of

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=10_000)]


# -- presence ---------------------------------------------------------------------------------------------------
@router.get("/me/presence")
def my_presence(request: Request, agent: Desk) -> JSONResponse:
    """My status and the capacity I use per channel (the header's presence menu)."""
    return JSONResponse(reads.presence(careline_of(request).engine, agent.id))


@router.post("/me/status")
def set_status(
    request: Request, agent: Desk, _checked: Verified, status: Annotated[str, Form(max_length=20)], next: Field = "/"
) -> Response:  # noqa: A002 - the form field's name
    careline_of(request).handle(admin.SetAgentStatus(agent_id=agent.id, status=status))
    return back(next if next.startswith("/") and not next.startswith("//") else "/inbox")


# -- conversation tools -----------------------------------------------------------------------------------------
@router.post("/conversations/{conversation_id}/take-private")
def take_private(
    request: Request, agent: Desk, _checked: Verified, conversation_id: str, invite: Field, text: Field
) -> Response:
    """One click: a public reply inviting the customer to a private message, and that private conversation
    opened and linked (the public thread points to it)."""
    visible_or_refuse(request, agent, conversation_id)
    page = f"/conversations/{conversation_id}"

    def private_page() -> str:  # where the agent goes on: the private conversation just opened
        return f"/conversations/{reads.linked_private(careline_of(request).engine, conversation_id) or conversation_id}"

    return run_commands(
        request,
        page,
        cmd.SendReply(conversation_id=conversation_id, agent_id=agent.id, text=invite, visibility="public"),
        cmd.TakePrivate(conversation_id=conversation_id, agent_id=agent.id, text=text),
        then=private_page,
    )


@router.post("/conversations/{conversation_id}/messages/{message_id}/hide")
def hide_comment(
    request: Request,
    agent: Desk,
    _checked: Verified,
    conversation_id: str,
    message_id: str,
    hidden: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    """Hide a customer's Facebook or Instagram comment on the platform ("0": show it again)."""
    visible_or_refuse(request, agent, conversation_id)
    command = HideComment(
        message_id=message_id, agent_id=agent.id, hidden=hidden != "0", conversation_id=conversation_id
    )
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/tags")
def tag(
    request: Request, agent: Desk, _checked: Verified, conversation_id: str, add: Field = "", remove: Field = ""
) -> Response:
    visible_or_refuse(request, agent, conversation_id)
    command = cmd.TagConversation(
        conversation_id=conversation_id,
        agent_id=agent.id,
        add=frozenset(t.strip().lower() for t in add.split(",") if t.strip()),
        remove=frozenset(t.strip().lower() for t in remove.split(",") if t.strip()),
    )
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/transfer")
def transfer(
    request: Request, agent: Desk, _checked: Verified, conversation_id: str, queue_id: Annotated[str, Form()]
) -> Response:
    visible_or_refuse(request, agent, conversation_id)
    command = cmd.TransferConversation(conversation_id=conversation_id, agent_id=agent.id, queue_id=queue_id)
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/consult")
def consult(
    request: Request,
    agent: Desk,
    _checked: Verified,
    conversation_id: str,
    department: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=20)],
    reason: Field,
    question: Field = "",
) -> Response:
    """Ask a department (billing, legal, PR...) or hand it the question; the conversation keeps its owner."""
    visible_or_refuse(request, agent, conversation_id)
    command = departments.RequestConsultation(
        conversation_id=conversation_id,
        agent_id=agent.id,
        department=department,
        kind=kind,
        reason=reason,
        question=question,
    )
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/merge-customer")
def merge_customer(
    request: Request,
    agent: Desk,
    _checked: Verified,
    conversation_id: str,
    handle: Annotated[str, Form(max_length=320)],
) -> Response:
    """This conversation's customer is the same person as the one behind `handle` on another channel: merged,
    their identities and conversations join this customer (one timeline)."""
    visible_or_refuse(request, agent, conversation_id)
    engine = careline_of(request).engine
    target = reads.customer_of(engine, conversation_id)
    found = [c for c in reads.customers_by_handle(engine, handle) if c != target]
    if target is None or len(found) != 1:
        problem = "no other customer has that handle" if not found else "several customers have that handle"
        return back(f"/conversations/{conversation_id}?error={quote(problem)}")
    command = MergeCustomers(source_customer_id=found[0], target_customer_id=target, agent_id=agent.id)
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/customer-profile")
def customer_profile(
    request: Request, agent: Desk, _checked: Verified, conversation_id: str, notes: Field = "", fields: Field = ""
) -> Response:
    """The customer's notes and CRM details ("name: value" per line; an empty value removes the detail)."""
    visible_or_refuse(request, agent, conversation_id)
    customer_id = reads.customer_of(careline_of(request).engine, conversation_id)
    if customer_id is None:
        return back(f"/conversations/{conversation_id}?error={quote('this conversation has no customer')}")
    pairs = []
    for line in fields.splitlines():
        if line.strip():
            name, _, value = line.partition(":")
            pairs.append((name.strip(), value.strip()))
    command = UpdateCustomerProfile(customer_id=customer_id, agent_id=agent.id, notes=notes, fields=tuple(pairs))
    return run_commands(request, f"/conversations/{conversation_id}", command)
