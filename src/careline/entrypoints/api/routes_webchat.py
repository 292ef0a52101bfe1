"""The web chat: the widget's WebSocket and the chat account's settings (docs/channels.md#web-chat).

The route refuses an unknown account or an Origin the account does not allow before the handshake, with an
HTTP answer that says why; an accepted socket is one widget's session (webchat_session.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Path, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, StringConstraints

from careline.bootstrap import Careline
from careline.channels.adapters import webchat as chat
from careline.channels.model import ChannelAccount, ChannelKind
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, ManagerAgent
from careline.entrypoints.api.schemas import Input
from careline.entrypoints.api.webchat_session import SERVER_ERROR, ChatSession, Close, close
from careline.webchat.commands import ConfigureWebChat
from careline.webchat.handlers import chat_account

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webchat", tags=["webchat"])

Name = Annotated[str, Path(min_length=1, max_length=200, description="the web chat account's name")]


class WebChatSettingsUpdate(Input):
    """None leaves a setting as it is; [] or "" removes it."""

    allowed_origins: list[Annotated[str, StringConstraints(max_length=300)]] | None = Field(default=None, max_length=50)
    offline_email_account: Annotated[str, StringConstraints(max_length=200)] | None = None
    queue: Annotated[str, StringConstraints(max_length=100)] | None = None


class WebChatSettingsPublic(BaseModel):
    account: str
    allowed_origins: list[str]
    offline_email_account: str | None
    queue: str | None
    identity_secret: bool = Field(description="whether the account has an identity_secret (identified visitors)")


@router.get("/{account}/settings")
def get_settings(careline: CarelineDep, _agent: ManagerAgent, account: Name) -> WebChatSettingsPublic:
    return _settings(careline, account)


@router.put("/{account}/settings")
def put_settings(
    careline: CarelineDep, admin: AdminAgent, account: Name, body: WebChatSettingsUpdate
) -> WebChatSettingsPublic:
    """The sites allowed to embed the chat, the email account offline messages go to, the chat's queue."""
    origins = tuple(body.allowed_origins) if body.allowed_origins is not None else None
    careline.handle(
        ConfigureWebChat(
            account=account,
            agent_id=admin.id,
            allowed_origins=origins,
            offline_email_account=body.offline_email_account,
            queue=body.queue,
        )
    )
    return _settings(careline, account)


def _settings(careline: Careline, name: str) -> WebChatSettingsPublic:
    with careline.uow(read_only=True) as uow:
        account = chat_account(uow, name)
    config = account.config
    return WebChatSettingsPublic(
        account=account.name,
        allowed_origins=list(config.get("allowed_origins", [])),
        offline_email_account=config.get("offline_email_account"),
        queue=config.get("queue"),
        identity_secret=chat.IDENTITY_SECRET in account.secrets.names,
    )


@router.websocket("/{account}/socket")
async def socket(websocket: WebSocket, account: Name) -> None:
    """The widget's socket; refused before the handshake (403) for an unknown account or an Origin it does not
    allow, closed with a reason for a bad hello or identity token."""
    careline: Careline = websocket.app.state.careline
    found = await asyncio.to_thread(_account, careline, account)
    origin = websocket.headers.get("origin", "")
    if found is None:
        await _deny(websocket, 404, f"no web chat account {account!r}")
        return
    if origin.lower() not in found.config.get("allowed_origins", []):
        log.info("web chat %s: refused a socket from origin %r", found.name, origin)
        await _deny(websocket, 403, f"origin {origin!r} may not open {found.name}'s chat (allowed_origins)")
        return
    await websocket.accept()
    session = ChatSession(websocket, careline, found)
    try:
        await session.run()
    except WebSocketDisconnect:
        pass
    except Close as refusal:
        await close(websocket, refusal.code, refusal.reason)
    except Exception:
        log.exception("web chat %s: the socket failed", found.name)
        await close(websocket, SERVER_ERROR, "server error; reconnect")


def _account(careline: Careline, name: str) -> ChannelAccount | None:
    with careline.uow(read_only=True) as uow:
        return uow.accounts.find(ChannelKind.WEBCHAT.value, name)


async def _deny(websocket: WebSocket, code: int, reason: str) -> None:
    """Refuse the handshake with an HTTP answer that says why (or a plain close where the server cannot)."""
    try:
        await websocket.send_denial_response(PlainTextResponse(reason, status_code=code))
    except RuntimeError:
        await websocket.close(code=1008, reason=reason[:120])
