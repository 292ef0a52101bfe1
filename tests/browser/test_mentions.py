"""@mentions in the browser: a note mentioning a colleague shows in their "Mentions" view and pops up for them
live; opening the conversation clears it. And the customer's notes and details, edited in the panel."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from .conftest import VIEWPORT, LiveServer
from .test_desktop import sign_in, team_of


def test_a_mentioned_colleague_is_told_live_and_finds_it_in_mentions(
    live_server: LiveServer, browser: Browser, page: Page, page_errors: list[str]
) -> None:
    team = team_of(live_server)
    team.post("my bag is lost, booking ref XK-4471")
    bo = browser.new_context(viewport=VIEWPORT).new_page()
    try:
        sign_in(bo, live_server, team.other, "/inbox?view=mentions")
        expect(bo.locator('[data-count="mentions"]')).to_have_text("0")

        sign_in(page, live_server, team.agent, "/inbox?view=unassigned")
        page.locator("#rows a").first.click()
        page.get_by_label("Internal note").fill("@bo you handled this customer last week, any idea?")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".thread .msg.note .text")).to_contain_text("@bo you handled")

        expect(bo.locator(".offer.mention")).to_contain_text("You were mentioned")  # live, no reload
        expect(bo.locator('[data-count="mentions"]')).to_have_text("1")
        expect(bo.locator("#rows tr")).to_have_count(1)
        bo.locator(".offer.mention a").click()
        expect(bo.locator(".thread")).to_contain_text("@bo you handled")
        bo.goto(f"{live_server.url}/inbox?view=mentions")
        expect(bo.locator('[data-count="mentions"]')).to_have_text("0")
    finally:
        bo.context.close()

    page.locator("summary", has_text="Edit notes and details").click()
    page.get_by_label("Notes", exact=True).fill("Lost a bag before; be generous.")
    page.get_by_label('Details, one "name: value" per line').fill("plan: gold\naccount number: A-77")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".customer-notes")).to_have_text("Lost a bag before; be generous.")
    expect(page.locator(".fields")).to_contain_text("account number")
    expect(page.locator(".fields")).to_contain_text("A-77")
    assert page_errors == []
