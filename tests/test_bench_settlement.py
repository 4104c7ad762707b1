"""The settlement benchmark's pass floor counts what it claims (experiments/bench_settlement.py).

Its timings are measured there, never asserted here.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from re100sim.simulator.rules.kernel import settle_block
from re100sim.simulator.rules.settlement_reference import BlockInputs

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_settlement", ROOT / "experiments" / "bench_settlement.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _block(pool_hourly: int) -> BlockInputs:
    # 6 tenants, 3 plants, 2 h: tenant 0 takes a contract on plant 0, tenant 2 hosts plant 1,
    # tenant 3 owns a battery, tenant 4 subscribes to the green-tariff pool (plant 2);
    # tenants 1 and 5 do nothing.
    H, T = 2, 6
    return BlockInputs.build(
        load_kwh=np.full((H, T), 10.0), month_of_hour=np.zeros(H), tariff_price=np.full((H, 1), 150.0),
        tariff_tou=np.ones((H, 1), np.int8), smp=np.full(H, 100.0), tenant_tariff=np.zeros(T),
        gen_kwh=np.full((H, 3), 4.0), gen_host=[-1, 2, -1], gen_pool=[0, 0, 1],
        c_gen=[0], c_tenant=[0], c_kind=[1], c_block_kw=[3.0], c_price_kind=[0], c_price=[120.0],
        sub_weight=[0, 0, 0, 0, 1.0, 0], pool_hourly=pool_hourly,
        b_tenant=[3], b_strategy=[2], b_energy_kwh=[10.0], b_power_kw=[5.0], b_soc0_kwh=[2.0],
    )


def test_active_tenants_are_those_whose_residual_load_can_change():
    # hourly pool: off-taker 0, host 2, battery owner 3, subscriber 4 -> 4 grid-sum passes per hour
    assert bench.active_tenants(_block(pool_hourly=1)) == 4
    # monthly pool: the subscriber's hourly residual is its load (allocation is monthly) -> 3
    assert bench.active_tenants(_block(pool_hourly=0)) == 3
    # and the passive ones are settled as such: grid = load (2 h x 10 kWh)
    r = settle_block(_block(pool_hourly=1))
    np.testing.assert_array_equal(r.tenant_grid_kwh[0, [1, 5]], [20.0, 20.0])


def test_without_contracts_keeps_tenants_and_plants():
    x = _block(pool_hourly=1)
    y = bench.without_contracts(x)
    assert y.n_contracts == 0 and y.n_tenants == x.n_tenants and y.n_generators == x.n_generators
    r = settle_block(y)
    np.testing.assert_array_equal(r.tenant_load_kwh, settle_block(x).tenant_load_kwh)
    # tenant 0 now buys all its load from the grid: 2 h x 10 kWh
    assert r.tenant_grid_kwh[0, 0] == 20.0


def test_state_passes_touch_each_state_hour_once():
    # 5 states x 40 h in tiles of 16 h: 3 tiles (16 + 16 + 8, the last padded), each adds 1 to every
    # value of the tile's state: a[0] = 3
    assert bench.state_passes(5, 40, np.add) == 3.0
