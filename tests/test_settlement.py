"""Month-level contract rules (re100sim.simulator.rules.settlement), each against numbers worked by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.rules.billing import MonthUsage
from re100sim.simulator.rules.settlement import (
    contract_capacity_kw,
    curtailment_compensation_krw,
    market_monthly_smp_krw_per_kwh,
    net_metering,
    network_fee_krw,
    pool_allocation_kwh,
    ppa_billed_kwh,
    ppa_energy_krw,
    scale_usage,
    standard_price_krw_per_kwh,
    surplus_paid_fraction,
)
from re100sim.simulator.scenario.config import (
    BaseloadVolume,
    FixedPrice,
    ShareVolume,
    SmpIndexedPrice,
)


def test_pay_as_produced_bills_all_contracted_energy():
    # contracted 1,000 kWh, 700 applied to load: pay-as-produced pays for 1,000.
    assert ppa_billed_kwh(1000.0, 700.0, "pay_as_produced", 0.0) == 1000.0


def test_pay_as_consumed_with_and_without_take_or_pay():
    # 700 of 1,000 kWh applied; no minimum take -> 700.
    assert ppa_billed_kwh(1000.0, 700.0, "pay_as_consumed", 0.0) == 700.0
    # 80 % take-or-pay: max(700, 0.8 x 1,000 = 800) = 800.
    assert ppa_billed_kwh(1000.0, 700.0, "pay_as_consumed", 80.0) == 800.0
    # 60 % minimum is below what was used: 700.
    assert ppa_billed_kwh(1000.0, 700.0, "pay_as_consumed", 60.0) == 700.0


def test_ppa_energy_krw_prices_extra_at_surplus_average():
    # applied 700 kWh cost 70,000 KRW (100/kWh); the 300 kWh surplus were worth 36,000 (120/kWh)
    # at contract prices. Billing 800 kWh: 70,000 + 100 x 120 = 82,000.
    assert ppa_energy_krw(1000.0, 700.0, 106_000.0, 70_000.0, 800.0) == pytest.approx(82_000.0)
    # billing only the applied 700 kWh: exactly the applied KRW.
    assert ppa_energy_krw(1000.0, 700.0, 106_000.0, 70_000.0, 700.0) == pytest.approx(70_000.0)
    # nothing applied, nothing billed.
    assert ppa_energy_krw(0.0, 0.0, 0.0, 0.0, 0.0) == 0.0


def test_curtailment_compensation():
    # 50 kWh of contract surplus curtailed; average price 110,000 / 1,000 = 110 KRW/kWh; 50 %:
    # 50 x 110 x 0.5 = 2,750 KRW under pay-as-consumed, nothing under pay-as-produced.
    assert curtailment_compensation_krw(50.0, 1000.0, 110_000.0, 50.0, "pay_as_consumed") == pytest.approx(2750.0)
    assert curtailment_compensation_krw(50.0, 1000.0, 110_000.0, 50.0, "pay_as_produced") == 0.0


def test_network_fee_per_kwh_and_per_kw():
    # share 0.25 of a 1,200 kW plant = 300 kW; 8,000 kWh x 40 + 300 kW x 1,000 = 320,000 + 300,000.
    kw = contract_capacity_kw(ShareVolume(kind="share", share=0.25), 1200.0)
    assert kw == 300.0
    assert network_fee_krw(8000.0, 40.0, kw, 1000.0) == pytest.approx(620_000.0)
    assert contract_capacity_kw(BaseloadVolume(kind="baseload", block_kw=600.0), 2500.0) == 600.0


def test_pool_allocation_pro_rata_and_capped():
    # pool 10,000 kWh against subscriptions 12,000 / 6,000 / 2,000 (total 20,000): the pool is
    # short, so each gets half: 6,000 / 3,000 / 1,000; the second used only 2,000 kWh from the
    # grid -> capped at 2,000; a non-subscriber (0) gets 0.
    got = pool_allocation_kwh(10_000.0, np.array([12_000.0, 6000.0, 2000.0, 0.0]), np.array([9e9, 2000.0, 9e9, 9e9]))
    np.testing.assert_allclose(got, [6000.0, 2000.0, 1000.0, 0.0])
    # a pool larger than all subscriptions: each gets its subscription in full.
    got = pool_allocation_kwh(50_000.0, np.array([12_000.0, 6000.0]), np.array([9e9, 9e9]))
    np.testing.assert_allclose(got, [12_000.0, 6000.0])
    np.testing.assert_allclose(pool_allocation_kwh(0.0, np.array([1.0]), np.array([5.0])), [0.0])


def test_green_standard_price():
    # SMP-indexed: weighted SMP 117 + 45 = 162; with cap 150 -> 150. Fixed: as given.
    assert standard_price_krw_per_kwh(SmpIndexedPrice(kind="smp_indexed", adder_krw_per_kwh=45.0), 117.0) == 162.0
    capped = SmpIndexedPrice(kind="smp_indexed", adder_krw_per_kwh=45.0, cap_krw_per_kwh=150.0)
    assert standard_price_krw_per_kwh(capped, 117.0) == 150.0
    assert standard_price_krw_per_kwh(FixedPrice(kind="fixed", price_krw_per_kwh=155.0), 999.0) == 155.0


def test_net_metering_carries_surplus_forward():
    # month 1: exported 500 kWh, bought 300 from the grid -> 300 credited, 200 carried.
    assert net_metering(0.0, 500.0, 300.0) == (300.0, 200.0)
    # month 2: 200 banked + 100 exported against 1,000 kWh bought -> all 300 used, bank empty.
    assert net_metering(200.0, 100.0, 1000.0) == (300.0, 0.0)


def test_surplus_paid_fraction():
    # contracted 100, applied 60: surplus 40. Pay-as-produced bills 100 -> (100 - 60) / 40 = all of it;
    # take-or-pay 80 % bills 80 -> (80 - 60) / 40 = half; pay-as-consumed bills 60 -> none.
    assert surplus_paid_fraction(100.0, 60.0, 100.0, None) == 1.0
    assert surplus_paid_fraction(100.0, 60.0, 80.0, None) == 0.5
    assert surplus_paid_fraction(100.0, 60.0, 60.0, None) == 0.0
    assert surplus_paid_fraction(100.0, 60.0, 60.0, "tenant") == 1.0  # the contract gives it all
    assert surplus_paid_fraction(50.0, 50.0, 50.0, None) == 0.0  # no surplus


def test_market_monthly_smp_is_the_plain_mean_of_the_month():
    # 100 for 2 hours, 130 for 1 hour -> (200 + 130) / 3 = 110, whatever a plant's output profile
    assert market_monthly_smp_krw_per_kwh(np.array([100.0, 100.0, 130.0])) == pytest.approx(110.0)


def test_scale_usage_keeps_peak_and_basic():
    u = MonthUsage(
        month_key=2026 * 12, kwh_by_period=np.array([100.0, 200.0, 100.0]),
        energy_krw_by_period=np.array([10_000.0, 30_000.0, 20_000.0]), climate_charge_krw=3600.0,
        fuel_adj_charge_krw=2000.0, peak_kw=50.0, basic_krw_per_kw_month=8320.0, fund_rate=0.027, vat_rate=0.1,
    )
    # a quarter of the 400 kWh allocated as green: 3/4 of kWh and KRW remain on the tariff.
    s = scale_usage(u, 0.75)
    np.testing.assert_allclose(s.kwh_by_period, [75.0, 150.0, 75.0])
    np.testing.assert_allclose(s.energy_krw_by_period, [7500.0, 22500.0, 15000.0])
    assert (s.climate_charge_krw, s.fuel_adj_charge_krw) == (2700.0, 1500.0)
    assert (s.peak_kw, s.basic_krw_per_kw_month) == (50.0, 8320.0)


# --- whole runs of the bundled procurement scenarios (shortened) -----------------------------


@pytest.mark.parametrize("name, years", [("namdong", 1), ("green-tariff-kiee2020", 1), ("mixed-complex", 1)])
def test_bundled_scenarios_balance(tmp_path, name, years):
    from re100sim.scenarios import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()[name].read_text(encoding="utf-8"))
    data["years"] = years
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert abs(s["invariants"]["energy_residual_mwh"]) < 1e-6
    assert abs(s["invariants"]["money_residual_krw"]) < 0.5
    inv = pd.read_parquet(tmp_path / "o" / "invoices.parquet")
    items = set(inv["item"])
    if data.get("contracts"):
        assert {"ppa_energy", "network_fee", "broker_fee"} <= items
        # The broker passes PPA energy through to the plant, KRW for KRW.
        ppa = inv[inv["item"] == "ppa_energy"]
        assert ppa[ppa.payee == data["broker"]["name"]]["krw"].sum() == ppa[ppa.payer == data["broker"]["name"]]["krw"].sum()
        assert s["energy"]["re_delivered_mwh"] > 0
    if data.get("green_tariff"):
        assert {"green_tariff_energy", "green_pool_purchase"} <= items
        subs = {x["tenant"] for x in data["green_tariff"]["subscribers"]}
        assert set(inv.loc[inv["item"] == "green_tariff_energy", "payer"]) == subs
    if data.get("green_premium"):
        assert "green_premium" in items


def test_double_counting_is_reported_not_silent(tmp_path):
    """Mixed complex: the pool plants keep their RECs (the KIEE 2020 green-tariff paper step 2) and sell them quarterly;
    'chemicals' buys RECs to reach its 30 % target and retires them while the green-tariff
    subscribers retire green certificates on the same pooled MWh -> double-counting findings."""
    from re100sim.scenarios import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()["mixed-complex"].read_text(encoding="utf-8"))
    data["years"] = 1
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o")]).exit_code == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    f = pd.read_parquet(tmp_path / "o" / "certificate_findings.parquet")
    double = f[f["problem"] == "double_claim"]
    assert s["certificates"]["double_counting_findings"] == len(double) > 0
    assert set(double["source"]) <= {"pool-a", "pool-b"}
    assert all(set(k.split(",")) == {"green", "rec"} for k in double["kinds"])
    assert (double["claimed_mwh"] > double["generated_mwh"]).all()
    assert s["invariants"]["certificate_residual"] == 0
    # RE claims: annual-match share is certificates retired by tenants / use, less the MWh claimed twice
    # and the green-claimed MWh whose REC was also issued (sold to RPS buyers: issued_twice)
    twice = f[f["problem"] == "issued_twice"]
    assert s["certificates"]["issued_twice_findings"] == len(twice) > 0
    # adoption counts what each tenant holds, though all of it comes from the scenario file: auto-parts its own
    # roof and a green premium, chemicals a PPA and a REC target, semicon-tools a PPA, packaging and logistics
    # the green tariff
    assert {k: v for k, v in s["adoption"].items() if not k.endswith("_mw")} == {
        "grid": 0, "green_premium": 1, "green_tariff": 2, "direct_ppa": 2, "rec": 1, "self_generation": 1}
    excluded = double["excess_mwh"].sum() + twice["excess_mwh"].sum()
    assert s["re_share_annual"] == pytest.approx(
        (s["certificates"]["retired_by_tenants_mwh"] - excluded) / s["energy"]["load_mwh"], rel=1e-6)


def test_self_use_sale_limit_is_flagged():
    """A self-use fuel cell (limit 50 %, docs/domain.md#self-generation / the KIEE 2020 green-tariff paper) that exports 60 % of a year's
    output is flagged; a solar plant (limit 100 %) exporting the same share is not."""
    from re100sim.simulator.outputs.results import sale_limit_findings
    from re100sim.simulator.scenario.config import GeneratorSpec

    energy = pd.DataFrame({
        "month": [2026 * 12, 2026 * 12], "agent": ["fc", "pv"],
        "gen_kwh": [1000.0, 1000.0], "export_kwh": [600.0, 600.0],
        "ppa_surplus_export_kwh": [0.0, 0.0], "ppa_kwh": [0.0, 0.0],
    })
    specs = [GeneratorSpec(name="fc", technology="fuel_cell", capacity_kw=100, host_tenant="t"),
             GeneratorSpec(name="pv", capacity_kw=100, host_tenant="t")]
    found = sale_limit_findings(energy, specs)
    assert [(f["plant"], f["year"], f["sold_share"], f["limit"]) for f in found] == [("fc", 2026, 0.6, 0.5)]
