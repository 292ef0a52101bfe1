"""Dependencies of the routes, as `Annotated` aliases: the application, the caller, a raw JSON body (docs/api.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from careline.agents import auth
from careline.agents.model import Agent, Role
from careline.bootstrap import Careline
from careline.kernel.errors import Forbidden

MAX_BODY_BYTES = 32 * 1024 * 1024  # 1000 messages of 20,000 characters, with room for raw payloads


def get_careline(request: Request) -> Careline:
    careline: Careline = request.app.state.careline
    return careline


CarelineDep = Annotated[Careline, Depends(get_careline)]

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The token in `Authorization: Bearer <token>` (401 without one)."""
    if credentials is None:
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    return credentials.credentials


BearerToken = Annotated[str, Depends(bearer_token)]


def caller(careline: CarelineDep, token: BearerToken) -> Agent:
    """The account whose token this is, whatever its role (integrations included)."""
    with careline.uow(read_only=True) as uow:
        agent = uow.agents.by_token(auth.token_hash(token))
    if agent is None:
        raise _unauthorized("invalid or revoked token")
    return agent


Caller = Annotated[Agent, Depends(caller)]


def require_role(*roles: Role) -> Callable[[Agent], Agent]:
    names = " or ".join(r.value for r in roles)

    def check(agent: Caller) -> Agent:
        if agent.role not in roles:
            raise Forbidden(f"this needs the {names} role; you are {agent.role.value}")
        return agent

    return check


# People doing agent work; an integration account (a channel connector) may only post messages.
CurrentAgent = Annotated[Agent, Depends(require_role(Role.ADMIN, Role.SUPERVISOR, Role.AGENT))]
AdminAgent = Annotated[Agent, Depends(require_role(Role.ADMIN))]
ManagerAgent = Annotated[Agent, Depends(require_role(Role.ADMIN, Role.SUPERVISOR))]
IngestingAgent = Annotated[Agent, Depends(require_role(Role.ADMIN, Role.INTEGRATION))]


async def raw_body(request: Request) -> bytes:
    """The body's bytes as sent (what a signature signs), read with a size limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


RawBody = Annotated[bytes, Depends(raw_body)]  # read once per request, however many dependencies ask for it


async def json_body(body: RawBody) -> Any:
    """The body parsed as JSON; for routes that validate parts of it on their own."""
    if not body.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body is empty; send JSON")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body is not valid JSON: {error}") from error


JsonBody = Annotated[Any, Depends(json_body)]
