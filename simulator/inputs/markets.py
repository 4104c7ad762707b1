"""Wholesale price paths: hourly SMP and monthly REC spot price.

SMP (KRW/kWh)
-------------
``smp = level[month] * k[month] * shape[hour] * dip[day, hour] * exp(x[hour] - s^2/2)``

- ``level``: monthly level path. History points from
  ``scenarios/markets/smp_monthly.csv`` (docs/domain.md#smp; rows with ``in_path = 1``;
  monthly points sit on their month, annual means at mid-year) linearly
  interpolated between points and held flat before the first one. After the last
  point (2026-06) the level is ``base_level_krw_per_kwh`` (116.8, the 2026-06
  7-day average, docs/domain.md#smp / docs/sources.md) growing at ``yearly_drift_pct`` per year.
  ``level_override_krw_per_kwh`` replaces the history with a flat level (drift
  still applies after 2026-06).
- ``shape``: 24-hour shape with cheap nights and expensive evenings (docs/domain.md#smp
  "Hourly shape", qualitative) [E].
- ``dip``: solar midday dip ``max(0, 1 - depth[day] * bell[hour])``; the daily
  depth is log-normal around a mean that is largest on spring (Mar-May)
  Sundays/holidays, where it reaches zero prices on some days (docs/domain.md#smp:
  SMP = 0 from 11 to 15 h on Sunday 2025-03-09, and at 13 h on the 2024-02 설
  holidays) [E].
- ``k``: normalises ``shape * dip`` to mean 1 over each month of the block, so the
  monthly mean equals the level path (in expectation over the noise).
- ``x``: hourly AR(1) in log space (stationary s.d. ``noise_sd``, half-life
  ``noise_half_life_hours``), started from its stationary distribution.

Loose check against docs/domain.md#smp (2026-06, last 7 days: mean 116.8, hourly
range 47-153): a simulated June-2026 week typically spans about 60-165
KRW/kWh (minimum 47-95, maximum 138-176 over 20 simulated weeks).

REC (KRW per REC; 1 REC = 1 MWh x weight)
-----------------------------------------
``rec = level[month] * exp(x[month] - s^2/2)``; history from
``scenarios/markets/rec_monthly.csv`` (docs/domain.md#rec-prices) to 2025-04, then
``level_krw_per_rec`` (72,800, 2025; docs/domain.md#rec-prices) with drift; ``x`` is a
monthly log AR(1) with stationary s.d. ``volatility``.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator

from re100sim.simulator.fields import StrictModel, input_file
from re100sim.simulator.inputs.calendar import (
    DAY_SATURDAY,
    DAY_SUNDAY_HOLIDAY,
    DAY_WEEKDAY,
    HourlyCalendar,
)
from re100sim.simulator.rng import ar1_filter, ar1_stationary

__all__ = [
    "SmpParams",
    "RecParams",
    "smp_krw_per_kwh",
    "smp_level_krw_per_kwh",
    "rec_price_krw_per_rec",
    "rec_level_krw_per_rec",
    "load_history",
    "SMP_HISTORY_CSV",
    "REC_HISTORY_CSV",
]

_MARKETS_DIR = Path(str(files("re100sim.scenarios.markets")))  # package data (pyproject.toml)
SMP_HISTORY_CSV = _MARKETS_DIR / "smp_monthly.csv"
REC_HISTORY_CSV = _MARKETS_DIR / "rec_monthly.csv"

# [E] Weekday SMP shape, clock hours 0..23 (mean about 1): cheap nights, expensive
# evenings (docs/domain.md#smp "Hourly shape", qualitative; no hourly series was found).
_SMP_SHAPE = (
    0.92, 0.88, 0.86, 0.85, 0.85, 0.87, 0.92, 0.98, 1.02, 1.03, 1.01, 0.99,
    0.97, 0.97, 0.99, 1.01, 1.04, 1.09, 1.15, 1.18, 1.16, 1.10, 1.03, 0.96,
)
# [E] Relative depth of the solar midday dip by clock hour (docs/domain.md#smp: zero SMP 11-15 h).
_MIDDAY_BELL = np.array([0.0] * 9 + [0.15, 0.45, 0.85, 1.0, 1.0, 0.9, 0.6, 0.25] + [0.0] * 7)
_SPRING_MONTHS = (3, 4, 5)


class SmpParams(StrictModel):
    """Hourly SMP model parameters (KRW/kWh)."""

    base_level_krw_per_kwh: float = Field(
        116.8, gt=0.0,
        description="Monthly level after the last history point: 2026-06 7-day average "
        "(docs/domain.md#smp, stromfee [B]; sources.md).",
    )
    yearly_drift_pct: float = Field(
        0.0, gt=-50.0, lt=100.0,
        description="Level growth per year after the last history point, % (default flat) [E].",
    )
    level_override_krw_per_kwh: float | None = Field(
        None,
        description="If set, a flat level in KRW/kWh replaces the history path (drift still "
        "applies after the last history month).",
    )
    history_csv: input_file(SMP_HISTORY_CSV) | None = Field(
        None, description="History CSV (period, smp_krw_per_kwh, kind, in_path, source), relative to the "
        "scenario file; None -> scenarios/markets/smp_monthly.csv (docs/domain.md#smp)."
    )
    hourly_shape: tuple[float, ...] = Field(
        _SMP_SHAPE,
        description="Relative SMP by clock hour 0..23 before the midday dip: cheap nights, "
        "expensive evenings (docs/domain.md#smp 'Hourly shape', qualitative) [E]. Normalised per month.",
    )
    midday_dip_weekday: float = Field(
        0.15, ge=0.0, le=2.0,
        description="Mean depth of the solar midday dip on spring (Mar-May) weekdays, fraction of "
        "the price at 12-14 h [E] (docs/domain.md#smp).",
    )
    midday_dip_saturday: float = Field(
        0.40, ge=0.0, le=2.0, description="Mean midday-dip depth on spring Saturdays [E] (docs/domain.md#smp)."
    )
    midday_dip_sunday_holiday: float = Field(
        0.65, ge=0.0, le=2.0,
        description="Mean midday-dip depth on spring Sundays/holidays [E]; with midday_dip_sd "
        "about 8 % of these days reach SMP = 0 at 12-14 h (docs/domain.md#smp: 0 KRW/kWh 11-15 h on "
        "Sunday 2025-03-09).",
    )
    offseason_dip_scale: float = Field(
        0.5, ge=0.0, le=2.0,
        description="Dip depth outside Mar-May relative to spring (solar share is lower; zero "
        "prices were also seen on the 2024-02 설 holidays, docs/domain.md#smp) [E].",
    )
    midday_dip_sd: float = Field(
        0.35, ge=0.0, le=2.0, description="Log-s.d. of the daily dip depth (day-to-day solar/demand variation) [E]."
    )
    noise_sd: float = Field(
        0.10, ge=0.0, le=1.0,
        description="Stationary s.d. of the hourly log-noise [E]; with the shape it gives a "
        "weekly range similar to the 47-153 KRW/kWh around a 116.8 mean of 2026-06 (docs/domain.md#smp).",
    )
    noise_half_life_hours: float = Field(
        24.0, gt=0.0, le=24.0 * 365,
        description="Half-life of the log-noise AR(1) (mean reversion), hours [E].",
    )

    @field_validator("hourly_shape")
    @classmethod
    def _shape_ok(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 24:
            raise ValueError(f"hourly_shape has {len(v)} values (expected 24, clock hours 0..23)")
        if any(not x > 0 for x in v):
            raise ValueError(f"hourly_shape has a value <= 0 (expected all > 0): {v}")
        return v

    @field_validator("history_csv")
    @classmethod
    def _history_ok(cls, v: Path | None) -> Path | None:
        return _checked_history(v, "smp_krw_per_kwh")

    @field_validator("level_override_krw_per_kwh")
    @classmethod
    def _override_ok(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"level_override_krw_per_kwh is {v} (expected > 0 KRW/kWh or None)")
        return v


class RecParams(StrictModel):
    """Monthly REC spot-price model parameters (KRW per REC)."""

    level_krw_per_rec: float = Field(
        72_800.0, gt=0.0,
        description="Level after the last history point (2025-04): about 72,800 KRW/REC in 2025 "
        "(docs/sources.md and docs/domain.md#rec-prices, energyplan blog [B]).",
    )
    yearly_drift_pct: float = Field(
        0.0, gt=-50.0, lt=100.0, description="Level growth per year after the last history point, % [E]."
    )
    level_override_krw_per_rec: float | None = Field(
        None, description="If set, a flat level in KRW/REC replaces the history path."
    )
    history_csv: input_file(REC_HISTORY_CSV) | None = Field(
        None, description="History CSV (period, rec_krw_per_rec, kind, in_path, source), relative to the "
        "scenario file; None -> scenarios/markets/rec_monthly.csv (docs/domain.md#rec-prices)."
    )
    volatility: float = Field(
        0.12, ge=0.0, le=2.0,
        description="Stationary s.d. of the monthly log-noise [E]; history moved from about 30,000 "
        "(2021) to 80,000 (2023) KRW/REC (docs/domain.md#rec-prices), i.e. large multi-year swings.",
    )
    monthly_autocorr: float = Field(
        0.85, ge=0.0, lt=1.0, description="Month-to-month AR(1) coefficient of the log-noise [E]."
    )

    @field_validator("history_csv")
    @classmethod
    def _history_ok(cls, v: Path | None) -> Path | None:
        return _checked_history(v, "rec_krw_per_rec")

    @field_validator("level_override_krw_per_rec")
    @classmethod
    def _override_ok(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"level_override_krw_per_rec is {v} (expected > 0 KRW/REC or None)")
        return v


# --------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------

_KINDS = {"monthly", "weekly", "month_to_date", "annual_mean", "re100_use"}


def _checked_history(path: Path | None, value_column: str) -> Path | None:
    """A history file the run can read (read once here, so ``validate`` reports what ``run`` would)."""
    import csv

    if path is not None:
        try:
            load_history(str(path), value_column)
        except (OSError, ValueError, KeyError, TypeError, csv.Error) as e:
            raise ValueError(" ".join(str(e).split()) or e.__class__.__name__) from None
    return path


@lru_cache(maxsize=16)
def load_history(path: str, value_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a history CSV; return ``(x, value)`` of the ``in_path`` rows sorted by ``x``.

    ``x`` is a fractional month key: ``year*12 + month-1`` for ``YYYY-MM`` rows and
    ``year*12 + 5.5`` (mid-year) for ``YYYY`` annual means.
    """
    import csv  # a few dozen rows: the standard library reads them (validating needs no pandas)

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"market history file not found: {p} (expected a CSV file)")
    with p.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        columns = set(reader.fieldnames or ())
    need = {"period", value_column, "kind", "in_path", "source"}
    if missing := need - columns:
        raise ValueError(f"{p}: missing columns {sorted(missing)} (expected {sorted(need)})")
    xs, vs = [], []
    for i, row in enumerate(rows):
        kind = str(row["kind"] or "").strip()
        if kind not in _KINDS:
            raise ValueError(f"{p}: row {i + 1} kind {kind!r} (expected one of {sorted(_KINDS)})")
        if not str(row["source"] or "").strip():
            raise ValueError(f"{p}: row {i + 1} has no source (expected a citation)")
        if int(float(row["in_path"])) != 1:
            continue
        period = str(row["period"]).strip()
        v = float(row[value_column])
        if not v > 0:
            raise ValueError(f"{p}: row {i + 1} value {v} (expected > 0)")
        if len(period) == 4:
            x = int(period) * 12 + 5.5
        else:
            y, m = period.split("-")
            x = int(y) * 12 + int(m) - 1
        xs.append(x)
        vs.append(v)
    if not xs:
        raise ValueError(f"{p}: no rows with in_path = 1 (expected at least one history point)")
    order = np.argsort(xs, kind="stable")
    x, v = np.asarray(xs, float)[order], np.asarray(vs, float)[order]
    if np.any(np.diff(x) == 0):
        raise ValueError(f"{p}: two in-path rows for the same period (expected one per period)")
    x.setflags(write=False)
    v.setflags(write=False)
    return x, v


