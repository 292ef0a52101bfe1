"""The transport of routing jobs between router processes (docs/routing.md).

A job names one short routing transaction: route this conversation, fill this agent, sweep the timers.
Every job is idempotent (its handler reads the database afresh and does nothing when the work is already
done), so delivery is *at least once*: a job can run twice, for instance when a consumer dies after its
handler committed but before the acknowledgement, but it is never lost. Exactly once would need the
acknowledgement inside the handler's database transaction, which a Redis stream cannot join.

Without Redis (the embedded default) there is no transport: the process that commits the events runs their
jobs itself, right after the commit (``Router.on_events``).

``RedisStreamJobs`` is one Redis stream read by one consumer group that every router process joins:

- ``publish`` returns once Redis has appended the jobs (XADD, pipelined in one round trip); from then on
  they are as durable as Redis's persistence makes them (``appendonly yes`` survives a server crash).
- ``XREADGROUP >`` hands each new entry to one consumer of the group. The entry stays in the group's
  pending list under that consumer until it is acknowledged (XACK), which happens only after the handler
  returned, i.e. after its transaction committed. A handler that raises leaves its entry pending, and so
  does a consumer that dies.
- Reclaim: each pass starts with XAUTOCLAIM, which moves the entries pending for at least
  ``claim_idle_ms`` (under any consumer, this one included) to this consumer. A failed job is therefore
  retried after ``claim_idle_ms``, and a dead consumer's jobs are taken over by the living ones.
- One consumer at a time: nobody can reclaim an entry idle for less than ``claim_idle_ms``, so a consumer
  never starts a job it has held for half of that; it renews the rest of a slow batch (XCLAIM, which
  resets the idle time) while that is still safe, and otherwise leaves them to be reclaimed. Only a single
  handler running longer than ``claim_idle_ms / 2`` can overlap with a second run of the same job.
- Poison entries (a missing field, an unknown kind) are logged and acknowledged, so they never loop.
- Each XADD trims the stream to about ``maxlen`` entries. Trimming ignores the group, so ``maxlen`` must
  stay far above any backlog: a pending entry trimmed away is gone (XAUTOCLAIM reports it; it is logged).

(Longer than our usual module, on purpose: these rules are one mechanism and read best in one place.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis
from redis.exceptions import ResponseError
from redis.typing import StreamIdT

from careline.routing.model import Job

log = logging.getLogger(__name__)

Entry = tuple[str, Any]  # (stream entry id, its fields: a dict, or None for an entry trimmed away)

_CONNECT_TIMEOUT_S = 5.0
_MAX_BLOCK_MS = 5_000  # a longer wait is split into several, so a quiet stream never hits the socket timeout
_SOCKET_TIMEOUT_S = 15.0
# Deletes this consumer from the group only while it holds no pending entry: atomically, since deleting
# a consumer drops its pending entries, which nothing would ever deliver again.
_DELETE_IDLE_CONSUMER = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
"""


class JobsUnavailable(ConnectionError):
    """Redis is unreachable, refused us, or the URL is not a Redis one; the message names the URL, not its password."""


