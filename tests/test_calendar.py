"""HourlyCalendar: hours, day types (docs/domain.md#time-of-use-periods (c)), seasons and billing months.

Holiday dates are the real Korean public holidays (2025/2026), checked by hand
against the official calendar.
"""
import datetime as dt

import numpy as np
import pytest

from re100sim.simulator.inputs.calendar import (
    DAY_SATURDAY,
    DAY_SUNDAY_HOLIDAY,
    DAY_WEEKDAY,
    SEASON_SPRING_FALL,
    SEASON_SUMMER,
    SEASON_WINTER,
    build_calendar,
    year_blocks,
)


def day_types(start: dt.date, days: int) -> list[int]:
    """Day type of each day from ``start`` (read at the day's 00:00 hour)."""
    cal = build_calendar(start, start + dt.timedelta(days=days))
    return cal.day_type[::24].tolist()


def test_hour_counts_no_dst():
    # Korea has no DST: 365 x 24 = 8760 hours in 2025, 366 x 24 = 8784 in 2024.
    assert build_calendar(dt.date(2025, 1, 1), dt.date(2026, 1, 1)).n_hours == 8760
    assert build_calendar(dt.date(2024, 1, 1), dt.date(2025, 1, 1)).n_hours == 8784


def test_hours_and_timezone():
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    assert cal.hour.tolist() == list(range(24)) * 2
    assert str(cal.timestamps.tz) == "Asia/Seoul"
    assert cal.timestamps[0].isoformat() == "2026-03-01T00:00:00+09:00"


def test_seollal_2026_is_holiday():
    # 2026-02-16 (Mon), 17 (Tue, 설날), 18 (Wed) are holidays; 19 (Thu) is a weekday.
    assert day_types(dt.date(2026, 2, 16), 4) == [DAY_SUNDAY_HOLIDAY] * 3 + [DAY_WEEKDAY]


def test_substitute_and_temporary_holidays():
    # 2026-03-01 (Sun, 삼일절) -> substitute holiday Mon 2026-03-02; Tue 03-03 is a weekday.
    assert day_types(dt.date(2026, 3, 1), 3) == [DAY_SUNDAY_HOLIDAY, DAY_SUNDAY_HOLIDAY, DAY_WEEKDAY]
    # 2025-01-27 (Mon) was a temporary public holiday before 설날 2025-01-28..30.
    assert day_types(dt.date(2025, 1, 27), 5) == [DAY_SUNDAY_HOLIDAY] * 4 + [DAY_WEEKDAY]


def test_saturday_holiday_counts_as_holiday():
    # 2026-10-03 (Sat, 개천절) is a holiday -> Sunday/holiday type, not Saturday;
    # Sun 10-04, substitute Mon 10-05; Tue 10-06 weekday. Sat 10-10 is a plain Saturday.
    cal = build_calendar(dt.date(2026, 10, 3), dt.date(2026, 10, 11))
    assert cal.day_type[::24].tolist() == [2, 2, 2, 0, 0, 0, 2, 1]
    assert cal.is_holiday[::24].tolist() == [True, False, True, False, False, False, True, False]
    assert DAY_SATURDAY == 1 and DAY_SUNDAY_HOLIDAY == 2


def test_seasons():
    # Season convention (docs/domain.md#time-of-use-periods): summer Jun-Aug, spring/fall Mar-May and Sep-Oct, winter Nov-Feb.
    cal = build_calendar(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    by_month = {m: set(cal.season[cal.month == m].tolist()) for m in range(1, 13)}
    assert by_month == {
        1: {SEASON_WINTER}, 2: {SEASON_WINTER}, 3: {SEASON_SPRING_FALL}, 4: {SEASON_SPRING_FALL},
        5: {SEASON_SPRING_FALL}, 6: {SEASON_SUMMER}, 7: {SEASON_SUMMER}, 8: {SEASON_SUMMER},
        9: {SEASON_SPRING_FALL}, 10: {SEASON_SPRING_FALL}, 11: {SEASON_WINTER}, 12: {SEASON_WINTER},
    }


def test_month_keys_and_bounds():
    cal = build_calendar(dt.date(2026, 1, 15), dt.date(2026, 3, 10))
    jan = 2026 * 12 + 0  # 24312
    assert cal.month_keys().tolist() == [jan, jan + 1, jan + 2]
    # Jan 15-31 = 17 days = 408 h; Feb = 28 days = 672 h; Mar 1-9 = 9 days = 216 h.
    assert cal.month_bounds() == [(jan, 0, 408), (jan + 1, 408, 1080), (jan + 2, 1080, 1296)]
    assert np.all(np.diff(cal.month_key) >= 0)


def test_year_blocks_leap_day():
    # A 29 February start moves to 1 March in non-leap years.
    assert year_blocks(dt.date(2024, 2, 29), 2) == [
        (dt.date(2024, 2, 29), dt.date(2025, 3, 1)),
        (dt.date(2025, 3, 1), dt.date(2026, 3, 1)),
    ]


def test_empty_range_rejected():
    with pytest.raises(ValueError, match="must be after"):
        build_calendar(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