def _level_path(month_keys: np.ndarray, hist_x: np.ndarray, hist_v: np.ndarray, after_level: float,
                drift_pct: float, override: float | None) -> np.ndarray:
    mk = np.asarray(month_keys, dtype=float)
    last = hist_x[-1]
    if override is not None:
        level = np.full(mk.shape, float(override))
    else:
        level = np.interp(mk, hist_x, hist_v)
        level = np.where(mk > last, after_level, level)
    years_after = np.maximum(mk - last, 0.0) / 12.0
    return level * (1.0 + drift_pct / 100.0) ** years_after


def smp_level_krw_per_kwh(month_keys: np.ndarray, params: SmpParams) -> np.ndarray:
    """Deterministic monthly SMP level, KRW/kWh, for ``month_keys`` (``year*12 + month-1``)."""
    hx, hv = load_history(str(params.history_csv or SMP_HISTORY_CSV), "smp_krw_per_kwh")
    return _level_path(month_keys, hx, hv, params.base_level_krw_per_kwh, params.yearly_drift_pct,
                       params.level_override_krw_per_kwh)


def rec_level_krw_per_rec(month_keys: np.ndarray, params: RecParams) -> np.ndarray:
    """Deterministic monthly REC level, KRW/REC, for ``month_keys`` (``year*12 + month-1``)."""
    hx, hv = load_history(str(params.history_csv or REC_HISTORY_CSV), "rec_krw_per_rec")
    return _level_path(month_keys, hx, hv, params.level_krw_per_rec, params.yearly_drift_pct,
                       params.level_override_krw_per_rec)


