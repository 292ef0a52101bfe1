"""Collision detection's storage and rule (docs/web.md#collision-detection), on SQLite and PostgreSQL: presence
heartbeats upserted in the database, who else is seen and for how long, and the warning for a crossing reply."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from careline.adapters.db import presence
from careline.adapters.db import tables as t
from careline.agents.model import Agent
from careline.conversations import commands as cmd
from careline.entrypoints.web.collision import crossing
from integration.support import Desk


def _conversation(desk: Desk) -> str:
    return desk.conversation_of(desk.ingest(desk.message("my parcel never came")))


def _people(desk: Desk) -> tuple[Agent, Agent, Agent]:
    return desk.agent("Ana"), desk.agent("Bo"), desk.agent("Cy", role="supervisor")


def _seen(found: list[presence.Presence]) -> list[tuple[str, str, int]]:
    return [(p.name, p.state, p.seconds_ago) for p in found]


def test_each_person_sees_the_others_on_the_conversation_but_not_themselves(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    elsewhere = desk.conversation_of(desk.ingest(desk.message("another thread", author_id="cust-2")))
    ana, bo, cy = _people(desk)
    engine = desk.app.engine

    presence.beat(engine, conversation_id, ana.id, "viewing", desk.clock())
    desk.clock.advance(seconds=2)
    presence.beat(engine, conversation_id, bo.id, "typing", desk.clock())
    presence.beat(engine, elsewhere, cy.id, "viewing", desk.clock())

    now = desk.clock()
    assert _seen(presence.others(engine, conversation_id, ana.id, now)) == [("Bo", "typing", 0)]
    assert _seen(presence.others(engine, conversation_id, bo.id, now)) == [("Ana", "viewing", 2)]
    assert _seen(presence.others(engine, conversation_id, cy.id, now)) == [("Bo", "typing", 0), ("Ana", "viewing", 2)]
    assert presence.others(engine, elsewhere, cy.id, now) == []


def test_typing_fades_to_viewing_and_a_silent_page_is_gone_after_ten_seconds(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    ana, bo, _ = _people(desk)
    engine = desk.app.engine
    presence.beat(engine, conversation_id, bo.id, "typing", desk.clock())

    desk.clock.advance(seconds=5)
    assert _seen(presence.others(engine, conversation_id, ana.id, desk.clock())) == [("Bo", "typing", 5)]
    desk.clock.advance(seconds=1)
    assert _seen(presence.others(engine, conversation_id, ana.id, desk.clock())) == [("Bo", "viewing", 6)]
    presence.beat(engine, conversation_id, bo.id, "viewing", desk.clock())  # stopped typing: the page says so
    assert _seen(presence.others(engine, conversation_id, ana.id, desk.clock())) == [("Bo", "viewing", 0)]
    desk.clock.advance(seconds=10)
    assert _seen(presence.others(engine, conversation_id, ana.id, desk.clock())) == [("Bo", "viewing", 10)]
    desk.clock.advance(seconds=1)
    assert presence.others(engine, conversation_id, ana.id, desk.clock()) == []


def test_a_heartbeat_updates_one_row_and_leaving_removes_it(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    ana, bo, _ = _people(desk)
    engine = desk.app.engine
    for state in ("viewing", "typing", "viewing", "typing"):
        presence.beat(engine, conversation_id, bo.id, state, desk.clock())
        desk.clock.advance(seconds=1)
    [row] = desk.rows(t.conversation_presence)
    assert (row.agent_id, row.state, row.seen_at) == (bo.id, "typing", desk.clock.now - timedelta(seconds=1))

    presence.leave(engine, conversation_id, bo.id)
    presence.leave(engine, conversation_id, bo.id)  # a second leave (two tabs) is harmless
    assert desk.rows(t.conversation_presence) == []
    assert presence.others(engine, conversation_id, ana.id, desk.clock()) == []


def test_rows_of_pages_gone_for_a_minute_are_swept_by_the_next_heartbeat(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    ana, bo, cy = _people(desk)
    engine = desk.app.engine
    presence.beat(engine, conversation_id, bo.id, "viewing", desk.clock())
    desk.clock.advance(seconds=30)
    presence.beat(engine, conversation_id, cy.id, "viewing", desk.clock())
    desk.clock.advance(seconds=31)
    presence.beat(engine, conversation_id, ana.id, "viewing", desk.clock())
    assert sorted(row.agent_id for row in desk.rows(t.conversation_presence)) == sorted([ana.id, cy.id])


def test_many_pages_beating_at_once_never_block_each_other(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    people = [desk.agent(f"agent{n}") for n in range(8)]
    engine, start = desk.app.engine, desk.clock()

    def beats(n: int) -> None:
        for round_ in range(15):  # clocks far apart: every heartbeat finds stale rows of the others to sweep
            now = start + timedelta(seconds=90 * round_ + 45 * (n % 2))
            presence.beat(engine, conversation_id, people[n].id, "typing" if round_ % 2 else "viewing", now)

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        list(pool.map(beats, range(len(people))))  # an error in any thread (a deadlock) is raised here
    left = len(desk.rows(t.conversation_presence))
    assert 0 < left <= len(people)  # the last beats stayed; stale rows were swept, never duplicated


def test_an_unknown_state_is_refused(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    ana, _, _ = _people(desk)
    with pytest.raises(ValueError, match="sleeping"):
        presence.beat(desk.app.engine, conversation_id, ana.id, "sleeping", desk.clock())  # type: ignore[arg-type]
    assert desk.rows(t.conversation_presence) == []


def test_a_reply_written_after_the_newest_message_on_screen_crosses(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    ana, bo, cy = _people(desk)
    engine = desk.app.engine
    [on_screen] = _message_ids(desk, conversation_id)
    assert crossing(engine, conversation_id, bo.id, on_screen) is None  # nobody replied yet

    desk.clock.advance(seconds=5)
    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=ana.id, text="Looking into it now."))
    warning = crossing(engine, conversation_id, bo.id, on_screen)
    assert warning is not None and warning.startswith("Ana replied")
    assert crossing(engine, conversation_id, ana.id, on_screen) is None  # one's own reply crosses nothing

    anas_reply = _message_ids(desk, conversation_id)[-1]
    assert crossing(engine, conversation_id, bo.id, anas_reply) is None  # Bo has it on screen now

    desk.clock.advance(seconds=5)
    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=cy.id, text="Supervisor here."))
    warning = crossing(engine, conversation_id, bo.id, on_screen)
    assert warning is not None and warning.startswith("Ana and Cy replied")


def test_notes_and_unknown_messages_raise_no_warning(desk: Desk) -> None:
    conversation_id = _conversation(desk)
    other = desk.conversation_of(desk.ingest(desk.message("unrelated", author_id="cust-9")))
    ana, bo, _ = _people(desk)
    engine = desk.app.engine
    [on_screen] = _message_ids(desk, conversation_id)
    desk.clock.advance(seconds=5)
    desk.app.handle(cmd.AddNote(conversation_id=conversation_id, agent_id=ana.id, text="customer is a VIP"))
    assert crossing(engine, conversation_id, bo.id, on_screen) is None

    desk.app.handle(cmd.SendReply(conversation_id=conversation_id, agent_id=ana.id, text="On it."))
    [other_message] = _message_ids(desk, other)
    assert crossing(engine, conversation_id, bo.id, other_message) is None  # not a message of this conversation
    assert crossing(engine, conversation_id, bo.id, "") is None
    assert crossing(engine, conversation_id, bo.id, on_screen) is not None


def _message_ids(desk: Desk, conversation_id: str) -> list[str]:
    m = t.messages.c
    return [row.id for row in desk.rows(t.messages, m.conversation_id == conversation_id, order_by=m.created_at)]
