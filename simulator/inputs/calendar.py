"""Hourly calendar for Korean electricity billing.

One :class:`HourlyCalendar` describes a contiguous block of clock hours in
Asia/Seoul (Korea has no daylight-saving time, so every day has 24 hours).
Each hour carries the attributes the KEPCO tariff rules key on: season, day
type and the public-holiday flag.

Sources
-------
- Seasons: summer = Jun-Aug, spring/fall = Mar-May and Sep-Oct, winter = Nov-Feb
  (docs/domain.md#time-of-use-periods).
- Day types: Saturday; Sunday and public holidays (docs/domain.md#time-of-use-periods, day types).
- Public holidays: the ``holidays`` package's South Korea calendar (including
  substitute holidays and election days).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

TIMEZONE = "Asia/Seoul"

# Season codes (docs/domain.md#time-of-use-periods).
SEASON_SUMMER, SEASON_SPRING_FALL, SEASON_WINTER = 0, 1, 2
SEASON_NAMES = ("summer", "spring_fall", "winter")
_SEASON_OF_MONTH = np.array(
    # Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
    [2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 2, 2], dtype=np.int8
)

# Day-type codes (docs/domain.md#time-of-use-periods (c)).
DAY_WEEKDAY, DAY_SATURDAY, DAY_SUNDAY_HOLIDAY = 0, 1, 2
DAY_TYPE_NAMES = ("weekday", "saturday", "sunday_holiday")


def season_of_month(month: np.ndarray | int) -> np.ndarray:
    """KEPCO season code for calendar month(s) 1..12."""
    return _SEASON_OF_MONTH[np.asarray(month) - 1]


@lru_cache(maxsize=64)
def korean_holidays(year: int) -> frozenset[dt.date]:
    """Korean public holidays of ``year`` (``holidays`` package, country KR)."""
    import holidays  # imported here: validating a scenario needs no calendar

    return frozenset(holidays.country_holidays("KR", years=[year]).keys())


@dataclass(frozen=True)
class HourlyCalendar:
    """Attributes of each hour in a block; all arrays have one entry per hour.

    ``month_key`` is ``year * 12 + (month - 1)``: a monotone integer that
    identifies a billing month across years.
    """

    timestamps: pd.DatetimeIndex  # hour-start, tz Asia/Seoul
    year: np.ndarray  # int32
    month: np.ndarray  # int8, 1..12
    day: np.ndarray  # int8, 1..31
    hour: np.ndarray  # int8, 0..23 (clock hour that starts the interval)
    weekday: np.ndarray  # int8, Monday=0 .. Sunday=6
    is_holiday: np.ndarray  # bool, public holiday (not counting Sundays)
    day_type: np.ndarray  # int8, DAY_* codes
    season: np.ndarray  # int8, SEASON_* codes
    month_key: np.ndarray  # int32

    @property
    def n_hours(self) -> int:
        return len(self.timestamps)

    def month_keys(self) -> np.ndarray:
        """The distinct billing months in this block, in order."""
        return np.unique(self.month_key)

    def month_bounds(self) -> list[tuple[int, int, int]]:
        """``(month_key, first_hour, end_hour)`` for each month in the block."""
        keys = self.month_key
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        return [(int(keys[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def build_calendar(start: dt.date, end: dt.date) -> HourlyCalendar:
    """Calendar of every hour from ``start`` 00:00 up to (not including) ``end`` 00:00."""
    if end <= start:
        raise ValueError(f"end {end} must be after start {start}")
    import pandas as pd  # imported here: validating a scenario needs no pandas

    ts = pd.date_range(
        pd.Timestamp(start), pd.Timestamp(end), freq="h", inclusive="left", tz=TIMEZONE
    )
    year = ts.year.to_numpy(np.int32)
    month = ts.month.to_numpy(np.int8)
    weekday = ts.day_of_week.to_numpy(np.int8)
    hol_days: set[dt.date] = set()
    for y in range(int(year[0]), int(year[-1]) + 1):
        hol_days |= korean_holidays(y)
    dates = ts.date
    is_holiday = np.fromiter((d in hol_days for d in dates), dtype=bool, count=len(ts))
    day_type = np.full(len(ts), DAY_WEEKDAY, dtype=np.int8)
    day_type[weekday == 5] = DAY_SATURDAY
    day_type[(weekday == 6) | is_holiday] = DAY_SUNDAY_HOLIDAY
    return HourlyCalendar(
        timestamps=ts,
        year=year,
        month=month,
        day=ts.day.to_numpy(np.int8),
        hour=ts.hour.to_numpy(np.int8),
        weekday=weekday,
        is_holiday=is_holiday,
        day_type=day_type,
        season=season_of_month(month),
        month_key=(year * 12 + (month.astype(np.int32) - 1)).astype(np.int32),
    )


def year_blocks(start: dt.date, years: int) -> list[tuple[dt.date, dt.date]]:
    """Split ``years`` simulated years from ``start`` into 12-month blocks.

    Simulation works block by block so that memory grows with one block, not
    with the horizon.
    """
    out = []
    for k in range(years):
        a = _add_years(start, k)
        b = _add_years(start, k + 1)
        out.append((a, b))
    return out


def _add_years(d: dt.date, n: int) -> dt.date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February -> 1 March
        return d.replace(year=d.year + n, month=3, day=1)
