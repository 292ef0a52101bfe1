"""Several router processes on PostgreSQL and one Redis stream, under load (docs/routing.md#several-routers).

Four real `careline router` processes share the routing jobs while this process plays the API (it ingests posts
in concurrent batches, agents go on and off line) and the agents (threads that accept, sometimes reject, and
resolve their offers). Throughout, a sampler reads the database in single snapshots: no conversation has two
pending offers or is held by an agent other than its offer's, and no agent holds more than its capacity. At the
end every conversation has been answered and resolved: nothing queued was forgotten.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.agents import commands as admin
from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from careline.conversations import commands as conv
from careline.entrypoints.cli.setup import ensure_defaults
from careline.ingestion.commands import IngestMessages
from careline.ingestion.model import InboundMessage
from careline.kernel.errors import CarelineError
from careline.routing import commands as routing

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

ROUTERS = 4
AGENTS = 16
POSTS = 240
EXPERTS = (0, 3)  # the agents with the billing skill
GUARD = 120.0


@pytest.fixture
def scaled(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Careline]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        redis_url=redis_url,
        routing_stream=f"careline:test:{uuid.uuid4().hex[:8]}",
        routing_sweep_seconds=0.5,
    )
    app = bootstrap(settings)
    ensure_defaults(app)
    yield app
    assert app.jobs is not None
    app.jobs._redis.delete(settings.routing_stream)  # noqa: SLF001 - the test's own stream
    app.close()


def start_routers(app: Careline, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "CARELINE_HOME": str(app.settings.home),
        "CARELINE_DATABASE_URL": app.settings.effective_database_url,
        "CARELINE_REDIS_URL": app.settings.redis_url or "",
        "CARELINE_ROUTING_STREAM": app.settings.routing_stream,
        "CARELINE_ROUTING_SWEEP_SECONDS": "0.5",
    }
    command = [sys.executable, "-m", "careline", "router", "--idle-exit", "6", "--batch", "20"]
    return [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        for _ in range(count)
    ]


def snapshot_problems(engine: sa.Engine) -> list[str]:
    """Invariants read in one statement each (each one a consistent snapshot)."""
    problems: list[str] = []
    with engine.connect() as db:
        o, c, a = t.offers.c, t.conversations.c, t.agents.c
        twice = db.execute(
            sa.select(o.conversation_id, sa.func.count())
            .where(o.status == "pending")
            .group_by(o.conversation_id)
            .having(sa.func.count() > 1)
        ).all()
        problems += [f"{cid} has {n} pending offers" for cid, n in twice]
        held = db.execute(
            sa.select(c.assignee_id, sa.func.count()).where(c.status != "resolved").group_by(c.assignee_id)
        ).all()
        capacity = {agent: cap["api"] for agent, cap in db.execute(sa.select(a.id, a.capacity))}
        problems += [f"{agent} holds {n} > {capacity[agent]}" for agent, n in held if agent and n > capacity[agent]]
        mismatched = db.execute(
            sa.select(o.conversation_id)
            .join(t.conversations, c.id == o.conversation_id)
            .where(o.status == "pending", c.assignee_id != o.agent_id)
        ).all()
        problems += [f"{cid}: its pending offer is not to its assignee" for (cid,) in mismatched]
    return problems


def state(app: Careline) -> dict[str, object]:
    """What is where, for a failure's message."""
    with app.engine.connect() as db:
        return {
            "conversations": Counter(db.execute(sa.select(t.conversations.c.status)).scalars()),
            "assigned_open": db.execute(
                sa.select(sa.func.count()).where(
                    t.conversations.c.assignee_id.is_not(None), t.conversations.c.status != "resolved"
                )
            ).scalar(),
            "tickets_waiting": db.execute(
                sa.select(sa.func.count()).where(t.routing_tickets.c.waiting.is_(True))
            ).scalar(),
            "offers": Counter(db.execute(sa.select(t.offers.c.status)).scalars()),
            "agents": Counter(db.execute(sa.select(t.agents.c.status)).scalars()),
            "pending": [
                (row.agent_id, row.conversation_id, row.status_1, row.assignee_id, row.offered_at)
                for row in db.execute(
                    sa.select(
                        t.offers.c.agent_id,
                        t.offers.c.conversation_id,
                        t.conversations.c.status,
                        t.conversations.c.assignee_id,
                        t.offers.c.offered_at,
                    )
                    .join(t.conversations, t.conversations.c.id == t.offers.c.conversation_id)
                    .where(t.offers.c.status == "pending")
                )
            ],
        }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_routers_never_double_assign_never_overfill_never_forget(scaled: Careline) -> None:
    app = scaled
    rng = random.Random(7)
    app.handle(admin.CreateQueue(name="billing", keywords=("refund", "charged", "invoice")))
    with app.uow(read_only=True) as uow:
        billing = next(q for q in uow.queues.all() if q.name == "billing")
    app.handle(admin.SetQueueRouting(queue_id=billing.id, target='"billing" in skills'))
    agents = []
    for n in range(AGENTS):
        agent = app.handle(admin.CreateAgent(name=f"agent {n}", email=f"a{n}@example.com", password="secret-password"))
        skills = (("billing", rng.randint(3, 9)),) if n in EXPERTS else (("general", 5),)  # scarce experts
        app.handle(admin.SetRoutingProfile(agent_id=agent.id, proficiency=skills, capacity=(("api", 1 + n % 3),)))
        agents.append(agent)
    # Work that waits for billing experts overflows to everyone after two seconds.
    app.handle(
        routing.SaveRoutingSettings(
            spec={
                "routes": [
                    {
                        "name": "money",
                        "when": 'queue == "billing"',
                        "steps": [
                            {"queue": "billing", "timeout_seconds": 2},
                            {"queue": "general"},
                        ],
                    },
                ],
                "offer_timeout_seconds": 60,
            }
        )
    )
    routers = start_routers(app, ROUTERS)
    stop = threading.Event()
    problems: list[str] = []
    failures: list[BaseException] = []
    answered: Counter[str] = Counter()

    def agent_desk(agent_id: str, index: int) -> None:
        local = random.Random(index)
        try:
            if index in EXPERTS:  # the experts come in late: billing work meanwhile waits past its step timeout
                stop.wait(3.0)
            app.handle(admin.SetAgentStatus(agent_id=agent_id, status="online"))
            while not stop.is_set():
                with app.uow(read_only=True) as uow:
                    pending = uow.routing.offers_of_agent(agent_id, "pending")
                for offer in pending:
                    try:
                        if local.random() < 0.1:
                            app.handle(routing.RejectOffer(offer_id=offer["id"], agent_id=agent_id, reason="busy"))
                            continue
                        app.handle(routing.AcceptOffer(offer_id=offer["id"], agent_id=agent_id))
                        answered[offer["conversation_id"]] += 1
                        time.sleep(local.uniform(0.0, 0.05))
                        app.handle(
                            conv.ResolveConversation(conversation_id=offer["conversation_id"], agent_id=agent_id)
                        )
                    except CarelineError:
                        pass  # the offer expired or was revoked meanwhile: the router moves on, so do we
                with app.uow(read_only=True) as uow:
                    if uow.agents.get(agent_id).status.value == "away":  # put away after a missed offer
                        app.handle(admin.SetAgentStatus(agent_id=agent_id, status="online"))  # back at the desk
                if local.random() < 0.02:  # a short break now and then
                    app.handle(admin.SetAgentStatus(agent_id=agent_id, status="away"))
                    time.sleep(0.2)
                    app.handle(admin.SetAgentStatus(agent_id=agent_id, status="online"))
                time.sleep(0.02)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            failures.append(error)

    def ingest(worker: int) -> None:
        try:
            for start in range(worker, POSTS, 60):
                batch = [
                    InboundMessage(
                        channel="api",
                        account="default",
                        platform_message_id=f"post-{i}",
                        author_id=f"customer-{i % 150}",
                        text="I was charged twice, refund please" if i % 4 == 0 else f"question {i} about my order",
                        created_at=datetime.now(UTC),
                    )
                    for i in range(start, min(start + 20, POSTS))
                ]
                app.handle(IngestMessages(items=tuple(batch)))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            failures.append(error)

    def sample() -> None:
        try:
            while not stop.is_set():
                problems.extend(snapshot_problems(app.engine))
                time.sleep(0.1)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            failures.append(error)

    threads = [threading.Thread(target=agent_desk, args=(a.id, n)) for n, a in enumerate(agents)]
    threads += [threading.Thread(target=ingest, args=(w * 20,)) for w in range(3)]
    sampler = threading.Thread(target=sample)
    for thread in [*threads, sampler]:
        thread.start()
    try:
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline and not failures:
            with app.engine.connect() as db:
                open_work = db.execute(
                    sa.select(sa.func.count())
                    .select_from(t.conversations)
                    .where(t.conversations.c.status != "resolved")
                ).scalar()
                total = db.execute(sa.select(sa.func.count()).select_from(t.conversations)).scalar()
            if total == POSTS and open_work == 0:
                break
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in [*threads, sampler]:
            thread.join(timeout=60)
    outputs = []
    for process in routers:
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        outputs.append(out.decode(errors="replace"))
    assert not failures, failures[0]
    assert all(p.returncode == 0 for p in routers), (outputs, state(app))
    assert problems == []

    with app.engine.connect() as db:
        sweepers = db.execute(sa.select(t.leases)).all()  # who held the sweep, for a failure's message
        statuses = Counter(db.execute(sa.select(t.conversations.c.status)).scalars())
        accepted = Counter(
            db.execute(sa.select(t.offers.c.conversation_id).where(t.offers.c.status == "accepted")).scalars()
        )
        escalated = db.execute(
            sa.select(sa.func.count()).select_from(t.events).where(t.events.c.type == "routing.escalated")
        ).scalar()
    assert statuses == {"resolved": POSTS}  # nothing forgotten: everything answered and resolved
    assert len(accepted) == POSTS and set(accepted.values()) == {1}  # each taken by exactly one agent, once
    assert sum(answered.values()) == POSTS
    assert escalated > 0, (sweepers, outputs)  # billing work overflowed to the wider pool while no expert was online
    worked = [o for o in outputs if "stopped after" in o and "stopped after 0 jobs" not in o]
    assert len(worked) >= 2, outputs  # the work was shared
