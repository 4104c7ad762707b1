"""Hand-worked batteries in the settlement kernel (docs/settlement-kernel.md step 4b).

One battery over 48 hours for each dispatch strategy, on both the compiled kernel and the NumPy
reference: state of charge hour by hour, flows by source, losses and the money on the grid bill.
The arithmetic is in the comments. The common battery: 100 kWh, 25 kW, 90 % each way (81 % round
trip), SOC kept within 10-90 kWh; charging c kWh stores 0.9 c, delivering d kWh takes d / 0.9.
Hours 0-23 are month 0 and hours 24-47 month 1, so each test also checks the state carried over.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from re100sim.simulator.rules import kernel
from re100sim.simulator.rules.settlement_reference import STRATEGY, BlockInputs, settle_block_reference

IMPLS = [pytest.param(lambda x: kernel.settle_block(x, hourly=True), id="kernel"),
         pytest.param(lambda x: settle_block_reference(x, hourly=True), id="reference")]
H = 48
MONTH = np.repeat([0, 1], 24)
DAY = np.arange(H) % 24
BATTERY = dict(b_tenant=[0], b_energy_kwh=[100.0], b_power_kw=[25.0], b_eta_charge=[0.9], b_eta_discharge=[0.9],
               b_soc_min_frac=[0.1], b_soc_max_frac=[0.9])
close = np.testing.assert_allclose


def _pv_block(strategy: str, hosted: bool, target: float = 30.0, load: np.ndarray | None = None) -> BlockInputs:
    """Tenant 0: 10 kW flat (or ``load``); a 30 kW plant in hours 8-15 of each day, hosted (own PV) or sold to
    the tenant under a share-1 PPA at 100 KRW/kWh; the battery starts empty (10 kWh, the floor, of that
    plant's energy: the store is well mixed, so a grid-labelled floor would be delivered in part). ``target``:
    for re_matching the billing-demand floor (30 kW: e.g. 30 % of a 100 kW contract demand)."""
    gen = np.where((DAY >= 8) & (DAY < 16), 30.0, 0.0)[:, None]
    load = np.full(H, 10.0) if load is None else load
    soc0 = [[0.0, 10.0, 0.0]] if hosted else [[0.0, 0.0, 10.0]]
    ppa = {} if hosted else dict(c_gen=[0], c_tenant=[0], c_kind=[0], c_share=[1.0], c_price_kind=[0],
                                 c_price=[100.0])
    return BlockInputs.build(
        load_kwh=load[:, None], month_of_hour=MONTH, tariff_price=np.full((H, 1), 150.0),
        tariff_tou=np.ones((H, 1)), smp=np.full(H, 80.0), tenant_tariff=[0], gen_kwh=gen,
        gen_host=[0] if hosted else [-1], **ppa, **BATTERY, b_strategy=[STRATEGY[strategy]], b_soc0_kwh=soc0,
        b_target_kw=[target],
    )


# Own-PV day, worked once for self_consumption (own plant) and re_matching (PPA plant):
# hours 0-7: SOC at the 10 kWh floor, nothing to deliver; grid 8 x 10 = 80.
# hours 8-15: surplus 30 - 10 = 20 kWh/h. Hours 8-11 charge 20 (+18 each): SOC 28, 46, 64, 82.
#   Hour 12: room (90 - 82) / 0.9 = 8.889 -> SOC 90; the rest (11.111) and hours 13-15 (3 x 20) exported.
#   Charged 4 x 20 + 8.889 = 88.889 kWh, of which 80 stored and 8.889 lost.
# hours 16-23: load 10 served from the battery, 10 / 0.9 = 11.111 out of the cells an hour: after
#   hour 22 SOC = 90 - 7 x 11.111 = 12.222; hour 23 delivers (12.222 - 10) x 0.9 = 2 and hits the floor.
#   Delivered 72 (= 80 x 0.9), lost 8; grid in hours 16-23: 80 - 72 = 8.
# Each day: grid 80 + 0 + 8 = 88 (160 without the battery); exported 11.111 + 60 = 71.111.
OWN_DAY_SOC = [10.0] * 8 + [28.0, 46.0, 64.0, 82.0, 90.0, 90.0, 90.0, 90.0] \
    + [90.0 - 10.0 / 0.9 * k for k in range(1, 8)] + [10.0]
CHARGED_DAY = 80.0 + 8.0 / 0.9  # 88.889


def _check_pv_day(r, src: int) -> None:
    close(r.hourly_battery_soc_kwh[:, 0], OWN_DAY_SOC * 2, atol=1e-9)
    ch = np.zeros((2, 1, 3))
    ch[:, 0, src] = CHARGED_DAY
    close(r.battery_charged_kwh_by_source, ch, atol=1e-9)
    dis = np.zeros((2, 1, 3))
    dis[:, 0, src] = 72.0
    close(r.battery_discharged_kwh_by_source, dis, atol=1e-9)
    loss = np.zeros((2, 1, 3))
    loss[:, 0, src] = 8.0 / 0.9 + 8.0  # 8.889 charging + 8 discharging = 16.889
    close(r.battery_loss_kwh_by_source, loss, atol=1e-9)
    soc = np.zeros((2, 1, 3))
    soc[:, 0, src] = 10.0
    close(r.battery_soc_start_kwh_by_source, soc, atol=1e-9)
    close(r.battery_soc_end_kwh_by_source, soc, atol=1e-9)
    close(r.battery_cycles_end[:, 0], [0.8, 1.6])  # 80 kWh out of the cells a day / 100 kWh
    close(r.tenant_grid_kwh[:, 0], [88.0, 88.0])
    close(r.tenant_battery_discharged_kwh[:, 0], [72.0, 72.0])
    close(r.tenant_battery_grid_charge_kwh[:, 0], [0.0, 0.0])
    close(r.gen_stored_kwh[:, 0], [CHARGED_DAY] * 2)


@pytest.mark.parametrize("settle", IMPLS)
def test_self_consumption_stores_own_pv_surplus_for_the_evening(settle):
    r = settle(_pv_block("self_consumption", hosted=True))
    _check_pv_day(r, src=1)
    close(r.tenant_self_kwh[:, 0], [80.0, 80.0])  # 8 h x 10 kW of own PV used directly
    close(r.gen_export_kwh[:, 0], [240.0 - 80.0 - CHARGED_DAY] * 2)  # 71.111 exported a day
    # money: grid energy 240 x 150 = 36,000 KRW a day with neither PV nor battery, 160 x 150 = 24,000 with
    # PV alone, 88 x 150 = 13,200 with both; the export revenue falls by 88.889 x 80 = 7,111 KRW (SMP):
    # the battery earns 10,800 - 7,111 = 3,689 KRW a day
    close(r.tenant_grid_energy_krw_by_tou.sum(axis=-1)[:, 0], [13200.0, 13200.0])
    close(r.tenant_load_energy_krw_by_tou.sum(axis=-1)[:, 0], [36000.0, 36000.0])
    close(r.gen_export_smp_krw[:, 0], [(240.0 - 80.0 - CHARGED_DAY) * 80.0] * 2)


@pytest.mark.parametrize("settle", IMPLS)
def test_re_matching_stores_contracted_surplus_and_raises_the_hourly_match(settle):
    r = settle(_pv_block("re_matching", hosted=False))
    _check_pv_day(r, src=2)
    close(r.contract_stored_kwh[:, 0], [CHARGED_DAY] * 2)
    close(r.contract_applied_kwh[:, 0], [80.0, 80.0])
    close(r.contract_surplus_export_kwh[:, 0], [240.0 - 80.0 - CHARGED_DAY] * 2)
    # the tenant pays for all 240 kWh contracted a day (100 KRW/kWh); surplus sold at SMP only if exported
    close(r.contract_contracted_krw[:, 0], [24000.0, 24000.0])
    close(r.contract_surplus_smp_krw[:, 0], [(240.0 - 80.0 - CHARGED_DAY) * 80.0] * 2)
    # hourly RE share of the load: (PPA applied 80 + battery RE 72) / 240 = 63.3 % a day, up from 80 / 240
    re_share = (r.contract_applied_kwh[:, 0] + r.battery_discharged_kwh_by_source[:, 0, 2]) / r.tenant_load_kwh[:, 0]
    close(re_share, [152.0 / 240.0] * 2)
    close(r.tenant_battery_re_kwh[:, 0], [72.0, 72.0])
    # what the site draws through its meter: 10 kW of load + 20 kW of PPA surplus into the battery in hours
    # 8-11 = 30 kW (all hours are billed, TOU mid): the "full demand" a PPA user's basic charge is set on; it
    # is the 30 kW billing-demand floor, which the battery may fill but not exceed
    close(r.tenant_site_peak_kw[:, 0], [30.0, 30.0])
    close(r.tenant_load_peak_kw[:, 0], [10.0, 10.0])
    # self_consumption on the same tenant stores nothing: the surplus is contracted, not its own plant's
    x = _pv_block("self_consumption", hosted=False)
    r2 = settle(x)
    close(r2.battery_charged_kwh_by_source.sum(), 0.0)
    close(r2.tenant_grid_kwh[:, 0], [160.0, 160.0])


@pytest.mark.parametrize("settle", IMPLS)
def test_re_matching_never_raises_a_ppa_users_billed_site_draw(settle):
    """The re_matching day with no billing-demand floor (target 0) and 25 kW of load in hour 2 of each day
    (month 0 = day 1, month 1 = day 2; every hour billed, TOU mid). PPA surplus comes through the meter, so in
    billed hours it may charge only while load + charging stays under the month's load peak so far (25 kW)."""
    load = np.where(DAY == 2, 25.0, 10.0)
    r = settle(_pv_block("re_matching", hosted=False, target=0.0, load=load))
    # hours 8-12: surplus 20, room 25 - 10 = 15 -> charge 15 (+13.5): SOC 23.5, 37, 50.5, 64, 77.5;
    # hour 13: (90 - 77.5) / 0.9 = 13.889 -> 90; hours 14-15 full. Charged 5 x 15 + 13.889 = 88.889 (as uncapped,
    # only later in the day); evening as before: 72 delivered.
    soc = [10.0] * 8 + [23.5, 37.0, 50.5, 64.0, 77.5, 90.0, 90.0, 90.0] + OWN_DAY_SOC[16:]
    close(r.hourly_battery_soc_kwh[:, 0], soc * 2, atol=1e-9)
    close(r.contract_stored_kwh[:, 0], [CHARGED_DAY] * 2)
    close(r.battery_discharged_kwh_by_source[:, 0, 2], [72.0, 72.0])
    # site draw: 25 in hour 2 (load), 10 + 15 = 25 in hours 8-12, 10 + 13.889 in hour 13: the billed site peak
    # stays the load's 25 kW (it would be 30 uncapped)
    close(r.tenant_site_peak_kw[:, 0], [25.0, 25.0])
    close(r.tenant_load_peak_kw[:, 0], [25.0, 25.0])
    # grid a day: hours 0-7 70 + 25 = 95, hours 16-23 80 - 72 = 8 -> 103
    close(r.tenant_grid_kwh[:, 0], [103.0, 103.0])
    # with a floor of 20 kW and 10 kW flat load (no running peak above 10): room 20 - 10 = 10 an hour,
    # hours 8-15 charge 10 (+9): SOC 19 ... 82 (8 x 10 = 80 charged, 72 stored); the evening delivers 10 an
    # hour from 82: 6 h x 11.111 -> 15.333, hour 22 (15.333 - 10) x 0.9 = 4.8; 64.8 delivered (72 x 0.9)
    r2 = settle(_pv_block("re_matching", hosted=False, target=20.0))
    close(r2.contract_stored_kwh[:, 0], [80.0, 80.0])
    close(r2.battery_discharged_kwh_by_source[:, 0, 2], [64.8, 64.8])
    close(r2.tenant_site_peak_kw[:, 0], [20.0, 20.0])


def _tou_block(strategy: str, load: np.ndarray, tou: np.ndarray, soc0: float, target: float = 0.0) -> BlockInputs:
    price = np.array([100.0, 150.0, 200.0])[tou]
    return BlockInputs.build(
        load_kwh=load[:, None], month_of_hour=MONTH, tariff_price=price[:, None], tariff_tou=tou[:, None],
        smp=np.full(H, 80.0), tenant_tariff=[0], **BATTERY, b_strategy=[STRATEGY[strategy]], b_soc0_kwh=[soc0],
        b_target_kw=[target],
    )


@pytest.mark.parametrize("settle", IMPLS)
def test_tou_arbitrage_charges_light_and_discharges_peak(settle):
    # Load 10 kW flat. TOU: hours 0-7 light (100 KRW/kWh), 8-11 and 18-23 mid (150), 12-17 peak (200).
    tou = np.select([DAY < 8, (DAY >= 12) & (DAY < 18)], [0, 2], 1).astype(np.int8)
    r = settle(_tou_block("tou_arbitrage", np.full(H, 10.0), tou, soc0=10.0))
    # Day 1, light hours: 25 kWh an hour (+22.5): SOC 32.5, 55, 77.5; hour 3 takes (90 - 77.5) / 0.9 = 13.889
    #   -> 90; hours 4-7 full. Bought 75 + 13.889 = 88.889 (loss 8.889).
    # Peak hours 12-17: 10 kWh an hour, 11.111 out of the cells: SOC 90 - 6 x 11.111 = 23.333; delivered 60,
    #   lost 6.667. Mid hours idle.
    # Day 2, light: room (90 - 23.333) / 0.9 = 74.074: 25, 25, 24.074 (loss 7.407); peak as day 1.
    day_soc = [32.5, 55.0, 77.5] + [90.0] * 9 + [90.0 - 10.0 / 0.9 * k for k in range(1, 7)] + [70.0 / 3] * 6
    day2_soc = [45.833333333333336, 68.33333333333334] + [90.0] * 10 + day_soc[12:]
    close(r.hourly_battery_soc_kwh[:, 0], day_soc + day2_soc, atol=1e-9)
    bought = [80.0 / 0.9, (90.0 - 70.0 / 3) / 0.9]  # 88.889, 74.074
    close(r.battery_charged_kwh_by_source[:, 0, 0], bought)
    close(r.tenant_battery_grid_charge_kwh[:, 0], bought)
    close(r.battery_discharged_kwh_by_source[:, 0, 0], [60.0, 60.0])
    close(r.battery_loss_kwh_by_source[:, 0, 0], [80.0 / 9 + 60.0 / 9, (90.0 - 70.0 / 3) / 9 + 60.0 / 9])
    close(r.battery_soc_end_kwh_by_source[:, 0, 0], [70.0 / 3, 70.0 / 3])
    close(r.battery_soc_start_kwh_by_source[:, 0, 0], [10.0, 70.0 / 3])
    # Grid by TOU: light 80 + bought, mid 10 h x 10 = 100, peak 0 (60 without the battery).
    close(r.tenant_grid_kwh_by_tou[:, 0], [[80.0 + bought[0], 100.0, 0.0], [80.0 + bought[1], 100.0, 0.0]])
    # Money: without 80 x 100 + 100 x 150 + 60 x 200 = 35,000 KRW a day; with it the light line grows by
    # bought x 100 and the peak line disappears: 16,888.9 + 15,000 = 31,888.9 (day 1), 30,407.4 (day 2).
    close(r.tenant_load_energy_krw_by_tou.sum(axis=-1)[:, 0], [35000.0, 35000.0])
    close(r.tenant_grid_energy_krw_by_tou.sum(axis=-1)[:, 0], [23000.0 + bought[0] * 100, 23000.0 + bought[1] * 100])
    # the billed peak (mid hours) stays at 10 kW: arbitrage is not peak shaving
    close(r.tenant_grid_peak_kw[:, 0], [10.0, 10.0])


@pytest.mark.parametrize("settle", IMPLS)
def test_peak_shaving_holds_the_import_at_the_target(settle):
    # Load 10 kW with 30 kW in hours 10-12 of each day; hours 0-7 light, the rest mid. Target 20 kW.
    # The battery starts at 50 kWh.
    tou = np.where(DAY < 8, 0, 1).astype(np.int8)
    load = np.where((DAY >= 10) & (DAY < 13), 30.0, 10.0)
    r = settle(_tou_block("peak_shaving", load, tou, soc0=50.0, target=20.0))
    # Day 1 light hours: 25 (+22.5) -> 72.5, then (90 - 72.5) / 0.9 = 19.444 -> 90: bought 44.444.
    # Hours 10-12: import 30 > 20: deliver 10 an hour (11.111 out): SOC 78.889, 67.778, 56.667. Else idle.
    # Day 2 light: 25 -> 79.167, then (90 - 79.167) / 0.9 = 12.037 -> 90: bought 37.037. Same shaving.
    soc1 = [72.5] + [90.0] * 9 + [90.0 - 10.0 / 0.9 * k for k in (1, 2, 3)] + [170.0 / 3] * 11
    soc2 = [79.16666666666667] + [90.0] * 9 + soc1[10:]
    close(r.hourly_battery_soc_kwh[:, 0], soc1 + soc2, atol=1e-9)
    bought = [40.0 / 0.9, (90.0 - 170.0 / 3) / 0.9]  # 44.444, 37.037
    close(r.battery_charged_kwh_by_source[:, 0, 0], bought)
    close(r.battery_discharged_kwh_by_source[:, 0, 0], [30.0, 30.0])
    close(r.battery_loss_kwh_by_source[:, 0, 0], [40.0 / 9 + 30.0 / 9, (90.0 - 170.0 / 3) / 9 + 30.0 / 9])
    close(r.tenant_prebattery_peak_kw[:, 0], [30.0, 30.0])
    close(r.tenant_grid_peak_kw[:, 0], [20.0, 20.0])  # the billed peak: 30 -> 20 kW
    close(r.tenant_load_peak_kw[:, 0], [30.0, 30.0])
    close(r.tenant_site_peak_kw[:, 0], [20.0, 20.0])  # grid charging is in light hours only
    # energy: load 300 a day (21 h x 10 + 3 h x 30); grid = 300 + bought - 30 delivered
    close(r.tenant_grid_kwh[:, 0], [270.0 + bought[0], 270.0 + bought[1]])


@pytest.mark.parametrize("settle", IMPLS)
def test_peak_shaving_runs_out_of_energy(settle):
    # As above, but the spike lasts 8 hours (hours 8-15) and the battery starts at the floor:
    # day 1 light hours fill it to 90 (bought 80 / 0.9 = 88.889); it can deliver (90 - 10) x 0.9 = 72 kWh,
    # i.e. 7 hours of 10 kWh and 2 kWh in hour 15: the import there is 28 kW, so the month's billed peak
    # is 28, not the target 20: the rule does not know the spike's length in advance.
    tou = np.where(DAY < 8, 0, 1).astype(np.int8)
    load = np.where((DAY >= 8) & (DAY < 16), 30.0, 10.0)
    r = settle(_tou_block("peak_shaving", load, tou, soc0=10.0, target=20.0))
    close(r.battery_discharged_kwh_by_source[:, 0, 0], [72.0, 72.0])
    close(r.tenant_grid_peak_kw[:, 0], [28.0, 28.0])
    close(r.hourly_grid_kwh[8:16, 0], [20.0] * 7 + [28.0])


@pytest.mark.parametrize("settle", IMPLS)
def test_capacity_fade_limits_the_next_charge(settle):
    # 100 kWh, 50 kW, lossless, SOC 0-100 %; fade 1 % per cycle, 10 cycles done: capacity 90, full (90 kWh).
    # tou_arbitrage, load 50 kW; hours 0-1 peak, 2-3 light.
    # h0: deliver 50 -> SOC 40, cycles 10.5, capacity 100 x (1 - 0.105) = 89.5.
    # h1: deliver min(50, 40) = 40 -> SOC 0, cycles 10.9, capacity 89.1.
    # h2: charge 50 -> 50. h3: charge min(50, 89.1 - 50) = 39.1 -> 89.1 (the faded capacity).
    x = BlockInputs.build(
        load_kwh=np.full((4, 1), 50.0), month_of_hour=np.zeros(4), tariff_price=np.full((4, 1), 100.0),
        tariff_tou=[[2], [2], [0], [0]], smp=np.zeros(4), tenant_tariff=[0], b_tenant=[0],
        b_strategy=[STRATEGY["tou_arbitrage"]], b_energy_kwh=[100.0], b_power_kw=[50.0], b_soc0_kwh=[90.0],
        b_cycles0=[10.0], b_fade_per_cycle=[0.01],
    )
    r = settle(x)
    close(r.hourly_battery_soc_kwh[:, 0], [40.0, 0.0, 50.0, 89.1], atol=1e-9)
    close(r.battery_cycles_end, [[10.9]])
    close(r.battery_capacity_end_kwh, [[89.1]])
    close(r.battery_charged_kwh_by_source[0, 0], [89.1, 0.0, 0.0])
    close(r.hourly_grid_kwh[:, 0], [0.0, 10.0, 100.0, 89.1])


@pytest.mark.parametrize("settle", IMPLS)
def test_mixed_store_delivers_in_proportion_to_its_content(settle):
    # Lossless battery holding 30 kWh of grid energy and 10 kWh of PPA RE (a well-mixed store); one
    # hour of 20 kW load with re_matching: it delivers 20 = 15 grid + 5 RE (3 : 1), keeping 15 + 5.
    x = BlockInputs.build(
        load_kwh=[[20.0]], month_of_hour=[0], tariff_price=[[100.0]], tariff_tou=[[1]], smp=[0.0],
        tenant_tariff=[0], b_tenant=[0], b_strategy=[STRATEGY["re_matching"]], b_energy_kwh=[100.0],
        b_power_kw=[50.0], b_soc0_kwh=[[30.0, 0.0, 10.0]],
    )
    r = settle(x)
    close(r.battery_discharged_kwh_by_source, [[[15.0, 0.0, 5.0]]])
    close(r.battery_soc_end_kwh_by_source, [[[15.0, 0.0, 5.0]]])
    close(r.tenant_grid_kwh, [[0.0]], atol=1e-12)


@pytest.mark.parametrize("settle", IMPLS)
@pytest.mark.parametrize("strategy", list(STRATEGY))
def test_month_blocks_carry_the_state(settle, strategy):
    # Settling the 48 h as one block or as two one-month blocks (passing the first's end state on)
    # gives the same months.
    tou = np.where(DAY < 8, 0, np.where(DAY < 12, 1, 2)).astype(np.int8)
    x = dataclasses.replace(_pv_block(strategy, hosted=strategy == "self_consumption"), tariff_tou=tou[:, None],
                            b_target_kw=np.array([5.0]))
    whole = settle(x)
    first = settle(_hours(x, 0, 24))
    second = settle(dataclasses.replace(_hours(x, 24, 48), b_soc0_kwh=first.battery_soc_end_kwh_by_source[0],
                                        b_cycles0=first.battery_cycles_end[0]))
    for name in ("battery_charged_kwh_by_source", "battery_discharged_kwh_by_source", "battery_loss_kwh_by_source",
                 "battery_soc_end_kwh_by_source", "battery_cycles_end", "tenant_grid_kwh", "tenant_grid_peak_kw"):
        close(getattr(whole, name), np.concatenate([getattr(first, name), getattr(second, name)]), rtol=1e-12,
              atol=1e-9, err_msg=name)


def _hours(x: BlockInputs, a: int, b: int) -> BlockInputs:
    """Hours a..b-1 of a block, as a block starting at month 0."""
    kw = {n: np.ascontiguousarray(getattr(x, n)[a:b]) for n in
          ("load_kwh", "gen_kwh", "tariff_price", "tariff_tou", "smp", "profile_kwh")}
    kw["month_of_hour"] = np.zeros(b - a, np.int32)
    return dataclasses.replace(x, **kw)
