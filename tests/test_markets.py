"""Tests for re100sim.simulator.inputs.markets: SMP level path and hourly shape (docs/domain.md#smp), REC (domain.md#rec-prices)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from re100sim.simulator.inputs.calendar import (
    DAY_SUNDAY_HOLIDAY,
    DAY_WEEKDAY,
    build_calendar,
)
from re100sim.simulator.inputs.markets import (
    REC_HISTORY_CSV,
    SMP_HISTORY_CSV,
    RecParams,
    SmpParams,
    rec_level_krw_per_rec,
    rec_price_krw_per_rec,
    smp_krw_per_kwh,
    smp_level_krw_per_kwh,
)


def mk(year: int, month: int) -> int:
    return year * 12 + month - 1


@pytest.fixture(scope="module")
def hist_run():
    """2022-01..2026-12 hourly SMP, 4 seeds."""
    cal = build_calendar(dt.date(2022, 1, 1), dt.date(2027, 1, 1))
    prices = np.array([smp_krw_per_kwh(cal, SmpParams(), np.random.default_rng(s)) for s in range(4)])
    return cal, prices


# ---------------------------------------------------------------- history files


@pytest.mark.parametrize("path, section", [(SMP_HISTORY_CSV, "domain.md#smp"), (REC_HISTORY_CSV, "domain.md#rec-prices")])
def test_history_files_cite_sources(path, section):
    df = pd.read_csv(path, dtype={"period": str})
    assert {"period", "kind", "in_path", "source"} <= set(df.columns)
    assert df["source"].str.contains(f"docs/{section}", regex=False).all()


def test_smp_level_hits_history_points():
    p = SmpParams()
    lv = smp_level_krw_per_kwh(np.array([mk(2022, 2), mk(2022, 12), mk(2023, 8), mk(2025, 4), mk(2026, 6)]), p)
    np.testing.assert_allclose(lv, [197.32, 267.63, 147.22, 124.12, 116.8])
    # between points: linear interpolation (2022-01 midway 2021-12 142.81 and 2022-02 197.32)
    assert smp_level_krw_per_kwh(np.array([mk(2022, 1)]), p)[0] == pytest.approx((142.81 + 197.32) / 2)
    # after 2026-06: 116.8 flat by default; with drift 2 %/yr, 10 years later x 1.02**10
    later = smp_level_krw_per_kwh(np.array([mk(2030, 1), mk(2036, 6)]), p)
    np.testing.assert_allclose(later, [116.8, 116.8])
    drift = smp_level_krw_per_kwh(np.array([mk(2036, 6)]), SmpParams(yearly_drift_pct=2.0))[0]
    assert drift == pytest.approx(116.8 * 1.02**10)
    # 2024 level averages near the reported annual 128.4 (docs/domain.md#smp)
    assert abs(smp_level_krw_per_kwh(np.arange(mk(2024, 1), mk(2025, 1)), p).mean() / 128.4 - 1) < 0.03


def test_smp_2024_mean_matches_facts(hist_run):
    cal, prices = hist_run
    mean_2024 = prices[:, cal.year == 2024].mean()
    assert abs(mean_2024 / 128.4 - 1.0) < 0.10


def test_smp_monthly_means_track_level(hist_run):
    cal, prices = hist_run
    p = SmpParams()
    keys = np.unique(cal.month_key)
    level = smp_level_krw_per_kwh(keys, p)
    sim = np.array([prices[:, cal.month_key == k].mean() for k in keys])
    np.testing.assert_allclose(sim, level, rtol=0.08)
    assert abs(sim.mean() / level.mean() - 1.0) < 0.02


def test_smp_hourly_shape(hist_run):
    cal, prices = hist_run
    h = cal.hour
    night = prices[:, (h >= 1) & (h <= 5)].mean()
    evening = prices[:, (h >= 18) & (h <= 21)].mean()
    assert night < evening
    assert night < prices.mean() < evening
    assert np.all(prices >= 0.0) and np.all(np.isfinite(prices))
    # spring Sunday/holiday middays far below spring weekday middays (docs/domain.md#smp)
    spring = np.isin(cal.month, (3, 4, 5))
    midday = (h >= 11) & (h <= 14)
    sun = prices[:, spring & midday & (cal.day_type == DAY_SUNDAY_HOLIDAY)].mean()
    wkd = prices[:, spring & midday & (cal.day_type == DAY_WEEKDAY)].mean()
    assert sun < 0.7 * wkd
    # zero SMP occurs, and only around midday on non-weekdays mostly
    zero = prices == 0.0
    assert zero.any()
    assert np.all((h[np.nonzero(zero)[1]] >= 9) & (h[np.nonzero(zero)[1]] <= 16))


def test_smp_june_2026_week_range_plausible():
    # docs/domain.md#smp: 2026-06 last 7 days, mean 116.8, hourly range 47-153
    cal = build_calendar(dt.date(2026, 6, 1), dt.date(2026, 6, 8))
    lows, highs = [], []
    for s in range(20):
        x = smp_krw_per_kwh(cal, SmpParams(), np.random.default_rng(s))
        lows.append(x.min())
        highs.append(x.max())
    assert 30 < np.median(lows) < 100
    assert 130 < np.median(highs) < 200


def test_smp_override_and_determinism():
    cal = build_calendar(dt.date(2030, 1, 1), dt.date(2031, 1, 1))
    p = SmpParams(level_override_krw_per_kwh=100.0)
    a = smp_krw_per_kwh(cal, p, np.random.default_rng(1))
    b = smp_krw_per_kwh(cal, p, np.random.default_rng(1))
    c = smp_krw_per_kwh(cal, p, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(a.mean() / 100.0 - 1.0) < 0.05
    hist = build_calendar(dt.date(2022, 12, 1), dt.date(2023, 1, 1))
    assert abs(smp_krw_per_kwh(hist, p, np.random.default_rng(1)).mean() / 100.0 - 1.0) < 0.1


def test_smp_block_starts_stationary():
    # each block starts from the stationary noise distribution: the first hour of many
    # one-day blocks has the same log-spread as any hour (sd = noise_sd)
    cal = build_calendar(dt.date(2030, 10, 1), dt.date(2030, 10, 2))  # autumn weekday
    p = SmpParams(midday_dip_sd=0.0)
    first = np.array([smp_krw_per_kwh(cal, p, np.random.default_rng(s))[0] for s in range(400)])
    assert np.std(np.log(first)) == pytest.approx(p.noise_sd, rel=0.15)


def test_smp_params_validation():
    with pytest.raises(ValidationError, match="expected 24"):
        SmpParams(hourly_shape=(1.0,) * 23)
    with pytest.raises(ValidationError, match="expected > 0"):
        SmpParams(level_override_krw_per_kwh=-1.0)
    with pytest.raises(ValidationError):
        SmpParams(foo=1)


# ---------------------------------------------------------------- REC


def test_rec_level_path():
    p = RecParams()
    lv = rec_level_krw_per_rec(np.array([mk(2020, 1), mk(2023, 7), mk(2025, 4), mk(2025, 5), mk(2040, 1)]), p)
    np.testing.assert_allclose(lv, [39_031, 73_218, 72_770, 72_800, 72_800])
    # 2022 annual average 56,831 (docs/domain.md#rec-prices) sits at mid-2022
    mid22 = rec_level_krw_per_rec(np.array([mk(2022, 6), mk(2022, 7)]), p).mean()
    assert mid22 == pytest.approx(56_831, rel=0.01)


def test_rec_mean_near_level_and_volatility():
    p = RecParams()
    keys = np.arange(mk(2030, 1), mk(2080, 1))
    x = np.array([rec_price_krw_per_rec(keys, p, np.random.default_rng(s)) for s in range(8)])
    assert np.all(x > 0)
    assert abs(x.mean() / 72_800 - 1.0) < 0.04
    logsd = np.std(np.log(x / 72_800), axis=1).mean()
    assert logsd == pytest.approx(p.volatility, rel=0.2)
    # month-to-month autocorrelation of the log deviation ~ monthly_autocorr
    d = np.log(x[0] / 72_800)
    assert np.corrcoef(d[1:], d[:-1])[0, 1] == pytest.approx(p.monthly_autocorr, abs=0.07)


def test_rec_first_month_stationary_and_deterministic():
    p = RecParams()
    keys = np.arange(mk(2031, 1), mk(2031, 4))
    first = np.array([rec_price_krw_per_rec(keys, p, np.random.default_rng(s))[0] for s in range(400)])
    assert np.std(np.log(first)) == pytest.approx(p.volatility, rel=0.15)
    a = rec_price_krw_per_rec(keys, p, np.random.default_rng(3))
    np.testing.assert_array_equal(a, rec_price_krw_per_rec(keys, p, np.random.default_rng(3)))
    flat = rec_price_krw_per_rec(keys, RecParams(volatility=0.0, yearly_drift_pct=3.0), np.random.default_rng(0))
    np.testing.assert_allclose(flat, 72_800 * 1.03 ** ((keys - mk(2025, 4)) / 12))
    gaps = rec_price_krw_per_rec(np.array([mk(2030, 1), mk(2030, 7), mk(2031, 1)]), p, np.random.default_rng(0))
    assert gaps.shape == (3,) and np.all(gaps > 0)
    with pytest.raises(ValueError, match="strictly increasing"):
        rec_price_krw_per_rec(np.array([mk(2030, 2), mk(2030, 1)]), p, np.random.default_rng(0))
    with pytest.raises(ValidationError):
        RecParams(level_override_krw_per_rec=0.0)
    override = rec_price_krw_per_rec(keys, RecParams(level_override_krw_per_rec=50_000, volatility=0.0),
                                     np.random.default_rng(0))
    np.testing.assert_allclose(override, 50_000)
