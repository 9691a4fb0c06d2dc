"""Budget windows: calendar periods across DST changes and month ends, and rolling buckets."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.store.windows import (
    _compute_bounds,
    parse_window,
    period_key,
    retain_until,
    view_periods,
    window_bounds,
)

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "America/Santiago",  # springs forward at midnight: some local midnights never happen
    "America/Havana",  # the same, at 00:00 too
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST shift
]


def local(ts: float, tz: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(tz))


def at(tz: str, y: int, m: int, d: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(y, m, d, hour, minute, second, tzinfo=ZoneInfo(tz)).timestamp()


def first_day(window: str, day: date) -> date:
    if window == "week":
        return day - timedelta(days=day.weekday())
    if window == "month":
        return day.replace(day=1)
    return day


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_calendar_windows_start_at_their_first_local_instant(window: str, tz: str) -> None:
    now = at(tz, 2024, 1, 1, 0, 30)
    while now < at(tz, 2025, 1, 1):
        start, end = window_bounds(window, tz, now)
        assert start <= now < end
        expected = first_day(window, local(now, tz).date())
        assert local(start, tz).date() == expected, "start is on the window's first day"
        assert local(start - 1, tz).date() < expected, "and is its first instant"
        assert window_bounds(window, tz, end)[0] == end, "windows tile time with no gap"
        now += 7 * 3600 + 13


def test_a_day_is_23_or_25_hours_across_dst() -> None:
    spring = at("Europe/Paris", 2024, 3, 31, 12)
    autumn = at("Europe/Paris", 2024, 10, 27, 12)
    for now, hours in ((spring, 23), (autumn, 25)):
        start, end = window_bounds("day", "Europe/Paris", now)
        assert end - start == hours * 3600


def test_a_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Santiago, 8 September 2024: 24:00 (UTC-4) became 01:00 (UTC-3); 00:00 never happened
    now = at("America/Santiago", 2024, 9, 8, 9)
    start, end = window_bounds("day", "America/Santiago", now)
    assert local(start, "America/Santiago").replace(tzinfo=None) == datetime(2024, 9, 8, 1)
    assert end - start == 23 * 3600


def test_months_end_where_the_calendar_says() -> None:
    feb = window_bounds("month", "UTC", at("UTC", 2024, 2, 10))
    assert feb == (at("UTC", 2024, 2, 1), at("UTC", 2024, 3, 1))
    assert (feb[1] - feb[0]) / 86400 == 29
    december = window_bounds("month", "Asia/Kathmandu", at("Asia/Kathmandu", 2024, 12, 31, 23))
    assert december == (at("Asia/Kathmandu", 2024, 12, 1), at("Asia/Kathmandu", 2025, 1, 1))
    last_second = at("Europe/Paris", 2024, 3, 31, 23, 59, 59)
    assert window_bounds("month", "Europe/Paris", last_second)[1] == last_second + 1


def test_weeks_run_monday_to_monday() -> None:
    sunday = at("America/New_York", 2024, 3, 10, 23)  # DST began that morning
    start, end = window_bounds("week", "America/New_York", sunday)
    assert (start, end) == (at("America/New_York", 2024, 3, 4), at("America/New_York", 2024, 3, 11))
    assert end - start == 7 * 86400 - 3600


def test_rolling_windows_count_whole_buckets_covering_the_last_n_seconds() -> None:
    assert parse_window("rolling:3600").bucket == 60
    assert parse_window("rolling:90").bucket == 2
    assert parse_window("rolling:30").bucket == 1
    now = 1_700_000_030.5
    start, end = window_bounds("rolling:3600", "UTC", now)
    assert start <= now - 3600 < start + 60, "at most one bucket more than asked"
    assert end == 1_700_000_040, "the next bucket boundary"
    periods = view_periods("rolling:3600", "UTC", now)
    assert len(periods) == 61
    assert periods[-1] == period_key("rolling:3600", "UTC", now)
    assert periods[0] == period_key("rolling:3600", "UTC", start)


def test_period_keys_separate_windows_and_zones() -> None:
    now = at("UTC", 2024, 6, 1, 12)
    assert period_key("day", "UTC", now) == period_key("day", "UTC", now + 3600)
    assert period_key("day", "UTC", now) != period_key("day", "UTC", now + 86400)
    assert period_key("day", "UTC", now) != period_key("day", "Europe/Paris", now)
    assert period_key("day", "UTC", now) != period_key("month", "UTC", now)
    assert view_periods("total", "UTC", now) == ("total",)
    assert window_bounds("total", "UTC", now) == (0.0, math.inf)


def test_counters_are_kept_past_their_window() -> None:
    now = at("UTC", 2024, 6, 1, 12)
    assert retain_until("day", "UTC", now) > at("UTC", 2024, 6, 2)
    assert retain_until("rolling:600", "UTC", now) >= now + 600
    assert retain_until("total", "UTC", now) == math.inf


@pytest.mark.parametrize("bad", ["daily", "rolling", "rolling:0", "rolling:-5", "rolling:1.5", ""])
def test_unknown_windows_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="rolling:<seconds>"):
        parse_window(bad)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../etc/passwd", ""])
def test_unknown_zones_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        window_bounds("day", bad, 0.0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(min_value=1.6e9, max_value=1.9e9), min_size=1, max_size=30),
    st.sampled_from(ZONES),
    st.sampled_from(["day", "week", "month"]),
)
def test_remembered_periods_match_fresh_ones_in_any_order(
    moments: list[float], tz: str, window: str
) -> None:
    # the last period per window and zone is remembered; any moment, earlier or later, in it
    # or not, gets exactly what the calendar arithmetic gives
    kind: Any = window
    for moment in [*moments, moments[0], *sorted(moments)]:
        assert window_bounds(window, tz, moment) == _compute_bounds(kind, ZoneInfo(tz), moment)
