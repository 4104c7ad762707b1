"""Demand-side measures: efficiency, load shifting and the battery sizing rule, worked by hand.

A day of 24 hours with TOU periods (0 light, 1 mid, 2 peak): light hours 0-9 (10 h) at 100 kW,
mid hours 10-17 (8 h) at 200 kW, peak hours 18-23 (6 h) at 300 kW. Day total:
10 x 100 + 8 x 200 + 6 x 300 = 1,000 + 1,600 + 1,800 = 4,400 kWh.
Energy prices 100 / 150 / 250 KRW/kWh by period: 100,000 + 240,000 + 450,000 = 790,000 KRW.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from re100sim.simulator.rules.demand import (
    battery_size_for_peak,
    efficiency_load_kw,
    shifted_kwh,
    shifted_load_kw,
)
from re100sim.simulator.rules.kernel import settle_block
from re100sim.simulator.rules.settlement_reference import BlockInputs

TOU = np.array([0] * 10 + [1] * 8 + [2] * 6)
LOAD = np.array([100.0] * 10 + [200.0] * 8 + [300.0] * 6)
PRICE = np.array([100.0, 150.0, 250.0])[TOU]
DAY = np.zeros(24, int)


def test_efficiency_removes_a_share_of_every_hour():
    # 10 %: 90 / 180 / 270 kW; day 0.9 x 4,400 = 3,960 kWh, 440 kWh saved
    out = efficiency_load_kw(LOAD[:, None], 10.0)
    assert out[:, 0] == pytest.approx([90.0] * 10 + [180.0] * 8 + [270.0] * 6)
    assert (LOAD - out[:, 0]).sum() == pytest.approx(440.0)


def test_shifting_moves_peak_kwh_into_the_same_days_light_hours():
    # 20 % of each peak hour: 300 -> 240 kW, 6 x 60 = 360 kWh moved, 36 kWh to each of the 10 light hours (136 kW);
    # the day keeps 1,360 + 1,600 + 1,440 = 4,400 kWh
    out = shifted_load_kw(LOAD[:, None], TOU[:, None], DAY, 20.0)[:, 0]
    assert out == pytest.approx([136.0] * 10 + [200.0] * 8 + [240.0] * 6)
    assert out.sum() == pytest.approx(4400.0)
    assert shifted_kwh(LOAD[:, None], out[:, None]) == pytest.approx([360.0])


def test_efficiency_then_shifting():
    # after 10 %: peak 270 -> 216 (20 %), 6 x 54 = 324 kWh moved, 32.4 per light hour: 90 + 32.4 = 122.4
    after = shifted_load_kw(efficiency_load_kw(LOAD[:, None], 10.0), TOU, DAY, 20.0)[:, 0]
    assert after == pytest.approx([122.4] * 10 + [180.0] * 8 + [216.0] * 6)


def test_shifting_stays_within_each_day_and_per_tenant_shares():
    # two days, two tenants (shares 20 % and 0 %); the second day has no light hour: nothing moves on it
    load = np.column_stack([np.tile(LOAD, 2), np.tile(LOAD, 2)])
    tou = np.r_[TOU, np.where(TOU == 0, 1, TOU)]
    day = np.r_[np.zeros(24, int), np.ones(24, int)]
    out = shifted_load_kw(load, tou, day, np.array([20.0, 0.0]))
    assert out[:24, 0] == pytest.approx([136.0] * 10 + [200.0] * 8 + [240.0] * 6)
    assert out[24:, 0] == pytest.approx(LOAD)
    assert out[:, 1] == pytest.approx(load[:, 1])


def _day_bill(load_kw: np.ndarray):
    """The kernel's energy KRW by TOU period and billed-hours peak for the one-day block."""
    r = settle_block(BlockInputs.build(load_kwh=load_kw[:, None], month_of_hour=np.zeros(24, np.int32),
                                       tariff_price=PRICE[:, None], tariff_tou=TOU[:, None], smp=np.zeros(24),
                                       tenant_tariff=[0]))
    return r.tenant_load_energy_krw_by_tou[0, 0], r.tenant_load_peak_kw[0, 0]


def test_tou_bill_change_of_shifting_and_efficiency():
    krw, peak = _day_bill(LOAD)
    assert krw == pytest.approx([100_000.0, 240_000.0, 450_000.0]) and peak == pytest.approx(300.0)
    # shifting 20 %: light 1,360 x 100 = 136,000; mid 240,000; peak 1,440 x 250 = 360,000 -> 736,000 KRW,
    # 54,000 less = 360 kWh x (250 - 100); the billed peak (light hours excluded) falls 300 -> 240 kW
    krw, peak = _day_bill(shifted_load_kw(LOAD[:, None], TOU, DAY, 20.0)[:, 0])
    assert krw == pytest.approx([136_000.0, 240_000.0, 360_000.0]) and peak == pytest.approx(240.0)
    # efficiency 10 %: 0.9 x 790,000 = 711,000 KRW; peak 270 kW
    krw, peak = _day_bill(efficiency_load_kw(LOAD, 10.0))
    assert krw.sum() == pytest.approx(711_000.0) and peak == pytest.approx(270.0)


