"""The X poller against a local fake X API (docs/channels.md#x-twitter): every mention stored exactly once across a
restart mid-pagination, 429s, 5xx and a timeout; never a request over X's rate limit or the account's own cap;
mentions that arrive later picked up. Time is the hand-driven clock: no sleeping. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from careline.adapters.db import tables as t
from careline.adapters.db.cursors import PollStateStore
from careline.adapters.secret_box import new_key
from careline.agents import commands as admin
from careline.bootstrap import Careline, bootstrap
from careline.channels.adapters import x_poller
from careline.channels.model import ChannelAccount
from careline.config import Settings
from integration.fake_x import BRAND, TOKEN, FakeX
from integration.support import ManualClock


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(new_key())})


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.3) as client:  # short, so the fake's timeout costs little
        yield client


def poll_account(app: Careline, api_url: str, **config: Any) -> ChannelAccount:
    """An X account in poll mode with its bearer token; ``config`` on top of the defaults."""
    app.handle(admin.CreateQueue(name="general", is_default=True, rank=1000))
    account: ChannelAccount = app.handle(admin.CreateChannelAccount(kind="x", name="acme"))
    app.handle(admin.SetChannelSecrets(account_id=account.id, secrets=(("bearer_token", TOKEN),)))
    with app.uow() as uow:
        account = uow.accounts.get(account.id)
        account.config = {"mode": "poll", "user_id": BRAND, "api_url": api_url, "max_results": 10, **config}
        uow.accounts.save_config(account)
        uow.commit()
    return account


def stored(app: Careline) -> list[str]:
    """The platform ids of the inbound messages, with their repeats if any."""
    m = t.messages.c
    with app.engine.connect() as db:
        return sorted(db.execute(sa.select(m.platform_message_id).where(m.direction == "inbound")).scalars())


def run(poller: x_poller.XPoller, clock: ManualClock, minutes: int) -> None:
    for _ in range(minutes):
        poller.run_once()
        clock.advance(minutes=1)


def test_every_mention_once_across_a_restart_within_the_rate_limit(
    clocked_app: Careline, clock: ManualClock, settings: Settings, http: httpx.Client
) -> None:
    with FakeX(clock, limit=3) as fake:
        expected = [fake.mention(f"44010000{n % 7}", f"order {n} is late") for n in range(25)]
        fake.faults = {2: "500", 6: "429", 9: "timeout"}
        account = poll_account(clocked_app, fake.url)

        first = x_poller.from_careline(clocked_app, http)
        run(first, clock, 2)  # a page, a 500 (backoff), a page: X's 3 requests of this window are spent
        assert len(stored(clocked_app)) == 20
        cursor = PollStateStore(clocked_app.engine).cursor(account.id, "mentions")
        assert cursor.sweeping and cursor.since_id is None  # stopped mid-pagination

        restarted = bootstrap(settings, clock=clock)  # a new process over the same database
        try:
            resumed_at = len(fake.reads)
            poller = x_poller.from_careline(restarted, http)
            run(poller, clock, 20)
            assert "pagination_token" in fake.reads[resumed_at][1]  # it went on from the stored page token
            assert stored(restarted) == sorted(expected)

            later = [fake.mention("440100009", "still waiting", reply_to=expected[0]) for _ in range(3)]
            run(poller, clock, 40)
            assert stored(restarted) == sorted(expected + later)  # each exactly once: no gap, no repeat
            with restarted.engine.connect() as db:
                m = t.messages.c
                threads = db.execute(
                    sa.select(m.conversation_id).where(m.platform_message_id.in_(later[:1] + expected[:1]))
                )
                assert len(set(threads.scalars())) == 1  # a reply joins its parent's conversation
        finally:
            restarted.close()

    assert {path for path, _ in fake.reads} == {f"/2/users/{BRAND}/mentions"}
    assert len(fake.reads) >= 9, "every injected fault was met"
    assert fake.over_limit == 0  # no request ever came when X had none left
    assert max(fake.per_window.values()) <= 3


def test_the_account_cap_holds_each_endpoint_below_x_limit(
    clocked_app: Careline, clock: ManualClock, http: httpx.Client
) -> None:
    with FakeX(clock, limit=100) as fake:
        expected = [fake.mention(f"55010000{n % 5}", f"refund for order {n}?") for n in range(25)]
        poll_account(clocked_app, fake.url, requests_per_window=2, search=["refund"])

        run(x_poller.from_careline(clocked_app, http), clock, 40)

    assert stored(clocked_app) == sorted(expected)  # the search found the same tweets: stored once
    assert {path for path, _ in fake.reads} == {f"/2/users/{BRAND}/mentions", "/2/tweets/search/recent"}
    assert max(fake.per_window.values()) == 2  # the account's cap, not X's 100
    assert fake.over_limit == 0


def test_an_expired_page_token_sweeps_again_without_a_gap(
    clocked_app: Careline, clock: ManualClock, http: httpx.Client
) -> None:
    with FakeX(clock, limit=2) as fake:
        expected = [fake.mention("660100001", f"question {n}") for n in range(15)]
        account = poll_account(clocked_app, fake.url)
        poller = x_poller.from_careline(clocked_app, http)
        poller.run_once()  # one page of 10, then the window is spent
        store = PollStateStore(clocked_app.engine)
        cursor = store.cursor(account.id, "mentions")
        cursor.next_token = "999"  # a token X no longer takes: the fake answers a page below it, i.e. nothing new
        fake.expired = "999"
        store.save_cursor(account.id, "mentions", cursor, clock())

        run(poller, clock, 40)

    assert [q.get("pagination_token") for _, q in fake.reads].count("999") == 1  # refused once, then swept again
    assert stored(clocked_app) == sorted(expected)


def test_careline_poll_once_runs_one_pass(
    clocked_app: Careline, clock: ManualClock, settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner  # only this test drives the command line

    from careline.entrypoints.cli.main import app as cli

    assert settings.secret_key is not None
    env = {
        "CARELINE_DATABASE_URL": settings.effective_database_url,
        "CARELINE_HOME": str(tmp_path / "cli-home"),
        "CARELINE_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    with FakeX(clock, limit=10) as fake:
        expected = [fake.mention("770100001", f"hello {n}") for n in range(5)]
        poll_account(clocked_app, fake.url)
        result = CliRunner().invoke(cli, ["poll", "--once"], env=env)

    assert result.exit_code == 0, result.output
    assert "stopped after 1 pass" in result.stderr
    assert stored(clocked_app) == sorted(expected)


def test_a_tweet_x_indexed_late_is_read_by_the_next_sweep(
    clocked_app: Careline, clock: ManualClock, http: httpx.Client
) -> None:
    with FakeX(clock, limit=10) as fake:
        poll_account(clocked_app, fake.url)
        late = fake.mention("880100001", "created first, searchable 20 s later", indexed_after=20)
        clock.advance(seconds=5)
        seen = fake.mention("880100002", "created second, searchable at once")
        clock.advance(seconds=5)
        poller = x_poller.from_careline(clocked_app, http)
        poller.run_once()
        assert stored(clocked_app) == [seen]  # the late one is below since_id from now on

        clock.advance(seconds=60)
        poller.run_once()  # since_id lowered to 30 s before the last sweep began: the late tweet is read
        assert stored(clocked_app) == sorted([late, seen])

        clock.advance(seconds=60)
        poller.run_once()
    assert fake.reads[-1][1]["since_id"] == seen  # nothing recent is left to re-read: since_id as it is
