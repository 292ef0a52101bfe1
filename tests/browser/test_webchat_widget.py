"""The web chat widget on a customer's site (docs/channels.md#web-chat): a page on another origin, with a strict
CSP of its own, embeds it with one script tag; the visitor writes, the agent's reply appears, and markup in
either is shown as text (no dialog, no element, no page error)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Dialog, Page, expect

from careline.adapters.db import tables as t
from careline.agents.commands import CreateChannelAccount
from careline.conversations.commands import SendReply
from careline.entrypoints.cli.setup import ensure_admin, ensure_defaults
from careline.webchat.commands import ConfigureWebChat

from .conftest import LiveServer

ATTACK = "<img src=x onerror=alert(1)>"


@pytest.fixture
def site(live_server: LiveServer) -> Iterator[str]:
    """A customer's page on its own origin that embeds the widget with one tag, under a CSP without inline."""
    careline = live_server.url
    host_port = careline.removeprefix("http://")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            body = (
                "<!doctype html><html lang=en><head><title>Acme shop</title></head><body><h1>Acme shop</h1>"
                f'<script src="{careline}/static/widget.js" data-account="acme-chat" async></script>'
                "</body></html>"
            ).encode()
            policy = f"default-src 'self'; script-src {careline}; connect-src ws://{host_port}; style-src 'self'"
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="customer-site", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_the_visitor_chats_with_an_agent_and_markup_stays_text(
    live_server: LiveServer, site: str, page: Page, page_errors: list[str]
) -> None:
    app = live_server.app
    ensure_defaults(app)
    agent, _, _ = ensure_admin(app, "admin@example.com", "correct horse battery")
    app.handle(CreateChannelAccount(kind="webchat", name="acme-chat"))
    app.handle(ConfigureWebChat(account="acme-chat", agent_id=agent.id, allowed_origins=(site,)))
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(site + "/")

    launcher = page.get_by_role("button", name="Chat with us")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("status")).to_have_text("We are offline right now; we will answer here when we are back.")
    page.get_by_role("textbox", name="Your message").fill(f"Is {ATTACK} in stock?")
    page.keyboard.press("Enter")
    visitor = page.locator("li.visitor")
    expect(visitor.locator(".text")).to_have_text(f"Is {ATTACK} in stock?")
    expect(visitor.locator(".note")).to_have_text("")  # acknowledged: stored

    with app.engine.connect() as db:
        conversation = db.execute(sa.select(t.messages.c.conversation_id)).scalar_one()
    app.handle(SendReply(conversation_id=conversation, agent_id=agent.id, text=f"{ATTACK} is only text here"))

    reply = page.locator("li.agent")
    expect(reply.locator(".text")).to_have_text(f"{ATTACK} is only text here")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Administrator")
    assert page.locator("li img").count() == 0
    assert dialogs == []
    assert page_errors == []
