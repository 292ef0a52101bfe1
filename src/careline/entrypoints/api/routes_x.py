"""X (Twitter): an account's settings (webhook or poll mode, user id, searches, budget) and liking a customer's
tweet (docs/channels.md#x-twitter, docs/api.md). Each write is one command acted by the token's agent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from careline.channels.x_handlers import ConfigureXAccount, LikeTweet, x_account
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, CurrentAgent
from careline.entrypoints.api.schemas import Input, Name, Ref

router = APIRouter(tags=["x"])


class XSettings(Input):
    """All of the account's X settings (a PUT replaces them; absent ones take their defaults)."""

    mode: Literal["webhook", "poll"] = "webhook"
    user_id: Annotated[str | None, Field(max_length=20, pattern=r"^[0-9]+$")] = None
    search: Annotated[list[Annotated[str, Field(min_length=1, max_length=512)]], Field(max_length=10)] = []
    requests_per_window: Annotated[int | None, Field(ge=1, le=10_000)] = None
    poll_seconds: Annotated[int, Field(ge=15, le=86_400)] = 60
    max_results: Annotated[int, Field(ge=10, le=100)] = 100
    overlap_seconds: Annotated[int, Field(ge=0, le=600)] = 30
    api_url: Annotated[str | None, Field(max_length=500)] = None


class XSettingsPublic(XSettings):
    account: str


class LikePublic(BaseModel):
    message_id: str
    liked: bool


@router.get("/x/accounts/{name}/settings")
def get_settings(careline: CarelineDep, _admin: AdminAgent, name: Name) -> XSettingsPublic:
    return _settings(careline, name)


@router.put("/x/accounts/{name}/settings")
def put_settings(careline: CarelineDep, admin: AdminAgent, name: Name, body: XSettings) -> XSettingsPublic:
    """How the account receives (webhook: X's Account Activity API; poll: the poller reads its mentions and
    searches), and the poller's budget. Tokens are secrets: PUT /channel-accounts/{id}/secrets."""
    values = body.model_dump()
    values["search"] = tuple(values["search"])
    careline.handle(ConfigureXAccount(account=name, agent_id=admin.id, **values))
    return _settings(careline, name)


@router.post("/messages/{message_id}/like")
def like_tweet(careline: CarelineDep, agent: CurrentAgent, message_id: Ref) -> LikePublic:
    """Like a customer's tweet as the brand, for agents who may work its conversation; 409 with X's reason when
    X refuses (the account's access_token needs like.write)."""
    careline.handle(LikeTweet(message_id=message_id, agent_id=agent.id))
    return LikePublic(message_id=message_id, liked=True)


def _settings(careline: CarelineDep, name: str) -> XSettingsPublic:
    with careline.uow(read_only=True) as uow:
        account = x_account(uow, name)
    config: dict[str, Any] = account.config
    known = {key: config[key] for key in XSettings.model_fields if key in config}
    return XSettingsPublic(account=account.name, **known)