# --------------------------------------------------------------------------------------
# Stochastic paths
# --------------------------------------------------------------------------------------


def smp_krw_per_kwh(calendar: HourlyCalendar, params: SmpParams, rng: np.random.Generator) -> np.ndarray:
    """Hourly SMP, KRW/kWh (>= 0), for the hours of ``calendar`` (see the module docstring)."""
    n = calendar.n_hours
    n_days = -(-n // 24)
    hour = calendar.hour.astype(np.int64)
    day_idx = np.arange(n) // 24
    # Daily midday-dip depth by day type and season.
    dt_day = calendar.day_type[::24][:n_days].astype(np.int64)
    month_day = calendar.month[::24][:n_days]
    by_day_type = np.empty(3)
    by_day_type[DAY_WEEKDAY] = params.midday_dip_weekday
    by_day_type[DAY_SATURDAY] = params.midday_dip_saturday
    by_day_type[DAY_SUNDAY_HOLIDAY] = params.midday_dip_sunday_holiday
    mean_depth = by_day_type[dt_day]
    mean_depth = mean_depth * np.where(np.isin(month_day, _SPRING_MONTHS), 1.0, params.offseason_dip_scale)
    s = params.midday_dip_sd
    depth = mean_depth * np.exp(s * rng.standard_normal(n_days) - 0.5 * s * s)
    mult = np.asarray(params.hourly_shape)[hour] * np.maximum(0.0, 1.0 - depth[day_idx] * _MIDDAY_BELL[hour])
    # Normalise shape x dip to mean 1 within each month of the block.
    for _, a, b in calendar.month_bounds():
        m = mult[a:b].mean()
        if m > 0:
            mult[a:b] /= m
    phi = 0.5 ** (1.0 / params.noise_half_life_hours)
    sd = params.noise_sd
    x = ar1_stationary(n, phi, sd, rng)
    level = smp_level_krw_per_kwh(calendar.month_key, params)
    return np.maximum(level * mult * np.exp(x - 0.5 * sd * sd), 0.0)


def rec_price_krw_per_rec(month_keys: np.ndarray, params: RecParams, rng: np.random.Generator) -> np.ndarray:
    """Monthly REC spot price, KRW/REC, for strictly increasing ``month_keys`` (``year*12 + month-1``).

    Log AR(1) noise around the level path (mean-one factor ``exp(x - volatility^2/2)``);
    gaps between keys use ``phi**gap``. The first month is drawn from the stationary
    distribution, so each call is a self-contained block.
    """
    mk = np.asarray(month_keys)
    if mk.ndim != 1:
        raise ValueError(f"month_keys has shape {mk.shape} (expected a 1-D array of month keys)")
    n = len(mk)
    if n == 0:
        return np.zeros(0)
    if n > 1 and np.any(np.diff(mk) <= 0):
        raise ValueError("month_keys are not strictly increasing (expected sorted distinct year*12+month-1 keys)")
    phi = params.monthly_autocorr
    sd = params.volatility
    z = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = sd * z[0]
    gaps = np.diff(mk).astype(float)
    if n > 1 and np.all(gaps == 1):
        x = ar1_filter(np.concatenate([x[:1], sd * np.sqrt(1 - phi * phi) * z[1:]]), phi)
    else:
        for i in range(1, n):
            a = phi ** gaps[i - 1]
            x[i] = a * x[i - 1] + sd * np.sqrt(1.0 - a * a) * z[i]
    return rec_level_krw_per_rec(mk, params) * np.exp(x - 0.5 * sd * sd)
