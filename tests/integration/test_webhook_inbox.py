"""The webhook inbox (docs/channels.md#delivery): a verified delivery is stored before it is answered, processed
once, and one whose processing fails is retried by the loop with backoff until it succeeds or is given up,
never lost. Real database (SQLite and PostgreSQL), Meta's real processor and fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from careline.adapters.db import tables as t
from careline.adapters.db import webhook_inbox as stored
from careline.bootstrap import Careline
from careline.channels.model import ChannelAccount
from careline.entrypoints.api import routes_webhooks_meta
from careline.entrypoints.api.webhook_inbox import MAX_ATTEMPTS, WebhookInbox
from integration.support import Desk, ManualClock

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta"


class Flaky:
    """A source whose processing fails ``failures`` times (the database was down, a bug since fixed), then does
    what Meta's processor does."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, careline: Any, account: ChannelAccount, body: bytes) -> dict[str, int]:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        return routes_webhooks_meta.process(careline, account, body)


@pytest.fixture
def page(desk: Desk) -> ChannelAccount:
    return desk.account("acme-page", kind="facebook")


def body(name: str = "page_comment") -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def comments(app: Careline) -> list[str]:
    with app.engine.connect() as db:
        return list(db.execute(sa.select(t.messages.c.platform_message_id).order_by(t.messages.c.id)).scalars())


def row(app: Careline, delivery_id: int) -> Any:
    with app.engine.connect() as db:
        return db.execute(sa.select(t.webhook_inbox).where(t.webhook_inbox.c.id == delivery_id)).one()


def test_a_delivery_is_stored_processed_once_and_its_repeat_is_not_processed_again(
    clocked_app: Careline, page: ChannelAccount
) -> None:
    inbox = WebhookInbox(clocked_app, {"meta": routes_webhooks_meta.process})

    first = inbox.receive("meta", page, body())
    again = inbox.receive("meta", page, body())

    assert (first.repeat, first.queued, first.counts["created"]) == (False, False, 1)
    assert (again.delivery_id, again.repeat, again.queued, again.counts) == (first.delivery_id, True, False, {})
    assert len(comments(clocked_app)) == 1
    stored_row = row(clocked_app, first.delivery_id)
    assert (stored_row.status, stored_row.attempts, bytes(stored_row.body)) == ("done", 1, body())


def test_a_failed_processing_is_queued_then_retried_by_the_loop_after_its_backoff(
    clocked_app: Careline, page: ChannelAccount, clock: ManualClock
) -> None:
    flaky = Flaky(failures=2)
    inbox = WebhookInbox(clocked_app, {"meta": flaky})

    received = inbox.receive("meta", page, body())
    assert (received.queued, received.counts) == (True, {})
    assert comments(clocked_app) == []
    assert inbox.run_once() == 0  # not due before its backoff (2 s)
    clock.advance(seconds=3)
    assert inbox.run_once() == 1  # fails again: 4 s more
    assert row(clocked_app, received.delivery_id).last_error == "RuntimeError: failure 2"
    clock.advance(seconds=5)
    assert inbox.run_once() == 1

    done = row(clocked_app, received.delivery_id)
    assert (done.status, done.attempts, done.last_error, done.result["created"]) == ("done", 3, None, 1)
    assert len(comments(clocked_app)) == 1
    assert inbox.run_once() == 0


def test_a_delivery_that_keeps_failing_is_given_up_and_kept_with_its_reason(
    clocked_app: Careline, page: ChannelAccount, clock: ManualClock
) -> None:
    inbox = WebhookInbox(clocked_app, {"meta": Flaky(failures=MAX_ATTEMPTS)})
    received = inbox.receive("meta", page, body())
    for _ in range(MAX_ATTEMPTS):
        clock.advance(minutes=11)
        inbox.run_once()

    given_up = row(clocked_app, received.delivery_id)
    assert (given_up.status, given_up.attempts) == ("failed", MAX_ATTEMPTS)
    assert given_up.last_error == f"RuntimeError: failure {MAX_ATTEMPTS}"
    assert bytes(given_up.body) == body()  # still there, for an operator to look at


def test_a_delivery_whose_receiver_died_before_processing_it_is_processed_by_the_loop_after_the_lease(
    clocked_app: Careline, page: ChannelAccount, clock: ManualClock
) -> None:
    # Two deliveries stored by a process that then died: each row is stored under that process's lease.
    dm, new = stored.store(clocked_app.engine, "meta", page.id, body("messenger_dm"), clock())
    comment, _ = stored.store(clocked_app.engine, "meta", page.id, body("page_comment"), clock())
    assert new and comments(clocked_app) == []
    assert stored.claim(clocked_app.engine, dm, clock()) is None  # nobody else takes it meanwhile
    inbox = WebhookInbox(clocked_app, {"meta": routes_webhooks_meta.process})
    assert inbox.run_once() == 0

    clock.advance(seconds=61)
    assert inbox.run_once() == 2

    assert [row(clocked_app, i).status for i in (dm, comment)] == ["done", "done"]
    assert row(clocked_app, dm).attempts == 2
    assert len(comments(clocked_app)) == 2
