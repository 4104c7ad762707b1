"""Tests of the hourly settlement kernel against its spec (docs/settlement-kernel.md).

1. hand-worked examples (the arithmetic is in the comments), run on both the compiled kernel
   and the NumPy reference;
2. property tests: random blocks -> kernel == reference (rtol = atol = 1e-9);
3. the spec's energy balances (plant, tenant, contract) on random blocks;
4. input validation and the missing-extension error.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from re100sim.simulator.rules import kernel
from re100sim.simulator.rules.settlement_reference import (
    HOURLY_NAMES,
    BlockInputs,
    BlockResult,
    settle_block_reference,
)

INF = np.inf


def _kernel(x: BlockInputs, hourly: bool = False) -> BlockResult:
    return kernel.settle_block(x, hourly=hourly)


IMPLS = [pytest.param(_kernel, id="kernel"), pytest.param(settle_block_reference, id="reference")]


def flat_tariff(H, price=150.0, tou=1, K=1):
    return np.full((H, K), price), np.full((H, K), tou, dtype=np.int8)


# ----------------------------------------------------------------------------------------
# 1. Hand-worked examples
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("settle", IMPLS)
def test_two_tenants_one_plant_day_surplus_and_shortfall(settle):
    # One day (24 h), one plant, two tenants with constant loads A = 40 kW, B = 30 kW.
    # Plant: 100 kW in hours 8..15 (8 h), 50 kW in hour 16, 0 otherwise (850 kWh).
    # Share contracts, fixed price: A 60% at 100 KRW/kWh, B 40% at 90 KRW/kWh.
    # Hours 8-15: A gets 60 -> applied 40, surplus 20; B gets 40 -> applied 30, surplus 10.
    # Hour 16 (shortfall): A gets 30 -> applied 30, grid 10; B gets 20 -> applied 20, grid 10.
    # A: contracted 8*60+30 = 510, applied 8*40+30 = 350, surplus 160; load 960, grid 610.
    # B: contracted 8*40+20 = 340, applied 8*30+20 = 260, surplus 80;  load 720, grid 460.
    # TOU: hours 0-7 light (0), others mid (1). A's grid at light = 8*40 = 320, mid = 290;
    # A's grid peak over TOU != 0 = 40 (hours 17-23). Tariff 150 KRW/kWh, SMP 80 KRW/kWh.
    H = 24
    gen = np.zeros((H, 1))
    gen[8:16, 0] = 100.0
    gen[16, 0] = 50.0
    load = np.tile([40.0, 30.0], (H, 1))
    tp, tou = flat_tariff(H)
    tou[:8] = 0
    x = BlockInputs.build(
        load_kwh=load, month_of_hour=np.zeros(H), tariff_price=tp, tariff_tou=tou, smp=np.full(H, 80.0),
        tenant_tariff=[0, 0], gen_kwh=gen,
        c_gen=[0, 0], c_tenant=[0, 1], c_kind=[0, 0], c_share=[0.6, 0.4],
        c_price_kind=[0, 0], c_price=[100.0, 90.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.contract_contracted_kwh, [[510, 340]])
    np.testing.assert_allclose(r.contract_applied_kwh, [[350, 260]])
    np.testing.assert_allclose(r.contract_surplus_export_kwh, [[160, 80]])
    np.testing.assert_allclose(r.contract_surplus_curtailed_kwh, [[0, 0]])
    np.testing.assert_allclose(r.contract_undelivered_kwh, [[0, 0]], atol=1e-12)
    np.testing.assert_allclose(r.contract_contracted_krw, [[510 * 100, 340 * 90]])  # 51000, 30600
    np.testing.assert_allclose(r.contract_applied_krw, [[350 * 100, 260 * 90]])  # 35000, 23400
    np.testing.assert_allclose(r.contract_avoided_tariff_krw, [[350 * 150, 260 * 150]])
    np.testing.assert_allclose(r.contract_surplus_smp_krw, [[160 * 80, 80 * 80]])
    np.testing.assert_allclose(r.tenant_load_kwh, [[960, 720]])
    np.testing.assert_allclose(r.tenant_grid_kwh, [[610, 460]])
    np.testing.assert_allclose(r.tenant_ppa_kwh, [[350, 260]])
    np.testing.assert_allclose(r.tenant_grid_kwh_by_tou, [[[320, 290, 0], [240, 220, 0]]])
    np.testing.assert_allclose(r.tenant_load_kwh_by_tou, [[[320, 640, 0], [240, 480, 0]]])
    np.testing.assert_allclose(r.tenant_grid_energy_krw_by_tou.sum(axis=2), [[610 * 150, 460 * 150]])
    np.testing.assert_allclose(r.tenant_load_energy_krw_by_tou.sum(axis=2), [[960 * 150, 720 * 150]])
    np.testing.assert_allclose(r.tenant_grid_peak_kw, [[40, 30]])
    np.testing.assert_allclose(r.tenant_load_peak_kw, [[40, 30]])
    # plant: 850 = ppa 610 + surplus exported 240; nothing left to export
    np.testing.assert_allclose(r.gen_kwh, [[850]])
    np.testing.assert_allclose(r.gen_ppa_kwh, [[610]])
    np.testing.assert_allclose(r.gen_ppa_surplus_export_kwh, [[240]])
    np.testing.assert_allclose(r.gen_export_kwh, [[0]], atol=1e-12)
    np.testing.assert_allclose(r.gen_smp_krw, [[850 * 80]])


@pytest.mark.parametrize("settle", IMPLS)
def test_baseload_block_with_undelivered_energy(settle):
    # Plant output [0, 30, 80, 50]; 50 kW block to a tenant with a 60 kW load.
    # e = min(50, avail) = [0, 30, 50, 50] (130); undelivered = 50 - e = [50, 20, 0, 0] (70);
    # applied = e (load >= e), surplus 0; remainder [0, 0, 30, 0] exported (30);
    # grid = 4*60 - 130 = 110.
    H = 4
    tp, tou = flat_tariff(H)
    x = BlockInputs.build(
        load_kwh=np.full((H, 1), 60.0), month_of_hour=np.zeros(H), tariff_price=tp, tariff_tou=tou,
        smp=np.full(H, 100.0), tenant_tariff=[0], gen_kwh=[[0.0], [30.0], [80.0], [50.0]],
        c_gen=[0], c_tenant=[0], c_kind=[1], c_block_kw=[50.0], c_price_kind=[0], c_price=[120.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.contract_contracted_kwh, [[130]])
    np.testing.assert_allclose(r.contract_undelivered_kwh, [[70]])
    np.testing.assert_allclose(r.contract_applied_kwh, [[130]])
    np.testing.assert_allclose(r.contract_surplus_export_kwh, [[0]])
    np.testing.assert_allclose(r.gen_export_kwh, [[30]])
    np.testing.assert_allclose(r.gen_export_smp_krw, [[30 * 100]])
    np.testing.assert_allclose(r.tenant_grid_kwh, [[110]])
    np.testing.assert_allclose(r.contract_contracted_krw, [[130 * 120]])


@pytest.mark.parametrize("settle", IMPLS)
def test_smp_indexed_price_with_floor_and_cap(settle):
    # SMP [50, 100, 200], adder +10, floor 70, cap 150:
    # base [60, 110, 210] -> price [70, 110, 150]. 10 kW block, 10 kW load, plant 100 kW.
    # contracted_krw = applied_krw = 10 * (70 + 110 + 150) = 3300.
    # Plant remainder 90 kW each hour exported: export_smp = 90 * (50 + 100 + 200) = 31500.
    H = 3
    tp, tou = flat_tariff(H)
    x = BlockInputs.build(
        load_kwh=np.full((H, 1), 10.0), month_of_hour=np.zeros(H), tariff_price=tp, tariff_tou=tou,
        smp=[50.0, 100.0, 200.0], tenant_tariff=[0], gen_kwh=np.full((H, 1), 100.0),
        c_gen=[0], c_tenant=[0], c_kind=[1], c_block_kw=[10.0], c_price_kind=[1], c_price=[10.0],
        c_price_floor=[70.0], c_price_cap=[150.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.contract_contracted_krw, [[3300]])
    np.testing.assert_allclose(r.contract_applied_krw, [[3300]])
    np.testing.assert_allclose(r.contract_avoided_tariff_krw, [[30 * 150]])
    np.testing.assert_allclose(r.gen_export_kwh, [[270]])
    np.testing.assert_allclose(r.gen_export_smp_krw, [[31500]])


@pytest.mark.parametrize("settle", IMPLS)
def test_tariff_indexed_discount_price(settle):
    # Tenant tariff 1 prices [100, 200] (tariff 0 is someone else's, 999); discount 10%:
    # base = tariff * 0.9 = [90, 180]; floor 95 -> price [95, 180].
    # Share 1.0 of a plant with output [10, 20]; load 50 -> applied [10, 20] (30).
    # applied_krw = 10*95 + 20*180 = 4550; avoided = 10*100 + 20*200 = 5000.
    H = 2
    tp = np.array([[999.0, 100.0], [999.0, 200.0]])
    tou = np.ones((H, 2), dtype=np.int8)
    x = BlockInputs.build(
        load_kwh=np.full((H, 1), 50.0), month_of_hour=np.zeros(H), tariff_price=tp, tariff_tou=tou,
        smp=np.full(H, 80.0), tenant_tariff=[1], gen_kwh=[[10.0], [20.0]],
        c_gen=[0], c_tenant=[0], c_kind=[0], c_share=[1.0], c_price_kind=[2], c_price=[0.1],
        c_price_floor=[95.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.contract_applied_kwh, [[30]])
    np.testing.assert_allclose(r.contract_applied_krw, [[4550]])
    np.testing.assert_allclose(r.contract_contracted_krw, [[4550]])
    np.testing.assert_allclose(r.contract_avoided_tariff_krw, [[5000]])
    # the tenant's grid at its own tariff: (50-10)*100 + (50-20)*200 = 10000
    np.testing.assert_allclose(r.tenant_grid_energy_krw_by_tou.sum(axis=2), [[10000]])


@pytest.mark.parametrize("settle", IMPLS)
def test_self_generation_with_surplus_export(settle):
    # Plant hosted by tenant 0 (load 30, 30); output [50, 10].
    # Self: s = min(avail, load) = [30, 10] (40); base = avail after = [20, 0].
    # A 50% share contract to tenant 1 (load 5): e = 0.5 * base = [10, 0], applied [5, 0],
    # surplus [5, 0]; plant remainder [10, 0] exported.
    # Plant: 60 = self 40 + ppa 5 + surplus exported 5 + export 10.
    # Tenant 0: self 40, grid [0, 20] = 20. Tenant 1: grid [0, 5] = 5.
    H = 2
    tp, tou = flat_tariff(H)
    x = BlockInputs.build(
        load_kwh=[[30.0, 5.0], [30.0, 5.0]], month_of_hour=np.zeros(H), tariff_price=tp, tariff_tou=tou,
        smp=np.full(H, 80.0), tenant_tariff=[0, 0], gen_kwh=[[50.0], [10.0]], gen_host=[0],
        c_gen=[0], c_tenant=[1], c_kind=[0], c_share=[0.5], c_price_kind=[0], c_price=[100.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.gen_self_kwh, [[40]])
    np.testing.assert_allclose(r.tenant_self_kwh, [[40, 0]])
    np.testing.assert_allclose(r.contract_contracted_kwh, [[10]])
    np.testing.assert_allclose(r.gen_ppa_kwh, [[5]])
    np.testing.assert_allclose(r.gen_ppa_surplus_export_kwh, [[5]])
    np.testing.assert_allclose(r.gen_export_kwh, [[10]])
    np.testing.assert_allclose(r.tenant_grid_kwh, [[20, 5]])


@pytest.mark.parametrize("pool_hourly", [1, 0])
@pytest.mark.parametrize("settle", IMPLS)
def test_pool_hour_pro_rata(settle, pool_hourly):
    # One hour. Pool plants with 60 and 40 kWh -> pool 100. Subscribers: tenant 0 (weight 3,
    # load 50), tenant 1 (weight 1, load 40); tenant 2 not subscribed (load 10). W = 4.
    # Hourly mode: alloc = [75, 25]; applied = [min(75, 50), min(25, 40)] = [50, 25]; sum 75;
    # plants reduced by 75/100: pool_applied = [45, 30], remaining [15, 10] exported.
    # Grid: [0, 15, 10].
    # Monthly mode: nothing applied in the hour; all 100 exported; grid = load.
    x = BlockInputs.build(
        load_kwh=[[50.0, 40.0, 10.0]], month_of_hour=[0], tariff_price=[[150.0]], tariff_tou=[[1]],
        smp=[80.0], tenant_tariff=[0, 0, 0], gen_kwh=[[60.0, 40.0]], gen_pool=[1, 1],
        sub_weight=[3.0, 1.0, 0.0], pool_hourly=pool_hourly,
    )
    r = settle(x)
    np.testing.assert_allclose(r.pool_kwh, [100])
    np.testing.assert_allclose(r.gen_pool_kwh, [[60, 40]])
    np.testing.assert_allclose(r.pool_smp_krw, [100 * 80])
    if pool_hourly:
        np.testing.assert_allclose(r.tenant_pool_kwh, [[50, 25, 0]])
        np.testing.assert_allclose(r.pool_applied_kwh, [75])
        np.testing.assert_allclose(r.gen_pool_applied_kwh, [[45, 30]])
        np.testing.assert_allclose(r.gen_export_kwh, [[15, 10]])
        np.testing.assert_allclose(r.tenant_grid_kwh, [[0, 15, 10]])
    else:
        np.testing.assert_allclose(r.tenant_pool_kwh, [[0, 0, 0]])
        np.testing.assert_allclose(r.pool_applied_kwh, [0])
        np.testing.assert_allclose(r.gen_export_kwh, [[60, 40]])
        np.testing.assert_allclose(r.tenant_grid_kwh, [[50, 40, 10]])


@pytest.mark.parametrize("settle", IMPLS)
def test_export_limit_curtails(settle):
    # Plant 100 kWh, export limit 40 kW; 50% share to a tenant with load 20:
    # e = 50, applied 20, surplus 30; remainder 50. x = 30 + 50 = 80 > 40: curt = 40, f = 0.5.
    # Contract surplus: exported 15, curtailed 15. Remainder: exported 25, curtailed 25.
    # Plant: 100 = ppa 20 + surplus exported 15 + export 25 + curtailed 40.
    x = BlockInputs.build(
        load_kwh=[[20.0]], month_of_hour=[0], tariff_price=[[150.0]], tariff_tou=[[1]], smp=[80.0],
        tenant_tariff=[0], gen_kwh=[[100.0]], gen_export_limit_kw=[40.0],
        c_gen=[0], c_tenant=[0], c_kind=[0], c_share=[0.5], c_price_kind=[0], c_price=[100.0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.contract_surplus_export_kwh, [[15]])
    np.testing.assert_allclose(r.contract_surplus_curtailed_kwh, [[15]])
    np.testing.assert_allclose(r.contract_surplus_smp_krw, [[15 * 80]])
    np.testing.assert_allclose(r.gen_export_kwh, [[25]])
    np.testing.assert_allclose(r.gen_curtailed_kwh, [[40]])
    np.testing.assert_allclose(r.gen_ppa_surplus_export_kwh, [[15]])
    np.testing.assert_allclose(r.gen_export_smp_krw, [[25 * 80]])


@pytest.mark.parametrize("settle", IMPLS)
def test_months_and_empty_month(settle):
    # month_of_hour [0, 0, 2]: month 1 has no hours (all zeros), M = 3.
    x = BlockInputs.build(
        load_kwh=[[1.0], [2.0], [4.0]], month_of_hour=[0, 0, 2], tariff_price=np.full((3, 1), 10.0),
        tariff_tou=np.ones((3, 1)), smp=np.zeros(3), tenant_tariff=[0],
    )
    r = settle(x)
    np.testing.assert_allclose(r.tenant_grid_kwh, [[3], [0], [4]])
    np.testing.assert_allclose(r.tenant_grid_peak_kw, [[2], [0], [4]])


# ----------------------------------------------------------------------------------------
# 2-3. Random blocks
# ----------------------------------------------------------------------------------------
@st.composite
def blocks(draw):
    T = draw(st.integers(1, 6))
    G = draw(st.integers(0, 4))
    K = draw(st.integers(1, 3))
    P = draw(st.integers(0, 2))
    H = draw(st.integers(1, 60))
    M = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    regime = draw(st.sampled_from(["mixed", "surplus", "shortfall", "zero_load", "zero_gen", "ties"]))
    pool_hourly = draw(st.integers(0, 1))
    rng = np.random.default_rng(seed)

    month = np.sort(rng.integers(0, M, H))
    month -= month[0]
    if draw(st.booleans()):  # skipped months are allowed (month index gaps)
        month = month * 2

    scale_load = {"surplus": 0.05, "shortfall": 10.0}.get(regime, 1.0)
    load = rng.uniform(0, 20, (H, T)) * scale_load
    load[rng.random((H, T)) < 0.2] = 0.0
    gen = rng.uniform(0, 30, (H, G))
    gen[rng.random((H, G)) < 0.2] = 0.0
    if regime == "zero_load":
        load[:] = 0.0
    if regime == "zero_gen":
        gen[:] = 0.0
    prof = rng.uniform(0, 10, (H, P))
    if regime == "ties":  # small integers: many exact ties in the min()s
        load = np.floor(load)
        gen = np.floor(gen)
        prof = np.floor(prof)

    gen_pool = (rng.random(G) < 0.3).astype(np.int8)
    gen_host = np.where((rng.random(G) < 0.3) & (gen_pool == 0), rng.integers(0, T, G), -1)
    limit = np.where(rng.random(G) < 0.4, rng.choice([0.0, 3.0, 10.0, 25.0], G), INF)
    sellers = np.flatnonzero(gen_pool == 0)
    C = draw(st.integers(0, 8)) if len(sellers) else 0
    c_gen = rng.choice(sellers, C) if C else np.zeros(0, np.int32)
    c_kind = rng.integers(0, 3 if P else 2, C)
    c_share = rng.uniform(0, 1, C)
    for g in np.unique(c_gen):  # shares per plant sum to <= 1 (sometimes exactly 1)
        idx = np.flatnonzero((c_gen == g) & (c_kind == 0))
        if len(idx):
            c_share[idx] = c_share[idx] / c_share[idx].sum() * rng.choice([1.0, 0.7])
    c_price_kind = rng.integers(0, 3, C)
    c_price = np.where(c_price_kind == 2, rng.uniform(-0.1, 0.3, C), rng.uniform(-20, 150, C))
    clip = rng.random(C) < 0.5
    B = draw(st.integers(0, 4))
    c_tenant = rng.integers(0, T, C)
    return BlockInputs.build(
        load_kwh=load, month_of_hour=month, tariff_price=rng.uniform(50, 250, (H, K)),
        tariff_tou=rng.integers(0, 3, (H, K)), smp=rng.uniform(0, 200, H), tenant_tariff=rng.integers(0, K, T),
        gen_kwh=gen, gen_host=gen_host, gen_pool=gen_pool, gen_export_limit_kw=limit,
        c_gen=c_gen, c_tenant=c_tenant, c_kind=c_kind, c_share=c_share,
        c_block_kw=rng.uniform(0, 15, C), c_profile=rng.integers(0, max(P, 1), C), profile_kwh=prof,
        c_price_kind=c_price_kind, c_price=c_price, c_price_floor=np.where(clip, 60.0, -INF),
        c_price_cap=np.where(clip, 160.0, INF), sub_weight=np.where(rng.random(T) < 0.5, rng.uniform(0, 5, T), 0.0),
        pool_hourly=pool_hourly,
        **random_batteries(rng, B, T, gen_host[gen_host >= 0], c_tenant),
    )


def random_batteries(rng, B: int, T: int, hosts: np.ndarray, offtakers: np.ndarray) -> dict:
    """B batteries, every strategy, with fade, SOC limits and a start state; mostly owned by
    hosts of plants (self_consumption) or by off-takers (other strategies), so that RE surplus
    gets stored."""
    if not B:
        return {}
    strategy = rng.integers(0, 4, B)
    owner = rng.integers(0, T, B)
    for b in np.flatnonzero(rng.random(B) < 0.7):
        pick = hosts if strategy[b] == 0 or not len(offtakers) else offtakers
        if len(pick):
            owner[b] = rng.choice(pick)
    energy = rng.uniform(1.0, 80.0, B)
    fade = rng.choice([0.0, 1e-3, 0.05], B)
    cycles0 = np.where(rng.random(B) < 0.5, rng.uniform(0.0, 5.0, B), 0.0)
    smin, smax = rng.uniform(0.0, 0.3, B), rng.uniform(0.7, 1.0, B)
    cap0 = energy * np.maximum(0.0, 1.0 - fade * cycles0)
    soc0 = cap0 * (smin + rng.random(B) * (smax - smin))
    split = rng.dirichlet(np.ones(3), B)
    return dict(
        b_tenant=owner, b_strategy=strategy, b_energy_kwh=energy,
        b_power_kw=np.where(rng.random(B) < 0.1, 0.0, rng.uniform(0.5, 30.0, B)),
        b_eta_charge=rng.uniform(0.85, 1.0, B), b_eta_discharge=rng.uniform(0.85, 1.0, B),
        b_soc_min_frac=smin, b_soc_max_frac=smax, b_soc0_kwh=soc0[:, None] * split, b_cycles0=cycles0,
        b_fade_per_cycle=fade, b_target_kw=rng.uniform(0.0, 20.0, B),
    )


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(x=blocks(), hourly=st.booleans())
def test_kernel_equals_reference(x, hourly):
    k = _kernel(x, hourly=hourly)
    r = settle_block_reference(x, hourly=hourly)
    names = BlockResult.aggregate_names()
    if hourly:
        names += HOURLY_NAMES
    for name in names:
        a, b = getattr(k, name), getattr(r, name)
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=name)


@PROPERTY
@given(x=blocks(), hourly=st.booleans())
def test_compiled_variants_agree_bit_for_bit(x, hourly):
    # Every compiled variant this CPU runs (portable baseline, AVX2, AVX-512: setup.py) gives the
    # same bits: no FMA contraction, and the lane-wise sums fix the order of every addition.
    mods = kernel.kernel_modules()
    base = kernel.settle_block_with(mods[-1], x, hourly=hourly)
    for mod in mods[:-1]:
        r = kernel.settle_block_with(mod, x, hourly=hourly)
        for name in base.__dataclass_fields__:
            a, b = getattr(r, name), getattr(base, name)
            assert (a is None and b is None) or a.tobytes() == b.tobytes(), (mod.__name__, name)


def test_widest_variant_is_used():
    mods = kernel.kernel_modules()
    assert mods[-1].__name__ == "re100sim.ext._settle"  # the portable baseline is always built
    assert kernel._ext() is mods[0]


def check_balances(r: BlockResult, x: BlockInputs) -> None:
    tol = dict(rtol=1e-9, atol=1e-9)
    # Plant: gen = self + ppa + ppa_surplus_export + pool_applied + export + curtailed + stored
    np.testing.assert_allclose(
        r.gen_kwh,
        r.gen_self_kwh + r.gen_ppa_kwh + r.gen_ppa_surplus_export_kwh + r.gen_pool_applied_kwh
        + r.gen_export_kwh + r.gen_curtailed_kwh + r.gen_stored_kwh, **tol)
    # Tenant: load + grid bought to charge = self + ppa + pool_applied + battery discharge + grid
    np.testing.assert_allclose(r.tenant_load_kwh + r.tenant_battery_grid_charge_kwh,
                               r.tenant_self_kwh + r.tenant_ppa_kwh + r.tenant_pool_kwh
                               + r.tenant_battery_discharged_kwh + r.tenant_grid_kwh, **tol)
    # Contract: contracted = applied + surplus_export + surplus_curtailed + stored
    np.testing.assert_allclose(r.contract_contracted_kwh, r.contract_applied_kwh + r.contract_surplus_export_kwh
                               + r.contract_surplus_curtailed_kwh + r.contract_stored_kwh, **tol)
    check_battery_balances(r, x)
    # consistency of the splits
    np.testing.assert_allclose(r.tenant_grid_kwh, r.tenant_grid_kwh_by_tou.sum(axis=-1), **tol)
    np.testing.assert_allclose(r.tenant_load_kwh, r.tenant_load_kwh_by_tou.sum(axis=-1), **tol)
    np.testing.assert_allclose(r.pool_kwh, r.gen_pool_kwh.sum(axis=1), **tol)
    np.testing.assert_allclose(r.pool_applied_kwh, r.tenant_pool_kwh.sum(axis=1), **tol)
    np.testing.assert_allclose(r.pool_applied_kwh, r.gen_pool_applied_kwh.sum(axis=1), **tol)
    assert (r.tenant_grid_kwh >= -1e-9).all()
    assert (r.contract_undelivered_kwh >= -1e-9).all()
    assert (r.tenant_grid_peak_kw <= r.tenant_load_peak_kw + 1e-9).all()


def check_battery_balances(r: BlockResult, x: BlockInputs) -> None:
    """Storage conserves energy by source, and each strategy draws only on its sources."""
    tol = dict(rtol=1e-9, atol=1e-9)
    ch, dis, loss = r.battery_charged_kwh_by_source, r.battery_discharged_kwh_by_source, r.battery_loss_kwh_by_source
    # Battery, per month and source: charged - discharged - losses = SOC change (0 for a month without hours)
    np.testing.assert_allclose(ch - dis - loss, r.battery_soc_end_kwh_by_source - r.battery_soc_start_kwh_by_source,
                               **tol)
    # SOC carried over: each month starts where the previous month with hours ended
    has_hours = np.isin(np.arange(x.n_months), x.month_of_hour)
    soc0 = x.b_soc0_kwh
    for m in np.flatnonzero(has_hours):
        np.testing.assert_allclose(r.battery_soc_start_kwh_by_source[m], soc0, **tol)
        soc0 = r.battery_soc_end_kwh_by_source[m]
    assert (loss >= -1e-12).all() and (ch >= 0).all() and (dis >= -1e-12).all()
    soc_end, cap = r.battery_soc_end_kwh_by_source.sum(axis=-1), r.battery_capacity_end_kwh
    assert (soc_end[has_hours] <= (x.b_soc_max_frac * cap)[has_hours] + 1e-9 * x.b_energy_kwh).all()
    assert (soc_end[has_hours] >= (x.b_soc_min_frac * cap)[has_hours] - 1e-9 * x.b_energy_kwh).all()
    # grid energy only for peak_shaving / tou_arbitrage, RE only for self_consumption / re_matching,
    # PPA surplus only for re_matching
    grid_strat = np.isin(x.b_strategy, [1, 2])
    assert (ch[:, ~grid_strat, 0] == 0).all() and (ch[:, grid_strat, 1:] == 0).all()
    assert (ch[:, x.b_strategy != 3, 2] == 0).all()
    # the per-tenant, per-plant and per-contract views of the same flows agree
    T = x.n_tenants
    by_tenant = np.zeros((x.n_months, T, 3, 3))
    for b in range(x.n_batteries):
        by_tenant[:, x.b_tenant[b], 0] += ch[:, b]
        by_tenant[:, x.b_tenant[b], 1] += dis[:, b]
    np.testing.assert_allclose(r.tenant_battery_grid_charge_kwh, by_tenant[:, :, 0, 0], **tol)
    np.testing.assert_allclose(r.tenant_battery_discharged_kwh, by_tenant[:, :, 1].sum(axis=-1), **tol)
    np.testing.assert_allclose(r.tenant_battery_re_kwh, by_tenant[:, :, 1, 1:].sum(axis=-1), **tol)
    np.testing.assert_allclose(r.gen_stored_kwh.sum(axis=1), ch[:, :, 1:].sum(axis=(1, 2)), **tol)
    np.testing.assert_allclose(r.contract_stored_kwh.sum(axis=1), ch[:, :, 2].sum(axis=1), **tol)
    # batteries never raise the billed (non-light-load) peak: they charge from the grid only in light hours
    assert (r.tenant_grid_peak_kw <= r.tenant_prebattery_peak_kw + 1e-9).all()
    # nor the site draw (a PPA user's billed demand) above the load's peak or a re_matching battery's target,
    # whichever is higher (docs/decisions.md#storage-dispatch)
    cap = r.tenant_load_peak_kw.copy()
    for b in np.flatnonzero(x.b_strategy == 3):
        cap[:, x.b_tenant[b]] = np.maximum(cap[:, x.b_tenant[b]], x.b_target_kw[b])
    assert (r.tenant_site_peak_kw <= cap + 1e-9 * np.maximum(1.0, cap)).all()
    # a battery cannot deliver more than it held plus what it took in
    start = r.battery_soc_start_kwh_by_source.sum(axis=-1)
    assert (dis.sum(axis=-1) <= start + ch.sum(axis=-1) + 1e-9).all()


@PROPERTY
@given(x=blocks())
def test_energy_balances(x):
    check_balances(_kernel(x), x)
    check_balances(settle_block_reference(x), x)


# ----------------------------------------------------------------------------------------
# 4. Validation and the missing extension
# ----------------------------------------------------------------------------------------
def _small(**over):
    kw = dict(
        load_kwh=[[10.0, 5.0], [8.0, 4.0]], month_of_hour=[0, 0], tariff_price=[[100.0], [100.0]],
        tariff_tou=[[1], [2]], smp=[80.0, 80.0], tenant_tariff=[0, 0], gen_kwh=[[6.0, 3.0], [5.0, 1.0]],
        c_gen=[0], c_tenant=[1], c_kind=[0], c_share=[0.5], c_price_kind=[0], c_price=[100.0],
    )
    kw.update(over)
    return BlockInputs.build(**kw)


@pytest.mark.parametrize("settle", IMPLS)
@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda x: setattr(x, "load_kwh", x.load_kwh.astype(np.float32)), "dtype"),
        (lambda x: setattr(x, "smp", np.zeros(3)), "axis H"),
        (lambda x: setattr(x, "gen_host", np.array([0, 0, 0], np.int32)), "axis G"),
        (lambda x: setattr(x, "month_of_hour", np.array([1, 0], np.int32)), "non-decreasing"),
        (lambda x: setattr(x, "c_share", np.array([1.5])), "c_share"),
        (lambda x: setattr(x, "load_kwh", x.load_kwh[:, ::-1]), "C-contiguous"),
        (lambda x: setattr(x, "c_tenant", np.array([7], np.int32)), "c_tenant"),
        (lambda x: setattr(x, "tariff_tou", np.array([[1], [3]], np.int8)), "tariff_tou"),
    ],
)
def test_validation_errors(settle, mutate, match):
    x = _small()
    mutate(x)
    with pytest.raises(ValueError, match=match):
        settle(x)


@pytest.mark.parametrize("settle", IMPLS)
def test_share_sum_above_one_rejected(settle):
    x = _small(c_gen=[0, 0], c_tenant=[0, 1], c_kind=[0, 0], c_share=[0.7, 0.4], c_price_kind=[0, 0],
               c_price=[1.0, 1.0])
    with pytest.raises(ValueError, match="summing to"):
        settle(x)


@pytest.mark.parametrize("settle", IMPLS)
def test_pool_plant_rules(settle):
    with pytest.raises(ValueError, match="host"):
        settle(_small(gen_pool=[0, 1], gen_host=[-1, 0]))
    with pytest.raises(ValueError, match="pool plant"):
        settle(_small(gen_pool=[1, 0]))  # contract 0 is on plant 0


@pytest.mark.parametrize("settle", IMPLS)
@pytest.mark.parametrize("field", ["load_kwh", "gen_kwh"])
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_negative_or_nonfinite_inputs(settle, field, bad):
    x = _small()
    getattr(x, field)[1, 1] = bad
    with pytest.raises(ValueError, match=field):
        settle(x)


def test_missing_extension_message(monkeypatch):
    monkeypatch.setattr(kernel, "_EXT", None)
    for name, _ in kernel.KERNEL_VARIANTS:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import re100sim.ext._settle...` fail
    with pytest.raises(ImportError) as info:
        kernel.settle_block(_small())
    msg = str(info.value)
    assert "re100sim.ext._settle" in msg and "missing" in msg
    assert "pip install -e ." in msg and "python setup.py build_ext --inplace" in msg


def _with_battery(**over):
    kw = dict(b_tenant=[0], b_strategy=[1], b_energy_kwh=[10.0], b_power_kw=[5.0], b_soc0_kwh=[2.0])
    kw.update(over)
    return _small(**kw)


@pytest.mark.parametrize("settle", IMPLS)
@pytest.mark.parametrize(
    "over, match",
    [
        (dict(b_tenant=[2]), "b_tenant"),
        (dict(b_strategy=[4]), "b_strategy"),
        (dict(b_energy_kwh=[0.0]), "b_energy_kwh"),
        (dict(b_power_kw=[-1.0]), "b_power_kw"),
        (dict(b_eta_charge=[0.0]), "b_eta_charge"),
        (dict(b_eta_discharge=[1.2]), "b_eta_discharge"),
        (dict(b_soc_min_frac=[0.6], b_soc_max_frac=[0.5]), "SOC limits"),
        (dict(b_soc0_kwh=[9.5], b_soc_max_frac=[0.9]), "initial state of charge"),
        (dict(b_soc0_kwh=[0.5], b_soc_min_frac=[0.1]), "initial state of charge"),
        (dict(b_fade_per_cycle=[1.0]), "b_fade_per_cycle"),
        (dict(b_target_kw=[np.nan]), "b_target_kw"),
        (dict(b_soc0_kwh=[[1.0, -0.5, 0.0]]), "b_soc0_kwh"),
    ],
)
def test_battery_validation_errors(settle, over, match):
    with pytest.raises(ValueError, match=match):
        settle(_with_battery(**over))


def test_battery_build_rejects_unknown_argument():
    with pytest.raises(TypeError, match="b_energy"):
        _small(b_tenant=[0], b_energy=[1.0])


# ----------------------------------------------------------------------------------------
# 5. Independent columns settled in chunks (kernel.settle_columns)
# ----------------------------------------------------------------------------------------
def _own_plants_block(rng, T: int, H: int) -> dict:
    """Inputs of T tenants that share nothing: each may host a plant, buy from a plant of its own by
    PPA (any contract and price kind) and own batteries; generators, contracts and batteries are
    listed tenant by tenant."""
    host, ppa = rng.random(T) < 0.5, rng.random(T) < 0.6
    gen_host, c_gen, c_tenant = [], [], []
    for t in range(T):
        if host[t]:
            gen_host.append(t)
        if ppa[t]:
            c_gen.append(len(gen_host))
            c_tenant.append(t)
            gen_host.append(-1)
    G, C = len(gen_host), len(c_gen)
    bat = random_batteries(rng, int(rng.integers(0, T + 1)), T, np.flatnonzero(host), np.array(c_tenant, int))
    order = np.argsort(bat.get("b_tenant", np.zeros(0)), kind="stable")
    bat = {name: v[order] for name, v in bat.items()}
    c_price_kind = rng.integers(0, 3, C)
    return dict(
        load_kwh=rng.uniform(0, 20, (H, T)), month_of_hour=np.sort(rng.integers(0, 3, H)),
        tariff_price=rng.uniform(50, 250, (H, 2)), tariff_tou=rng.integers(0, 3, (H, 2)).astype(np.int8),
        smp=rng.uniform(0, 200, H), tenant_tariff=rng.integers(0, 2, T),
        gen_kwh=rng.uniform(0, 30, (H, G)), gen_host=np.array(gen_host, int),
        gen_export_limit_kw=np.where(rng.random(G) < 0.4, 10.0, INF),
        c_gen=np.array(c_gen, int), c_tenant=np.array(c_tenant, int), c_kind=rng.integers(0, 2, C),
        c_share=rng.uniform(0.2, 1.0, C), c_block_kw=rng.uniform(0, 15, C), c_price_kind=c_price_kind,
        c_price=np.where(c_price_kind == 2, rng.uniform(-0.1, 0.3, C), rng.uniform(-20, 150, C)), **bat,
    )


def _columns_of(x: dict, cols: slice) -> dict:
    """The block of tenants ``cols`` alone, with their own generators, contracts and batteries."""
    t0, t1 = cols.start, cols.stop
    gens = np.flatnonzero(((x["gen_host"] >= t0) & (x["gen_host"] < t1))
                          | np.isin(np.arange(len(x["gen_host"])), x["c_gen"][(x["c_tenant"] >= t0) & (x["c_tenant"] < t1)]))
    cs = np.flatnonzero((x["c_tenant"] >= t0) & (x["c_tenant"] < t1))
    bs = np.flatnonzero((x.get("b_tenant", np.zeros(0)) >= t0) & (x.get("b_tenant", np.zeros(0)) < t1))
    out = {}
    for name, v in x.items():
        if name in ("load_kwh", "gen_kwh"):
            out[name] = v[:, cols] if name == "load_kwh" else v[:, gens]
        elif name == "tenant_tariff":
            out[name] = v[cols]
        elif name.startswith("gen_"):
            out[name] = v[gens]
        elif name.startswith("c_"):
            out[name] = v[cs]
        elif name.startswith("b_"):
            out[name] = v[bs]
        else:
            out[name] = v
    out["gen_host"] = np.where(out["gen_host"] >= 0, out["gen_host"] - t0, -1)
    out["c_gen"] = np.searchsorted(gens, out["c_gen"])
    out["c_tenant"] = out["c_tenant"] - t0
    if "b_tenant" in out:
        out["b_tenant"] = out["b_tenant"] - t0
    return out


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 9), H=st.integers(1, 60), chunk=st.integers(1, 10))
def test_independent_columns_settled_in_chunks_equal_one_block(seed, T, H, chunk):
    x = _own_plants_block(np.random.default_rng(seed), T, H)
    whole = kernel.settle_block(BlockInputs.build(**x))
    calls = []

    def inputs_of(cols):
        calls.append(cols)
        yield BlockInputs.build(**_columns_of(x, cols))
        yield BlockInputs.build(**{**_columns_of(x, cols), "gen_kwh": _columns_of(x, cols)["gen_kwh"] * 0.5})

    joined, halved = kernel.settle_columns(inputs_of, T, chunk)
    assert [c.start for c in calls] == list(range(0, T, chunk)) and calls[-1].stop == T
    for name in BlockResult.aggregate_names():
        a, b = getattr(joined, name), getattr(whole, name)
        assert a.shape == b.shape and np.array_equal(a, b), name  # bit for bit, not within a tolerance
    assert halved.gen_kwh.sum() == pytest.approx(0.5 * whole.gen_kwh.sum())  # each block's results kept apart
