"""Benchmark of the hourly settlement kernel (``docs/settlement-kernel.md``).

Standard case: 1,000 tenants, 50 generators, 1,500 contracts (all contract kinds and price
kinds), one year (8,760 h), synthetic but realistic shapes (industrial shift loads, solar with
daily cloudiness, fuel cells, small wind; outages), built here so the bench is self-contained.

Side by side, in one run:

* ``kernel``       - the compiled kernel, :func:`re100sim.simulator.rules.kernel.settle_block` (includes input
                     validation and output allocation, i.e. what a caller pays), in the widest
                     variant this CPU runs; then each compiled variant (portable baseline, AVX2,
                     AVX-512) in turn;
* ``numpy``        - the NumPy reference, :func:`re100sim.simulator.rules.settlement_reference.settle_block_reference`;
* ``naive``        - a per-agent, per-hour pure-Python loop of the same rules (the way a plain
                     Mesa model steps agents), timed on a slice of hours (``--naive-hours``,
                     default 48) and scaled to the block; its results on the slice are checked
                     against the reference first;
* ``memory floor`` - one NumPy pass reading every input array once (``a.sum()`` of each);
* ``pass floor``   - the memory floor plus the two passes the rules add on top of reading the
                     inputs, each timed as NumPy passes over cache-resident state one tile (16 h)
                     at a time: the contract step (contracts in priority order, hour by hour: one
                     read-modify-write of the state per contract-hour, ``np.minimum(a, b, out=a)``)
                     and the grid sums of the tenants whose residual load the contracts, plants,
                     pool or batteries change (known only after the contract step: one more read
                     per active tenant-hour, ``np.add``) (docs/settlement-kernel.md#performance);
* ``kernel, no contracts`` - the same block with its contracts removed (where the time goes);
* ``kernel, batteries`` - the same block with batteries behind ``--battery-share`` of the
                     tenants' meters (all four dispatch strategies in turn, step 4b of the spec),
                     checked against the reference on the first month first.

Timings are the best of ``--repeats`` runs, in CPU seconds of this process (``time.process_time``:
on a shared machine, time spent waiting for a core is not counted; one thread does all the work). Then 20 one-year blocks are settled sequentially
in a fresh subprocess (inputs generated afresh for each block; only the small monthly
aggregates are kept), to show that memory grows with one block, not with the horizon.

Usage::

    python experiments/bench_settlement.py                    # standard case
    python experiments/bench_settlement.py --tenants 100 --generators 10 --contracts 150 --hours 744
    python experiments/bench_settlement.py --json results/bench_settlement.json

JSON keys written with ``--json PATH``:

* ``kernel_tenant_hours_per_s`` - tenants x hours / kernel seconds (best of repeats);
* ``speedup_vs_numpy``         - NumPy reference seconds / kernel seconds;
* ``speedup_vs_naive``         - naive pure-Python seconds (slice scaled to the block) / kernel seconds;
* ``ratio_to_memory_floor``    - kernel seconds / memory-floor seconds (1.0 = at the floor);
* ``ratio_to_pass_floor``      - kernel seconds / pass-floor seconds (memory floor + contract pass + grid pass);
* ``battery_throughput_ratio`` - kernel throughput with batteries / without (target >= 0.5);
* ``kernel_batteries_tenant_hours_per_s`` - tenants x hours / kernel seconds, with batteries;
* ``peak_rss_mb_20y``          - peak resident set size (MB, ``resource.getrusage`` ru_maxrss) of a
                                 fresh process that settles 20 one-year blocks in sequence
                                 (``null`` with ``--skip-20y``);
* also, for context: ``case`` (sizes), ``seconds`` (per method), ``rss_mb_after_1_block``,
  ``rss_mb_after_20_blocks``, ``targets`` (each target and whether it was met).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

# One core: keep BLAS/OpenMP pools from spinning next to the timed code.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from re100sim.simulator.rules.kernel import kernel_modules, settle_block, settle_block_with  # noqa: E402
from re100sim.simulator.rules.settlement_reference import (  # noqa: E402
    BlockInputs,
    settle_block_reference,
)

HOURS_PER_YEAR = 8760
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


# --------------------------------------------------------------------------- synthetic block
def make_block(n_tenants=1000, n_generators=50, n_contracts=1500, n_hours=HOURS_PER_YEAR, seed=0,
               pool_hourly=1) -> BlockInputs:
    """A synthetic block starting 1 January 00:00 (non-leap year, Korean-style tariffs)."""
    rng = np.random.default_rng(seed)
    H, T, G, C = n_hours, n_tenants, n_generators, n_contracts
    h = np.arange(H)
    hod = h % 24
    day = h // 24
    doy = day % 365
    month = np.searchsorted(np.cumsum(_MONTH_DAYS), doy, side="right") + 12 * (day // 365)
    month_of_hour = (month - month[0]).astype(np.int32)
    weekend = (day % 7) >= 5  # 1 Jan on a Monday
    season = np.choose(month % 12, [2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 2, 2])  # 0 summer, 1 spr/fall, 2 winter

    # Tariffs: K = 3 (industrial (gap), (eul) option II, (eul) option III); TOU light/mid/peak.
    tou = np.zeros(H, np.int8)
    tou[((hod >= 8) & (hod < 11)) | ((hod >= 12) & (hod < 13)) | ((hod >= 17) & (hod < 23))] = 1
    tou[((hod >= 11) & (hod < 12)) | ((hod >= 13) & (hod < 17))] = 2
    tou[weekend] = 0
    base_price = np.array([[95.0, 150.0, 210.0], [100.0, 125.0, 160.0], [110.0, 150.0, 190.0]])
    K = 3
    tariff_tou = np.repeat(tou[:, None], K, axis=1)
    tariff_tou[:, 0] = np.where(tou == 2, 1, tou)  # (gap): no peak band
    seasonal = np.array([1.15, 1.0, 1.1])[season]
    tariff_price = np.empty((H, K))
    for k in range(K):
        tariff_price[:, k] = base_price[k % 3][tariff_tou[:, k]] * seasonal + 9.0 + 5.0  # climate + fuel adj.
    smp = 130.0 + 25.0 * np.sin(2 * np.pi * (hod - 13) / 24) + 15.0 * np.sin(2 * np.pi * doy / 365) \
        + rng.normal(0.0, 8.0, H)
    smp = np.maximum(smp, 40.0)

    # Tenant loads: base kW x shift shape x weekend x season x noise.
    shift = rng.integers(0, 3, T)  # 0 one shift, 1 two shifts, 2 continuous
    shapes = np.stack([
        np.where((hod >= 8) & (hod < 18), 1.0, 0.25),
        np.where((hod >= 6) & (hod < 22), 1.0, 0.4),
        np.full(H, 0.9),
    ], axis=1)  # (H, 3)
    wk = np.where(weekend[:, None], np.array([0.2, 0.4, 0.9])[None, :], 1.0)
    base_kw = rng.lognormal(np.log(400.0), 0.8, T)
    load = (shapes * wk * (np.array([1.1, 1.0, 1.05])[season])[:, None])[:, shift] * base_kw[None, :]
    load *= rng.normal(1.0, 0.06, (H, T))
    np.maximum(load, 0.0, out=load)
    load[:, rng.random(T) < 0.01] = 0.0  # a few idle lots

    # Generators: 70% solar, 10% fuel cell, 20% small wind; capacity kW.
    gtype = rng.choice(3, G, p=[0.7, 0.1, 0.2])
    cap = np.where(gtype == 0, rng.uniform(300, 3000, G), np.where(gtype == 1, rng.uniform(200, 1000, G),
                                                                    rng.uniform(500, 2000, G)))
    daylen = 12.0 + 2.5 * np.sin(2 * np.pi * (doy - 80) / 365)
    sun = np.clip(np.sin(np.pi * (hod + 0.5 - (12 - daylen / 2)) / daylen), 0.0, None)
    cloud_day = np.clip(rng.normal(0.75, 0.25, (H // 24 + 1, G)), 0.05, 1.0)[day]
    solar = sun[:, None] * cloud_day * 0.85
    wind = np.clip(0.3 + 0.2 * np.sin(2 * np.pi * doy / 365)[:, None] + rng.normal(0, 0.15, (H, G)), 0.0, 1.0)
    fuel = np.full((H, G), 0.9)
    gen = np.where(gtype[None, :] == 0, solar, np.where(gtype[None, :] == 1, fuel, wind)) * cap[None, :]
    outage = rng.random((H // 24 + 1, G)) < 0.01
    gen[outage[day]] = 0.0
    gen = np.ascontiguousarray(gen)

    n_pool = max(G // 10, 0)
    gen_pool = np.zeros(G, np.int8)
    gen_pool[:n_pool] = 1
    gen_host = np.full(G, -1, np.int32)
    hosted = np.arange(n_pool, n_pool + G // 5)
    gen_host[hosted] = rng.integers(0, T, len(hosted)) if T else -1
    export_limit = np.where(rng.random(G) < 0.2, 0.6 * cap, np.inf)

    # Contracts, on non-pool plants, random priority order.
    ppa_plants = np.arange(n_pool, G)
    if C and len(ppa_plants) == 0:
        raise ValueError("contracts need at least one non-pool generator")
    c_gen = rng.choice(ppa_plants, C) if C else np.zeros(0, np.int32)
    c_kind = rng.choice(3, C, p=[0.5, 0.3, 0.2])
    c_share = np.zeros(C)
    for g in np.unique(c_gen[c_kind == 0]):  # shares on each plant sum to <= 0.95
        idx = np.flatnonzero((c_gen == g) & (c_kind == 0))
        c_share[idx] = rng.dirichlet(np.ones(len(idx))) * rng.uniform(0.5, 0.95)
    c_block = rng.uniform(0.01, 0.08, C) * cap[c_gen] if C else np.zeros(0)
    P = 24
    prof_shape = np.stack([np.roll(sun, s) for s in rng.integers(-2, 3, P)], axis=1) \
        * rng.uniform(20, 200, P)[None, :]
    c_profile = rng.integers(0, P, C)
    c_price_kind = rng.choice(3, C, p=[0.4, 0.3, 0.3])
    c_price = np.choose(c_price_kind, [rng.uniform(110, 160, C), rng.uniform(-10, 20, C), rng.uniform(0.03, 0.1, C)]) \
        if C else np.zeros(0)
    has_clip = rng.random(C) < 0.5
    c_floor = np.where(has_clip, 100.0, -np.inf)
    c_cap = np.where(has_clip, 175.0, np.inf)
    sub = np.where(rng.random(T) < 0.2, rng.uniform(50, 500, T), 0.0)
    return BlockInputs.build(
        load_kwh=load, month_of_hour=month_of_hour, tariff_price=tariff_price, tariff_tou=tariff_tou, smp=smp,
        tenant_tariff=rng.integers(0, K, T), gen_kwh=gen, gen_host=gen_host, gen_pool=gen_pool,
        gen_export_limit_kw=export_limit, c_gen=c_gen, c_tenant=rng.integers(0, max(T, 1), C), c_kind=c_kind,
        c_share=c_share, c_block_kw=c_block, c_profile=c_profile, profile_kwh=prof_shape, c_price_kind=c_price_kind,
        c_price=c_price, c_price_floor=c_floor, c_price_cap=c_cap, sub_weight=sub, pool_hourly=pool_hourly,
    )


def add_batteries(x: BlockInputs, share: float, seed: int = 0) -> BlockInputs:
    """The block with a battery behind ``share`` of the tenants' meters: 2 h of the tenant's mean
    load, 0.5 x its mean load in kW, 95 % each way, SOC 10-90 %, half full, fade 2e-4 per cycle,
    the four strategies in turn, peak-shaving target 80 % of the tenant's peak load."""
    rng = np.random.default_rng(seed)
    mean = x.load_kwh.mean(axis=0)
    owners = np.flatnonzero(rng.random(x.n_tenants) < share)
    owners = owners[mean[owners] > 0]
    B = len(owners)
    energy = 2.0 * mean[owners]
    bat = BlockInputs.build(
        load_kwh=x.load_kwh[:1], month_of_hour=[0], tariff_price=x.tariff_price[:1], tariff_tou=x.tariff_tou[:1],
        smp=x.smp[:1], tenant_tariff=x.tenant_tariff, b_tenant=owners, b_strategy=np.arange(B) % 4,
        b_energy_kwh=energy, b_power_kw=0.5 * mean[owners], b_eta_charge=np.full(B, 0.95),
        b_eta_discharge=np.full(B, 0.95), b_soc_min_frac=np.full(B, 0.1), b_soc_max_frac=np.full(B, 0.9),
        b_soc0_kwh=0.5 * energy, b_fade_per_cycle=np.full(B, 2e-4),
        b_target_kw=0.8 * x.load_kwh[:, owners].max(axis=0),
    )
    return dataclasses.replace(x, **{f: getattr(bat, f) for f in x.__dataclass_fields__ if f.startswith("b_")})


