"""Demand-side measures: what efficiency and load shifting do to a tenant's hourly load.

Pure functions on hourly arrays (kW over one-hour steps, so kW = kWh per hour), applied to a
tenant's load before the kernel settles it (docs/decisions.md#demand-side-measures):

- efficiency removes a share of every hour's load (docs/domain.md#cases: the Gwangju Cheomdan energy
  diagnosis, at least 10 % saved per process across 50 firms, about 1 GWh);
- load shifting moves a share of each day's peak-period (TOU period 2) load into the same day's
  light-load hours (period 0), spread evenly over them, so the day's energy is unchanged and the
  kWh are billed at the light-load price.

A battery is sized for the decision round by :func:`battery_size_for_peak` (the peak it must
shave and the energy of the forecast year's worst day above the target).
"""
from __future__ import annotations

import numpy as np

__all__ = ["efficiency_load_kw", "shifted_load_kw", "shifted_kwh", "battery_size_for_peak", "LIGHT", "PEAK"]

LIGHT, PEAK = 0, 2  # TOU periods (docs/settlement-kernel.md "Inputs": 0 light, 1 mid, 2 peak)


def efficiency_load_kw(load_kw: np.ndarray, saved_pct) -> np.ndarray:
    """Load after an efficiency measure: every hour's load x (1 - ``saved_pct`` / 100).

    ``saved_pct`` is a scalar or one value per column of ``load_kw`` (H, T)."""
    return np.asarray(load_kw, float) * (1.0 - np.asarray(saved_pct, float) / 100.0)


def _day_starts(day_of_hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first hour of each day, day position of each hour) for contiguous days."""
    new = np.r_[False, day_of_hour[1:] != day_of_hour[:-1]]
    return np.flatnonzero(np.r_[True, new[1:]]), np.cumsum(new)


def _day_sums(x: np.ndarray, day_start: np.ndarray) -> np.ndarray:
    return np.add.reduceat(x, day_start, axis=0)


def shifted_load_kw(load_kw: np.ndarray, tou_period: np.ndarray, day_of_hour: np.ndarray, shift_pct) -> np.ndarray:
    """Load after shifting ``shift_pct`` % of each day's peak-period kWh into the same day's light-load hours.

    ``load_kw`` (H, T) hourly kW; ``tou_period`` (H, T) or (H,) billed TOU period of each hour
    (0 light, 1 mid, 2 peak); ``day_of_hour`` (H,) non-decreasing day number (hours of one day are
    contiguous); ``shift_pct`` scalar or (T,). Each peak hour loses ``shift_pct`` % of its load; the
    day's moved kWh are added in equal parts to the day's light-load hours (a day without one keeps
    its load). The day's total is unchanged: moving, not saving, energy (docs/decisions.md#demand-side-measures).
    """
    load = np.asarray(load_kw, float)
    tou = np.broadcast_to(np.asarray(tou_period).reshape(len(load), -1), load.shape)
    share = np.asarray(shift_pct, float) / 100.0
    starts, index = _day_starts(np.asarray(day_of_hour))
    light = (tou == LIGHT).astype(float)
    n_light = _day_sums(light, starts)  # (days, T)
    moved = load * share * (tou == PEAK)
    moved_day = np.where(n_light > 0, _day_sums(moved, starts), 0.0)
    moved = np.where(n_light[index] > 0, moved, 0.0)
    per_light_hour = moved_day / np.where(n_light > 0, n_light, 1.0)
    return load - moved + light * per_light_hour[index]


def shifted_kwh(load_kw: np.ndarray, shifted_kw: np.ndarray) -> np.ndarray:
    """(T,) kWh a shifting moved: the load it removed from the hours it lowered."""
    return np.clip(np.asarray(load_kw, float) - np.asarray(shifted_kw, float), 0.0, None).sum(axis=0)


def battery_size_for_peak(load_kw: np.ndarray, billed: np.ndarray, day_of_hour: np.ndarray, target_pct: float,
                          usable_fraction: float, eta_discharge: float) -> tuple[np.ndarray, np.ndarray]:
    """(power_kw, energy_kwh), each (T,): a battery that keeps the billed (non-light-load) hours of the
    load ``load_kw`` (H, T) under ``target_pct`` % of their highest value.

    Power: the peak minus the target. Energy: the largest day's kWh above the target in billed hours,
    divided by the usable share of capacity (SOC max - SOC min) and by the discharge efficiency, so a
    battery that starts the day full covers the worst day (docs/decisions.md#demand-side-measures)."""
    load = np.asarray(load_kw, float)
    on = np.broadcast_to(np.asarray(billed, bool).reshape(len(load), -1), load.shape)
    peak = np.where(on, load, 0.0).max(axis=0)
    target = peak * target_pct / 100.0
    above = np.where(on, np.clip(load - target, 0.0, None), 0.0)
    starts, _ = _day_starts(np.asarray(day_of_hour))
    worst_kwh = _day_sums(above, starts).max(axis=0) if len(load) else np.zeros(load.shape[1])
    return peak - target, worst_kwh / (usable_fraction * eta_discharge)
