"""Routing on a real database: capacity, longest idle, skills, no double assignment, and racing routers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.adapters.db.engine import create_engine
from careline.adapters.db.uow import SqlUnitOfWork
from careline.agents import commands as admin
from careline.agents.model import Agent
from careline.bootstrap import Careline
from careline.conversations import commands as cmd
from careline.ingestion.commands import IngestMessages
from careline.ingestion.handlers import Ingestor
from careline.ingestion.model import InboundMessage
from careline.routing.handlers import Router
from careline.routing.model import Job
from integration.support import Desk, PauseAtStatement, a_session_waits_on_a_lock

GUARD = 60  # seconds: only to turn a deadlock into a failure, never a measurement


def assignees(desk: Desk) -> dict[str, str | None]:
    return {row.id: row.assignee_id for row in desk.rows(t.conversations)}


def held_by(desk: Desk) -> Counter[str]:
    c = t.conversations.c
    held = desk.rows(t.conversations, c.assignee_id.is_not(None), c.status != "resolved")
    return Counter(row.assignee_id for row in held)


def assignment_counts(desk: Desk) -> Counter[str]:
    return Counter(row.conversation_id for row in desk.events(None, "conversation.assigned"))


def never_held_by_two(desk: Desk) -> bool:
    """In each conversation's log, assigned and unassigned alternate: never a second holder before a release."""
    held: dict[str, str | None] = {}
    for row in desk.events(None, "conversation.assigned", "conversation.unassigned"):
        if row.type == "conversation.assigned":
            if held.get(row.conversation_id) not in (None, row.data["agent_id"]):
                return False
            held[row.conversation_id] = row.data["agent_id"]
        else:
            held[row.conversation_id] = None
    return True


def post(desk: Desk, text: str = "question about my order", **fields: Any) -> str:
    """A customer post through the bus (which triggers a routing pass); one minute later than the last."""
    desk.clock.advance(minutes=1)
    return desk.conversation_of(desk.ingest(desk.message(text, **fields)))


def commit_unrouted(desk: Desk, *texts: str) -> list[str]:
    """Waiting work committed by the real Ingestor, whose events no router has seen yet."""
    ingestor = Ingestor(desk.app.uow, desk.clock, desk.app.triage)
    items: list[InboundMessage] = []
    for text in texts:
        desk.clock.advance(seconds=1)
        items.append(desk.message(text, author_id=f"author-{len(items)}"))
    result, _events = ingestor.ingest(IngestMessages(items=tuple(items)))
    return [item.conversation_id for item in result.items if item.conversation_id]


# -- one router -------------------------------------------------------------------------------------------


def test_an_agent_coming_online_gets_the_oldest_waiting_work_up_to_capacity(desk: Desk) -> None:
    waiting = [post(desk) for _ in range(4)]
    ann = desk.agent("ann", capacity=(("x", 2),))
    assert held_by(desk) == Counter()

    desk.clock.advance(minutes=1)
    desk.app.handle(admin.SetAgentStatus(agent_id=ann.id, status="online"))

    assert [assignees(desk)[c] for c in waiting] == [ann.id, ann.id, None, None]
    assert {row.actor for row in desk.events(None, "conversation.assigned")} == {"system:router"}


def test_freeing_capacity_routes_the_next_waiting_conversation(desk: Desk) -> None:
    ann = desk.agent("ann", online=True, capacity=(("x", 1),))
    first, second = post(desk), post(desk)
    assert (assignees(desk)[first], assignees(desk)[second]) == (ann.id, None)

    desk.app.handle(cmd.ResolveConversation(conversation_id=first, agent_id=ann.id))

    assert assignees(desk)[second] == ann.id
    assert held_by(desk) == Counter({ann.id: 1})


def test_the_longest_idle_agent_is_offered_work_first(desk: Desk) -> None:
    ann = desk.agent("ann", online=True)
    desk.clock.advance(minutes=1)
    bob = desk.agent("bob", online=True)

    first, second, third = post(desk), post(desk), post(desk)

    assert [assignees(desk)[c] for c in (first, second, third)] == [ann.id, bob.id, ann.id]


