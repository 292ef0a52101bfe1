"""The screen pop in the browser: when the PBX says the phone rings at an agent, their page shows who is calling
and the caller's open conversations on other channels; the caller id name is shown as text
(docs/web.md#screen-pop)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from careline.agents import commands as admin
from careline.voice.commands import RecordCallEvent

from .conftest import LiveServer
from .test_desktop import sign_in, team_of

NUMBER = "+14155550123"


def test_the_phone_ringing_at_an_agent_pops_the_caller_and_their_open_conversations(
    live_server: LiveServer, page: Page, page_errors: list[str]
) -> None:
    app = live_server.app
    team = team_of(live_server)
    team.post("my refund never arrived, order 1234", author=NUMBER)  # the same number wrote through a connector
    app.handle(admin.CreateChannelAccount(kind="voice", name="switchboard"))
    sign_in(page, live_server, team.agent, "/inbox")

    for event in ("ringing", "answered"):  # both name Ana: one pop
        app.handle(
            RecordCallEvent(
                account="switchboard",
                call_id="pbx-1",
                event=event,
                caller=NUMBER,
                agent_email=team.agent.email,
                caller_name="<img src=x onerror=alert(1)>",
            )
        )

    pop = page.get_by_role("alertdialog", name="Incoming call")
    expect(pop).to_be_visible()
    expect(pop).to_contain_text("Call from")
    expect(pop).to_contain_text(NUMBER)
    expect(pop.get_by_role("link")).to_have_text("api · new")
    expect(pop).to_contain_text("my refund never arrived")
    expect(pop).to_have_count(1)
    pop.get_by_role("link").click()
    expect(page.locator(".thread")).to_contain_text("my refund never arrived")
    assert page_errors == []


def test_another_agent_s_call_does_not_pop_and_its_pop_is_refused(live_server: LiveServer, page: Page) -> None:
    app = live_server.app
    team = team_of(live_server)
    app.handle(admin.CreateChannelAccount(kind="voice", name="switchboard"))
    sign_in(page, live_server, team.other, "/inbox?view=unassigned")
    call = app.handle(
        RecordCallEvent(
            account="switchboard", call_id="pbx-2", event="ringing", caller=NUMBER, agent_email=team.agent.email
        )
    )

    team.post("a post after the call, for the page to show", author="cust-9")  # the stream keeps the log's order

    expect(page.locator("#rows")).to_contain_text("a post after the call")  # so the call's event was seen already
    expect(page.locator(".call-pop")).to_have_count(0)
    answer = page.request.get(f"{live_server.url}/calls/{call.id}/pop")
    assert answer.status == 403
