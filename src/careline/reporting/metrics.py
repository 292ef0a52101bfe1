"""Report math over the event log: pure functions, no database (docs/reports.md)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (the common 'type 7' definition)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclasses.dataclass
class _Thread:
    queue_id: str | None = None
    channel_account_id: str | None = None
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    queue_at_response: str | None = None
    resolved: bool = False


@dataclasses.dataclass(frozen=True)
class LoggedEvent:
    type: str
    conversation_id: str | None
    occurred_at: datetime
    data: dict[str, Any]


def summarise(
    events: Iterable[LoggedEvent], queue_targets: dict[str, int], queue_names: dict[str, str],
    account_kinds: dict[str, str],
) -> dict[str, Any]:
    """Volumes, first response, service level, resolution and backlog from events in log order."""
    threads: dict[str, _Thread] = {}
    inbound_by_channel: dict[str, int] = {}
    outbound_by_channel: dict[str, int] = {}
    for event in events:
        if event.conversation_id is None:
            continue
        thread = threads.setdefault(event.conversation_id, _Thread())
        kind = event.type
        if kind == "conversation.created":
            thread.channel_account_id = event.data["channel_account_id"]
        elif kind == "conversation.triaged":
            thread.queue_id = event.data["queue_id"]
        elif kind == "conversation.transferred":
            thread.queue_id = event.data["to_queue_id"]
        elif kind == "message.received":
            channel = account_kinds.get(event.data["channel_account_id"], "unknown")
            inbound_by_channel[channel] = inbound_by_channel.get(channel, 0) + 1
            if thread.first_inbound_at is None or event.occurred_at < thread.first_inbound_at:
                thread.first_inbound_at = event.occurred_at
        elif kind == "message.sent":
            channel = account_kinds.get(event.data["channel_account_id"], "unknown")
            outbound_by_channel[channel] = outbound_by_channel.get(channel, 0) + 1
            if event.data.get("first_response"):
                thread.first_response_at = event.occurred_at
                thread.queue_at_response = thread.queue_id
        elif kind == "conversation.resolved":
            thread.resolved = True
        elif kind == "conversation.reopened":
            thread.resolved = False
    return _summary(threads, inbound_by_channel, outbound_by_channel, queue_targets, queue_names)


def _summary(
    threads: dict[str, _Thread], inbound: dict[str, int], outbound: dict[str, int],
    queue_targets: dict[str, int], queue_names: dict[str, str],
) -> dict[str, Any]:
    minutes: list[float] = []
    within = 0
    by_queue: dict[str, int] = {}
    for thread in threads.values():
        name = queue_names.get(thread.queue_id or "", "unknown")
        by_queue[name] = by_queue.get(name, 0) + 1
        if thread.first_inbound_at is None or thread.first_response_at is None:
            continue
        waited = (thread.first_response_at - thread.first_inbound_at).total_seconds()
        minutes.append(waited / 60.0)
        target = queue_targets.get(thread.queue_at_response or "")
        if target is not None and waited <= target:
            within += 1
    total = len(threads)
    resolved = sum(1 for t in threads.values() if t.resolved)
    channels = sorted(set(inbound) | set(outbound))
    return {
        "conversations": {
            "total": total,
            "resolved": resolved,
            "open_backlog": total - resolved,
            "resolution_rate": _ratio(resolved, total),
            "by_queue": dict(sorted(by_queue.items())),
        },
        "messages": {
            "inbound": sum(inbound.values()),
            "outbound": sum(outbound.values()),
            "by_channel": {c: {"inbound": inbound.get(c, 0), "outbound": outbound.get(c, 0)} for c in channels},
        },
        "first_response_minutes": {
            "count": len(minutes),
            "p50": _round(percentile(minutes, 50)),
            "p90": _round(percentile(minutes, 90)),
            "mean": _round(sum(minutes) / len(minutes)) if minutes else None,
        },
        "service_level": {
            "answered": len(minutes),
            "within_target": within,
            "rate": _ratio(within, len(minutes)),
        },
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
