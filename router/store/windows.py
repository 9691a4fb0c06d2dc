"""Budget windows: which stretch of time a budget counts, in the budget's own time zone (pure).

A window is one of:

- `day`, `week` (ISO: Monday to Monday), `month`: calendar periods in a named IANA time zone.
  Boundaries are local midnights computed with `zoneinfo`, so a day is 23 or 25 hours long
  across a DST change and a month ends where the calendar says. Where a local midnight does not
  exist (a zone that springs forward at 00:00), the day starts at the first instant it exists.
- `rolling:<seconds>`: the last N seconds. Spend is counted in buckets of `ceil(N / 60)` seconds
  and the window sums the buckets that overlap the last N seconds, so spend leaves the window up
  to one bucket late. That errs on the safe side: a rolling budget never undercounts.
- `total`: one period that never ends.

Spend is stored per *period*: the calendar window that contains a moment, or the rolling bucket
that contains it. `period_key` names that period; `view_periods` lists the periods counted at a
moment (one for calendar windows, up to 61 buckets for rolling ones). The key includes the
window and the time zone, so changing a budget's window or zone starts a fresh count, while
changing its limit keeps the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WindowKind = Literal["day", "week", "month", "rolling", "total"]

ROLLING_BUCKETS = 60
# How long a calendar period's counters are kept after the period ends: long enough for a late
# settle (leases are minutes) and for someone reading last period's spend.
CALENDAR_RETENTION = 35 * 86400.0
ROLLING_RETENTION = 86400.0
ACCEPTED = "day, week, month, total or rolling:<seconds>"


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    seconds: int = 0  # rolling windows only

    @property
    def bucket(self) -> int:
        """Width in seconds of one rolling bucket."""
        return max(1, -(-self.seconds // ROLLING_BUCKETS))


def parse_window(text: str) -> Window:
    if text in ("day", "week", "month", "total"):
        return Window(text)  # type: ignore[arg-type]  # narrowed by the membership test
    prefix, _, number = text.partition(":")
    if prefix == "rolling" and number.isdigit() and int(number) > 0:
        return Window("rolling", int(number))
    raise ValueError(f"unknown budget window {text!r}: use {ACCEPTED}")


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}: use an IANA name such as 'UTC'") from exc


def _midnight(day: date, tz: ZoneInfo) -> float:
    # fold=0 on a non-existent midnight takes the offset before the jump, which lands exactly
    # on the transition: the first instant of that local day.
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


# The last period computed per (window kind, zone): a moment inside it has the same bounds, so
# most calls (every reservation computes them three times) skip the calendar arithmetic.
_LAST_PERIOD: dict[tuple[str, str], tuple[float, float]] = {}
_LAST_PERIOD_LIMIT = 256


def _calendar_bounds(kind: WindowKind, tz: ZoneInfo, now: float) -> tuple[float, float]:
    key = (kind, tz.key)
    known = _LAST_PERIOD.get(key)
    if known is not None and known[0] <= now < known[1]:
        return known
    bounds = _compute_bounds(kind, tz, now)
    if len(_LAST_PERIOD) >= _LAST_PERIOD_LIMIT:
        _LAST_PERIOD.clear()
    _LAST_PERIOD[key] = bounds
    return bounds


def _compute_bounds(kind: WindowKind, tz: ZoneInfo, now: float) -> tuple[float, float]:
    today = datetime.fromtimestamp(now, tz).date()
    if kind == "day":
        first, after = today, today + timedelta(days=1)
    elif kind == "week":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    else:
        first = today.replace(day=1)
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    # A midnight that happens twice (fold=0) is taken at its first occurrence.
    return _midnight(first, tz), _midnight(after, tz)


def window_bounds(window: str, tz: str, now: float) -> tuple[float, float]:
    """The stretch of time a budget counts at `now`: `start <= now < end`.

    For calendar windows, the current period. For `total`, `(0, inf)`. For rolling windows,
    `start` is the first counted bucket's start and `end` the next bucket boundary: the earliest
    moment the counted spend can fall (which is when a refusal may lift).
    """
    spec = parse_window(window)
    if spec.kind == "total":
        return 0.0, math.inf
    if spec.kind == "rolling":
        width = spec.bucket
        index = math.floor(now / width)
        back = -(-spec.seconds // width)
        return float((index - back) * width), float((index + 1) * width)
    return _calendar_bounds(spec.kind, zone(tz), now)


def period_key(window: str, tz: str, at: float) -> str:
    """The name of the period that spend made at `at` is counted in."""
    spec = parse_window(window)
    if spec.kind == "total":
        return "total"
    if spec.kind == "rolling":
        return f"{window}@{math.floor(at / spec.bucket) * spec.bucket}"
    start, _ = _calendar_bounds(spec.kind, zone(tz), at)
    return f"{window}@{tz}@{round(start)}"


def view_periods(window: str, tz: str, now: float) -> tuple[str, ...]:
    """The periods whose spend counts at `now`; the last one is where new spend goes."""
    spec = parse_window(window)
    if spec.kind != "rolling":
        return (period_key(window, tz, now),)
    start, end = window_bounds(window, tz, now)
    width = spec.bucket
    return tuple(f"{window}@{at}" for at in range(round(start), round(end), width))


def retain_until(window: str, tz: str, at: float) -> float:
    """When the counters of the period containing `at` may be dropped."""
    spec = parse_window(window)
    if spec.kind == "total":
        return math.inf
    if spec.kind == "rolling":
        bucket_end = (math.floor(at / spec.bucket) + 1) * spec.bucket
        return float(bucket_end + spec.seconds) + ROLLING_RETENTION
    _, end = _calendar_bounds(spec.kind, zone(tz), at)
    return end + CALENDAR_RETENTION
