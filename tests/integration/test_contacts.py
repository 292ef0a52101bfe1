"""Customers on a real database: one identity per (channel, author), and merging two customers into one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

import pytest

from careline.adapters.db import tables as t
from careline.adapters.db.engine import create_engine
from careline.adapters.db.uow import SqlUnitOfWork
from careline.contacts.commands import MergeCustomers
from careline.contacts.handlers import ContactHandlers
from careline.kernel.errors import Conflict
from integration.support import Desk, PauseAtStatement, a_session_waits_on_a_lock


def customer_of(desk: Desk, conversation_id: str) -> str:
    customer_id: str = desk.conversation(conversation_id).customer_id
    return customer_id


def test_one_author_on_one_channel_is_one_customer_across_batches_and_accounts(desk: Desk) -> None:
    desk.account("acme-uk")

    first = desk.ingest(desk.message("hi", author_name="Ada L."), desk.message("hello again", thread_key="t2"))
    second = desk.ingest(desk.message("and from the UK account", account="acme-uk"))

    assert (first.customers_created, second.customers_created) == (1, 0)
    [customer] = desk.rows(t.customers)
    assert customer.display_name == "Ada L."
    [identity] = desk.rows(t.identities)
    assert (identity.channel, identity.external_id, identity.customer_id, identity.handle) == (
        "x", "cust-1", customer.id, "Ada L.",
    )
    conversations = {desk.conversation_of(first, 0), desk.conversation_of(first, 1), desk.conversation_of(second)}
    assert len(conversations) == 3
    assert {customer_of(desk, c) for c in conversations} == {customer.id}


def test_the_same_author_id_on_another_channel_is_another_identity(desk: Desk) -> None:
    desk.account("help@acme.example", kind="email")

    result = desk.ingest(
        desk.message("on x"), desk.message("by mail", channel="email", account="help@acme.example")
    )

    assert result.customers_created == 2
    assert sorted((i.channel, i.external_id) for i in desk.rows(t.identities)) == [("email", "cust-1"), ("x", "cust-1")]
    assert customer_of(desk, desk.conversation_of(result, 0)) != customer_of(desk, desk.conversation_of(result, 1))


def test_different_authors_are_different_customers(desk: Desk) -> None:
    result = desk.ingest(desk.message("a", author_id="111"), desk.message("b", author_id="222"))
    assert result.customers_created == 2 and len(desk.rows(t.identities)) == 2


def test_a_merged_customer_brings_identities_conversations_and_messages_and_keeps_them(desk: Desk) -> None:
    desk.account("help@acme.example", kind="email")
    on_x = desk.conversation_of(desk.ingest(desk.message("tweet", author_id="ada_x")))
    by_mail = desk.conversation_of(
        desk.ingest(desk.message("mail", channel="email", account="help@acme.example", author_id="ada@mail.example"))
    )
    source, target = customer_of(desk, by_mail), customer_of(desk, on_x)

    supervisor = desk.agent("sup", role="supervisor")
    desk.app.handle(MergeCustomers(source_customer_id=source, target_customer_id=target, agent_id=supervisor.id))

    [merged] = desk.rows(t.customers, t.customers.c.id == source)
    assert merged.merged_into_id == target
    assert {i.customer_id for i in desk.rows(t.identities)} == {target}
    assert customer_of(desk, by_mail) == target
    assert {m.customer_id for m in desk.rows(t.messages)} == {target}
    [event] = desk.events(None, "customer.merged")
    assert event.data == {"source_customer_id": source, "target_customer_id": target}
    assert event.actor == f"agent:{supervisor.id}"

    follow_up = desk.ingest(
        desk.message("me again", channel="email", account="help@acme.example", author_id="ada@mail.example")
    )
    assert follow_up.customers_created == 0
    assert customer_of(desk, desk.conversation_of(follow_up)) == target


def test_merging_into_itself_or_into_a_merged_customer_is_a_conflict(desk: Desk) -> None:
    result = desk.ingest(
        desk.message("a", author_id="1"), desk.message("b", author_id="2"), desk.message("c", author_id="3")
    )
    first, second, third = (customer_of(desk, desk.conversation_of(result, i)) for i in range(3))
    with desk.app.uow() as uow:
        uow.customers.get(first).merge_into(uow.customers.get(second), at=desk.clock(), actor="agent:sup")
        uow.customers.move_everything(first, second)
        uow.commit()

    with desk.app.uow() as uow:
        with pytest.raises(Conflict):
            uow.customers.get(third).merge_into(uow.customers.get(third), at=desk.clock(), actor="agent:sup")
        with pytest.raises(Conflict):
            uow.customers.get(third).merge_into(uow.customers.get(first), at=desk.clock(), actor="agent:sup")
    assert [c.merged_into_id for c in desk.rows(t.customers, t.customers.c.id == third)] == [None]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_opposite_merges_at_once_leave_one_survivor(desk: Desk) -> None:
    """A→B and B→A at the same moment: the second waits for the first, then finds A merged and is refused."""
    result = desk.ingest(desk.message("a", author_id="alice"), desk.message("b", author_id="alice-2"))
    a, b = (customer_of(desk, desk.conversation_of(result, i)) for i in range(2))
    supervisor = desk.agent("sup", role="supervisor")
    engine = create_engine(desk.app.settings.effective_database_url)
    pause = PauseAtStatement(engine, lambda sql: sql.lstrip().upper().startswith("UPDATE IDENTITIES"))
    first_app = ContactHandlers(partial(SqlUnitOfWork, engine, desk.clock), desk.clock)
    outcomes: dict[str, str] = {}

    def merge(name: str, run: Callable[[], object]) -> threading.Thread:
        def target() -> None:
            try:
                run()
                outcomes[name] = "merged"
            except Conflict:
                outcomes[name] = "conflict"

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    try:
        one = merge("a->b", lambda: first_app.merge(
            MergeCustomers(source_customer_id=a, target_customer_id=b, agent_id=supervisor.id)))
        assert pause.reached.wait(timeout=60)
        two = merge("b->a", lambda: desk.app.handle(
            MergeCustomers(source_customer_id=b, target_customer_id=a, agent_id=supervisor.id)))
        deadline = time.monotonic() + 60
        while not a_session_waits_on_a_lock(desk.app.engine):
            assert two.is_alive() and time.monotonic() < deadline, "the second merge neither waited nor ended"
            time.sleep(0.01)
        pause.go.set()
        one.join(60)
        two.join(60)
    finally:
        pause.go.set()
        engine.dispose()
    assert outcomes == {"a->b": "merged", "b->a": "conflict"}
    merged = {c.id: c.merged_into_id for c in desk.rows(t.customers)}
    assert merged == {a: b, b: None}
    assert {i.customer_id for i in desk.rows(t.identities)} == {b}