def test_higher_priority_work_is_offered_first(desk: Desk) -> None:
    calm = post(desk, "question about my order")
    angry = post(desk, "worst service ever, I am furious and disgusted")
    ann = desk.agent("ann", capacity=(("x", 1),))

    desk.app.handle(admin.SetAgentStatus(agent_id=ann.id, status="online"))

    assert (assignees(desk)[angry], assignees(desk)[calm]) == (ann.id, None)


def test_skills_decide_who_can_take_a_queue(desk: Desk) -> None:
    desk.queue("billing", keywords=("refund",), required_skills=frozenset({"billing"}), rank=10)
    generalist = desk.agent("ann", online=True)
    desk.clock.advance(minutes=1)
    biller = desk.agent("bob", online=True, skills=frozenset({"Billing"}))

    refund = post(desk, "I need a refund")
    hello = post(desk, "hello there")
    another_refund = post(desk, "refund please", author_id="cust-2")

    assert [assignees(desk)[c] for c in (refund, hello, another_refund)] == [biller.id, generalist.id, biller.id]


def test_work_nobody_is_skilled_for_waits(desk: Desk) -> None:
    desk.queue("spanish", keywords=("hola",), required_skills=frozenset({"spanish"}), rank=10)
    desk.agent("ann", online=True)
    waiting = post(desk, "hola, necesito ayuda")
    assert assignees(desk)[waiting] is None


@pytest.mark.parametrize("status", ["away", "offline"])
def test_agents_who_are_not_online_get_nothing(desk: Desk, status: str) -> None:
    ann = desk.agent("ann", online=True)
    desk.app.handle(admin.SetAgentStatus(agent_id=ann.id, status=status))
    waiting = post(desk)
    assert assignees(desk)[waiting] is None

    desk.app.handle(admin.SetAgentStatus(agent_id=ann.id, status="online"))
    assert assignees(desk)[waiting] == ann.id


def test_many_passes_never_assign_a_conversation_twice_or_overfill_anyone(desk: Desk) -> None:
    agents = [desk.agent(name, online=True, capacity=(("x", 2),)) for name in ("ann", "bob", "cyd")]
    conversations = [post(desk, author_id=f"c{n}") for n in range(9)]
    desk.app.handle(admin.SetAgentStatus(agent_id=agents[0].id, status="away"))
    desk.app.handle(admin.SetAgentStatus(agent_id=agents[0].id, status="online"))
    for conversation_id in conversations[:2]:
        holder = assignees(desk)[conversation_id]
        assert holder is not None
        desk.app.handle(cmd.ResolveConversation(conversation_id=conversation_id, agent_id=holder))

    # Ann's pending offers were revoked when she went away and made again when she came back: a conversation
    # may be assigned more than once, but never again before it was unassigned.
    assert never_held_by_two(desk)
    assert all(held <= 2 for held in held_by(desk).values())
    assert sum(held_by(desk).values()) == 6
    assert sum(1 for c in conversations if assignees(desk)[c] is not None) == 8


# -- racing routers ---------------------------------------------------------------------------------------


def run_together(*jobs: Callable[[], object]) -> None:
    """Start the jobs at the same moment on their own threads; re-raise the first failure."""
    barrier = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=GUARD)
            job()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=GUARD)
    assert not any(thread.is_alive() for thread in threads), "a router never finished"
    if failures:
        raise failures[0]


def test_routers_racing_over_the_same_work_assign_each_conversation_once(desk: Desk) -> None:
    capacities = {"ann": 2, "bob": 3, "cyd": 1}
    agents = {name: desk.agent(name, online=True, capacity=(("x", n),)) for name, n in capacities.items()}
    waiting = commit_unrouted(desk, *[f"question {n} about my order" for n in range(10)])
    assert len(waiting) == 10 and held_by(desk) == Counter()

    routers = [Router(desk.app.uow, desk.clock) for _ in range(4)]
    run_together(*[router.sweep for router in routers])

    counts = assignment_counts(desk)
    assert set(counts.values()) == {1}
    assert len(counts) == sum(capacities.values())
    held = held_by(desk)
    for name, agent in agents.items():
        assert held[agent.id] == capacities[name]
    last_assigned = {row.conversation_id: row.data["agent_id"] for row in desk.events(None, "conversation.assigned")}
    assert {c: a for c, a in assignees(desk).items() if a is not None} == last_assigned


