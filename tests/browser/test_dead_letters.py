"""The dead-letter page in the browser: a reply the channel refused is listed with its reason, and a supervisor
sends it again (docs/channels.md#dead-letters)."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.bootstrap import Careline
from careline.conversations.commands import SendReply
from e2e.conftest import wait_for

from .conftest import LiveServer
from .test_accessibility import AUDIT
from .test_desktop import PASSWORD, sign_in, team_of


def test_a_failed_reply_is_listed_with_its_reason_and_can_be_sent_again(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    app = live_server.app
    team = team_of(live_server)
    team.post("my refund is late <b>again</b>", author="mia")
    with app.engine.connect() as db:
        conversation_id = db.execute(t.conversations.select()).first().id  # type: ignore[union-attr]
    # The default API account has no callback URL: the channel cannot take the reply, which fails for good.
    reply = app.handle(SendReply(conversation_id=conversation_id, agent_id=team.agent.id, text="<i>Sorry</i>, on it"))
    wait_for(lambda: status_of(app, reply) == "failed", what="the server's delivery loop to fail the reply")
    boss = app.handle(admin.CreateAgent(name="Sam", email="sam@acme.example", password=PASSWORD, role="supervisor"))

    sign_in(page, live_server, boss, "/supervisor")
    page.get_by_role("link", name="Failed deliveries").click()
    row = page.locator("table.dead-letters tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".reason")).to_contain_text("has no callback_url")
    expect(row.get_by_role("link")).to_have_text("<i>Sorry</i>, on it")  # the reply's text, as text
    assert page.evaluate(AUDIT) == []

    row.get_by_role("button", name="Send again: <i>Sorry</i>, on it").click()
    expect(page).to_have_url(f"{live_server.url}/admin/deliveries")
    assert status_of(app, reply) in ("queued", "failed")  # back in the outbox; it fails again, for the same cause
    with app.engine.connect() as db:
        retried = db.execute(t.events.select().where(t.events.c.type == "message.delivery_retried")).all()
    assert [e.actor for e in retried] == [f"agent:{boss.id}"]
    assert page_errors == []


def status_of(app: Careline, message_id: str) -> str | None:
    with app.engine.connect() as db:
        status: str | None = db.execute(
            sa.select(t.messages.c.delivery_status).where(t.messages.c.id == message_id)
        ).scalar()
    return status
