"""Facebook and Instagram: an account's Graph API settings, and hiding a customer's comment
(docs/channels.md#facebook-and-instagram, docs/api.md).

Every write is one command acted by the token's agent; the answer is read back after it committed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from careline.channels.commands import ConfigureMetaAccount, HideComment
from careline.channels.handlers import meta_account
from careline.channels.queries import hidden_comments
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, CurrentAgent
from careline.entrypoints.api.schemas import Input, Name, Ref

router = APIRouter(tags=["meta"])
PlatformId = Annotated[str | None, Field(default=None, max_length=64, pattern=r"^[0-9]*$")]


class CommentVisibility(Input):
    hidden: bool = True  # false: show the comment again


class CommentVisibilityPublic(BaseModel):
    message_id: str
    hidden: bool


class MetaSettingsUpdate(Input):
    """None (or absent) leaves a setting as it is; "" removes it."""

    graph_url: Annotated[str | None, Field(default=None, max_length=500)] = None
    page_id: PlatformId = None
    ig_user_id: PlatformId = None
    human_agent: bool | None = None  # Meta granted the app the human_agent permission (7-day window)


class MetaSettingsPublic(BaseModel):
    account: str
    kind: str
    graph_url: str | None
    page_id: str | None
    ig_user_id: str | None
    human_agent: bool


@router.post("/messages/{message_id}/hide")
def hide_comment(
    careline: CarelineDep, agent: CurrentAgent, message_id: Ref, body: CommentVisibility
) -> CommentVisibilityPublic:
    """Hide a customer's public Facebook or Instagram comment on the platform (``hidden: false`` shows it again):
    for agents who may work its conversation. Refused (409) with Meta's reason when Meta refuses."""
    conversation_id = careline.handle(HideComment(message_id=message_id, agent_id=agent.id, hidden=body.hidden))
    return CommentVisibilityPublic(
        message_id=message_id, hidden=message_id in hidden_comments(careline.engine, conversation_id)
    )


@router.get("/meta/accounts/{name}/settings")
def get_settings(careline: CarelineDep, _admin: AdminAgent, name: Name) -> MetaSettingsPublic:
    return _settings(careline, name)


@router.put("/meta/accounts/{name}/settings")
def put_settings(careline: CarelineDep, admin: AdminAgent, name: Name, body: MetaSettingsUpdate) -> MetaSettingsPublic:
    """The Graph API's address (a local fake in tests), the account's page or Instagram id, and whether Meta
    granted the human-agent permission. The page access token is a secret: PUT /channel-accounts/{id}/secrets."""
    careline.handle(ConfigureMetaAccount(account=name, agent_id=admin.id, **body.model_dump()))
    return _settings(careline, name)


def _settings(careline: CarelineDep, name: str) -> MetaSettingsPublic:
    with careline.uow(read_only=True) as uow:
        account = meta_account(uow, name)
    config: dict[str, Any] = account.config
    return MetaSettingsPublic(
        account=account.name,
        kind=account.kind.value,
        graph_url=config.get("graph_url"),
        page_id=config.get("page_id"),
        ig_user_id=config.get("ig_user_id"),
        human_agent=config.get("human_agent") is True,
    )