def test_battery_sized_for_the_worst_day_above_the_target():
    # billed hours (mid, peak): peak 300 kW; target 85 % = 255 kW -> power 45 kW. Above the target: 6 peak
    # hours x 45 = 270 kWh; usable 80 % of capacity, discharge efficiency 0.9 -> 270 / (0.8 x 0.9) = 375 kWh.
    # A second day with a 400 kW peak hour does not change the target (85 % of 400 = 340): 60 kWh above.
    load = np.r_[LOAD, LOAD][:, None].copy()
    load[24 + 20] = 400.0
    billed = np.r_[TOU, TOU] != 0
    day = np.r_[np.zeros(24, int), np.ones(24, int)]
    kw, kwh = battery_size_for_peak(load, billed, day, 85.0, 0.8, 0.9)
    # target 340: day 1 has nothing above; day 2 has 400 - 340 = 60 kWh -> 60 / 0.72 = 83.33 kWh
    assert kw == pytest.approx([60.0]) and kwh == pytest.approx([60.0 / 0.72])
    kw, kwh = battery_size_for_peak(LOAD[:, None], TOU != 0, DAY, 85.0, 0.8, 0.9)
    assert kw == pytest.approx([45.0]) and kwh == pytest.approx([375.0])


# --- the decision round: measures beside the procurement options ------------------------------------------