def slice_hours(x: BlockInputs, n: int) -> BlockInputs:
    """The first n hours of a block, as a block."""
    kw = {}
    for name in ("load_kwh", "gen_kwh", "month_of_hour", "tariff_price", "tariff_tou", "smp", "profile_kwh"):
        kw[name] = np.ascontiguousarray(getattr(x, name)[:n])
    kw["month_of_hour"] = kw["month_of_hour"] - kw["month_of_hour"][0]
    rest = {f: getattr(x, f) for f in x.__dataclass_fields__ if f not in kw}
    return BlockInputs(**kw, **rest)


# --------------------------------------------------------------------- naive per-agent loop
class _Tenant:
    def __init__(self, load, tariff_price, tariff_tou, sub_weight):
        self.load, self.price, self.tou, self.sub_weight = load, tariff_price, tariff_tou, sub_weight
        self.resid = 0.0
        self.acc: dict[tuple[int, str], float] = {}

    def add(self, m, key, v):
        self.acc[(m, key)] = self.acc.get((m, key), 0.0) + v

    def begin_hour(self, h):
        self.resid = self.load[h]

    def end_hour(self, h, m):
        grid, load, price, tou = self.resid, self.load[h], self.price[h], self.tou[h]
        self.add(m, "grid", grid)
        self.add(m, "load", load)
        self.add(m, f"grid_tou{tou}", grid)
        self.add(m, f"load_tou{tou}", load)
        self.add(m, "grid_krw", grid * price)
        self.add(m, "load_krw", load * price)
        if tou != 0:
            self.acc[(m, "grid_peak")] = max(self.acc.get((m, "grid_peak"), 0.0), grid)
            self.acc[(m, "load_peak")] = max(self.acc.get((m, "load_peak"), 0.0), load)


