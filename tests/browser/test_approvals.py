"""Approval of public replies in headless Chromium against a real server (docs/web.md#approvals): a reply from an
agent who needs approval waits until approved; the supervisor edits and approves it, and it is delivered with the
edited text; a rejected reply is never delivered; the queue is for approvers only and its forms need their token."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Agent
from careline.approvals import commands as approvals
from careline.bootstrap import Careline
from careline.conversations.commands import SendReply
from careline.entrypoints.cli.setup import ensure_defaults
from e2e.conftest import CallbackServer, wait_for

from .conftest import LiveServer

PASSWORD = "correct horse battery"


def sign_in(page: Page, server: LiveServer, who: Agent, path: str = "/inbox") -> None:
    # Whoever was signed in before leaves (the page first, so that its leaving beacon still has its session).
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header.top")).to_contain_text(who.name)


def person(app: Careline, name: str, role: str) -> Agent:
    agent: Agent = app.handle(
        admin.CreateAgent(name=name, email=f"{name.lower()}@acme.example", password=PASSWORD, role=role)
    )
    return agent


def post(server: LiveServer, token: str, platform_id: str, text: str) -> str:
    """A customer's public post on the shop account, sent to the API as a connector sends it; its conversation."""
    answer = httpx.post(
        f"{server.url}/api/v1/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "api",
            "account": "shop",
            "platform_message_id": platform_id,
            "author_id": "cust-1",
            "text": text,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    conversation_id: str = answer.json()["results"][0]["conversation_id"]
    return conversation_id


def outbound(app: Careline, conversation_id: str) -> list[Any]:
    m = t.messages.c
    query = sa.select(t.messages).where(m.conversation_id == conversation_id, m.direction == "outbound")
    with app.engine.connect() as db:
        return list(db.execute(query.order_by(m.created_at, m.id)))


def deliveries(app: Careline, message_id: str) -> list[Any]:
    with app.engine.connect() as db:
        return list(db.execute(sa.select(t.outbox).where(t.outbox.c.message_id == message_id)))


def test_a_reply_from_an_agent_who_needs_approval_waits_until_approved(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    app = live_server.app
    ensure_defaults(app)
    ana, sue = person(app, "Ana", "agent"), person(app, "Sue", "supervisor")
    person(app, "Feed", "integration")
    app.handle(approvals.SetNeedsApproval(agent_id=ana.id, needs_approval=True))
    token, _ = app.handle(admin.IssueToken(email="feed@acme.example", password=PASSWORD))
    with CallbackServer(statuses=[]) as callback:
        app.handle(admin.CreateChannelAccount(kind="api", name="shop", callback_url=callback.url))
        conversation_id = post(live_server, token, "shop-1", "My order never arrived, I want my money")

        # The agent: no approval queue for her; her public reply waits, visibly, and nothing is delivered.
        sign_in(page, live_server, ana)
        expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Approvals")
        refused = page.request.get(f"{live_server.url}/approvals")
        assert refused.status == 403 and "Not for you" in refused.text()
        page.goto(f"{live_server.url}/conversations/{conversation_id}")
        page.get_by_role("textbox", name=re.compile("^Reply")).fill("We will refund you twice, promised!")
        page.get_by_role("button", name=re.compile("Send")).click()
        held = page.locator(".thread .msg.outbound")
        expect(held.locator(".text")).to_have_text("We will refund you twice, promised!")
        expect(held.locator(".delivery")).to_have_text("awaiting_approval")
        [message] = outbound(app, conversation_id)
        time.sleep(1.0)  # the server's delivery loop polls meanwhile: a held reply has nothing for it to send
        assert deliveries(app, message.id) == [] and callback.received == []

        # The supervisor: the queue shows it; a forged post is refused; she edits and approves.
        sign_in(page, live_server, sue)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
        expect(page).to_have_url(re.compile(r"/approvals$"))
        card = page.locator("article.approval")
        expect(card).to_have_count(1)
        expect(card.locator(".requested-by")).to_have_text("Ana")
        expect(card.locator(".rule")).to_have_text("agent needs approval")
        expect(card.get_by_role("link", name="Conversation")).to_have_attribute(
            "href", f"/conversations/{conversation_id}"
        )
        text = card.get_by_role("textbox", name=re.compile("Reply text"))
        expect(text).to_have_value("We will refund you twice, promised!")
        approval_id = card.get_attribute("data-approval")
        forged = page.request.post(f"{live_server.url}/approvals/{approval_id}/approve", form={"text": "forged"})
        assert forged.status == 403
        text.fill("Sorry about that! We are checking your order right now.")
        card.get_by_role("button", name="Approve and send").click()
        expect(page.locator(".done")).to_have_text("Approved: the reply is queued for delivery.")
        expect(page.locator("article.approval")).to_have_count(0)
        expect(page.locator(".empty")).to_have_text("Nothing waits for approval.")

        wait_for(lambda: callback.received, what="the approved reply to reach the customer")
        assert [r.body["text"] for r in callback.received] == [
            "Sorry about that! We are checking your order right now."
        ]
        [approved] = outbound(app, conversation_id)
        assert approved.text == "Sorry about that! We are checking your order right now."
        [queued] = deliveries(app, message.id)
        assert queued.idempotency_key == f"deliver:{message.id}"

        # A second reply, rejected: it stays undelivered, and the agent sees why it never went out.
        sign_in(page, live_server, ana, f"/conversations/{conversation_id}")
        expect(page.locator(".thread .msg.outbound .delivery").first).to_have_text("delivered")
        page.get_by_role("textbox", name=re.compile("^Reply")).fill("Talk to our lawyer")
        page.get_by_role("button", name=re.compile("Send")).click()
        expect(page.locator(".thread .msg.outbound .delivery").last).to_have_text("awaiting_approval")

        sign_in(page, live_server, sue, "/approvals")
        card = page.locator("article.approval")
        expect(card).to_have_count(1)
        expect(card.locator(".rule")).to_have_text("agent needs approval; risky words: lawyer")
        card.get_by_role("textbox", name="Reason for rejecting").fill("Legal answers this, not us")
        card.get_by_role("button", name="Reject").click()
        expect(page.locator(".done")).to_have_text("Rejected: the reply will not be sent.")
        expect(page.locator("article.approval")).to_have_count(0)

        sign_in(page, live_server, ana, f"/conversations/{conversation_id}")
        expect(page.locator(".thread .msg.outbound .delivery").last).to_have_text("rejected")
        rejected = outbound(app, conversation_id)[-1]
        time.sleep(1.0)
        assert rejected.delivery_status == "rejected" and deliveries(app, rejected.id) == []
        assert len(callback.received) == 1
    assert page_errors == []


def test_a_decision_already_taken_is_refused_on_the_page(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    """Two approvers on one reply: the second one's form tells them it was decided meanwhile."""
    app = live_server.app
    ensure_defaults(app)
    ana, sol, sue = person(app, "Ana", "agent"), person(app, "Sol", "social"), person(app, "Sue", "supervisor")
    person(app, "Feed", "integration")
    token, _ = app.handle(admin.IssueToken(email="feed@acme.example", password=PASSWORD))
    app.handle(admin.CreateChannelAccount(kind="api", name="shop"))
    conversation_id = post(live_server, token, "shop-2", "hello?")
    app.handle(approvals.SetRiskyWords(words=("voucher",)))
    app.handle(SendReply(conversation_id=conversation_id, agent_id=ana.id, text="Here is a voucher"))

    sign_in(page, live_server, sue, "/approvals")
    card = page.locator("article.approval")
    expect(card.locator(".rule")).to_have_text("risky words: voucher")
    with app.uow(read_only=True) as uow:
        [pending] = uow.approvals.find(status="pending")
    # Meanwhile the social team (approvers too) rejects it.
    app.handle(approvals.RejectReply(approval_id=pending.id, approver_id=sol.id, reason="no vouchers"))
    card.get_by_role("button", name="Approve and send").click()
    expect(page.locator(".error")).to_contain_text("rejected already")
    expect(page.locator("article.approval")).to_have_count(0)
    assert outbound(app, conversation_id)[-1].delivery_status == "rejected"
    assert page_errors == []
