"""Collision detection in headless Chromium (docs/web.md#collision-detection): two people on one conversation see
each other live, see each other typing, and a reply that crosses another's is held until "Send anyway"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from careline.adapters.db import tables as t
from careline.agents import commands as setup
from careline.agents.model import Agent
from careline.entrypoints.cli.setup import ensure_defaults

from .conftest import VIEWPORT, LiveServer

PASSWORD = "correct horse battery"
LIVE = 15_000  # ms: a heartbeat every 3 s, and "typing" fades within about 9 s of the last keystroke


@pytest.fixture
def pages(browser: Browser) -> Iterator[tuple[Page, Page]]:
    """Two people's tabs: two browser contexts, so two sessions; any JavaScript error of either fails the test."""
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    tabs = [context.new_page() for context in contexts]
    errors: list[str] = []
    for tab in tabs:
        tab.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    yield tabs[0], tabs[1]
    for context in contexts:
        context.close()
    assert errors == []


def _desk(server: LiveServer) -> tuple[Agent, Agent, str]:
    """Ana (an agent), Cy (a supervisor, who may reply to any conversation), and one customer post's conversation."""
    app = server.app
    ensure_defaults(app)
    people = [
        app.handle(setup.CreateAgent(name=name, email=f"{name.lower()}@acme.example", password=PASSWORD, role=role))
        for name, role in (("Ana", "agent"), ("Cy", "supervisor"), ("Feed", "integration"))
    ]
    token, _ = app.handle(setup.IssueToken(email="feed@acme.example", password=PASSWORD))
    posted = httpx.post(
        f"{server.url}/api/v1/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "api",
            "account": "default",
            "platform_message_id": "collision-1",
            "author_id": "cust-1",
            "author_name": "Casey",
            "text": "My refund never arrived.",
        },
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    return people[0], people[1], posted.json()["results"][0]["conversation_id"]


def _open(page: Page, server: LiveServer, who: Agent, conversation_id: str) -> None:
    page.goto(f"{server.url}/conversations/{conversation_id}")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".conversation")).to_have_attribute("data-conversation", conversation_id)


def _outbound(server: LiveServer, conversation_id: str) -> list[str]:
    m = t.messages.c
    query = sa.select(m.text).where(m.conversation_id == conversation_id, m.direction == "outbound")
    with server.app.engine.connect() as db:
        return list(db.execute(query.order_by(m.created_at, m.id)).scalars())


def test_two_agents_in_one_conversation_see_each_other_and_a_crossing_reply_is_held(
    live_server: LiveServer, pages: tuple[Page, Page]
) -> None:
    ana, cy, conversation_id = _desk(live_server)
    ana_page, cy_page = pages
    _open(ana_page, live_server, ana, conversation_id)
    _open(cy_page, live_server, cy, conversation_id)

    expect(ana_page.locator("#presence")).to_contain_text("Cy (viewing)", timeout=LIVE)
    expect(cy_page.locator("#presence")).to_contain_text("Ana (viewing)", timeout=LIVE)

    ana_page.get_by_role("textbox", name=re.compile("^Reply")).press_sequentially("Hi Casey, ")
    expect(cy_page.locator("#presence")).to_contain_text("Ana (typing\u2026)", timeout=LIVE)
    expect(cy_page.locator("#presence .typing")).to_have_count(1)
    expect(cy_page.locator("#presence")).to_contain_text("Ana (viewing)", timeout=LIVE)  # she stopped

    # Ana replies; Cy's page was loaded before, and Cy writes a reply of his own.
    ana_page.get_by_role("textbox", name=re.compile("^Reply")).fill("Hi Casey, your refund left today.")
    ana_page.get_by_role("button", name=re.compile("^Send")).click()
    expect(ana_page.locator(".thread .msg.outbound .text")).to_have_text("Hi Casey, your refund left today.")
    expect(cy_page.locator("#crossed")).to_contain_text("Ana replied", timeout=LIVE)  # told live, too

    cy_page.get_by_role("textbox", name=re.compile("^Reply")).fill("Casey, I am checking your refund.")
    cy_page.get_by_role("button", name=re.compile("^Send")).click()
    warning = cy_page.locator("#reply-form .crossing")
    expect(warning).to_contain_text("Ana replied to this conversation while you were writing")
    expect(cy_page.locator(".thread .msg.outbound .text")).to_have_text(["Hi Casey, your refund left today."])
    expect(cy_page.get_by_role("textbox", name=re.compile("^Reply"))).to_have_value("Casey, I am checking your refund.")
    assert _outbound(live_server, conversation_id) == ["Hi Casey, your refund left today."]

    warning.get_by_role("button", name="Send anyway").click()
    expect(cy_page.locator(".thread .msg.outbound .text")).to_have_text(
        ["Hi Casey, your refund left today.", "Casey, I am checking your refund."]
    )
    expect(cy_page.locator(".crossing")).to_have_count(0)
    assert _outbound(live_server, conversation_id)[-1] == "Casey, I am checking your refund."

    # Ana leaves the conversation: her page says so, and Cy sees it well before her heartbeats would have expired.
    expect(cy_page.locator("#presence")).to_contain_text("Ana", timeout=LIVE)
    ana_page.goto(f"{live_server.url}/inbox")
    expect(cy_page.locator("#presence")).not_to_contain_text("Ana", timeout=5_000)
