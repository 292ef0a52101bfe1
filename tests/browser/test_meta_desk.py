"""The conversation page for Facebook and Instagram (docs/channels.md#facebook-and-instagram): the private reply
window's clock warns in its last hour and names the human-agent tag once it is in use; a comment is hidden on the
platform (a local fake Graph API) and shown again from the thread."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.secret_box import new_key
from careline.agents import commands as admin
from careline.bootstrap import Careline
from careline.channels.commands import ConfigureMetaAccount
from careline.config import Settings
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import InboundMessage
from integration.fake_graph import FakeGraph

from .conftest import LiveServer
from .test_desktop import sign_in, team_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


def arrive(app: Careline, account: str, platform_id: str, *, visibility: str, hours_ago: float) -> str:
    """A customer's message on a Facebook account, written ``hours_ago``; its conversation."""
    message = InboundMessage(
        channel="facebook",
        account=account,
        platform_message_id=platform_id,
        author_id="6100000000000001",
        text="Where is my refund?",
        created_at=datetime.now(UTC) - timedelta(hours=hours_ago),
        visibility=visibility,
        thread_key="dm:6100000000000001" if visibility == "private" else None,
    )
    conversation_id = app.handle(IngestMessages(items=(message,))).items[0].conversation_id
    assert conversation_id is not None
    return str(conversation_id)


def test_the_reply_window_warns_in_its_last_hour_and_names_the_human_agent_tag(
    live_server: LiveServer, page: Page
) -> None:
    team = team_of(live_server)
    app = live_server.app
    for name in ("acme-page", "acme-agents"):
        app.handle(admin.CreateChannelAccount(kind="facebook", name=name))
    app.handle(ConfigureMetaAccount(account="acme-agents", agent_id=team.admin.id, human_agent=True))
    closing = arrive(app, "acme-page", "m_1", visibility="private", hours_ago=23.5)
    tagged = arrive(app, "acme-agents", "m_2", visibility="private", hours_ago=30)

    sign_in(page, live_server, team.agent, f"/conversations/{closing}")
    window = page.locator("#reply-window")
    expect(window).to_have_class(re.compile(r"\bclosing\b"))
    expect(window).to_contain_text(re.compile(r"closes in 0 h [23]\d min"))
    expect(window).to_contain_text("closing soon")

    page.goto(f"{live_server.url}/conversations/{tagged}")
    expect(window).to_contain_text("human-agent tag, 7 days")
    expect(window).to_contain_text(re.compile(r"closes in 5 d 1[78] h"))
    expect(window).not_to_have_class(re.compile(r"\bclosing\b"))


def test_an_agent_hides_a_comment_on_facebook_and_shows_it_again(
    live_server: LiveServer, page: Page, graph: FakeGraph
) -> None:
    team = team_of(live_server)
    app = live_server.app
    account = app.handle(admin.CreateChannelAccount(kind="facebook", name="acme-page"))
    app.handle(admin.SetChannelSecrets(account_id=account.id, secrets=(("page_access_token", "EAAG-token-0123"),)))
    app.handle(ConfigureMetaAccount(account="acme-page", agent_id=team.admin.id, graph_url=graph.url))
    conversation = arrive(app, "acme-page", "880_991", visibility="public", hours_ago=1)

    sign_in(page, live_server, team.agent, f"/conversations/{conversation}")
    page.get_by_role("button", name="Hide comment").click()
    expect(page.locator(".thread .badge.hidden-comment")).to_have_text("hidden on facebook")
    page.get_by_role("button", name="Show comment").click()
    expect(page.get_by_role("button", name="Hide comment")).to_be_visible()
    expect(page.locator(".thread .badge.hidden-comment")).to_have_count(0)

    assert [(c.path, c.body) for c in graph.calls] == [
        ("/880_991", {"is_hidden": True}),
        ("/880_991", {"is_hidden": False}),
    ]
    with app.engine.connect() as db:
        kinds = db.execute(sa.select(t.events.c.type).where(t.events.c.type.like("comment.%"))).scalars().all()
    assert kinds == ["comment.hidden", "comment.unhidden"]
