"""The agent desktop in headless Chromium against a real server (docs/web.md): sign-in, the live inbox, offers,
the conversation with the customer's history on every channel, hostile content shown as text, CSRF and access."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.agents.model import Agent
from careline.bootstrap import Careline
from careline.entrypoints.cli.setup import ensure_defaults

from .conftest import LiveServer

PASSWORD = "correct horse battery"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@dataclasses.dataclass
class Team:
    server: LiveServer
    agent: Agent
    other: Agent
    admin: Agent
    token: str  # an integration account's API token: posts arrive through the API as a connector sends them

    def post(
        self,
        text: str,
        *,
        author: str = "cust-1",
        channel: str = "api",
        account: str = "default",
        visibility: str = "public",
    ) -> None:
        """A post sent to the API, over HTTP, the way a channel connector sends it."""
        answer = httpx.post(
            f"{self.server.url}/api/v1/messages",
            headers={"Authorization": f"Bearer {self.token}"},
            json={
                "channel": channel,
                "account": account,
                "platform_message_id": f"m-{datetime.now(UTC).timestamp()}-{len(text)}",
                "author_id": author,
                "author_name": f"Customer {author}",
                "text": text,
                "visibility": visibility,
            },
            timeout=10,
        )
        assert answer.status_code == 201, answer.text


def team_of(server: LiveServer) -> Team:
    app = server.app
    ensure_defaults(app)
    people = [
        app.handle(admin.CreateAgent(name=name, email=f"{name.lower()}@acme.example", password=PASSWORD, role=role))
        for name, role in (("Ana", "agent"), ("Bo", "agent"), ("Root", "admin"), ("Feed", "integration"))
    ]
    token, _ = app.handle(admin.IssueToken(email="feed@acme.example", password=PASSWORD))
    return Team(server, people[0], people[1], people[2], token)


def sign_in(page: Page, server: LiveServer, who: Agent, path: str = "/inbox") -> None:
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header.top")).to_contain_text(who.name)


def test_a_post_sent_to_the_api_appears_live_and_hostile_text_runs_nothing(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    team = team_of(live_server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, team.agent, "/inbox?view=unassigned")
    expect(page.locator('[data-count="unassigned"]')).to_have_text("0")

    team.post(XSS)  # while the page is open: no reload

    row = page.locator("#rows tr")
    expect(row).to_have_count(1)
    expect(row.locator(".preview")).to_have_text(XSS)  # shown as text
    expect(page.locator('[data-count="unassigned"]')).to_have_text("1")
    row.get_by_role("link").click()
    expect(page.locator(".thread .text").first).to_have_text(XSS)
    assert page.locator(".thread img").count() == 0 and page.locator(".thread script").count() == 0
    assert dialogs == [] and page_errors == []


def test_the_agent_accepts_the_offer_reads_the_history_replies_and_resolves(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    team = team_of(live_server)
    app = live_server.app
    app.handle(admin.CreateChannelAccount(kind="email", name="support"))
    team.post(
        "Where is my refund? I asked last week.",
        author="mia@example.com",
        channel="email",
        account="support",
        visibility="private",
    )
    sign_in(page, live_server, team.agent)
    app.handle(admin.SetAgentStatus(agent_id=team.agent.id, status="online"))
    # The email waited for someone: going online brought its offer, which pops up with a countdown.
    offer = page.locator(".offer")
    expect(offer).to_have_count(1)
    expect(offer.locator(".countdown")).to_contain_text("s to answer")
    offer.get_by_role("button", name="Accept").click()
    expect(page.locator(".facts")).to_contain_text("Agent Ana")
    page.get_by_role("button", name=re.compile("Resolve")).click()
    expect(page.locator("#status")).to_have_text("resolved")

    team.post("@acme still no refund, this is a joke", author="mia_x")  # now on a public channel
    offer = page.locator(".offer")
    expect(offer).to_have_count(1)
    offer.get_by_role("button", name="Accept").click()
    expect(page.locator(".history li")).to_have_count(1)
    # The agent recognises Mia from her email: the two customers become one, with one timeline.
    page.locator("summary", has_text="Same person as").click()
    page.get_by_label("Their handle or address on another channel").fill("mia@example.com")
    page.get_by_role("button", name="Merge into this customer").click()
    history = page.locator(".history li")
    expect(history).to_have_count(2)  # the earlier email, on this public post's page
    expect(page.locator(".history")).to_contain_text("email")
    expect(page.locator(".identities")).to_contain_text("mia@example.com")
    public_url = page.url

    page.locator("summary", has_text="Take it private").click()  # the public invitation and the private chat
    page.get_by_role("button", name="Take it private").click()
    expect(page.locator(".conv-head .badge.private")).to_be_visible()
    expect(page.locator(".thread .msg.outbound.private .text")).to_contain_text("in private")
    page.get_by_role("textbox", name=re.compile("^Reply")).fill("Sorry Mia, I found your refund: it left today.")
    page.get_by_role("button", name=re.compile("Send")).click()
    expect(page.locator(".thread .msg.outbound .text").last).to_have_text(
        "Sorry Mia, I found your refund: it left today."
    )
    page.get_by_role("button", name=re.compile("Resolve")).click()
    expect(page.locator("#status")).to_have_text("resolved")
    page.goto(public_url)  # the public thread got the invitation and links to the private conversation
    expect(page.locator(".thread .msg.outbound.public .text")).to_contain_text("sent you a private message")
    expect(page.locator(".linked")).to_be_visible()
    assert page_errors == []


def test_a_supervisor_sees_the_queue_count_change_live(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    team = team_of(live_server)
    boss = live_server.app.handle(
        admin.CreateAgent(name="Sam", email="sam@acme.example", password=PASSWORD, role="supervisor")
    )
    sign_in(page, live_server, boss, "/supervisor")
    depth = page.locator('tr[data-queue="general"] .depth')
    expect(depth).to_have_text("0")

    team.post("is anyone there?")
    team.post("hello, my bag is lost", author="cust-2")

    expect(depth).to_have_text("2")  # without a reload
    expect(page.locator(".chart figcaption")).to_contain_text("2 messages")
    assert page_errors == []


def test_a_form_without_its_csrf_token_is_refused(live_server: LiveServer, page: Page) -> None:
    team = team_of(live_server)
    team.post("hello?")
    sign_in(page, live_server, team.agent, "/inbox?view=unassigned")
    href = page.locator("#rows a").first.get_attribute("href")
    assert href is not None
    # The browser's own session cookie goes along, as it would from a forged form on another site.
    refused = page.request.post(f"{live_server.url}{href}/reply", form={"text": "forged", "visibility": "public"})
    assert refused.status == 403
    forged = page.request.post(
        f"{live_server.url}{href}/reply",
        form={"text": "forged", "visibility": "public", "csrf_token": "0" * 64},
    )
    assert forged.status == 403
    page.goto(f"{live_server.url}{href}")
    expect(page.locator(".thread")).not_to_contain_text("forged")


def test_an_agent_cannot_open_an_admin_page_or_another_teams_private_conversation(
    live_server: LiveServer, page: Page
) -> None:
    team = team_of(live_server)
    app = live_server.app
    vip = app.handle(admin.CreateQueue(name="vip", keywords=("platinum",)))
    app.handle(admin.SetQueueRouting(queue_id=vip.id, target='"vip" in teams'))
    app.handle(admin.SetRoutingProfile(agent_id=team.other.id, teams=("vip",)))
    team.post("my platinum card number is in this DM", author="whale", visibility="private")
    [conversation_id] = _conversation_ids(app)

    sign_in(page, live_server, team.agent)
    admin_page = page.goto(f"{live_server.url}/admin/agents")
    assert admin_page is not None and admin_page.status == 403
    private = page.goto(f"{live_server.url}/conversations/{conversation_id}")
    assert private is not None and private.status == 403
    expect(page.locator("main")).not_to_contain_text("platinum card")

    page.context.clear_cookies()
    sign_in(page, live_server, team.other)  # the vip team's agent may open it
    allowed = page.goto(f"{live_server.url}/conversations/{conversation_id}")
    assert allowed is not None and allowed.status == 200
    expect(page.locator(".thread")).to_contain_text("platinum")


def _conversation_ids(app: Careline) -> list[str]:
    with app.engine.connect() as db:
        return list(db.execute(sa.select(t.conversations.c.id)).scalars())


def test_a_messenger_conversation_shows_its_reply_window_clock(live_server: LiveServer, page: Page) -> None:
    team = team_of(live_server)
    live_server.app.handle(admin.CreateChannelAccount(kind="facebook", name="acme-page"))
    team.post("hi, is my order shipped?", channel="facebook", account="acme-page", visibility="private")
    sign_in(page, live_server, team.agent, "/inbox?view=unassigned")
    page.locator("#rows a").first.click()
    expect(page.locator("#reply-window")).to_contain_text(re.compile(r"closes in 2[34] h"))