class RedisStreamJobs:
    """Jobs in a Redis stream shared by the router processes of one consumer group (see the module docstring).

    ``publish`` and ``pending`` may be called from any thread; run one ``consume`` loop per instance.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "careline:routing",
        group: str = "routers",
        consumer: str | None = None,
        claim_idle_ms: int = 30_000,
        maxlen: int = 1_000_000,
    ) -> None:
        if claim_idle_ms <= 0 or maxlen <= 0:
            raise ValueError("claim_idle_ms and maxlen must be positive")
        self.url = redacted(url)
        self.stream = stream
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self._claim_idle_ms = claim_idle_ms
        self._maxlen = maxlen
        self._claim_cursor = "0-0"
        self._consumed = False
        self._closed = False
        try:
            self._redis = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_connect_timeout=_CONNECT_TIMEOUT_S,
                socket_timeout=_SOCKET_TIMEOUT_S,
            )
        except ValueError as error:
            raise JobsUnavailable(f"{self.url} is not a Redis URL: {error}") from None
        try:
            with self._reaching("creating the consumer group"):
                self._ensure_group()
        except BaseException:
            self._redis.close()
            raise

    def publish(self, jobs: Iterable[Job]) -> None:
        """Append the jobs (identical ones in this call once) in one round trip; returns once Redis has them."""
        unique = list(dict.fromkeys(jobs))
        if not unique:
            return
        with self._reaching("publishing jobs"), self._redis.pipeline(transaction=False) as pipe:
            for job in unique:
                pipe.xadd(self.stream, {"kind": job.kind, "ref": job.ref}, maxlen=self._maxlen, approximate=True)
            pipe.execute()

    def consume(
        self,
        handler: Callable[[Job], None],
        *,
        count: int = 50,
        block_ms: int = 1000,
        stop: threading.Event | None = None,
        max_jobs: int | None = None,
    ) -> int:
        """Handle jobs until ``stop`` is set or ``max_jobs`` were handled; returns how many handlers returned.

        Each pass reclaims idle pending entries, else reads up to ``count`` new ones, waiting up to
        ``block_ms`` for them; with ``block_ms=0`` it never waits and returns after the first empty pass.
        A batch in progress is finished before ``stop`` is looked at again. Redis failures raise
        ``JobsUnavailable``; a handler's exception is logged and its job retried later.
        """
        if count <= 0:
            raise ValueError("count must be positive")
        handled = 0
        with self._reaching("consuming jobs"):
            while (stop is None or not stop.is_set()) and (max_jobs is None or handled < max_jobs):
                wanted = count if max_jobs is None else min(count, max_jobs - handled)
                entries, received = self._next_batch(wanted, block_ms)
                if not entries and block_ms <= 0:
                    break
                handled += self._handle(entries, received, handler)
        return handled

    def drain(self, handler: Callable[[Job], None], limit: int | None = None) -> int:
        """Handle what is new or reclaimable now, without waiting; returns how many were handled.

        A handler's exception is logged (its job stays pending, to be reclaimed and retried), not raised.
        """
        return self.consume(handler, block_ms=0, max_jobs=limit)

    def pending(self) -> int:
        """Jobs not yet acknowledged: delivered and pending, plus not yet delivered to the group."""
        with self._reaching("counting jobs"):
            try:
                groups = self._redis.xinfo_groups(self.stream)
            except ResponseError as error:
                if "no such key" in str(error).lower():
                    return 0
                raise
            for info in groups:
                if info["name"] == self.group:
                    lag = info.get("lag")  # Redis 7+; None when it cannot tell
                    if lag is None:
                        lag = self._count_after(info["last-delivered-id"])
                    return int(info["pending"]) + int(lag)
            return int(self._redis.xlen(self.stream))  # the group is gone: it will be made again from the start

    def close(self) -> None:
        """Leave the group if holding nothing (so dead consumers don't pile up), and close the connections."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._consumed:
                self._redis.eval(_DELETE_IDLE_CONSUMER, 1, self.stream, self.group, self.consumer)
        except redis.RedisError as error:
            log.debug("could not remove consumer %s from %s: %s", self.consumer, self.stream, error)
        finally:
            self._redis.close()

    def __enter__(self) -> RedisStreamJobs:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _next_batch(self, wanted: int, block_ms: int) -> tuple[list[Entry], float]:
        self._consumed = True
        entries = self._reclaim(wanted)
        if not entries:
            block = min(block_ms, _MAX_BLOCK_MS) if block_ms > 0 else None
            reply = self._with_group(
                lambda: self._redis.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=wanted, block=block)
            )
            entries = _read_entries(reply)
        # Taken after the reply: Redis started the entries' idle time a little earlier, which the margin
        # of claim_idle_ms / 2 in _handle absorbs.
        return entries, time.monotonic()

    def _reclaim(self, wanted: int) -> list[Entry]:
        cursor, entries, *rest = self._with_group(
            lambda: self._redis.xautoclaim(
                self.stream, self.group, self.consumer, self._claim_idle_ms, self._claim_cursor, count=wanted
            )
        )
        self._claim_cursor = cursor
        trimmed = rest[0] if rest else []
        if trimmed:
            log.error("%s: %d pending jobs were trimmed away unhandled (raise maxlen)", self.stream, len(trimmed))
        if entries:
            log.info("consumer %s reclaimed %d idle jobs of %s", self.consumer, len(entries), self.stream)
        return list(entries)

    def _handle(self, entries: list[Entry], received: float, handler: Callable[[Job], None]) -> int:
        handled = 0
        for index, (entry_id, fields) in enumerate(entries):
            held_ms = (time.monotonic() - received) * 1000
            if held_ms >= self._claim_idle_ms / 2:  # another consumer may reclaim them any moment now
                left = len(entries) - index
                log.warning(
                    "%s held a batch %d ms: %d jobs left to reclaim (lower count)", self.consumer, held_ms, left
                )
                break
            if held_ms >= self._claim_idle_ms / 4:
                received = self._renew([later_id for later_id, _ in entries[index:]])
            handled += self._run(entry_id, fields, handler)
        return handled

    def _run(self, entry_id: str, fields: Any, handler: Callable[[Job], None]) -> int:
        """Run one entry's job and acknowledge it, unless the handler raised; returns 1 if the handler returned."""
        job = self._decode(entry_id, fields)
        if job is not None:
            try:
                handler(job)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others; it is retried
                log.exception("routing %s (%s) failed; it stays pending and is retried later", job, entry_id)
                return 0
        self._redis.xack(self.stream, self.group, entry_id)
        return int(job is not None)

    def _renew(self, entry_ids: list[StreamIdT]) -> float:
        """Restart the idle time of entries this consumer still holds (safe: none was idle long enough to be taken)."""
        self._redis.xclaim(self.stream, self.group, self.consumer, 0, entry_ids, justid=True)
        return time.monotonic()

    def _decode(self, entry_id: str, fields: Any) -> Job | None:
        if isinstance(fields, dict) and isinstance(fields.get("kind"), str) and isinstance(fields.get("ref"), str):
            try:
                return Job(fields["kind"], fields["ref"])
            except (TypeError, ValueError):
                pass
        log.warning("dropping malformed routing job %s of %s: %r", entry_id, self.stream, fields)
        return None

    def _count_after(self, last_id: str) -> int:
        counted, start = 0, f"({last_id}"
        while page := self._redis.xrange(self.stream, start, "+", count=10_000):
            counted += len(page)
            start = f"({page[-1][0]!s}"  # a str: the client decodes responses
        return counted

    def _ensure_group(self) -> None:
        try:  # from the first entry, so jobs published before any router started are handled too
            self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if not str(error).startswith("BUSYGROUP"):
                raise

    def _with_group(self, command: Callable[[], Any]) -> Any:
        try:
            return command()
        except ResponseError as error:
            if not str(error).startswith("NOGROUP"):
                raise
        log.warning("the stream %s or its group %s vanished; creating them again", self.stream, self.group)
        self._ensure_group()
        return command()

    @contextlib.contextmanager
    def _reaching(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise JobsUnavailable(f"Redis at {self.url} is unavailable ({doing}): {error}") from error


def _read_entries(reply: Any) -> list[Entry]:
    """The entries of a one-stream XREADGROUP reply: RESP2 ``[[stream, entries]]`` or RESP3 ``{stream: [entries]}``."""
    if not reply:
        return []
    if isinstance(reply, dict):
        entries = next(iter(reply.values()))
        return list(entries[0] if entries and isinstance(entries[0], list) else entries)
    return list(reply[0][1])


def redacted(url: str) -> str:
    """The URL without its password (nor its query string, which may carry one)."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in userinfo else f"{userinfo}@{host}"
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<an unparsable URL>"