class _Generator:
    def __init__(self, gen, host, pool, limit):
        self.gen, self.host, self.pool, self.limit = gen, host, pool, limit
        self.avail = self.base = self.surplus = 0.0
        self.contracts: list[_Contract] = []
        self.acc: dict[tuple[int, str], float] = {}

    def add(self, m, key, v):
        self.acc[(m, key)] = self.acc.get((m, key), 0.0) + v

    def begin_hour(self, h, m, smp):
        self.avail = self.gen[h]
        self.surplus = 0.0
        self.add(m, "gen", self.avail)
        self.add(m, "gen_smp", self.avail * smp)

    def self_consume(self, m):
        if self.host is not None:
            s = min(self.avail, self.host.resid)
            self.host.resid -= s
            self.avail -= s
            self.add(m, "self", s)
        self.base = self.avail

    def export(self, m, smp):
        x = self.avail + self.surplus
        curt = max(0.0, x - self.limit)
        f = curt / x if x > 0 else 0.0
        ex = self.avail * (1.0 - f)
        self.add(m, "export", ex)
        self.add(m, "export_smp", ex * smp)
        self.add(m, "curtailed", curt)
        for c in self.contracts:
            c.split_surplus(m, f, smp)


class _Contract:
    def __init__(self, gen, tenant, kind, share, block, profile, price_kind, price, lo, hi):
        self.gen, self.tenant, self.kind = gen, tenant, kind
        self.share, self.block, self.profile = share, block, profile
        self.price_kind, self.price, self.lo, self.hi = price_kind, price, lo, hi
        self.surplus = 0.0
        self.acc: dict[tuple[int, str], float] = {}

    def add(self, m, key, v):
        self.acc[(m, key)] = self.acc.get((m, key), 0.0) + v

    def step(self, h, m, smp):
        g, t = self.gen, self.tenant
        if self.kind == 0:
            target = self.share * g.base
        elif self.kind == 1:
            target = self.block
        else:
            target = self.profile[h]
        e = min(target, g.avail)
        g.avail -= e
        applied = min(e, t.resid)
        t.resid -= applied
        self.surplus = e - applied
        g.surplus += self.surplus
        tp = t.price[h]
        if self.price_kind == 0:
            p = self.price
        elif self.price_kind == 1:
            p = smp + self.price
        else:
            p = tp * (1.0 - self.price)
        p = min(max(p, self.lo), self.hi)
        self.add(m, "contracted", e)
        self.add(m, "applied", applied)
        self.add(m, "undelivered", target - e)
        self.add(m, "contracted_krw", e * p)
        self.add(m, "applied_krw", applied * p)
        self.add(m, "avoided_krw", applied * tp)

    def split_surplus(self, m, f, smp):
        self.add(m, "surplus_export", self.surplus * (1.0 - f))
        self.add(m, "surplus_curtailed", self.surplus * f)
        self.add(m, "surplus_smp", self.surplus * (1.0 - f) * smp)


