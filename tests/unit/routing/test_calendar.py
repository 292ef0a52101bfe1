"""Business hours and SLA deadline math: parsing, open/closed boundaries, deadlines across nights, weekends,
holidays and DST, the spec round trip, the 24/7 fast path and the inverse property."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careline.kernel.errors import InvalidInput
from careline.routing.calendar import BusinessHours, CalendarError

HOUR = 3600.0
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE_SPEC: dict[str, Any] = {
    "timezone": "Europe/London",
    "hours": {"mon-fri": "08:00-20:00", "sat": "10:00-14:00, 15:00-18:00", "sun": "closed"},
    "holidays": ["2026-12-25", "2026-12-26"],
}
OFFICE = BusinessHours.parse(OFFICE_SPEC)
DAILY_LONDON = BusinessHours.parse({"timezone": "Europe/London", "hours": {"mon-sun": "08:00-20:00"}})
NY_OFFICE = BusinessHours.parse({"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(**days: str) -> BusinessHours:
    return BusinessHours.parse({"hours": days})


# --- parse ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [None, {}])
def test_an_empty_spec_is_always_open(spec: dict[str, Any] | None) -> None:
    assert BusinessHours.parse(spec) == BusinessHours.always() == BusinessHours()
    assert BusinessHours.always().is_always_open


def test_parse_reads_days_ranges_and_holidays() -> None:
    assert OFFICE.timezone == "Europe/London"
    assert OFFICE.week[0] == OFFICE.week[4] == ((time(8), time(20)),)
    assert OFFICE.week[5] == ((time(10), time(14)), (time(15), time(18)))
    assert OFFICE.week[6] == ()
    assert OFFICE.holidays == {date(2026, 12, 25), date(2026, 12, 26)}
    assert not OFFICE.is_always_open


def test_days_and_values_are_case_insensitive_and_whitespace_tolerant() -> None:
    assert hours(**{" MON-Fri ": " 08:00 - 20:00 ", "SAT": "Closed", "Sun": "24H"}) == hours(
        **{"mon-fri": "08:00-20:00", "sun": "24h"}
    )


def test_a_day_range_may_wrap_around_the_week() -> None:
    calendar = hours(**{"fri-mon": "24h"})
    assert [bool(day) for day in calendar.week] == [True, False, False, False, True, True, True]


def test_comma_lists_of_days_and_ranges() -> None:
    calendar = hours(**{"sat, sun": "10:00-12:00", "mon,wed-thu": "09:00-10:00"})
    assert [bool(day) for day in calendar.week] == [True, False, True, True, False, True, True]


def test_days_not_mentioned_are_closed() -> None:
    assert hours(wed="09:00-17:00").week == ((), (), ((time(9), time(17)),), (), (), (), ())


def test_a_full_day_has_three_spellings() -> None:
    assert hours(mon="24h") == hours(mon="00:00-24:00") == hours(mon="00:00-12:00, 12:00-24:00")
    assert hours(mon="24h").week[0] == ((time(0), time(0)),)


def test_an_evening_may_end_at_24_00() -> None:
    assert hours(fri="18:00-24:00").week[4] == ((time(18), time(0)),)


def test_ranges_are_sorted_and_touching_ones_merged() -> None:
    assert hours(sat="15:00-18:00, 10:00-14:00").week[5] == ((time(10), time(14)), (time(15), time(18)))
    assert hours(sat="10:00-14:00, 14:00-18:00") == hours(sat="10:00-18:00")


def test_without_hours_a_timezone_and_holidays_close_only_the_holidays() -> None:
    calendar = BusinessHours.parse({"timezone": "Europe/London", "holidays": ["2026-12-25"]})
    assert not calendar.is_always_open
    assert not calendar.is_open(utc(2026, 12, 25, 12))
    assert calendar.is_open(utc(2026, 12, 26, 0))
    assert BusinessHours.parse({"timezone": "Europe/London"}).is_always_open


def test_holidays_may_be_dates_as_yaml_makes_them() -> None:
    calendar = BusinessHours.parse({"holidays": [date(2026, 12, 25), "2026-12-26"]})
    assert calendar.holidays == {date(2026, 12, 25), date(2026, 12, 26)}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["mon"], "business hours must be a mapping, got list"),
        ({"tz": "UTC"}, 'business hours: unknown key "tz" (expected timezone, hours, holidays)'),
        ({"timezone": 1}, "timezone: 1 is not a string"),
        ({"timezone": "Mars/Base"}, 'timezone "Mars/Base" is not an IANA timezone name'),
        ({"timezone": "../etc/passwd"}, 'timezone "../etc/passwd" is not an IANA timezone name'),
        ({"timezone": ""}, 'timezone "" is not an IANA timezone name'),
        ({"hours": "mon-fri 9-5"}, "hours must be a mapping of days to hours, got str"),
        ({"hours": {1: "24h"}}, "hours 1: a day key must be a string"),
        ({"hours": {"mon-fry": "24h"}}, 'hours "mon-fry": "fry" is not a day (mon, tue, wed, thu, fri, sat, sun)'),
        ({"hours": {"monday": "24h"}}, 'hours "monday": "monday" is not a day'),
        ({"hours": {"": "24h"}}, 'hours "": "" is not a day'),
        ({"hours": {"mon-sat": "24h", "sat": "closed"}}, 'hours "sat": sat is given twice (also in "mon-sat")'),
        ({"hours": {"sat,SAT": "24h"}}, 'hours "sat,SAT": sat is given twice'),
        ({"hours": {"mon": 9}}, 'hours "mon": 9 is not a string of hours'),
        ({"hours": {"mon": "08:00"}}, 'hours "mon": "08:00" is not a range (HH:MM-HH:MM), "closed" or "24h"'),
        ({"hours": {"mon": "open"}}, 'hours "mon": "open" is not a range'),
        ({"hours": {"mon": "08:00-12:00,"}}, 'hours "mon": "" is not a range'),
        ({"hours": {"mon-fri": "08:00-25:00"}}, 'hours "mon-fri": "25:00" is not a time (HH:MM)'),
        ({"hours": {"mon": "8:00-12:00"}}, 'hours "mon": "8:00" is not a time (HH:MM)'),
        ({"hours": {"mon": "08:60-12:00"}}, 'hours "mon": "08:60" is not a time (HH:MM)'),
        ({"hours": {"mon": "08:00-24:30"}}, 'hours "mon": "24:30" is not a time (HH:MM)'),
        (
            {"hours": {"fri": "22:00-06:00"}},
            'hours "fri": "22:00-06:00" does not end after it starts '
            '(split a night across two days: "22:00-24:00" and "00:00-06:00")',
        ),
        ({"hours": {"mon": "08:00-08:00"}}, 'hours "mon": "08:00-08:00" does not end after it starts'),
        ({"hours": {"mon": "24:00-24:00"}}, 'hours "mon": "24:00-24:00" does not end after it starts'),
        ({"hours": {"sat": "10:00-14:00, 13:00-18:00"}}, 'hours "sat": "10:00-14:00" and "13:00-18:00" overlap'),
        ({"hours": {"mon-sun": "closed"}}, "hours: open at no time of the week"),
        ({"hours": {}}, "hours: open at no time of the week"),
        ({"holidays": "2026-12-25"}, "holidays must be a list of dates (YYYY-MM-DD), got str"),
        ({"holidays": 2026}, "holidays must be a list of dates (YYYY-MM-DD), got int"),
        ({"holidays": ["2026-13-01"]}, 'holidays: "2026-13-01" is not a date (YYYY-MM-DD)'),
        ({"holidays": ["25/12/2026"]}, 'holidays: "25/12/2026" is not a date (YYYY-MM-DD)'),
        ({"holidays": ["20261225"]}, 'holidays: "20261225" is not a date (YYYY-MM-DD)'),
        ({"holidays": [datetime(2026, 12, 25)]}, "holidays: datetime.datetime(2026, 12, 25, 0, 0) is not a date"),
    ],
)
def test_a_bad_spec_says_what_and_where(spec: Any, message: str) -> None:
    with pytest.raises(CalendarError, match=re.escape(message)):
        BusinessHours.parse(spec)


def test_a_calendar_error_is_invalid_input_and_a_value_error() -> None:
    assert issubclass(CalendarError, InvalidInput)
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        (((),) * 6, "week must have 7 days (Monday first), got 6"),
        (((),) * 7, "hours: open at no time of the week"),
        ((((time(9), time(8)),),) + ((),) * 6, "week mon: ranges must be sorted, end after they start"),
        ((((time(9), time(12)), (time(11), time(13))),) + ((),) * 6, "week mon: ranges must be sorted"),
        ((((time(9, 0, 30), time(12)),),) + ((),) * 6, "week mon: times must be naive whole minutes"),
    ],
)
def test_the_constructor_checks_the_week(week: Any, message: str) -> None:
    with pytest.raises(CalendarError, match=re.escape(message)):
        BusinessHours(week=week)


# --- to_spec ----------------------------------------------------------------------------------------------------


def test_always_writes_an_empty_spec() -> None:
    assert BusinessHours.always().to_spec() == {}


def test_to_spec_groups_days_and_writes_closed_days() -> None:
    assert OFFICE.to_spec() == OFFICE_SPEC


@pytest.mark.parametrize(
    "spec",
    [
        OFFICE_SPEC,
        {"timezone": "America/New_York"},
        {"holidays": ["2027-01-01", "2026-12-25"]},
        {"hours": {"fri-mon": "24h", "wed": "09:00-12:00, 18:00-24:00"}},
        {"hours": {"mon,wed,fri": "00:00-06:00"}, "timezone": "Asia/Kolkata"},
    ],
)
def test_to_spec_round_trips_through_parse(spec: dict[str, Any]) -> None:
    calendar = BusinessHours.parse(spec)
    assert BusinessHours.parse(calendar.to_spec()) == calendar


def test_to_spec_writes_runs_of_consecutive_days() -> None:
    spec = hours(**{"mon-wed,fri": "09:00-17:00", "sun": "24h"}).to_spec()
    assert spec == {
        "hours": {"mon-wed": "09:00-17:00", "thu": "closed", "fri": "09:00-17:00", "sat": "closed", "sun": "24h"}
    }


# --- is_open and next_open --------------------------------------------------------------------------------------


def test_a_range_is_open_at_its_start_and_closed_at_its_end() -> None:
    monday = utc(2026, 1, 5)  # London is on GMT in January
    assert not OFFICE.is_open(monday.replace(hour=7, minute=59, second=59, microsecond=999999))
    assert OFFICE.is_open(monday.replace(hour=8))
    assert OFFICE.is_open(monday.replace(hour=19, minute=59, second=59, microsecond=999999))
    assert not OFFICE.is_open(monday.replace(hour=20))


def test_is_open_follows_summer_time() -> None:
    assert OFFICE.is_open(utc(2026, 6, 1, 7))  # 08:00 BST
    assert not OFFICE.is_open(utc(2026, 6, 1, 19))  # 20:00 BST


def test_closed_days_holidays_and_breaks() -> None:
    assert not OFFICE.is_open(utc(2026, 1, 4, 12))  # Sunday
    assert not OFFICE.is_open(utc(2026, 12, 25, 12))  # Christmas, a Friday
    assert not OFFICE.is_open(utc(2026, 1, 3, 14, 30))  # Saturday lunch break
    assert OFFICE.is_open(utc(2026, 1, 3, 15))


def test_ranges_touching_across_midnight_stay_open_at_midnight() -> None:
    calendar = hours(sat="18:00-24:00", sun="00:00-02:00")
    assert calendar.is_open(utc(2026, 1, 4, 0))
    assert calendar.next_open(utc(2026, 1, 3, 23)) == utc(2026, 1, 3, 23)
    assert calendar.add_business_time(utc(2026, 1, 3, 23), 2 * HOUR) == utc(2026, 1, 4, 1)


def test_next_open_is_the_instant_itself_when_open() -> None:
    assert OFFICE.next_open(utc(2026, 1, 5, 8)) == utc(2026, 1, 5, 8)


def test_next_open_skips_nights_breaks_weekends_and_holidays() -> None:
    assert OFFICE.next_open(utc(2026, 1, 5, 20)) == utc(2026, 1, 6, 8)
    assert OFFICE.next_open(utc(2026, 1, 3, 14)) == utc(2026, 1, 3, 15)
    assert OFFICE.next_open(utc(2026, 1, 3, 18)) == utc(2026, 1, 5, 8)
    assert OFFICE.next_open(utc(2026, 12, 24, 20)) == utc(2026, 12, 28, 8)


def test_any_aware_datetime_goes_in_and_utc_comes_out() -> None:
    local = datetime(2026, 6, 1, 7, 30, tzinfo=LONDON)
    opened = OFFICE.next_open(local)
    assert opened == utc(2026, 6, 1, 7) and opened.tzinfo is UTC
    assert OFFICE.add_business_time(local, 0).tzinfo is UTC
    assert BusinessHours.always().add_business_time(local, 60).tzinfo is UTC


# --- add_business_time and business_seconds_between -------------------------------------------------------------


def test_a_deadline_inside_one_range() -> None:
    assert OFFICE.add_business_time(utc(2026, 1, 5, 9), 2 * HOUR) == utc(2026, 1, 5, 11)


def test_a_deadline_spans_the_night() -> None:
    assert OFFICE.add_business_time(utc(2026, 1, 5, 19), 2 * HOUR) == utc(2026, 1, 6, 9)


def test_a_deadline_spans_the_weekend() -> None:
    # Friday 19:00 + 1 h Friday + 4 h + 3 h Saturday + 1 h Monday.
    assert OFFICE.add_business_time(utc(2026, 1, 2, 19), 9 * HOUR) == utc(2026, 1, 5, 9)


def test_a_deadline_spans_holidays() -> None:
    # Thursday 24 December 19:00 + 1 h; 25 and 26 are holidays, Sunday is closed; Monday 08:00 + 1 h.
    assert OFFICE.add_business_time(utc(2026, 12, 24, 19), 2 * HOUR) == utc(2026, 12, 28, 9)


def test_a_deadline_at_closing_time_is_the_closing_instant() -> None:
    assert OFFICE.add_business_time(utc(2026, 1, 5, 19), HOUR) == utc(2026, 1, 5, 20)


def test_the_clock_starts_at_the_next_opening() -> None:
    assert OFFICE.add_business_time(utc(2026, 1, 4, 12), 30 * 60) == utc(2026, 1, 5, 8, 30)
    assert OFFICE.add_business_time(utc(2026, 1, 4, 12), 0) == utc(2026, 1, 5, 8)


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_infinite_target_is_refused(seconds: float) -> None:
    for calendar in (OFFICE, BusinessHours.always()):
        with pytest.raises(ValueError, match="seconds must be a finite number >= 0"):
            calendar.add_business_time(utc(2026, 1, 5), seconds)


def test_business_seconds_of_a_whole_week() -> None:
    assert OFFICE.business_seconds_between(utc(2026, 1, 5), utc(2026, 1, 12)) == (5 * 12 + 4 + 3) * HOUR


def test_business_seconds_of_a_partial_span() -> None:
    assert OFFICE.business_seconds_between(utc(2026, 1, 3, 13), utc(2026, 1, 5, 9)) == 5 * HOUR


def test_business_seconds_are_zero_when_the_end_is_not_after_the_start() -> None:
    assert OFFICE.business_seconds_between(utc(2026, 1, 5, 12), utc(2026, 1, 5, 12)) == 0
    assert OFFICE.business_seconds_between(utc(2026, 1, 5, 12), utc(2026, 1, 5, 9)) == 0


def test_spring_forward_in_london_keeps_wall_clock_hours() -> None:
    # The clocks go from 01:00 GMT to 02:00 BST on Sunday 29 March 2026: 08:00-20:00 BST is 07:00-19:00 UTC.
    assert DAILY_LONDON.business_seconds_between(utc(2026, 3, 29), utc(2026, 3, 30)) == 12 * HOUR
    assert DAILY_LONDON.next_open(utc(2026, 3, 28, 20)) == utc(2026, 3, 29, 7)
    assert DAILY_LONDON.add_business_time(utc(2026, 3, 28, 19), 13 * HOUR) == utc(2026, 3, 29, 19)


def test_fall_back_in_london_keeps_wall_clock_hours() -> None:
    # 25 October 2026 goes from 02:00 BST back to 01:00 GMT: 08:00-20:00 GMT is 08:00-20:00 UTC.
    assert DAILY_LONDON.business_seconds_between(utc(2026, 10, 25), utc(2026, 10, 26)) == 12 * HOUR
    # Saturday 19:00 BST (18:00 UTC) + 1 h to 20:00 BST, then Sunday 08:00 GMT + 1 h.
    assert DAILY_LONDON.add_business_time(utc(2026, 10, 24, 18), 2 * HOUR) == utc(2026, 10, 25, 9)


def test_a_whole_day_lasts_23_or_25_hours_when_the_clocks_change() -> None:
    sundays = hours(sun="24h")
    spring = sundays.business_seconds_between(utc(2026, 3, 28), utc(2026, 3, 31))
    autumn = sundays.business_seconds_between(utc(2026, 10, 24), utc(2026, 10, 27))
    assert (spring, autumn) == (24 * HOUR, 24 * HOUR)  # UTC has no DST
    london = BusinessHours.parse({"timezone": "Europe/London", "hours": {"sun": "24h"}})
    assert london.business_seconds_between(utc(2026, 3, 28), utc(2026, 3, 31)) == 23 * HOUR
    assert london.business_seconds_between(utc(2026, 10, 24), utc(2026, 10, 27)) == 25 * HOUR


def test_new_york_deadlines_across_both_clock_changes() -> None:
    # Friday 6 March 16:00 EST + 2 h: 1 h on Friday, then Monday 9 March 09:00 EDT (13:00 UTC) + 1 h.
    assert NY_OFFICE.add_business_time(utc(2026, 3, 6, 21), 2 * HOUR) == utc(2026, 3, 9, 14)
    # Friday 30 October 16:00 EDT + 2 h: Monday 2 November 09:00 EST (14:00 UTC) + 1 h.
    assert NY_OFFICE.add_business_time(utc(2026, 10, 30, 20), 2 * HOUR) == utc(2026, 11, 2, 15)
    assert NY_OFFICE.business_seconds_between(utc(2026, 3, 2), utc(2026, 3, 14)) == 10 * 8 * HOUR


def test_a_range_starting_in_the_spring_gap_is_read_with_fold_0() -> None:
    # 01:30 does not exist on 29 March in London; fold=0 reads it with GMT, the instant the clock shows 02:30 BST.
    calendar = BusinessHours.parse({"timezone": "Europe/London", "hours": {"sun": "01:30-03:00"}})
    assert calendar.next_open(utc(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    assert calendar.business_seconds_between(utc(2026, 3, 29), utc(2026, 3, 30)) == 0.5 * HOUR


def test_ranges_that_collide_in_the_spring_gap_are_clipped_not_counted_twice() -> None:
    calendar = BusinessHours.parse({"timezone": "Europe/London", "hours": {"sun": "00:00-01:45, 02:15-03:00"}})
    assert calendar.business_seconds_between(utc(2026, 3, 29), utc(2026, 3, 30)) == 2 * HOUR
    assert calendar.add_business_time(utc(2026, 3, 29), 2 * HOUR) == utc(2026, 3, 29, 2)
    empty = BusinessHours.parse({"timezone": "Europe/London", "hours": {"sun": "01:30-02:00", "mon": "09:00-10:00"}})
    assert empty.next_open(utc(2026, 3, 29)) == utc(2026, 3, 30, 8)  # nothing of Sunday's range is left


def test_the_repeated_autumn_hour_counts_twice() -> None:
    calendar = BusinessHours.parse({"timezone": "Europe/London", "hours": {"sun": "01:00-02:00"}})
    assert calendar.next_open(utc(2026, 10, 24)) == utc(2026, 10, 25, 0)  # 01:00 BST, the first occurrence
    assert calendar.business_seconds_between(utc(2026, 10, 25), utc(2026, 10, 26)) == 2 * HOUR


def test_holidays_that_close_every_opening_for_years_stop_the_search() -> None:
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=week) for week in range(4 * 53))
    calendar = BusinessHours(week=((((time(9), time(10)),),) + ((),) * 6), holidays=mondays)
    with pytest.raises(CalendarError, match="open at no time in the 1098 days after"):
        calendar.next_open(utc(2026, 1, 1))
    with pytest.raises(CalendarError, match="open at no time"):
        calendar.add_business_time(utc(2026, 1, 1), 60)
    assert calendar.business_seconds_between(utc(2026, 1, 1), utc(2030, 1, 1)) == 0
    assert not calendar.is_open(utc(2026, 1, 5, 9))


# --- the 24/7 fast path -----------------------------------------------------------------------------------------


def test_always_adds_plain_time() -> None:
    calendar = BusinessHours.always()
    start = utc(2026, 3, 29, 0, 30)
    assert calendar.add_business_time(start, 90.5) == start + timedelta(seconds=90.5)
    assert calendar.is_open(start) and calendar.next_open(start) == start
    assert calendar.business_seconds_between(start, start + timedelta(days=400)) == 400 * 86400


def test_always_does_no_calendar_scanning() -> None:
    # At the very end of datetime's range any look at the next local day would overflow.
    end_of_time = utc(9999, 12, 31, 22)
    calendar = BusinessHours.parse({"timezone": "Europe/London"})
    assert calendar.is_always_open
    assert calendar.is_open(end_of_time)
    assert calendar.add_business_time(end_of_time, HOUR) == utc(9999, 12, 31, 23)


# --- naive datetimes --------------------------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 5, 9)
CALLS: list[tuple[str, Callable[[BusinessHours], object]]] = [
    ("at", lambda c: c.is_open(NAIVE)),
    ("at", lambda c: c.next_open(NAIVE)),
    ("start", lambda c: c.add_business_time(NAIVE, 60)),
    ("start", lambda c: c.business_seconds_between(NAIVE, utc(2026, 1, 6))),
    ("end", lambda c: c.business_seconds_between(utc(2026, 1, 4), NAIVE)),
]


@pytest.mark.parametrize("calendar", [OFFICE, BusinessHours.always()], ids=["office", "always"])
@pytest.mark.parametrize(("name", "call"), CALLS)
def test_a_naive_datetime_is_refused(
    calendar: BusinessHours, name: str, call: Callable[[BusinessHours], object]
) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be timezone-aware"):
        call(calendar)


# --- properties -------------------------------------------------------------------------------------------------

# Breaks, a night range, touching days, ranges in the spring gap, holidays and two DST changes a year.
TRICKY = BusinessHours.parse(
    {
        "timezone": "Europe/London",
        "hours": {
            "mon-thu": "08:00-12:00, 13:00-20:00",
            "fri": "08:00-24:00",
            "sat": "00:00-02:00, 10:00-14:00",
            "sun": "00:00-01:45, 02:15-03:00",
        },
        "holidays": ["2026-12-25", "2026-12-28", "2027-03-29", "2027-03-30"],
    }
)
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
durations = st.floats(min_value=0, max_value=60 * 86400, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(start=instants, seconds=durations)
def test_business_seconds_between_inverts_add_business_time(start: datetime, seconds: float) -> None:
    deadline = TRICKY.add_business_time(start, seconds)
    assert deadline >= start
    assert TRICKY.business_seconds_between(start, deadline) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(start=instants, seconds=durations)
def test_the_inverse_holds_for_always_too(start: datetime, seconds: float) -> None:
    calendar = BusinessHours.always()
    deadline = calendar.add_business_time(start, seconds)
    assert calendar.business_seconds_between(start, deadline) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(at=instants)
def test_next_open_is_open_and_nothing_before_it_is(at: datetime) -> None:
    opened = TRICKY.next_open(at)
    assert opened >= at and TRICKY.is_open(opened)
    assert TRICKY.business_seconds_between(at, opened) == 0
    assert TRICKY.is_open(at) == (opened == at)
