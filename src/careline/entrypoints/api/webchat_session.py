"""One open web chat widget's socket (docs/channels.md#web-chat): the hello, the visitor's frames, and the follower
that sends what became visible in their conversation. The route (routes_webchat.py) checks the account and the
Origin and accepts the socket first.

Acknowledgements are sent only after the message's commit; the follower reads the event log (webchat/queries.py),
so a reply delivered by any process reaches every open widget of the visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from careline.bootstrap import Careline
from careline.channels.adapters import webchat as chat
from careline.channels.model import ChannelAccount, ChannelKind, SecretsUnreadable
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import InboundMessage
from careline.webchat import queries
from careline.webchat.commands import MarkChatMessageRead

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often an open widget's socket reads the event log for its conversation
FIND_EVERY = 5  # polls between look-ups of a conversation not started yet (this socket's own message sets it)
HELLO_SECONDS = 10.0
MAX_FRAME = 16 * 1024  # characters of one frame from the widget
# Close codes (4000-4999 are the application's): the reason says more, for the widget and the visitor.
BAD_FRAME, REFUSED, TOO_SLOW, SERVER_ERROR = 4400, 4401, 4408, 1011


class Bucket:
    """A token bucket: ``burst`` at once, then ``per_second``."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst, self.per_second = float(burst), per_second
        self._tokens, self._refilled = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.per_second)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Close(Exception):
    """Close the socket with this code and reason (after the accept)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class ChatSession:
    """One open widget: its visitor, its conversation once there is one, and the cursor in the event log."""

    def __init__(self, websocket: WebSocket, careline: Careline, account: ChannelAccount) -> None:
        self.websocket = websocket
        self.careline = careline
        self.account = account
        self.visitor: chat.Visitor | None = None
        self.conversation: str | None = None
        self.cursor = 0
        self._sending = asyncio.Lock()
        self._messages = Bucket(10, 0.5)  # a visitor's messages: 10 at once, then one every 2 s
        self._receipts = Bucket(50, 5.0)  # "seen" frames, each a small write: more, but not unbounded

    async def run(self) -> None:
        try:
            hello = await asyncio.wait_for(self._frame(), HELLO_SECONDS)
        except TimeoutError:
            raise Close(TOO_SLOW, f"send hello within {HELLO_SECONDS:.0f} s") from None
        if hello.get("type") != "hello":
            raise Close(BAD_FRAME, "the first frame must be hello")
        self.visitor = self._identify(hello)
        after: Any = hello.get("after")
        engine = self.careline.engine
        resuming = isinstance(after, int) and not isinstance(after, bool) and after >= 0
        # Resuming, the widget saw everything of its conversation up to that event: nothing twice, nothing missed.
        self.cursor = after if resuming else await asyncio.to_thread(queries.latest_seq, engine)
        self.conversation = await asyncio.to_thread(
            queries.conversation_of, engine, self.account.id, self.visitor.thread_key
        )
        online = await asyncio.to_thread(self._online)
        await self._send(
            {
                "type": "welcome",
                "identified": self.visitor.identified,
                "name": self.visitor.name,
                "email": self.visitor.email,  # the visitor's own, from their site's token: fills the offline form
                "online": online,
                "offline_form": not online and bool(self.account.config.get("offline_email_account")),
                "cursor": self.cursor,
            }
        )
        if not resuming:
            shown = await asyncio.to_thread(queries.history, engine, self.conversation) if self.conversation else []
            await self._send({"type": "history", "messages": shown})
        follower = asyncio.create_task(self._follow())
        try:
            while True:
                await self._handle(await self._frame())
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    def _identify(self, hello: dict[str, Any]) -> chat.Visitor:
        token = hello.get("identity")
        if not token:
            try:
                return chat.anonymous(hello.get("visitor"))
            except chat.Refused as refused:
                raise Close(BAD_FRAME, str(refused)) from None
        if not isinstance(token, str):
            raise Close(REFUSED, "identity must be a token string")
        if chat.IDENTITY_SECRET not in self.account.secrets.names:
            raise Close(REFUSED, f"{self.account.name} takes no identity tokens (no identity_secret)")
        try:
            secret = self.account.secrets[chat.IDENTITY_SECRET]
        except SecretsUnreadable:  # never take a token unchecked
            log.error("web chat %s: identity_secret cannot be read; see CARELINE_SECRET_KEY", self.account.name)
            raise Close(SERVER_ERROR, "the server cannot check identity tokens now") from None
        try:
            return chat.verify_identity(secret, token, self.careline.clock())
        except chat.Refused as refused:
            log.info("web chat %s: identity token refused: %s", self.account.name, refused)
            raise Close(REFUSED, str(refused)) from None

    def _online(self) -> bool:
        with self.careline.uow(read_only=True) as uow:
            return queries.online(uow, self.account, self.careline.clock())

    async def _frame(self) -> dict[str, Any]:
        while True:
            received = await self.websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            text = received.get("text")
            if text is None:
                raise Close(BAD_FRAME, "frames are JSON text, not binary")
            if len(text) > MAX_FRAME:
                raise Close(BAD_FRAME, f"frames are at most {MAX_FRAME} characters")
            try:
                frame = json.loads(text)
            except (ValueError, RecursionError):
                frame = None
            if isinstance(frame, dict):
                return frame
            await self._send({"type": "error", "reason": "frames are JSON objects"})

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "seen":
            if self._receipts.take():
                await self._seen(frame.get("message_id"))
            return
        if kind not in ("message", "offline"):
            await self._send({"type": "error", "reason": f"unknown frame type {kind!r}"})
            return
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        if not self._messages.take():
            await self._error(client_id, "too many messages; wait a moment and send again", retry=True)
            return
        try:
            inbound = self._inbound(kind, frame)
        except chat.Refused as refused:
            await self._error(client_id, str(refused), retry=False)
            return
        await self._ingest(inbound, chat.client_id_of(frame), offline=kind == "offline")

    def _inbound(self, kind: str, frame: dict[str, Any]) -> InboundMessage:
        assert self.visitor is not None  # set by the hello
        if kind == "message":
            return chat.chat_message(self.account.name, self.visitor, frame)
        email_account = self.account.config.get("offline_email_account")
        if not email_account:
            raise chat.Refused("this chat takes no offline messages; send a chat message")
        return chat.offline_message(email_account, self.account.name, self.visitor, frame)

    async def _ingest(self, inbound: InboundMessage, client_id: str, *, offline: bool) -> None:
        """Store the message, then (only then) acknowledge it; a resend of a stored one is acknowledged too."""
        try:
            result = await asyncio.to_thread(self.careline.handle, IngestMessages(items=(inbound,)))
        except Exception:
            log.exception("web chat %s: a message could not be stored", self.account.name)
            await self._error(client_id, "not stored; it will be sent again", retry=True)
            return
        item = result.items[0]
        if item.status == "rejected":
            await self._error(client_id, item.error or "refused", retry=False)
            return
        message_id = item.message_id
        if message_id is None:  # a duplicate: the id stored the first time
            account_id = self.account.id if not offline else await asyncio.to_thread(self._email_account_id)
            found = await asyncio.to_thread(
                queries.message_ids, self.careline.engine, account_id, [inbound.platform_message_id]
            )
            message_id = found.get(inbound.platform_message_id)
        if not offline:
            self.conversation = self.conversation or item.conversation_id
        await self._send({"type": "ack", "client_id": client_id, "message_id": message_id, "offline": offline})

    def _email_account_id(self) -> str:
        with self.careline.uow(read_only=True) as uow:
            found = uow.accounts.find(ChannelKind.EMAIL.value, self.account.config["offline_email_account"])
        return found.id if found else ""

    async def _seen(self, message_id: Any) -> None:
        if not isinstance(message_id, str) or len(message_id) > 40 or self.visitor is None:
            return
        command = MarkChatMessageRead(
            account_id=self.account.id, thread_key=self.visitor.thread_key, message_id=message_id
        )
        try:
            await asyncio.to_thread(self.careline.handle, command)
        except Exception:  # noqa: BLE001 - a read receipt is a nicety: never close the chat over it
            log.warning("web chat %s: could not mark %s read", self.account.name, message_id, exc_info=True)

    async def _follow(self) -> None:
        try:
            await self._follow_log()
        except (WebSocketDisconnect, RuntimeError):
            pass  # the socket closed under a send: the reader sees the disconnect and ends the session
        except Exception:
            log.exception("web chat %s: following the conversation failed", self.account.name)
            await close(self.websocket, SERVER_ERROR, "server error; reconnect")

    async def _follow_log(self) -> None:
        """Send what became visible in the conversation (replies delivered, the visitor's other tabs)."""
        engine = self.careline.engine
        polls = 0
        while True:
            polls += 1
            if self.conversation is None and self.visitor is not None and polls % FIND_EVERY == 0:
                # Started by the visitor's other tab: no need to look for it on every poll.
                self.conversation = await asyncio.to_thread(
                    queries.conversation_of, engine, self.account.id, self.visitor.thread_key
                )
            if self.conversation is not None:
                self.cursor, shown = await asyncio.to_thread(queries.changes, engine, self.conversation, self.cursor)
                for message in shown:
                    await self._send({"type": "message", "message": message})
                if shown:
                    continue  # more may be waiting
            await asyncio.sleep(POLL_SECONDS)

    async def _error(self, client_id: str | None, reason: str, *, retry: bool) -> None:
        await self._send({"type": "error", "client_id": client_id, "reason": reason, "retry": retry})

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._sending:  # the reader (acks) and the follower (messages) share the socket
            await self.websocket.send_json(frame)


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=code, reason=reason.encode()[:120].decode(errors="ignore"))