class NaiveModel:
    """A plain agent-based model: Python objects stepped hour by hour, like a Mesa model."""

    def __init__(self, x: BlockInputs):
        H = x.n_hours
        load = x.load_kwh.T.tolist()
        tp = x.tariff_price.T.tolist()
        tou = x.tariff_tou.T.tolist()
        self.smp = x.smp.tolist()
        self.month = x.month_of_hour.tolist()
        self.H = H
        self.tenants = [
            _Tenant(load[t], tp[k], tou[k], float(x.sub_weight[t]))
            for t, k in enumerate(x.tenant_tariff.tolist())
        ]
        gen = x.gen_kwh.T.tolist()
        self.gens = [
            _Generator(gen[g], self.tenants[hst] if hst >= 0 else None, bool(pl), float(lim))
            for g, (hst, pl, lim) in enumerate(zip(x.gen_host.tolist(), x.gen_pool.tolist(),
                                                   x.gen_export_limit_kw.tolist()))
        ]
        prof = x.profile_kwh.T.tolist()
        self.contracts = []
        for c in range(x.n_contracts):
            kind = int(x.c_kind[c])
            ct = _Contract(self.gens[x.c_gen[c]], self.tenants[x.c_tenant[c]], kind, float(x.c_share[c]),
                           float(x.c_block_kw[c]), prof[x.c_profile[c]] if kind == 2 else None,
                           int(x.c_price_kind[c]), float(x.c_price[c]), float(x.c_price_floor[c]),
                           float(x.c_price_cap[c]))
            self.contracts.append(ct)
            ct.gen.contracts.append(ct)
        self.pool_hourly = bool(x.pool_hourly)
        self.W = float(x.sub_weight.sum())
        self.acc: dict[tuple[int, str], float] = {}

    def step(self, h):
        m, smp = self.month[h], self.smp[h]
        for t in self.tenants:
            t.begin_hour(h)
        for g in self.gens:
            g.begin_hour(h, m, smp)
        for g in self.gens:
            g.self_consume(m)
        for c in self.contracts:
            c.step(h, m, smp)
        pool_gens = [g for g in self.gens if g.pool]
        pool = sum(g.avail for g in pool_gens)
        for g in pool_gens:
            g.add(m, "pool", g.avail)
        self.acc[(m, "pool")] = self.acc.get((m, "pool"), 0.0) + pool
        if self.pool_hourly and self.W > 0 and pool > 0:
            A = 0.0
            for t in self.tenants:
                if t.sub_weight > 0:
                    ap = min(pool * t.sub_weight / self.W, t.resid)
                    t.resid -= ap
                    t.add(m, "pool", ap)
                    A += ap
            frac = A / pool
            for g in pool_gens:
                g.add(m, "pool_applied", g.avail * frac)
                g.avail *= 1.0 - frac
        for g in self.gens:
            g.export(m, smp)
        for t in self.tenants:
            t.end_hour(h, m)

    def run(self):
        for h in range(self.H):
            self.step(h)
        return self


