"""Collision detection over HTTP (docs/web.md#collision-detection): the desktop's presence heartbeats (CSRF and
access checked) and the reply form that will not send a crossing reply without "Send anyway"; SQLite and
PostgreSQL, a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents import commands as setup
from careline.bootstrap import Careline
from careline.entrypoints.api.server import ServerHandle
from careline.entrypoints.web.security import SESSION_COOKIE, csrf_for

from .conftest import PASSWORD, inbound


class Person:
    """A signed-in desktop session: the session cookie, and the CSRF token the pages would carry."""

    def __init__(self, app: Careline, server: ServerHandle, name: str, role: str = "agent") -> None:
        email = f"{name.lower()}@acme.example"
        self.agent = app.handle(setup.CreateAgent(name=name, email=email, password=PASSWORD, role=role))
        token, _ = app.handle(setup.IssueToken(email=email, password=PASSWORD))
        self.csrf = csrf_for(token)
        self.http = httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: token}, timeout=30)

    def beat(self, conversation_id: str, state: str = "viewing", seen: str = "") -> httpx.Response:
        return self.http.post(
            f"/conversations/{conversation_id}/presence",
            json={"state": state, "seen_message_id": seen},
            headers={"X-CSRF-Token": self.csrf},
        )

    def reply(self, conversation_id: str, text: str, seen: str, **extra: str) -> httpx.Response:
        form = {"csrf_token": self.csrf, "text": text, "visibility": "public", "seen_message_id": seen, **extra}
        return self.http.post(f"/conversations/{conversation_id}/reply", data=form)


@pytest.fixture
def people(app: Careline, server: ServerHandle) -> Iterator[dict[str, Person]]:
    found = {name: Person(app, server, name, role) for name, role in (("Ana", "agent"), ("Cy", "supervisor"))}
    yield found
    for person in found.values():
        person.http.close()


def _conversation(client: httpx.Client, headers: dict[str, str], platform_id: str, **fields: str) -> str:
    answer = client.post("/api/v1/messages", json=inbound(platform_id, **fields), headers=headers)
    assert answer.status_code == 201, answer.text
    conversation_id: str = answer.json()["results"][0]["conversation_id"]
    return conversation_id


def _messages(app: Careline, conversation_id: str) -> list[tuple[str, str]]:
    m = t.messages.c
    with app.engine.connect() as db:
        rows = db.execute(
            sa.select(m.id, m.text).where(m.conversation_id == conversation_id).order_by(m.created_at, m.id)
        )
        return [(row.id, row.text) for row in rows]


def test_two_people_on_a_conversation_see_each_other_until_one_leaves(
    client: httpx.Client, admin: dict[str, str], people: dict[str, Person]
) -> None:
    ana, cy = people["Ana"], people["Cy"]
    conversation_id = _conversation(client, admin, "presence-1")

    first = ana.beat(conversation_id)
    assert first.status_code == 200 and first.json() == {"others": [], "crossing": None}
    cy.beat(conversation_id, "typing")
    seen_by_ana = ana.beat(conversation_id).json()["others"]
    assert [(o["name"], o["state"]) for o in seen_by_ana] == [("Cy", "typing")]
    assert [(o["name"], o["state"]) for o in cy.beat(conversation_id).json()["others"]] == [("Ana", "viewing")]

    # Leaving, as a beacon does it: no header, the token as a form field; without it the request is refused.
    assert cy.http.post(f"/conversations/{conversation_id}/presence/leave").status_code == 403
    left = cy.http.post(f"/conversations/{conversation_id}/presence/leave", data={"csrf_token": cy.csrf})
    assert left.status_code == 204
    assert ana.beat(conversation_id).json()["others"] == []


def test_a_heartbeat_needs_its_csrf_token_a_known_state_and_a_conversation_one_may_see(
    app: Careline, client: httpx.Client, admin: dict[str, str], people: dict[str, Person]
) -> None:
    ana, cy = people["Ana"], people["Cy"]
    conversation_id = _conversation(client, admin, "presence-2")
    forged = ana.http.post(f"/conversations/{conversation_id}/presence", json={"state": "viewing"})
    assert forged.status_code == 403
    wrong = ana.http.post(
        f"/conversations/{conversation_id}/presence", json={"state": "viewing"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert ana.beat(conversation_id, "sleeping").status_code == 422
    assert ana.beat("cnv_missing").status_code == 404

    vip = app.handle(setup.CreateQueue(name="vip", keywords=("platinum",)))
    app.handle(setup.SetQueueRouting(queue_id=vip.id, target='"vip" in teams'))
    private = _conversation(client, admin, "presence-3", text="my platinum card", visibility="private")
    assert ana.beat(private).status_code == 403  # not her team's private conversation
    assert cy.beat(private).status_code == 200  # a supervisor's
    with app.engine.connect() as db:
        rows = db.execute(sa.select(t.conversation_presence.c.agent_id)).scalars().all()
    assert rows == [cy.agent.id]


def test_a_reply_that_crosses_another_is_held_until_sent_anyway(
    app: Careline, client: httpx.Client, admin: dict[str, str], people: dict[str, Person]
) -> None:
    ana, cy = people["Ana"], people["Cy"]
    conversation_id = _conversation(client, admin, "crossing-1")
    [(on_screen, _)] = _messages(app, conversation_id)  # both pages were loaded with this message the newest

    sent = ana.reply(conversation_id, "Ana here: refund on its way.", on_screen)
    assert sent.status_code == 303
    assert "Ana replied" in cy.beat(conversation_id, seen=on_screen).json()["crossing"]

    held = cy.reply(conversation_id, "Cy here: <b>we are on it</b>", on_screen)
    assert held.status_code == 409
    assert "Ana replied to this conversation while you were writing" in held.text
    assert "Ana here: refund on its way." in held.text  # the reply that crossed, on the page again
    assert "Cy here: &lt;b&gt;we are on it&lt;/b&gt;</textarea>" in held.text  # the draft kept, as text
    assert re.search(r'<button type="submit" name="confirm" value="1">Send anyway</button>', held.text)
    assert [text for _, text in _messages(app, conversation_id)][1:] == ["Ana here: refund on its way."]

    anyway = cy.reply(conversation_id, "Cy here: <b>we are on it</b>", on_screen, confirm="1")
    assert anyway.status_code == 303
    texts = [text for _, text in _messages(app, conversation_id)]
    assert texts[1:] == ["Ana here: refund on its way.", "Cy here: <b>we are on it</b>"]

    newest = _messages(app, conversation_id)[-1][0]
    again = ana.reply(conversation_id, "Ana: anything else?", newest)  # she has Cy's reply on screen: no warning
    assert again.status_code == 303
