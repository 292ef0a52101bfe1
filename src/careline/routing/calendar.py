"""Business hours of a queue and the SLA deadline math on them (docs/routing.md).

A queue's SLA targets count business time only: a conversation arriving on Friday evening with a one-hour
first-response target is due one open hour after Monday's opening, not at 21:00 on Friday. A schedule is a set of
wall-clock ranges per weekday in a named IANA timezone, plus holidays (local dates of that timezone, closed all
day); every datetime going in or out is timezone-aware, and results are in UTC. Each day's ranges are turned into
instants with zoneinfo on that very date, so DST is respected: "08:00-20:00" is twelve open hours on the day the
clocks change at 01:00, and "00:00-24:00" is 23 or 25 hours on those days. A range boundary that falls in a DST
gap or overlap is read with fold=0 (PEP 495): a time skipped by the spring jump is read with the offset before the
jump (01:30 in a one-hour gap is the instant the clock shows 02:30), a repeated time is its first occurrence; the
resulting intervals are then clipped so they never overlap, so a range lying inside a gap may shrink to nothing.
Deadlines are exact to the microsecond, and ``business_seconds_between`` is the inverse of ``add_business_time``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from careline.kernel.errors import InvalidInput

# ~350 lines on purpose: the spec parser, the spec writer and the interval math share one week representation and
# its invariants (sorted, merged, 24:00 as time(0)); routing needs only BusinessHours and CalendarError from here.
Range = tuple[time, time]
DayHours = tuple[Range, ...]
Interval = tuple[datetime, datetime]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MIDNIGHT = time(0, 0)
_FULL_DAY: DayHours = ((_MIDNIGHT, _MIDNIGHT),)
_ALWAYS_WEEK: tuple[DayHours, ...] = (_FULL_DAY,) * 7
_DAY_MINUTES = 24 * 60
_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_MAX_CLOSED_DAYS = 3 * 366  # holidays cannot close every day for ever: give up rather than loop
_KEYS = ("timezone", "hours", "holidays")
_TIME = re.compile(r"(\d\d):(\d\d)", re.ASCII)
_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)


class CalendarError(InvalidInput, ValueError):
    """A business-hours spec that cannot be parsed, or a schedule with no open time."""


@dataclasses.dataclass(frozen=True)
class BusinessHours:
    """When a queue is open: ranges of local wall-clock time per weekday, in one timezone, minus holidays.

    ``week[0]`` is Monday; each day holds sorted, non-overlapping ``(start, end)`` local times, where an end of
    ``time(0, 0)`` is midnight at the end of the day. Touching ranges are merged. The default is open 24/7.
    """

    timezone: str = "UTC"
    week: tuple[DayHours, ...] = _ALWAYS_WEEK
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = dataclasses.field(init=False, repr=False, compare=False)
    _always_open: bool = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        week = _normalize_week(self.week)
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", frozenset(self.holidays))  # a set or list given here stays hashable
        object.__setattr__(self, "_zone", _load_zone(self.timezone))
        object.__setattr__(self, "_always_open", week == _ALWAYS_WEEK and not self.holidays)

    @classmethod
    def always(cls) -> BusinessHours:
        """Open 24/7 with no holidays: the default of a queue."""
        return cls()

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None) -> BusinessHours:
        """Build from a stored spec (``{"timezone": ..., "hours": {...}, "holidays": [...]}``); empty is 24/7."""
        if spec is None:
            return cls.always()
        if not isinstance(spec, Mapping):
            raise CalendarError(f"business hours must be a mapping, got {type(spec).__name__}")
        unknown = [_show(key) for key in spec if key not in _KEYS]
        if unknown:
            raise CalendarError(f"business hours: unknown key {', '.join(unknown)} (expected {', '.join(_KEYS)})")
        timezone = spec.get("timezone", "UTC")
        if not isinstance(timezone, str):
            raise CalendarError(f"timezone: {_show(timezone)} is not a string")
        week = _parse_hours(spec["hours"]) if "hours" in spec else _ALWAYS_WEEK
        return cls(timezone, week, _parse_holidays(spec.get("holidays", ())))

    def to_spec(self) -> dict[str, Any]:
        """The spec ``parse`` reads back into an equal calendar; only what differs from 24/7 UTC is written."""
        spec: dict[str, Any] = {}
        if self.timezone != "UTC":
            spec["timezone"] = self.timezone
        if self.week != _ALWAYS_WEEK:
            spec["hours"] = _hours_spec(self.week)
        if self.holidays:
            spec["holidays"] = [day.isoformat() for day in sorted(self.holidays)]
        return spec

    @property
    def is_always_open(self) -> bool:
        return self._always_open

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is business time: a range's start is open, its end is not."""
        if self._always_open:
            _require_aware(at, "at")
            return True
        at = _to_utc(at, "at")
        first = next(self._open_intervals(at, until=at), None)
        return first is not None and first[0] == at

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself (in UTC) when open, otherwise the next instant the queue opens."""
        at = _to_utc(at, "at")
        if self._always_open:
            return at
        return next(self._open_intervals(at))[0]

    def add_business_time(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of open time have elapsed after ``start``: an SLA deadline."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        if self._always_open:  # the hot path of routing: no zoneinfo work
            _require_aware(start, "start")
            return (start + timedelta(seconds=seconds)).astimezone(UTC)
        remaining = round(seconds * 1_000_000)  # whole microseconds, so the inverse below is exact
        for opens, closes in self._open_intervals(_to_utc(start, "start")):
            length = (closes - opens) // _MICROSECOND
            if remaining <= length:
                return opens + timedelta(microseconds=remaining)
            remaining -= length
        raise AssertionError("unreachable: open intervals without a bound never run out")

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in ``[start, end)``; 0 when ``end <= start``."""
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        if end <= start:
            return 0.0
        if self._always_open:
            return (end - start).total_seconds()
        total = 0
        for opens, closes in self._open_intervals(start, until=end):
            if opens >= end:
                break
            total += (min(closes, end) - opens) // _MICROSECOND
        return total / 1_000_000

    def _open_intervals(self, after: datetime, until: datetime | None = None) -> Iterator[Interval]:
        """Open UTC intervals in order, clipped to start no earlier than ``after`` and never to overlap.

        Scanning starts a day early because DST can move a day's last range past the next local midnight. With
        ``until`` it stops after the local day following it; without, it raises after years of closed days.
        """
        day = after.astimezone(self._zone).date() - _ONE_DAY
        last_day = None if until is None else until.astimezone(self._zone).date() + _ONE_DAY
        previous_end, closed_days = after, 0
        while last_day is None or day <= last_day:
            for opens, closes in self._day_intervals(day):
                clipped = max(opens, previous_end)
                if closes > clipped:
                    yield clipped, closes
                    previous_end, closed_days = closes, 0
            closed_days += 1
            if last_day is None and closed_days > _MAX_CLOSED_DAYS:
                raise CalendarError(
                    f"open at no time in the {_MAX_CLOSED_DAYS} days after {after.isoformat()} (holidays close them)"
                )
            day += _ONE_DAY

    def _day_intervals(self, day: date) -> Iterator[Interval]:
        if day in self.holidays:
            return
        for opens, closes in self.week[day.weekday()]:
            closes_on = day + _ONE_DAY if closes == _MIDNIGHT else day
            yield _instant(day, opens, self._zone), _instant(closes_on, closes, self._zone)


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a date, read with fold=0."""
    return datetime(day.year, day.month, day.day, wall.hour, wall.minute, tzinfo=zone).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _to_utc(value: datetime, name: str) -> datetime:
    _require_aware(value, name)
    return value.astimezone(UTC)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(f'timezone "{name}" is not an IANA timezone name (like "Europe/London")') from None


def _minutes(wall: time, *, end: bool = False) -> int:
    minutes = wall.hour * 60 + wall.minute
    return _DAY_MINUTES if end and minutes == 0 else minutes


def _wall(minutes: int) -> time:
    return time(*divmod(minutes % _DAY_MINUTES, 60))


def _normalize_week(week: tuple[DayHours, ...]) -> tuple[DayHours, ...]:
    """Check the shape of a week and merge touching ranges, so equal schedules compare equal."""
    if len(week) != 7:
        raise CalendarError(f"week must have 7 days (Monday first), got {len(week)}")
    normalized: list[DayHours] = []
    for name, ranges in zip(DAYS, week, strict=True):
        merged: list[list[int]] = []
        for opens, closes in ranges:
            if any(t.second or t.microsecond or t.tzinfo for t in (opens, closes)):
                raise CalendarError(f"week {name}: times must be naive whole minutes, got {opens}-{closes}")
            start, end = _minutes(opens), _minutes(closes, end=True)
            if end <= start or (merged and start < merged[-1][1]):
                raise CalendarError(f"week {name}: ranges must be sorted, end after they start and not overlap")
            if merged and start == merged[-1][1]:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        normalized.append(tuple((_wall(start), _wall(end)) for start, end in merged))
    if not any(normalized):
        raise CalendarError("hours: open at no time of the week")
    return tuple(normalized)


def _parse_hours(hours: Any) -> tuple[DayHours, ...]:
    if not isinstance(hours, Mapping):
        raise CalendarError(f"hours must be a mapping of days to hours, got {type(hours).__name__}")
    week: list[DayHours] = [()] * 7
    given_in: dict[int, str] = {}
    for key, value in hours.items():
        where = f"hours {_show(key)}"
        days = _parse_days(where, key)
        ranges = _parse_ranges(where, value)
        for day in days:
            if day in given_in:
                also = "" if given_in[day] == key else f' (also in "{given_in[day]}")'
                raise CalendarError(f"{where}: {DAYS[day]} is given twice{also}")
            given_in[day], week[day] = key, ranges
    return tuple(week)


def _parse_days(where: str, key: Any) -> list[int]:
    """``"mon"``, ``"mon-fri"``, ``"fri-mon"`` (wrapping) and comma lists of those, in any case."""
    if not isinstance(key, str):
        raise CalendarError(f"{where}: a day key must be a string")
    days: list[int] = []
    for part in key.lower().split(","):
        first, dash, last = part.partition("-")
        start = _day_index(where, first.strip())
        end = _day_index(where, last.strip()) if dash else start
        days.extend((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return days


def _day_index(where: str, name: str) -> int:
    if name not in DAYS:
        raise CalendarError(f'{where}: "{name}" is not a day ({", ".join(DAYS)})')
    return DAYS.index(name)


def _parse_ranges(where: str, value: Any) -> DayHours:
    """``"closed"``, ``"24h"`` or comma-separated ``"HH:MM-HH:MM"`` ranges (an end may be ``24:00``)."""
    if not isinstance(value, str):
        raise CalendarError(f"{where}: {_show(value)} is not a string of hours")
    text = value.strip().lower()
    if text == "closed":
        return ()
    if text == "24h":
        return _FULL_DAY
    ranges = sorted(_parse_range(where, piece.strip()) for piece in text.split(","))
    for (_, end, before), (start, _, after) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise CalendarError(f'{where}: "{before}" and "{after}" overlap')
    return tuple((_wall(start), _wall(end)) for start, end, _ in ranges)


def _parse_range(where: str, piece: str) -> tuple[int, int, str]:
    bounds = piece.split("-")
    if len(bounds) != 2:
        raise CalendarError(f'{where}: "{piece}" is not a range (HH:MM-HH:MM), "closed" or "24h"')
    start, end = (_parse_minutes(where, bound.strip()) for bound in bounds)
    if end <= start:
        hint = f' (split a night across two days: "{bounds[0]}-24:00" and "00:00-{bounds[1]}")' if end < start else ""
        raise CalendarError(f'{where}: "{piece}" does not end after it starts{hint}')
    return start, end, piece


def _parse_minutes(where: str, text: str) -> int:
    match = _TIME.fullmatch(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if (hour < 24 and minute < 60) or (hour, minute) == (24, 0):
            return hour * 60 + minute
    raise CalendarError(f'{where}: "{text}" is not a time (HH:MM)')


def _parse_holidays(value: Any) -> frozenset[date]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise CalendarError(f"holidays must be a list of dates (YYYY-MM-DD), got {type(value).__name__}")
    return frozenset(_parse_date(item) for item in value)


def _parse_date(item: Any) -> date:
    """An ISO date string, or a ``date`` (what YAML makes of an unquoted one)."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str) and _DATE.fullmatch(item.strip()):
        try:
            return date.fromisoformat(item.strip())
        except ValueError:
            pass
    raise CalendarError(f"holidays: {_show(item)} is not a date (YYYY-MM-DD)")


def _hours_spec(week: tuple[DayHours, ...]) -> dict[str, str]:
    """Runs of consecutive days with the same hours, as ``{"mon-fri": "08:00-20:00", "sat-sun": "closed"}``."""
    spec: dict[str, str] = {}
    first = 0
    for day in range(1, 8):
        if day == 7 or week[day] != week[first]:
            key = DAYS[first] if day - 1 == first else f"{DAYS[first]}-{DAYS[day - 1]}"
            spec[key] = _format_day(week[first])
            first = day
    return spec


def _format_day(ranges: DayHours) -> str:
    if not ranges:
        return "closed"
    if ranges == _FULL_DAY:
        return "24h"
    return ", ".join(
        f"{opens:%H:%M}-{'24:00' if closes == _MIDNIGHT else f'{closes:%H:%M}'}" for opens, closes in ranges
    )


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)
