"""Canned responses in the browser: a supervisor saves one with variables, an agent inserts it filled in for
the conversation (the customer's name, the agent's name, the order the customer wrote) and sends it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from careline.agents import commands as admin

from .conftest import LiveServer
from .test_desktop import PASSWORD, sign_in, team_of


def test_a_canned_response_is_filled_in_for_the_conversation(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    team = team_of(live_server)
    boss = live_server.app.handle(
        admin.CreateAgent(name="Sam", email="sam@acme.example", password=PASSWORD, role="supervisor")
    )
    sign_in(page, live_server, boss, "/admin/canned")
    page.get_by_label("Title").first.fill("shipped")
    page.get_by_label("Text").first.fill("Hi {customer_name}, {agent_name} here: order {order_id} left today.")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_label("Title").nth(1)).to_have_value("shipped")  # saved, editable
    page.get_by_label("Text").first.fill("Hi {custmer_name}")
    page.get_by_label("Title").first.fill("typo")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("unknown variable {custmer_name}")

    page.context.clear_cookies()
    team.post("where is my order 778812? nobody answers", author="mia")
    sign_in(page, live_server, team.agent, "/inbox?view=unassigned")
    page.locator("#rows a").first.click()
    page.get_by_label("Canned response").select_option(label="shipped")
    reply = page.get_by_role("textbox", name="Reply")
    expect(reply).to_have_value("Hi Customer mia, Ana here: order 778812 left today.")
    page.get_by_role("button", name="Send (Ctrl+Enter)").click()
    expect(page.locator(".thread .msg.outbound .text")).to_have_text(
        "Hi Customer mia, Ana here: order 778812 left today."
    )
    assert page_errors == []