def _check_naive(model: NaiveModel, ref) -> None:
    """The naive loop implements the same rules: compare a few aggregates with the reference."""
    for m in range(ref.n_months):
        grid = [t.acc.get((m, "grid"), 0.0) for t in model.tenants]
        applied = [c.acc.get((m, "applied"), 0.0) for c in model.contracts]
        curt = [g.acc.get((m, "curtailed"), 0.0) for g in model.gens]
        np.testing.assert_allclose(grid, ref.tenant_grid_kwh[m], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(applied, ref.contract_applied_kwh[m], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(curt, ref.gen_curtailed_kwh[m], rtol=1e-9, atol=1e-6)


# ------------------------------------------------------------------------------ timing
def best_of(fn, repeats):
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def memory_floor(x: BlockInputs) -> float:
    """One pass reading every input array once."""
    arrays = [getattr(x, f) for f in x.__dataclass_fields__ if f != "pool_hourly"]
    tot = 0.0
    for a in arrays:
        tot += float(a.sum())
    return tot


TILE_HOURS = 16  # HB in ext/_settle.pyx


def active_tenants(x: BlockInputs) -> int:
    """Tenants whose residual load differs from their load: off-takers, hosts, battery owners and,
    in hourly pool mode with pool plants, subscribers (the kernel copies the others' load sums)."""
    active = np.zeros(x.n_tenants, bool)
    active[x.c_tenant] = True
    active[x.gen_host[x.gen_host >= 0]] = True
    active[x.b_tenant] = True
    if x.pool_hourly and (x.gen_pool == 1).any():
        active[x.sub_weight > 0] = True
    return int(active.sum())


def state_passes(n_state: int, n_hours: int, op) -> float:
    """``op(a, b, out=a)`` on n_state cache-resident values, once per tile of the block's hours:
    one read-modify-write pass over n_state x n_hours state-hours."""
    a, b = np.zeros(n_state * TILE_HOURS), np.ones(n_state * TILE_HOURS)
    for _ in range(-(-n_hours // TILE_HOURS)):
        op(a, b, out=a)
    return float(a[0])


def without_contracts(x: BlockInputs) -> BlockInputs:
    """The block with no contract (the tenants, plants and pool only)."""
    return dataclasses.replace(x, **{f: getattr(x, f)[:0] for f in x.__dataclass_fields__ if f.startswith("c_")})


def _rss_mb_now() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def rss_worker(args) -> None:
    """Settle `--years` one-year blocks in sequence, keep only monthly aggregates; print JSON."""
    kept = []
    out = {}
    for y in range(args.years):
        x = make_block(args.tenants, args.generators, args.contracts, args.hours, seed=1000 + y)
        r = settle_block(x)
        kept.append((r.tenant_grid_kwh, r.contract_applied_kwh, r.gen_export_kwh))  # what a run keeps
        del x, r
        if y == 0:
            out["rss_mb_after_1_block"] = _rss_mb_now()
            out["maxrss_mb_after_1_block"] = _maxrss_mb()
    out["rss_mb_after_all_blocks"] = _rss_mb_now()
    out["maxrss_mb_after_all_blocks"] = _maxrss_mb()
    out["blocks"] = args.years
    print(json.dumps(out))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--generators", type=int, default=50)
    ap.add_argument("--contracts", type=int, default=1500)
    ap.add_argument("--hours", type=int, default=HOURS_PER_YEAR)
    ap.add_argument("--repeats", type=int, default=5, help="timing repeats (best of)")
    ap.add_argument("--naive-hours", type=int, default=48, help="hours of the naive loop timed, then scaled")
    ap.add_argument("--years", type=int, default=20, help="blocks settled in the memory run")
    ap.add_argument("--skip-20y", action="store_true", help="skip the 20-block memory run")
    ap.add_argument("--battery-share", type=float, default=0.2, help="share of tenants with a battery")
    ap.add_argument("--json", type=Path, default=None, help="write the headline numbers here")
    ap.add_argument("--rss-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rss_worker:
        rss_worker(args)
        return {}

    T, G, C, H = args.tenants, args.generators, args.contracts, args.hours
    w = None
    if not args.skip_20y:
        # First, while this process is still small: Linux carries a parent's peak RSS over
        # into a child's ru_maxrss, so the worker must start before the big allocations here.
        cmd = [sys.executable, __file__, "--rss-worker", "--tenants", str(T), "--generators", str(G),
               "--contracts", str(C), "--hours", str(H), "--years", str(args.years)]
        w = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    t0 = time.perf_counter()
    x = make_block(T, G, C, H, seed=0)
    x.validate()
    print(f"case: {T} tenants, {G} generators, {C} contracts, {H} h, {x.n_months} months, "
          f"{x.n_profiles} profiles, {x.n_tariffs} tariffs (inputs built in {time.perf_counter() - t0:.1f} s)")
    th = T * H

    settle_block(x)  # warm up
    t_kernel, res_k = best_of(lambda: settle_block(x), args.repeats)
    mods = kernel_modules()
    t_var = {m.__name__.rsplit(".", 1)[-1]: best_of(lambda: settle_block_with(m, x), args.repeats)[0] for m in mods}
    t_ref, res_r = best_of(lambda: settle_block_reference(x), max(1, min(args.repeats, 3)))
    for name in res_k.aggregate_names():  # the two agree on the benchmark case
        np.testing.assert_allclose(getattr(res_k, name), getattr(res_r, name), rtol=1e-9, atol=1e-6, err_msg=name)
    t_floor, _ = best_of(lambda: memory_floor(x), max(args.repeats, 5))
    t_cpass, _ = best_of(lambda: state_passes(C, H, np.minimum), max(args.repeats, 5))
    n_active = active_tenants(x)
    t_gpass, _ = best_of(lambda: state_passes(n_active, H, np.add), max(args.repeats, 5))
    t_pass = t_floor + t_cpass + t_gpass
    x_nc = without_contracts(x)
    settle_block(x_nc)
    t_nc, _ = best_of(lambda: settle_block(x_nc), args.repeats)

    xb = add_batteries(x, args.battery_share)
    month0 = slice_hours(xb, int(np.searchsorted(xb.month_of_hour, 1)))  # the reference loops hour by hour
    rb_k, rb_r = settle_block(month0), settle_block_reference(month0)
    for name in rb_k.aggregate_names():
        np.testing.assert_allclose(getattr(rb_k, name), getattr(rb_r, name), rtol=1e-9, atol=1e-6, err_msg=name)
    settle_block(xb)
    t_bat, _ = best_of(lambda: settle_block(xb), args.repeats)

    nh = min(args.naive_hours, H)
    xs = slice_hours(x, nh)
    model = NaiveModel(xs)
    t_naive_slice, _ = best_of(lambda: NaiveModel(xs).run(), 1)
    _check_naive(model.run(), settle_block_reference(xs))
    t_naive = t_naive_slice * H / nh

    rows = [
        (f"kernel (Cython, {mods[0].__name__.rsplit('.', 1)[-1]})", t_kernel),
        *((f"  compiled variant {name}", t) for name, t in t_var.items()),
        ("NumPy reference", t_ref),
        (f"naive Python loop ({nh} h, scaled)", t_naive),
        ("memory floor (read inputs once)", t_floor),
        (f"pass floor (+ {C} contracts, {n_active} grid sums)", t_pass),
        ("kernel, no contracts", t_nc),
        (f"kernel, {xb.n_batteries} batteries", t_bat),
    ]
    in_mb = sum(getattr(x, f).nbytes for f in x.__dataclass_fields__ if f != "pool_hourly") / 2**20
    print(f"input arrays: {in_mb:.0f} MB; timings: best of {args.repeats} (reference: best of "
          f"{max(1, min(args.repeats, 3))}; naive: 1 run of {nh} h x {H / nh:.1f})")
    print(f"{'method':<48} {'seconds':>10} {'tenant-h/s':>14} {'kernel speedup':>15}")
    for name, t in rows:
        print(f"{name:<48} {t:>10.4f} {th / t:>14.3e} {t / t_kernel:>14.1f}x")

    out = {
        "case": {"tenants": T, "generators": G, "contracts": C, "hours": H},
        "seconds": {"kernel": t_kernel, "kernel_batteries": t_bat, "numpy_reference": t_ref, "naive_scaled": t_naive,
                    "naive_slice": t_naive_slice, "naive_slice_hours": nh, "memory_floor": t_floor,
                    "kernel_variants": t_var, "contract_pass": t_cpass, "grid_pass": t_gpass, "pass_floor": t_pass, "kernel_no_contracts": t_nc},
        "kernel_tenant_hours_per_s": th / t_kernel,
        "speedup_vs_numpy": t_ref / t_kernel,
        "speedup_vs_naive": t_naive / t_kernel,
        "ratio_to_memory_floor": t_kernel / t_floor,
        "ratio_to_pass_floor": t_kernel / t_pass,
        "active_tenants": n_active,
        "kernel_batteries_tenant_hours_per_s": th / t_bat,
        "battery_throughput_ratio": t_kernel / t_bat,
        "batteries": xb.n_batteries,
        "peak_rss_mb_20y": None,
    }
    if w is not None:
        out["peak_rss_mb_20y"] = w["maxrss_mb_after_all_blocks"]
        out["rss_mb_after_1_block"] = w["rss_mb_after_1_block"]
        out["rss_mb_after_20_blocks"] = w["rss_mb_after_all_blocks"]
        out["peak_rss_mb_after_1_block"] = w["maxrss_mb_after_1_block"]
        print(f"memory, {w['blocks']} one-year blocks in sequence (fresh process): RSS after 1 block "
              f"{w['rss_mb_after_1_block']:.0f} MB, after {w['blocks']} blocks {w['rss_mb_after_all_blocks']:.0f} MB; "
              f"peak RSS after 1 block {w['maxrss_mb_after_1_block']:.0f} MB, after {w['blocks']} blocks "
              f"{w['maxrss_mb_after_all_blocks']:.0f} MB")
    targets = {
        "kernel >= 1e8 tenant-hours/s": out["kernel_tenant_hours_per_s"] >= 1e8,
        "kernel >= 3x NumPy reference": out["speedup_vs_numpy"] >= 3,
        "kernel >= 200x naive loop": out["speedup_vs_naive"] >= 200,
        "kernel within 4x of memory floor": out["ratio_to_memory_floor"] <= 4,
        "kernel within 4x of pass floor": out["ratio_to_pass_floor"] <= 4,
        "kernel with batteries >= 50% of throughput without": out["battery_throughput_ratio"] >= 0.5,
    }
    out["targets"] = targets
    print(f"kernel: {out['kernel_tenant_hours_per_s']:.3e} tenant-h/s; {out['speedup_vs_numpy']:.1f}x NumPy; "
          f"{out['speedup_vs_naive']:.0f}x naive; {out['ratio_to_memory_floor']:.2f}x memory floor; "
          f"{out['ratio_to_pass_floor']:.2f}x pass floor; with "
          f"{xb.n_batteries} batteries {out['battery_throughput_ratio']:.2f}x the throughput without")
    for k, ok in targets.items():
        print(f"  target {k}: {'met' if ok else 'MISSED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")
    return out


if __name__ == "__main__":
    main()
