"""Plain NumPy reference of the tenant load model's batched generation.

:func:`~re100sim.simulator.inputs.load.tenants_load_kw` generates a few tenants at a time with reused
buffers and fused passes (``re100sim.ext._loads``); this module keeps the version it replaced (one
pass per NumPy step over the whole chunk, the deterministic profile built with per-year masks), as
its specification and test oracle: the two must agree bit for bit (tests/test_load.py), the way
``simulator/rules/settlement_reference.py`` specifies the settlement kernel.
"""
from __future__ import annotations

import numpy as np

from re100sim.simulator.inputs.load import _SHAPES, _gamma, _monthly, _shape, _year_counts
from re100sim.simulator.rng import ar1_filter, ar1_innovations


def reference_tenants_load_kw(calendar, archetype, annual_use_mwh, peak_kw, params, rngs) -> np.ndarray:
    """:func:`~re100sim.simulator.inputs.load.tenants_load_kw` in plain NumPy, whole-chunk passes:
    the specification and test oracle of the fused version (bit for bit), and the baseline of
    ``experiments/bench_loads.py``."""
    if archetype not in _SHAPES:
        raise ValueError(f"unknown load archetype {archetype!r}")
    monthly = _monthly(archetype, params.monthly_factor)
    m_idx = calendar.month.astype(np.int64) - 1
    d_idx, h_idx = calendar.day_type.astype(np.int64), calendar.hour.astype(np.int64)
    years = calendar.year
    uniq = np.unique(years)
    n = calendar.n_hours
    n_days = -(-n // 24)
    day_of_hour = np.arange(n) // 24
    sd_d = float(np.sqrt(np.log1p(params.daily_cv**2)))
    sd_h = float(np.sqrt(np.log1p(params.noise_cv**2)))
    gammas = [_gamma(archetype, a, p, params) for a, p in zip(annual_use_mwh, peak_kw)]
    month_factor = monthly[m_idx]
    profiles = {g: month_factor * _shape(archetype, g)[d_idx, h_idx] for g in dict.fromkeys(gammas)}
    year_kwh = {(g, int(y)): float((_year_counts(int(y)) * (monthly[:, None, None] * _shape(archetype, g)[None, :, :])).sum())
                for g in profiles for y in uniq}
    scale = np.array([[float(a) * 1000.0 / year_kwh[g, int(y)] for y in uniq] for a, g in zip(annual_use_mwh, gammas)])
    scale = scale.reshape(len(gammas), len(uniq))
    if len(profiles) == 1:
        rows = np.broadcast_to(profiles[gammas[0]], (len(gammas), n))
    else:
        rows = np.stack([profiles[g] for g in gammas]) if gammas else np.zeros((0, n))
    base = np.empty((len(gammas), n))
    if len(uniq) == 1:
        np.multiply(rows, scale[:, :1], out=base)
    else:
        base[:] = rows
        for j, y in enumerate(uniq):
            base[:, years == y] *= scale[:, j:j + 1]
    z_d, z_h = np.empty((len(rngs), n_days)), np.empty((len(rngs), n))
    for i, rng in enumerate(rngs):
        rng.standard_normal(out=z_d[i])
        rng.standard_normal(out=z_h[i])
    x = _reference_ar1_rows(z_d, params.daily_autocorr, sd_d)[:, day_of_hour]
    x += _reference_ar1_rows(z_h, params.noise_autocorr, sd_h)
    load = base * np.exp(x, out=x)
    total = load.sum(axis=1)
    pos = total > 0
    if pos.all():
        load *= (base.sum(axis=1) / total)[:, None]
    else:
        load[pos] *= (base.sum(axis=1)[pos] / total[pos])[:, None]
    return load


def _reference_ar1_rows(z: np.ndarray, phi: float, sd: float) -> np.ndarray:
    if z.shape[-1] == 0 or sd == 0.0:
        return np.zeros_like(z)
    return ar1_filter(ar1_innovations(z, phi, sd), phi)

