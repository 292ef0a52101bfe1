"""The agent desktop's pages and form posts (docs/web.md). Every page is rendered on the server by Jinja2 with
autoescaping: social content is shown as text, never run. State changes go through the same commands as the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from careline.adapters.db.attachments import attachments_of
from careline.agents import commands as admin
from careline.channels.queries import hidden_comments
from careline.conversations import commands as cmd
from careline.conversations.handlers import MAX_REPLY
from careline.conversations.model import reply_limit
from careline.conversations.queries import reply_window
from careline.entrypoints.web import reads
from careline.entrypoints.web.collision import crossing
from careline.entrypoints.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    Admin,
    Desk,
    PageForbidden,
    SignedIn,
    Verified,
    careline_of,
    csrf_for,
    is_https,
    new_login_csrf,
    safe_next,
    session_token,
)
from careline.kernel.errors import CarelineError, Forbidden
from careline.routing import commands as routing

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape is on for .html
router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=50_000)]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    token = session_token(request)
    context.setdefault("csrf_token", csrf_for(token) if token else "")
    context.setdefault("me", None)
    context["now"] = datetime.now(UTC)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)  # after a form post: the browser GETs the page again


# -- signing in and out ---------------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002 - the query's name
    token = new_login_csrf()
    response = render(request, "login.html", login_csrf=token, next=safe_next(next), error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request))
    return response


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/inbox",  # noqa: A002 - the form field's name
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or csrf_token != expected:
        return render(request, "error.html", 403, title="Sign-in refused", detail="The form expired: reload it.")
    try:
        token, _agent = careline_of(request).handle(admin.IssueToken(email=email, password=password))
    except Forbidden:
        fresh = new_login_csrf()
        response = render(
            request, "login.html", 401, login_csrf=fresh, next=safe_next(next), error="Wrong email or password."
        )
        response.set_cookie(LOGIN_CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=is_https(request))
        return response
    signed = back(safe_next(next))
    signed.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="lax", secure=is_https(request)
    )
    signed.delete_cookie(LOGIN_CSRF_COOKIE)
    return signed


@router.post("/logout")
def logout(request: Request, _agent: Verified) -> Response:
    token = session_token(request)
    if token:
        careline_of(request).handle(admin.RevokeToken(token=token))
    response = back("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- the inbox --------------------------------------------------------------------------------------------------
@router.get("/")
def home(_agent: SignedIn) -> Response:
    return back("/inbox")


def _inbox_filter(
    view: str, channel: str | None, sentiment: str | None, category: str | None, tag: str | None, language: str | None
) -> reads.InboxFilter:
    return reads.InboxFilter(
        view=view,
        channel=channel or None,
        sentiment=sentiment or None,
        category=category or None,
        tag=tag or None,
        language=language or None,
    )


Choice = Annotated[str | None, Query(max_length=100)]


@router.get("/inbox")
def inbox_page(
    request: Request,
    agent: SignedIn,
    view: Annotated[str, Query(max_length=100)] = "",
    channel: Choice = None,
    sentiment: Choice = None,
    category: Choice = None,
    tag: Choice = None,
    language: Choice = None,
) -> HTMLResponse:
    careline = careline_of(request)
    view = view or ("all" if agent.role.value in ("social", "supervisor", "admin") else "mine")
    wanted = _inbox_filter(view, channel, sentiment, category, tag, language)
    found = reads.inbox(careline.engine, agent, wanted)
    return render(
        request,
        "inbox.html",
        me=agent,
        wanted=wanted,
        queues=reads.queues_of(careline.engine, agent),
        choices=reads.choices(careline.engine),
        **found,
    )


@router.get("/inbox/fragment")
def inbox_fragment(
    request: Request,
    agent: SignedIn,
    view: Annotated[str, Query(max_length=100)] = "mine",
    channel: Choice = None,
    sentiment: Choice = None,
    category: Choice = None,
    tag: Choice = None,
    language: Choice = None,
) -> JSONResponse:
    """The rows (rendered, escaped) and the counts, for the live refresh of an open inbox."""
    careline = careline_of(request)
    wanted = _inbox_filter(view, channel, sentiment, category, tag, language)
    found = reads.inbox(careline.engine, agent, wanted)
    rows = templates.get_template("_rows.html").render(rows=found["rows"], now=datetime.now(UTC))
    return JSONResponse({"rows": rows, "total": found["total"], "counts": found["counts"]})


# -- one conversation -------------------------------------------------------------------------------------------
def visible_or_refuse(request: Request, agent: Any, conversation_id: str) -> None:
    if not reads.can_view(careline_of(request).engine, agent, conversation_id):
        raise PageForbidden("this private conversation belongs to another team")


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, agent: SignedIn, conversation_id: str) -> HTMLResponse:
    visible_or_refuse(request, agent, conversation_id)
    careline = careline_of(request)
    engine = careline.engine
    found = reads.conversation(engine, conversation_id)
    reads.mark_mentions_seen(engine, conversation_id, agent.id, datetime.now(UTC))
    from careline.entrypoints.web.canned import for_conversation  # canned.py builds on this module

    return render(
        request,
        "conversation.html",
        me=agent,
        c=found,
        invitation=invitation(found["customer"]),
        queues=reads.all_queues(engine),
        departments=reads.departments(engine),
        canned=for_conversation(careline, found, agent.name),
        limits={v: reply_limit(found["channel"], v, MAX_REPLY) for v in ("public", "private")},
        hidden=hidden_comments(engine, conversation_id),
        attachments=attachments_of(engine, [m["id"] for m in found["messages"]]),  # email files (routes_attachments)
        window=reply_window(
            engine,
            conversation_id,
            found["channel"],
            max((m["created_at"] for m in found["messages"] if m["direction"] == "inbound"), default=None),
        ),
        error=request.query_params.get("error"),
    )


INVITE = "Hi {name}, we have sent you a private message so that we can look into this together."
OPENER = "Hi {name}, thanks for getting in touch. Could you tell us more here, in private?"


def invitation(name: str | None) -> dict[str, str]:
    """The take-it-private texts, with the customer's name filled in (the agent may edit both)."""
    who = name or "there"
    return {"invite": INVITE.format(name=who), "text": OPENER.format(name=who)}