def _deciding(tmp_path, options: list[str], demand_side: dict, load: list[float]) -> dict:
    """One aware tenant, load from ``load`` (kW, one typical year), deciding among ``options`` with a
    near-deterministic logit (scale 0.01 % of its grid bill, no switching cost)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "t.csv"
    path.write_text("kw\n" + "".join(f"{v}\n" for v in load), encoding="utf-8")
    return {"name": "dsm", "tenants": [{"name": "t", "load_file": str(path), "behaviour": {"awareness": 1.0}}],
            "decisions": {"enabled": True, "options": options, "logit_scale_pct": 0.01, "switching_cost_pct": 0.0,
                          "demand_side": demand_side}}


def _spiky_year() -> list[float]:
    """500 kW flat with a 1,000 kW hour at 10:00 every day (a billed hour): a high, short peak."""
    day = [500.0] * 24
    day[10] = 1000.0
    return day * 365


def test_a_cheap_battery_on_a_high_peak_is_chosen_and_installed(tmp_path):
    from test_economics import run_year

    # Sizing: 85 % of the 1,000 kW peak = 850 kW target -> 150 kW; 150 kWh a day above it / (0.8 usable x
    # sqrt(0.85) = 0.922 discharge) = 203.4 kWh. The basic charge saved, about 150 kW x 8,320 KRW x 12 = 15 M
    # KRW a year, dwarfs a 50,000 KRW/kWh battery's annuity + O&M: 203.4 x 50,000 x (CRF(8 %, 15) 0.1168 +
    # 0.015) = 1.34 M KRW a year.
    data = _deciding(tmp_path, ["grid", "battery"], {"battery": {"capex_krw_per_kwh": 50_000}}, _spiky_year())
    inv, kpis, _, summary = run_year(tmp_path, data)
    assert summary["adoption"]["measure_battery"] == 1
    bat = pd.read_parquet(tmp_path / "o" / "batteries.parquet")
    assert set(bat["agent"]) == {"t-battery-2026"}
    # its capital cost is booked on the terms evaluated: 203.4 kWh x 50,000 x 0.1168 / 12 a month
    cap = inv[(inv.payer == "t-battery-2026") & (inv.item == "capital_annuity")]
    kwh = 150.0 / (0.8 * 0.85 ** 0.5)
    assert cap["krw"].iloc[0] == pytest.approx(kwh * 50_000 * 0.116830 / 12, rel=1e-4)
    # and it shaves the billed peak from 1,000 to 850 kW (85 % of the contract demand, then of the pre-battery
    # peaks): the sizing leaves no margin for fade (0.005 % of capacity per cycle, one cycle a day), so by
    # March (<= 90 cycles, <= 0.45 % of 150 kWh = 0.7 kWh) the peak creeps up by less than 1 kW
    basic = inv[(inv.payer == "t") & (inv.item == "basic_charge")].set_index("month")["quantity"]
    assert 850.0 <= basic["2026-01"] < 850.3  # <= 31 cycles: <= 0.155 % x 150 kWh = 0.23 kWh
    assert 850.0 <= basic["2026-03"] < 851.0


def test_a_battery_that_does_not_pay_is_not_chosen(tmp_path):
    from test_economics import run_year

    # 5 M KRW/kWh: 203.4 x 5,000,000 x 0.1318 = 134 M KRW a year against about 15 M KRW of basic charge saved
    data = _deciding(tmp_path, ["grid", "battery"], {"battery": {"capex_krw_per_kwh": 5_000_000}}, _spiky_year())
    _, _, _, summary = run_year(tmp_path, data)
    assert summary["adoption"]["measure_battery"] == 0
    assert not (tmp_path / "o" / "batteries.parquet").exists() or pd.read_parquet(tmp_path / "o" / "batteries.parquet").empty


def test_efficiency_is_chosen_when_it_pays_and_cuts_the_settled_load(tmp_path):
    from test_economics import run_year

    # 10 % of a flat 500 kW year (4,380 MWh) = 438 MWh saved at 1,000 KRW/MWh = 438,000 KRW a year, far below
    # the energy it saves (438 MWh x > 100 KRW/kWh): chosen in the first round, in force from January.
    data = _deciding(tmp_path, ["grid", "efficiency"], {"efficiency": {"cost_krw_per_mwh_saved": 1000}},
                     [500.0] * 8760)
    inv, kpis, _, summary = run_year(tmp_path, data)
    assert summary["adoption"]["measure_efficiency"] == 1
    # settled load: 450 kW x 8,760 h = 3,942 MWh
    assert kpis["load_mwh"].sum() == pytest.approx(3942.0)
    lines = inv[(inv.payer == "t") & (inv.item == "efficiency_measure")]
    # January: 50 kW x 744 h = 37,200 kWh saved x 1 KRW/kWh = 37,200 KRW
    jan = lines[lines.month == "2026-01"].iloc[0]
    assert jan["quantity"] == pytest.approx(37_200.0) and jan["krw"] == 37_200
    assert lines["krw"].sum() == 438_000
    assert summary["invariants"]["money_residual_krw"] == 0


def test_efficiency_that_costs_more_than_it_saves_is_not_chosen_and_baselines_agree(tmp_path):
    from test_economics import run_year

    data = _deciding(tmp_path / "a", ["grid", "efficiency"], {"efficiency": {"cost_krw_per_mwh_saved": 10_000_000}},
                     [500.0] * 8760)
    _, kpis, _, summary = run_year(tmp_path / "a", data)
    assert summary["adoption"]["measure_efficiency"] == 0
    assert kpis["load_mwh"].sum() == pytest.approx(4380.0)
    # the grid-only baseline is the bill of the load before any measure: equal with and without efficiency, so
    # the adopter's savings show the measure (bill saved minus its cost, positive) and the other's are 0
    cheap = _deciding(tmp_path / "b", ["grid", "efficiency"], {"efficiency": {"cost_krw_per_mwh_saved": 1000}},
                      [500.0] * 8760)
    _, adopter, _, _ = run_year(tmp_path / "b", cheap)
    assert adopter["baseline_ex_vat_krw"].sum() == pytest.approx(kpis["baseline_ex_vat_krw"].sum(), abs=1)
    assert kpis["savings_ex_vat_krw"].sum() == pytest.approx(0.0, abs=1)
    saved = kpis["cost_ex_vat_krw"].sum() - adopter["cost_ex_vat_krw"].sum()
    assert adopter["savings_ex_vat_krw"].sum() == pytest.approx(saved, abs=1) and saved > 0


def test_load_shifting_moves_peak_kwh_to_light_hours_on_the_bill(tmp_path):
    from test_economics import run_year

    # A flat 500 kW tenant; shifting 20 % at 1,000 KRW/MWh is far cheaper than the peak-light price gap: chosen.
    # January 2026 (tests/test_storage_engine.py): light 380 h, mid 238, peak 126. Peak kWh 126 x 500 = 63,000 ->
    # x 0.8 = 50,400; the 12,600 kWh moved go to the same days' light hours: 380 x 500 + 12,600 = 202,600;
    # mid unchanged 119,000. Cost line: 12.6 MWh x 1,000 = 12,600 KRW.
    data = _deciding(tmp_path, ["grid", "load_shifting"], {"load_shifting": {"cost_krw_per_mwh_shifted": 1000}},
                     [500.0] * 8760)
    inv, kpis, _, summary = run_year(tmp_path, data)
    assert summary["adoption"]["measure_load_shifting"] == 1
    jan = inv[(inv.month == "2026-01") & (inv.payer == "t")]
    qty = dict(zip(jan["item"], jan["quantity"]))
    assert qty["energy_peak"] == pytest.approx(50_400.0)
    assert qty["energy_light"] == pytest.approx(202_600.0)
    assert qty["energy_mid"] == pytest.approx(119_000.0)
    line = jan[jan["item"] == "load_shifting"].iloc[0]
    assert line["quantity"] == pytest.approx(12_600.0) and line["krw"] == 12_600 and line["payee"] == "demand_services"
    assert kpis["load_mwh"].sum() == pytest.approx(4380.0)  # moved, not saved


def test_a_battery_counts_towards_gyeonggi_option_2(tmp_path):
    from test_economics import run_year

    # The bundled option-2 complex for one year, with and without a 3,000 kWh battery behind a tenant's meter:
    # the credited MW rise by 3 MWh x 0.16 MW/MWh = 0.48 MW (policy.storage_solar_mw_per_mwh)
    from re100sim.scenarios import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()["gyeonggi-option-2"].read_text(encoding="utf-8"))
    data.update(years=1, start_date="2027-01-01")
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    without = run_year(tmp_path / "a", data)
    owner = without[1]["agent"].iloc[0]
    data["batteries"] = [{"name": "ess", "owner": owner, "energy_kwh": 3000, "power_kw": 1000, "strategy": "tou_arbitrage"}]
    run_year(tmp_path / "b", data)
    a = pd.read_parquet(tmp_path / "a" / "o" / "compliance.parquet")
    b = pd.read_parquet(tmp_path / "b" / "o" / "compliance.parquet")
    assert (b["credited_mw"] - a["credited_mw"]).to_list() == pytest.approx([0.48])
    assert (b["required_mw"] == a["required_mw"]).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 2000), min_size=48, max_size=48), st.lists(st.integers(0, 2), min_size=48, max_size=48),
       st.floats(0, 100))
def test_shifting_keeps_each_days_energy_and_never_raises_a_non_light_hour(load, tou, pct):
    load, tou = np.array(load)[:, None], np.array(tou)
    day = np.repeat([0, 1], 24)
    out = shifted_load_kw(load, tou, day, pct)
    assert out.reshape(2, 24).sum(axis=1) == pytest.approx(load.reshape(2, 24).sum(axis=1), rel=1e-9, abs=1e-6)
    assert (out >= -1e-9).all()
    assert (out[tou != 0] <= load[tou != 0] + 1e-9).all()


def test_battery_measures_are_settled_in_one_run_whatever_the_column_chunk(tmp_path, monkeypatch):
    # The option kernels run COLUMN_CHUNK tenants at a time, but battery rows index the whole block's
    # tenants: a battery measure is settled in one run, so any chunk gives the same numbers, bit for bit.
    import dataclasses

    from re100sim.simulator.engine import ComplexModel
    from re100sim.simulator.inputs.calendar import build_calendar
    from re100sim.simulator.market import options
    from re100sim.simulator.market.demand import BATT, EFF, MeasureEvaluation, evaluate_measures
    from re100sim.simulator.market.forecast import build_forecast
    from re100sim.simulator.run import prepare

    tenants = []
    for i, spike in enumerate((1000.0, 800.0, 1200.0)):
        day = [500.0 + 50 * i] * 24
        day[10] = spike
        (tmp_path / f"t{i}.csv").write_text("kw\n" + "".join(f"{v}\n" for v in day * 365), encoding="utf-8")
        tenants.append({"name": f"t{i}", "load_file": str(tmp_path / f"t{i}.csv"), "behaviour": {"awareness": 1.0}})
    data = {"name": "chunks", "start_date": "2026-01-01", "years": 1, "seed": 3, "tenants": tenants,
            "decisions": {"enabled": True, "options": ["grid", "battery", "efficiency"]}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    sc, ts = prepare(tmp_path / "s.yaml")
    model = ComplexModel(sc, ts)
    fc = build_forecast(model, 0, build_calendar(*model.blocks[0]))
    whole = evaluate_measures(model, fc, np.arange(3))
    assert (whole.battery_kw > 0).all() and np.isfinite(whole.cost_krw[:, [EFF, BATT]]).all()
    monkeypatch.setattr(options, "COLUMN_CHUNK", 1)
    chunked = evaluate_measures(model, fc, np.arange(3))
    for f in dataclasses.fields(MeasureEvaluation):
        assert np.array_equal(getattr(chunked, f.name), getattr(whole, f.name), equal_nan=True), f.name
