"""Polling a platform's API without gaps, duplicates or overspending (docs/channels.md#x-twitter). Pure: the
state of one polled stream (``Cursor``) and of one endpoint's request budget (``Budget``); the poller moves them
and a store keeps them, so a restarted poller goes on where the last one stopped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

WINDOW = timedelta(minutes=15)  # X's rate-limit window, and the one requests_per_window counts in
MAX_BACKOFF = timedelta(minutes=15)


@dataclasses.dataclass
class Cursor:
    """Where a stream stands. ``since_id``: every item up to it is stored. A sweep asks for what is newer, page by
    page (newest first); ``target_id`` is its newest item and becomes ``since_id`` only once the sweep's last
    page is stored, so a sweep cut short (a crash, a budget spent) leaves no gap: it goes on from ``next_token``.
    """

    since_id: str | None = None
    target_id: str | None = None
    next_token: str | None = None
    next_sweep_at: datetime | None = None
    sweep_started_at: datetime | None = None  # when the sweep in progress asked its first page
    since_at: datetime | None = None  # when the last finished sweep asked its first page (x_poller's overlap)

    @property
    def sweeping(self) -> bool:
        return self.next_token is not None

    def due(self, now: datetime) -> bool:
        return self.sweeping or self.next_sweep_at is None or now >= self.next_sweep_at

    def page_stored(
        self, newest_id: str | None, next_token: str | None, asked_at: datetime, now: datetime, interval: timedelta
    ) -> None:
        """A page asked at ``asked_at`` is stored: go on to the next, or close the sweep (its newest item is now the
        floor)."""
        if not self.sweeping:  # the sweep's first page holds its newest item
            self.sweep_started_at = asked_at
            if newest_id:
                self.target_id = newest_id
        if next_token:
            self.next_token = next_token
            return
        # Everything asked for is stored: what the platform had at the sweep's start, up to its newest item.
        self.since_id, self.since_at = _newer(self.since_id, self.target_id), self.sweep_started_at
        self.target_id = self.next_token = self.sweep_started_at = None
        self.next_sweep_at = now + interval

    def restart_sweep(self) -> None:
        """The platform no longer takes the page token (it expired): sweep again from ``since_id``; what is asked
        twice is stored once (ingestion is idempotent), and nothing is skipped."""
        self.target_id = self.next_token = self.sweep_started_at = None


@dataclasses.dataclass
class Budget:
    """One endpoint's requests: the platform's window as its headers report it (limit, remaining, reset), our own
    cap per 15-minute window (``requests_per_window``, to hold a paid tier's cost), and backoff after failures."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    window_started_at: datetime | None = None
    sent_in_window: int = 0
    blocked_until: datetime | None = None
    failures: int = 0
    last_error: str | None = None

    def wait_until(self, now: datetime, cap: int | None) -> datetime | None:
        """None when a request may go now; otherwise when to try again."""
        if self.blocked_until is not None and now < self.blocked_until:
            return self.blocked_until
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None and now < self.reset_at:
            return self.reset_at
        if cap is not None and self.window_started_at is not None and now < self.window_started_at + WINDOW:
            if self.sent_in_window >= cap:
                return self.window_started_at + WINDOW
        return None

    def spend(self, now: datetime) -> None:
        """Count a request before it is sent (and stored before it is sent: a crash overcounts, never under)."""
        if self.window_started_at is None or now >= self.window_started_at + WINDOW:
            self.window_started_at, self.sent_in_window = now, 0
        self.sent_in_window += 1
        if self.remaining is not None and self.reset_at is not None and now < self.reset_at:
            self.remaining -= 1  # until the answer says how many are left

    def observe(self, headers: Mapping[str, str]) -> None:
        """``x-rate-limit-limit``, ``-remaining`` and ``-reset`` (unix seconds), from any answer that has them."""
        limit, remaining = _number(headers.get("x-rate-limit-limit")), _number(headers.get("x-rate-limit-remaining"))
        reset = _number(headers.get("x-rate-limit-reset"))
        if limit is not None:
            self.limit = limit
        if remaining is not None:
            self.remaining = remaining
        if reset is not None:
            self.reset_at = datetime.fromtimestamp(reset, tz=UTC)

    def succeeded(self) -> None:
        self.failures, self.blocked_until, self.last_error = 0, None, None

    def throttled(self, now: datetime, reason: str) -> None:
        """A 429: nothing until the platform's reset, or an exponential backoff when it did not say."""
        self.failures += 1
        self.remaining = 0
        reset_ahead = self.reset_at is not None and self.reset_at > now
        self.blocked_until = self.reset_at if reset_ahead else now + backoff(self.failures)
        self.last_error = reason[:500]

    def failed(self, now: datetime, reason: str) -> None:
        """A 5xx, a timeout or a refusal: back off exponentially (30 s, 1 min, 2 min … 15 min)."""
        self.failures += 1
        self.blocked_until = now + backoff(self.failures)
        self.last_error = reason[:500]


def backoff(failures: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(failures, 1)), MAX_BACKOFF)


class PollStore(Protocol):
    """Where cursors and budgets live between passes and across restarts (adapters/db/cursors.py)."""

    def cursor(self, account_id: str, stream: str) -> Cursor: ...
    def save_cursor(self, account_id: str, stream: str, cursor: Cursor, now: datetime) -> None: ...
    def budget(self, account_id: str, endpoint: str) -> Budget: ...
    def save_budget(self, account_id: str, endpoint: str, budget: Budget, now: datetime) -> None: ...


def _newer(first: str | None, second: str | None) -> str | None:
    """The later of two ids; X's ids are numbers that grow with time (compared as numbers, not strings)."""
    if not first or not second:
        return first or second
    if first.isdigit() and second.isdigit():
        return first if int(first) >= int(second) else second
    return second


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
