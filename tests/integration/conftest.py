"""Integration fixtures: the hand-driven clock, an app that uses it, and a desk set up through commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from careline.bootstrap import Careline, bootstrap
from careline.config import Settings
from integration.support import Desk, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clocked_app(settings: Settings, clock: ManualClock) -> Iterator[Careline]:
    """Like ``app`` (SQLite and PostgreSQL), with the hand-driven clock injected."""
    careline = bootstrap(settings, clock=clock)
    yield careline
    careline.close()


@pytest.fixture
def desk(clocked_app: Careline, clock: ManualClock) -> Desk:
    """A desk with the default queue and one X account named ``acme``."""
    desk = Desk(clocked_app, clock)
    desk.queue("general", is_default=True, rank=1000)
    desk.account("acme")
    return desk
