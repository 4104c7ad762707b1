"""Benchmark: tenant load generation (the realised and the forecast loads of every year) against the
plain batched version it replaced, measured in the same run, and checked bit for bit.

A run of N tenants over Y years builds two (8,760 x N) load arrays per year
(``simulator/scenario/year_inputs.py:block_loads_kw``): the year's realised loads and the decision
forecast's expected loads (``simulator/market/forecast.py``). This script times both for the tenants
of ``experiments/bench_scale.py``'s scaled smart-green-complex, with the current code and with
:func:`reference_block_loads_kw` (the pre-issue-12 batched numpy version: 64 tenants at a time, the
deterministic profile built with per-year masks, the daily noise gathered per hour, a transposed
write into the (H, T) array), and checks that both give the same bytes. Times are CPU seconds
(``time.process_time``), the machine being shared; the ratio is reference / current.

Usage: ``python experiments/bench_loads.py [--tenants 1000] [--years 20] [--json PATH]``

JSON keys: ``cpu_seconds_current``, ``cpu_seconds_reference`` (all blocks, realised + forecast),
``ratio_reference_to_current``, ``identical`` (every block's bytes equal), ``tenants``, ``years``,
``date``, ``machine``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from re100sim.simulator.inputs.calendar import build_calendar, year_blocks
from re100sim.simulator.inputs.load import _SHAPES, _gamma, _monthly, _shape, _year_counts
from re100sim.simulator.rng import StreamFamily, ar1_filter, ar1_innovations
from re100sim.simulator.scenario.config import load_scenario
from re100sim.simulator.scenario.population import expand_tenants
from re100sim.simulator.scenario.year_inputs import block_loads_kw, tenant_block_load_kw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import scaled_scenario  # noqa: E402


def reference_tenants_load_kw(calendar, archetype, annual_use_mwh, peak_kw, params, rngs) -> np.ndarray:
    """``tenants_load_kw`` as written before issue 12's speed work (main a03c6c4), kept as the oracle
    of tests/test_load.py and this benchmark's baseline."""
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


def reference_block_loads_kw(sc, tenants, k, cal, rng_of, offset_hours=None, chunk=64, totals_kwh=None):
    """``block_loads_kw`` as written before issue 12's speed work, on :func:`reference_tenants_load_kw`."""
    load = np.empty((cal.n_hours, len(tenants)))
    groups: dict[tuple, list[int]] = {}
    for t, spec in enumerate(tenants):
        if spec.profile_kw is not None:
            load[:, t] = tenant_block_load_kw(sc, spec, t, k, cal, offset_hours=offset_hours)
            if totals_kwh is not None:
                totals_kwh[t] = load[:, t].sum()
        else:
            groups.setdefault((spec.archetype, spec.load_params), []).append(t)
    rngs = rng_of.batch if isinstance(rng_of, StreamFamily) else (lambda ts: [rng_of(t) for t in ts])
    for (archetype, params), members in groups.items():
        for i in range(0, len(members), chunk):
            ts = members[i:i + chunk]
            cols = slice(ts[0], ts[-1] + 1) if ts[-1] - ts[0] == len(ts) - 1 else ts
            rows = reference_tenants_load_kw(cal, archetype, [tenants[t].annual_use_mwh for t in ts],
                                             [tenants[t].peak_kw for t in ts], params, rngs(ts))
            load[:, cols] = rows.T
            if totals_kwh is not None:
                totals_kwh[ts] = rows.sum(axis=1)
    return load


def one_year(fn, sc, tenants, k, cal) -> tuple[float, bytes]:
    """CPU seconds and output bytes of one year's realised and forecast loads built with ``fn``."""
    c0 = time.process_time()
    realised = fn(sc, tenants, k, cal, StreamFamily(sc.seed, "load", (k,)))
    totals = np.empty(len(tenants))
    forecast = fn(sc, tenants, k, cal, StreamFamily(sc.seed, "forecast_load"), totals_kwh=totals)
    seconds = time.process_time() - c0
    return seconds, realised.tobytes() + forecast.tobytes() + totals.tobytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sc = load_scenario(scaled_scenario(args.tenants, args.years, Path(tmp)))
    tenants = expand_tenants(sc)
    seconds = {"current": 0.0, "reference": 0.0}
    identical = True
    for k, (a, b) in enumerate(year_blocks(sc.start_date, sc.years)):
        cal = build_calendar(a, b)
        # alternate the order so neither version always runs on a warm cache
        order = [("current", block_loads_kw), ("reference", reference_block_loads_kw)][:: 1 if k % 2 else -1]
        out = {}
        for name, fn in order:
            s, out[name] = one_year(fn, sc, tenants, k, cal)
            seconds[name] += s
        identical &= out["current"] == out["reference"]
    ratio = seconds["reference"] / seconds["current"]
    print(f"{args.tenants} tenants x {args.years} years, realised + forecast loads, CPU s:")
    print(f"  reference (plain batched numpy) {seconds['reference']:8.2f}")
    print(f"  current                         {seconds['current']:8.2f}")
    print(f"  ratio reference / current       {ratio:8.2f}")
    print(f"  outputs identical bit for bit:  {identical}")
    if args.json:
        args.json.write_text(json.dumps({
            "cpu_seconds_current": seconds["current"], "cpu_seconds_reference": seconds["reference"],
            "ratio_reference_to_current": ratio, "identical": bool(identical), "tenants": args.tenants,
            "years": args.years, "date": dt.date.today().isoformat(), "machine": platform.platform(),
        }, indent=2))
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
