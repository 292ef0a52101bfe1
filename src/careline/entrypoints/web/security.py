"""Sign-in for the pages: a session cookie, CSRF tokens, and who may open what (docs/web.md#security).

- The session is an API token (``IssueToken``: Argon2id-checked password, token stored only as a hash) kept in an
  ``HttpOnly``, ``SameSite=Lax`` cookie, ``Secure`` when the page is served over HTTPS; signing out revokes it.
- CSRF: every form carries a token derived from the session (an HMAC of the session token), every state-changing
  request must send it back (form field ``csrf_token`` or header ``X-CSRF-Token``), and its ``Origin``, when the
  browser sends one, must be this site. The sign-in form, which has no session yet, uses a random token in a
  cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from careline.agents import auth
from careline.agents.model import Agent, Role
from careline.bootstrap import Careline

SESSION_COOKIE = "careline_session"
LOGIN_CSRF_COOKIE = "careline_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600  # the cookie's lifetime: a working day and a bit


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """Signed in, but this page or action is not for this role (or this conversation is not theirs to see)."""


class CsrfRejected(Exception):
    """A state-changing request without the right CSRF token, or from another site."""


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"careline-csrf", hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def careline_of(request: Request) -> Careline:
    careline: Careline = request.app.state.careline
    return careline


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def signed_in(request: Request) -> Agent:
    """The person whose session cookie this is; otherwise the page redirects to the sign-in form."""
    token = session_token(request)
    agent = None
    if token:
        with careline_of(request).uow(read_only=True) as uow:
            agent = uow.agents.by_token(auth.token_hash(token))
    if agent is None or agent.role is Role.INTEGRATION:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return agent


def same_origin(request: Request) -> bool:
    """The request comes from our own pages: its Origin (or Referer) names this host, when it names one."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None
    parts = urlsplit(source)
    return parts.netloc == request.url.netloc


async def check_csrf(request: Request, agent: Annotated[Agent, Depends(signed_in)]) -> Agent:
    """For every state-changing request of a signed-in person."""
    token = session_token(request) or ""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_for(token)) or not same_origin(request):
        raise CsrfRejected()
    return agent


def requires(*roles: Role) -> Callable[[Agent], Agent]:
    """A page only these roles may open."""

    def check(agent: Annotated[Agent, Depends(signed_in)]) -> Agent:
        if agent.role not in roles:
            raise PageForbidden(f"this page is for {' and '.join(r.value for r in roles)} accounts")
        return agent

    return check


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    return target


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


SignedIn = Annotated[Agent, Depends(signed_in)]
Verified = Annotated[Agent, Depends(check_csrf)]  # signed in, and the request carries its CSRF token
Desk = Annotated[Agent, Depends(requires(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]  # people who take work
Manager = Annotated[Agent, Depends(requires(Role.ADMIN, Role.SUPERVISOR))]
Admin = Annotated[Agent, Depends(requires(Role.ADMIN))]