def run_commands(request: Request, page: str, *commands: Any, then: str | Callable[[], str] | None = None) -> Response:
    """A form's commands, in order, then on to `then` (a path, or a function giving it once they ran; default:
    back to `page`); a refusal goes back to `page` with its reason as the page's error line."""
    for command in commands:
        try:
            careline_of(request).handle(command)
        except CarelineError as error:
            return back(f"{page}{'&' if '?' in page else '?'}error={quote(str(error))}")
    return back(then() if callable(then) else then or page)


def _act(request: Request, agent: Any, conversation_id: str, command: Any) -> Response:
    """A command of the conversation page."""
    visible_or_refuse(request, agent, conversation_id)
    return run_commands(request, f"/conversations/{conversation_id}", command)


@router.post("/conversations/{conversation_id}/reply")
def reply(
    request: Request,
    agent: Desk,
    _checked: Verified,
    conversation_id: str,
    text: Text,
    visibility: str = Form("public"),
    seen_message_id: str = Form("", max_length=40),
    confirm: str = Form("", max_length=1),
) -> Response:
    if confirm != "1":  # collision detection (docs/web.md#collision-detection)
        visible_or_refuse(request, agent, conversation_id)
        warning = crossing(careline_of(request).engine, conversation_id, agent.id, seen_message_id)
        if warning:
            # Not sent: the page again, with the reply that crossed it, the warning, and this reply kept to send
            # anyway. The template reads them from request.state, so the page's own context stays in one place.
            request.state.crossing = warning
            request.state.draft = {"text": text, "visibility": visibility}
            page = conversation_page(request, agent, conversation_id)
            page.status_code = 409
            return page
    return _act(
        request,
        agent,
        conversation_id,
        cmd.SendReply(conversation_id=conversation_id, agent_id=agent.id, text=text, visibility=visibility),
    )


@router.post("/conversations/{conversation_id}/note")
def note(request: Request, agent: Desk, _checked: Verified, conversation_id: str, text: Text) -> Response:
    return _act(
        request, agent, conversation_id, cmd.AddNote(conversation_id=conversation_id, agent_id=agent.id, text=text)
    )


@router.post("/conversations/{conversation_id}/accept")
def accept(request: Request, agent: Desk, _checked: Verified, conversation_id: str) -> Response:
    command = cmd.AcceptConversation(conversation_id=conversation_id, agent_id=agent.id)
    return _act(request, agent, conversation_id, command)


@router.post("/conversations/{conversation_id}/resolve")
def resolve(request: Request, agent: Desk, _checked: Verified, conversation_id: str) -> Response:
    command = cmd.ResolveConversation(conversation_id=conversation_id, agent_id=agent.id)
    return _act(request, agent, conversation_id, command)


@router.post("/conversations/{conversation_id}/reopen")
def reopen(request: Request, agent: Desk, _checked: Verified, conversation_id: str) -> Response:
    command = cmd.ReopenConversation(conversation_id=conversation_id, agent_id=agent.id)
    return _act(request, agent, conversation_id, command)


# -- offers -------------------------------------------------------------------------------------------------------
@router.get("/offers")
def my_offers(request: Request, agent: Desk) -> JSONResponse:
    """The caller's pending offers, for the pop-up (its countdown runs to `expires_at`)."""
    with careline_of(request).uow(read_only=True) as uow:
        pending = uow.routing.offers_of_agent(agent.id, "pending")
    return JSONResponse(
        [
            {
                "id": o["id"],
                "conversation_id": o["conversation_id"],
                "expires_at": o["expires_at"].isoformat(),
                "queue": (o.get("explanation") or {}).get("queue", {}).get("name")
                if isinstance((o.get("explanation") or {}).get("queue"), dict)
                else None,
            }
            for o in pending
        ]
    )


@router.post("/offers/{offer_id}/accept")
def accept_offer(request: Request, agent: Desk, _checked: Verified, offer_id: str) -> Response:
    _result = careline_of(request).handle(routing.AcceptOffer(offer_id=offer_id, agent_id=agent.id))
    conversation_id = _result["conversation_id"] if isinstance(_result, dict) else None
    return back(f"/conversations/{conversation_id}" if conversation_id else "/inbox")


@router.post("/offers/{offer_id}/reject")
def reject_offer(request: Request, agent: Desk, _checked: Verified, offer_id: str) -> Response:
    careline_of(request).handle(routing.RejectOffer(offer_id=offer_id, agent_id=agent.id, reason="declined"))
    return back("/inbox")


# -- administration -----------------------------------------------------------------------------------------------
@router.get("/admin/agents")
def admin_agents(request: Request, agent: Admin) -> HTMLResponse:
    with careline_of(request).uow(read_only=True) as uow:
        agents = uow.agents.all()
    return render(request, "admin_agents.html", me=agent, agents=agents)
