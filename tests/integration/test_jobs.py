"""Routing jobs between processes: the embedded queue, and Redis Streams with a consumer group (adapters/jobs.py).

Redis comes from the `redis_url` fixture (tests/conftest.py): without CI a missing server skips the Redis tests;
under CI=true it is a failure, never a silent skip.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import redis

from careline.adapters.jobs import Job, JobsUnavailable, RedisStreamJobs

GROUP = "routers"
OpenJobs = Callable[..., RedisStreamJobs]


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def stream(raw: redis.Redis) -> Iterator[str]:
    """A stream name of this test alone, deleted afterwards."""
    name = f"careline:test:jobs:{uuid.uuid4().hex}"
    yield name
    raw.delete(name)


@pytest.fixture
def open_jobs(redis_url: str, stream: str) -> Iterator[OpenJobs]:
    """Opens RedisStreamJobs on this test's stream (``consumer`` and ``claim_idle_ms`` as given) and closes them."""
    opened: list[RedisStreamJobs] = []

    def open_(consumer: str, claim_idle_ms: int = 30_000, url: str = redis_url) -> RedisStreamJobs:
        jobs = RedisStreamJobs(url, stream=stream, group=GROUP, consumer=consumer, claim_idle_ms=claim_idle_ms)
        opened.append(jobs)
        return jobs

    yield open_
    for jobs in opened:
        jobs.close()


def ignore(_job: Job) -> None:
    pass


def conversations(n: int) -> list[Job]:
    return [Job("conversation", f"c{i}") for i in range(n)]


# --- the job itself


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown job kind 'ticket'"):
        Job("ticket", "t1")


def test_a_conversation_or_agent_job_needs_its_id() -> None:
    with pytest.raises(ValueError, match="needs the agent's id"):
        Job("agent", "")
    assert Job("sweep", "").ref == ""


# --- Redis Streams


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(JobsUnavailable, match=r"redis://:\*\*\*@127\.0\.0\.1:1/0") as caught:
        RedisStreamJobs("redis://:hunter2@127.0.0.1:1/0")
    assert isinstance(caught.value, ConnectionError)
    assert "hunter2" not in str(caught.value)


def test_a_url_that_is_not_redis_is_a_clear_error() -> None:
    with pytest.raises(JobsUnavailable, match=r"http://user:\*\*\*@example\.test is not a Redis URL"):
        RedisStreamJobs("http://user:hunter2@example.test")


@pytest.mark.parametrize("protocol", ["", "?protocol=3"])
def test_publish_then_consume_gets_every_job_once(open_jobs: OpenJobs, redis_url: str, protocol: str) -> None:
    jobs = open_jobs("c1", url=redis_url + protocol)
    published = [*conversations(120), Job("agent", "a1"), Job("sweep", "")]
    jobs.publish([*published, published[0]])  # identical jobs within one publish go once
    assert jobs.pending() == len(published)

    seen: list[Job] = []
    assert jobs.consume(seen.append, count=50, block_ms=100, max_jobs=len(published)) == len(published)
    assert seen == published
    assert jobs.pending() == 0
    assert jobs.drain(seen.append) == 0


def test_publishing_before_any_consumer_started_loses_nothing(open_jobs: OpenJobs, raw: redis.Redis) -> None:
    publisher = open_jobs("api")
    publisher.publish(conversations(5))
    raw.xgroup_destroy(publisher.stream, GROUP)  # as if no router had ever joined
    consumer = open_jobs("router")
    seen: list[Job] = []
    assert consumer.drain(seen.append) == 5
    assert seen == conversations(5)


def test_three_consumers_share_the_jobs_none_twice_none_lost(open_jobs: OpenJobs) -> None:
    consumers = [open_jobs(f"router-{n}") for n in range(3)]
    handled: dict[str, list[Job]] = {c.consumer: [] for c in consumers}
    stop = threading.Event()
    threads = [
        threading.Thread(target=c.consume, args=(handled[c.consumer].append,), kwargs={"block_ms": 50, "stop": stop})
        for c in consumers
    ]
    for thread in threads:
        thread.start()
    published = conversations(3000)
    for start in range(0, len(published), 100):
        consumers[0].publish(published[start : start + 100])

    deadline = time.monotonic() + 8
    while sum(map(len, handled.values())) < len(published) and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join(5)

    everything = Counter(job for jobs in handled.values() for job in jobs)
    assert set(everything) == set(published)
    assert max(everything.values()) == 1
    assert consumers[0].pending() == 0
    assert sum(1 for jobs in handled.values() if jobs) >= 2  # shared, not all taken by one


