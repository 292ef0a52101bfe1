"""First come, first served for one process's SQLite writers (docs/benchmarks.md#concurrent-writers-on-sqlite).

SQLite admits one writer at a time (BEGIN IMMEDIATE) and makes the others poll with growing sleeps, so a
thread that commits and begins again at once keeps winning the lock while another waits: with two API
requests in flight, p99 latency went from ~0.1 s to 1.2–2.3 s. Units of work on a SQLite engine therefore
take a turn here first; a finishing writer hands its turn to the longest waiter. Writers in other
processes still meet SQLite's own lock and busy timeout, and a turn not given within the timeout falls
back to exactly that, so this only ever orders writers, never blocks one that SQLite would admit.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque

from sqlalchemy.engine import Engine

TURN_TIMEOUT_SECONDS = 30.0  # as long as SQLite's busy timeout (engine.py)


class WriterQueue:
    """A re-entrant lock that is handed to waiters in arrival order."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiters: deque[tuple[int, threading.Event]] = deque()

    def acquire(self, timeout: float = TURN_TIMEOUT_SECONDS) -> bool:
        """Wait for this thread's turn; False when it did not come within ``timeout``."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me or (self._owner is None and not self._waiters):
                self._owner = me
                self._depth += 1
                return True
            turn = threading.Event()
            self._waiters.append((me, turn))
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait timed out
                return True
            self._waiters.remove((me, turn))
            return False

    def release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, turn = self._waiters.popleft()
                self._depth = 1
                turn.set()
            else:
                self._owner = None


_queues: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()
_queues_mutex = threading.Lock()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The engine's queue of writers; None where the database orders writers itself (PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return None
    with _queues_mutex:
        queue = _queues.get(engine)
        if queue is None:
            queue = _queues[engine] = WriterQueue()
        return queue