@pytest.fixture
def second_engine(clocked_app: Careline) -> Iterator[sa.Engine]:
    """Another process's connection pool onto the same database."""
    engine = create_engine(clocked_app.settings.effective_database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_router_that_planned_on_stale_loads_cannot_overfill_an_agent(desk: Desk, second_engine: sa.Engine) -> None:
    """Router A has read an empty desk and planned; meanwhile new, more urgent work arrives and the app's own
    router gives it to the same agent. When A goes on, the agent must still hold no more than capacity."""
    ann: Agent = desk.agent("ann", online=True, capacity=(("x", 1),))
    [calm] = commit_unrouted(desk, "question about my order")
    pause = PauseAtStatement(second_engine, lambda sql: sql.lstrip().upper().startswith("UPDATE AGENTS"))
    router_a = Router(partial(SqlUnitOfWork, second_engine, desk.clock), desk.clock)
    outcome: dict[str, BaseException | None] = {}

    def run(name: str, job: Callable[[], object]) -> threading.Thread:
        def target() -> None:
            try:
                job()
                outcome[name] = None
            except BaseException as error:  # noqa: BLE001 - handed to the test thread below
                outcome[name] = error

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    a = run("a", partial(router_a.route, calm))
    assert pause.reached.wait(timeout=GUARD), "router A never reached its first write"
    b = run("b", lambda: post(desk, "worst service ever, I am furious and disgusted", author_id="angry"))
    # Let A go on once B has either finished or queued behind a lock; which one happens is what is tested.
    give_up = time.monotonic() + GUARD
    while b.is_alive() and not a_session_waits_on_a_lock(desk.app.engine):
        assert time.monotonic() < give_up, "B neither finished nor waited on a lock"
        time.sleep(0.01)
    pause.go.set()
    a.join(timeout=GUARD)
    b.join(timeout=GUARD)
    assert not a.is_alive() and not b.is_alive()
    assert outcome == {"a": None, "b": None}

    assert held_by(desk)[ann.id] <= 1
    assert max(assignment_counts(desk).values()) == 1
    assert calm in assignees(desk)


def test_work_on_a_free_channel_is_offered_behind_a_long_backlog_on_a_full_one(desk: Desk) -> None:
    """600 urgent X posts wait (more than one pass reads) while nobody has room on X; a chat still gets an agent."""
    desk.account("acme-chat", kind="webchat")
    backlog = [
        desk.message("this is the worst, I am furious", platform_message_id=f"x{i}", author_id=f"x-{i}")
        for i in range(600)
    ]
    desk.ingest(*backlog)
    desk.clock.advance(minutes=1)
    chat = desk.conversation_of(
        desk.ingest(desk.message("hello, a quick question", channel="webchat", account="acme-chat"))
    )
    agent = desk.agent("wren", online=True, capacity=(("x", 0), ("webchat", 1)))
    assert {cid: who for cid, who in assignees(desk).items() if who} == {chat: agent.id}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_router_never_takes_over_a_conversation_an_agent_accepted_meanwhile(
    desk: Desk, second_engine: sa.Engine
) -> None:
    router_side: Agent = desk.agent("ann", online=True)
    picker: Agent = desk.agent("bob")
    [waiting] = commit_unrouted(desk, "my parcel is lost")
    # where the router looks for an agent: after reading the conversation as waiting
    pause = PauseAtStatement(second_engine, lambda sql: "JOIN agent_pools" in sql)
    router = Router(partial(SqlUnitOfWork, second_engine, desk.clock), desk.clock)
    failures: list[BaseException] = []

    def route() -> None:
        try:
            router.run(Job("conversation", waiting))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            failures.append(error)

    thread = threading.Thread(target=route)
    thread.start()
    assert pause.reached.wait(timeout=GUARD), "the router never loaded its planned work"
    desk.app.handle(cmd.AcceptConversation(conversation_id=waiting, agent_id=picker.id))  # bob picks it himself
    pause.go.set()
    thread.join(timeout=GUARD)
    assert not thread.is_alive() and failures == []

    assert assignees(desk)[waiting] == picker.id
    assert router_side.id not in {e.data["agent_id"] for e in desk.events(waiting, "conversation.assigned")}