def test_a_failed_job_stays_pending_and_another_consumer_retries_it(
    open_jobs: OpenJobs, caplog: pytest.LogCaptureFixture
) -> None:
    first = open_jobs("router-1", claim_idle_ms=500)
    second = open_jobs("router-2", claim_idle_ms=500)
    failing, fine = conversations(2)
    first.publish([failing, fine])

    def flaky(job: Job) -> None:
        if job == failing:
            raise RuntimeError("deadlock detected")

    with caplog.at_level(logging.ERROR, logger="careline.adapters.jobs"):
        assert first.drain(flaky) == 1
    assert "routing Job(kind='conversation', ref='c0')" in caplog.text and "deadlock detected" in caplog.text
    assert first.pending() == 1

    seen: list[Job] = []
    assert second.drain(seen.append) == 0  # not idle long enough yet: still first's
    time.sleep(0.55)
    assert second.drain(seen.append) == 1
    assert seen == [failing]
    assert second.pending() == 0


class Crash(BaseException):
    """The process dying in the middle of a handler."""


def crash(_job: Job) -> None:
    raise Crash


def test_a_dead_consumers_jobs_are_reclaimed(open_jobs: OpenJobs, raw: redis.Redis) -> None:
    dying = open_jobs("router-dying", claim_idle_ms=200)
    survivor = open_jobs("router-survivor", claim_idle_ms=200)
    published = conversations(10)
    dying.publish(published)

    with pytest.raises(Crash):
        dying.consume(crash, count=10, block_ms=0)
    del dying  # never acknowledged, never closed
    assert raw.xpending(survivor.stream, GROUP)["consumers"] == [{"name": "router-dying", "pending": 10}]

    seen: list[Job] = []
    time.sleep(0.25)
    assert survivor.drain(seen.append) == 10
    assert seen == published
    assert survivor.pending() == 0


def test_a_slow_batch_is_renewed_rather_than_run_twice(open_jobs: OpenJobs) -> None:
    slow = open_jobs("router-slow", claim_idle_ms=600)
    eager = open_jobs("router-eager", claim_idle_ms=600)
    published = conversations(8)
    slow.publish(published)
    runs: list[tuple[str, Job]] = []
    stop = threading.Event()
    thief = threading.Thread(
        target=eager.consume, args=(lambda job: runs.append(("eager", job)),), kwargs={"block_ms": 20, "stop": stop}
    )

    def slow_handler(job: Job) -> None:  # 8 x 100 ms: the batch is held longer than claim_idle_ms
        if not thief.is_alive():
            thief.start()  # now that the whole batch is read: the eager one can only reclaim
        runs.append(("slow", job))
        time.sleep(0.1)

    assert slow.consume(slow_handler, count=8, block_ms=0) == 8
    stop.set()
    thief.join(5)
    assert runs == [("slow", job) for job in published]


def test_malformed_entries_are_acknowledged_and_skipped(
    open_jobs: OpenJobs, raw: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = open_jobs("router-1")
    raw.xadd(jobs.stream, {"kind": "ticket", "ref": "t1"})
    raw.xadd(jobs.stream, {"ref": "c1"})
    raw.xadd(jobs.stream, {"kind": "conversation", "ref": ""})
    jobs.publish([Job("conversation", "c2")])

    seen: list[Job] = []
    with caplog.at_level(logging.WARNING, logger="careline.adapters.jobs"):
        assert jobs.drain(seen.append) == 1
    assert seen == [Job("conversation", "c2")]
    assert caplog.text.count("dropping malformed routing job") == 3
    assert jobs.pending() == 0


def test_a_vanished_stream_is_created_again(open_jobs: OpenJobs, raw: redis.Redis) -> None:
    jobs = open_jobs("router-1")
    raw.delete(jobs.stream)
    jobs.publish([Job("sweep", "")])
    seen: list[Job] = []
    assert jobs.drain(seen.append) == 1
    assert seen == [Job("sweep", "")]


def test_stop_ends_a_waiting_consumer(open_jobs: OpenJobs) -> None:
    jobs = open_jobs("router-1")
    stop = threading.Event()
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(jobs.consume(ignore, block_ms=100, stop=stop)))
    thread.start()
    time.sleep(0.05)
    stop.set()
    thread.join(2)
    assert done == [0]


def test_closing_an_idle_consumer_leaves_the_group(open_jobs: OpenJobs, raw: redis.Redis) -> None:
    holding = open_jobs("router-holding")
    idle = open_jobs("router-idle")
    holding.publish(conversations(1))
    with pytest.raises(Crash):
        holding.consume(crash, block_ms=0)
    idle.drain(ignore)
    holding.close()
    idle.close()
    names = {info["name"] for info in raw.xinfo_consumers(holding.stream, GROUP)}
    assert names == {"router-holding"}  # it still holds a job: leaving would drop it
