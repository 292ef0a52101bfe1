"""Chores one process at a time does (polling X, reading mailboxes): the lease in the database decides which
process, hands over on a clean stop, and passes to another when the holder stops renewing. SQLite and
PostgreSQL, two wrappers standing for two processes over one database."""

from __future__ import annotations

from careline.bootstrap import Careline
from careline.entrypoints.api.worker import Leased
from integration.support import ManualClock


class Chore:
    """What the lease guards: counts the passes it was given, and when it was told to let go."""

    def __init__(self) -> None:
        self.passes = 0
        self.let_go = 0

    def run_once(self, limit: int = 50) -> int:
        self.passes += 1
        return 0

    def stop(self) -> None:
        self.let_go += 1


def test_one_process_at_a_time_does_the_chore_and_another_takes_over(clocked_app: Careline, clock: ManualClock) -> None:
    chores = Chore(), Chore()
    first, second = (Leased(clocked_app, "poll:test", c, ttl_seconds=60, let_go=c.stop) for c in chores)

    for _ in range(3):
        first.run_once()
        second.run_once()
        clock.advance(seconds=30)  # each pass renews the holder's lease
    assert (chores[0].passes, chores[1].passes, chores[1].let_go) == (3, 0, 3)
    assert (first.holding, second.holding) == (True, False)

    first.release()  # a clean stop hands over at once
    second.run_once()
    first.run_once()
    assert (chores[1].passes, chores[0].passes, chores[0].let_go) == (1, 3, 1)

    clock.advance(seconds=61)  # the holder died without a word: its lease runs out
    first.run_once()
    assert (chores[0].passes, first.holding) == (4, True)
    assert second.holder != first.holder
