"""Log-in and the caller's own agent: token, profile, presence (docs/api.md#auth)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from careline.agents import commands as cmd
from careline.entrypoints.api.deps import BearerToken, Caller, CarelineDep, CurrentAgent
from careline.entrypoints.api.schemas import AgentPublic, StatusUpdate, TokenCreate, TokenPublic
from careline.kernel.errors import Forbidden

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
def issue_token(careline: CarelineDep, body: TokenCreate) -> TokenPublic:
    """Trade an email and password for a bearer token."""
    try:
        token, agent = careline.handle(cmd.IssueToken(email=body.email, password=body.password))
    except Forbidden as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    return TokenPublic(token=token, agent=AgentPublic.of(agent))


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(careline: CarelineDep, _caller: Caller, token: BearerToken) -> Response:
    """Log out: the token of this request stops working."""
    careline.handle(cmd.RevokeToken(token=token))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(caller: Caller) -> AgentPublic:
    """The caller's own account, whatever its role."""
    return AgentPublic.of(caller)


@router.put("/me/status")
def set_my_status(careline: CarelineDep, agent: CurrentAgent, body: StatusUpdate) -> AgentPublic:
    """Go online (and be offered work), away or offline."""
    updated = careline.handle(cmd.SetAgentStatus(agent_id=agent.id, status=body.status))
    return AgentPublic.of(updated)
