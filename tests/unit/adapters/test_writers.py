"""SQLite writers of one process take turns in arrival order (adapters/db/writers.py)."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from careline.adapters.db.writers import WriterQueue, writer_queue


def _wait_for_waiters(queue: WriterQueue, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(queue._waiters) < count:
        assert time.monotonic() < deadline, "the waiters never queued"
        time.sleep(0.001)


def test_turns_are_handed_over_in_arrival_order() -> None:
    queue = WriterQueue()
    assert queue.acquire()
    order: list[str] = []

    def writer(name: str) -> None:
        assert queue.acquire()
        order.append(name)
        queue.release()

    threads = []
    for number, name in enumerate(("first", "second", "third"), start=1):
        threads.append(threading.Thread(target=writer, args=(name,)))
        threads[-1].start()
        _wait_for_waiters(queue, number)
    queue.release()
    for thread in threads:
        thread.join(5)
    assert order == ["first", "second", "third"]
    assert queue.acquire(timeout=0)  # free again


def test_the_holder_may_take_its_turn_again() -> None:
    queue = WriterQueue()
    assert queue.acquire() and queue.acquire()
    queue.release()
    other = threading.Thread(target=lambda: results.append(queue.acquire(timeout=0.05)))
    results: list[bool] = []
    other.start()
    other.join()
    assert results == [False]  # still held once
    queue.release()
    assert queue.acquire(timeout=0)


def test_a_turn_that_does_not_come_in_time_leaves_no_trace() -> None:
    queue = WriterQueue()
    assert queue.acquire()
    results: list[bool] = []
    waiter = threading.Thread(target=lambda: results.append(queue.acquire(timeout=0.05)))
    waiter.start()
    waiter.join()
    assert results == [False]
    assert not queue._waiters
    queue.release()
    assert queue._owner is None


def test_only_sqlite_engines_have_a_queue() -> None:
    sqlite = sa.create_engine("sqlite://")
    postgres = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connects
    try:
        assert writer_queue(sqlite) is writer_queue(sqlite) is not None
        assert writer_queue(postgres) is None
    finally:
        sqlite.dispose()
        postgres.dispose()
