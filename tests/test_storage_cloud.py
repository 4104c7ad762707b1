"""The shared cloud ESS (docs/domain.md#shared-cloud-ess) and the perfect-foresight benchmark
(docs/decisions.md#storage-dispatch), worked by hand.

The month is January 2026 as in tests/test_storage_engine.py: 744 h = light 380, mid 238, peak 126; 5 Jan
(Monday) 10:00-11:00 is a winter peak hour; basic charge 8,320 KRW/kW (산업용(을) 고압A 선택Ⅱ). The tenant uses
500 kW flat with one 700 kW hour on 5 Jan (contract 1,000 kW: floor 300 kW).
"""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from test_economics import run_year
from test_storage_engine import SPIKE_HOUR, csv, kepco_lines
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.scenario.storage import CloudEss

LOSSLESS = {"round_trip_efficiency_pct": 100, "soc_min_pct": 0, "soc_max_pct": 100, "initial_soc_pct": 50,
            "fade_pct_per_cycle": 0}


def spike_tenant(tmp_path) -> dict:
    load = [500.0] * 8760
    load[SPIKE_HOUR] = 700.0
    return {"name": "t", "load_file": str(csv(tmp_path / "t.csv", load)), "contract_kw": 1000}


def cloud(sub: dict, **over) -> dict:
    """A lossless 1,000 kWh / 500 kW cloud ESS of the complex authority (capex 500,000 KRW/kWh, 6 %, 15 years,
    O&M 1.5 %/yr), half full; ``sub``: the tenant's subscription."""
    return {"name": "park-ess", "energy_kwh": 1000, "power_kw": 500, **LOSSLESS,
            "subscriptions": [{"tenant": "t", "energy_kwh": 400, "strategy": "peak_shaving",
                               "peak_target_kw": 550} | sub]} | over


def run(tmp_path, data: dict):
    inv, kpis, _, summary = run_year(tmp_path, {"name": "cloud"} | data)
    return inv, kpis, summary, pd.read_parquet(tmp_path / "o" / "batteries.parquet")


def test_a_subscription_is_a_virtual_battery_of_its_share():
    c = CloudEss(**cloud({}, subscriptions=[
        {"tenant": "a", "energy_kwh": 400, "strategy": "peak_shaving"},
        {"tenant": "b", "energy_kwh": 250, "strategy": "re_matching", "fee_krw_per_kwh_month": 3000}]))
    a, b = c.virtual_batteries()
    # shares of 1,000 kWh / 500 kW: 400 kWh -> 200 kW, 250 kWh -> 125 kW; the cloud's cells, no cost of their own
    assert (a.name, a.owner, a.energy_kwh, a.power_kw, a.strategy) == ("park-ess.a", "a", 400, 200, "peak_shaving")
    assert (b.name, b.owner, b.energy_kwh, b.power_kw, b.strategy) == ("park-ess.b", "b", 250, 125, "re_matching")
    assert a.round_trip_efficiency_pct == 100 and a.initial_soc_pct == 50 and a.soc_max_pct == 100
    assert a.capex_krw == 0 and a.om_krw_per_year == 0


def test_cloud_share_shaves_the_subscribers_peak_and_is_invoiced(tmp_path):
    """The tenant subscribes 400 kWh (so 200 kW) of the cloud ESS at 5,000 KRW per kWh-month, peak_shaving at a
    fixed 550 kW; the meter nets the share (bill_sees_peak: true)."""
    data = {"tenants": [spike_tenant(tmp_path)],
            "cloud_ess": [cloud({"fee_krw_per_kwh_month": 5000}, bill_sees_peak=True)]}
    inv, kpis, summary, bat = run(tmp_path, data)
    jan, q = kepco_lines(inv, "2026-01")
    # The 48 hours of 4-5 Jan: the share (half full: 200 kWh) filled to 400 kWh at 200 kW in the first light hour
    # of 1 Jan and stays full until 5 Jan 10:00, when it delivers 700 - 550 = 150 kWh (under its 200 kW); it
    # refills 150 kWh at 22:00 (light). Billed peak 550: basic charge 550 x 8,320 = 4,576,000 KRW.
    assert q["basic_charge"] == pytest.approx(550.0)
    assert jan["basic_charge"] == 4_576_000
    # energy through the meter: light 380 x 500 + 200 + 150 = 190,350 kWh; peak 126 x 500 + 200 - 150 = 63,050
    assert q["energy_light"] == pytest.approx(190_350.0)
    assert q["energy_peak"] == pytest.approx(63_050.0)
    b = bat[bat.month == "2026-01"].iloc[0]
    assert (b["agent"], b["owner"], b["cloud_ess"], b["dispatch"]) == ("park-ess.t", "t", "park-ess", "causal")
    assert (b["charged_kwh"], b["discharged_kwh"], b["soc_start_kwh"], b["soc_end_kwh"]) == pytest.approx(
        (350.0, 150.0, 200.0, 400.0))
    # Invoices of January: the subscriber pays 400 kWh x 5,000 = 2,000,000 KRW + 10 % VAT = 200,000 to the cloud
    # ESS's account, which remits the VAT; the account pays the capex annuity 1,000 kWh x 500,000 = 500,000,000 x
    # crf(6 %, 15 y) 0.10296276 / 12 = 4,290,115 KRW and O&M 1.5 % x 500,000,000 / 12 = 625,000 KRW.
    m = inv[inv.month == "2026-01"]
    fee = m[(m.payer == "t") & (m.payee == "park-ess")]
    assert dict(zip(fee["item"], fee["krw"])) == {"cloud_ess_fee": 2_000_000, "cloud_ess_fee_vat": 200_000}
    assert fee.set_index("item").loc["cloud_ess_fee", "quantity"] == pytest.approx(400.0)
    paid = m[m.payer == "park-ess"]
    assert dict(zip(paid["item"], paid["krw"])) == {"vat_remittance": 200_000, "capital_annuity": 4_290_115,
                                                    "o_and_m": 625_000}
    # the share gives nothing to the virtual battery's own account: no lines for "park-ess.t"
    assert not ((inv.payer == "park-ess.t") | (inv.payee == "park-ess.t")).any()
    s = summary["storage"]
    # saving: 150 kW x 8,320 = 1,248,000 KRW a month, all 12 months (the ratchet carries January)
    assert s["basic_charge_saving_krw"] == 12 * 1_248_000
    assert s["billed_peak_reduction_kw_mean"] == pytest.approx(150.0 / 12)  # only January's own peak is shaved
    c = s["cloud_ess"][0]
    assert (c["name"], c["owner"], c["subscribed_kwh"]) == ("park-ess", "complex_authority", 400)
    assert c["fees_krw"] == 12 * 2_000_000
    assert c["capital_and_om_krw"] == 12 * (4_290_115 + 625_000)
    assert c["owner_net_krw"] == 12 * (2_000_000 - 4_290_115 - 625_000)
    # payback of the 500,000,000 KRW capex on fees less O&M: 500e6 / (12 x (2,000,000 - 625,000)) = 30.303 years
    assert c["simple_payback_years"] == pytest.approx(500e6 / (12 * 1_375_000), abs=1e-3)
    # the complex's series: January stored 350 kWh, delivered 150, lost 0; billed peak and billing demand 150 kW
    # lower, 1,248,000 KRW saved; the year: 12 x 1,248,000, billed peak 150 / 12 kW lower on average (January
    # only), billing demand 150 kW lower every month
    series = pd.read_parquet(tmp_path / "o" / "timeseries_monthly.parquet").set_index("month").loc["2026-01"]
    assert (series["battery_stored_mwh"], series["battery_discharged_mwh"], series["battery_lost_mwh"]) == \
        pytest.approx((0.350, 0.150, 0.0))
    assert (series["battery_peak_reduction_kw"], series["battery_billing_demand_reduction_kw"]) == \
        pytest.approx((150.0, 150.0))
    assert series["battery_basic_charge_saving_krw"] == 1_248_000
    year = pd.read_parquet(tmp_path / "o" / "timeseries_yearly.parquet").iloc[0]
    assert year["battery_basic_charge_saving_krw"] == 12 * 1_248_000
    assert (year["battery_peak_reduction_kw"], year["battery_billing_demand_reduction_kw"]) == \
        pytest.approx((150.0 / 12, 150.0))
    # the cloud ESS's account among the parties: receives 12 x 2,200,000 (fee and VAT), pays 12 x (200,000 VAT +
    # 4,290,115 + 625,000)
    parties = pd.read_parquet(tmp_path / "o" / "kpis_parties.parquet").set_index("agent").loc["park-ess"]
    assert (parties["agent_type"], parties["receipts_krw"], parties["payments_krw"]) == (
        "cloud_ess", 12 * 2_200_000, 12 * (200_000 + 4_290_115 + 625_000))
    k = kpis[(kpis.agent == "t") & (kpis.year == 2026)].iloc[0]
    assert k["cloud_ess_fee_krw"] == 12 * 2_000_000
    assert k["battery_peak_reduction_kw"] == pytest.approx(150.0 / 12)
    assert k["battery_basic_charge_saving_krw"] == 12 * 1_248_000
    inv_ok = summary["invariants"]
    assert abs(inv_ok["energy_residual_mwh"]) < 1e-9 and abs(inv_ok["money_residual_krw"]) < 0.5


def test_unnetted_cloud_share_moves_energy_but_not_the_basic_charge(tmp_path):
    """As above with the default bill_sees_peak: false and the default fee (the owner's cost recovery)."""
    data = {"tenants": [spike_tenant(tmp_path)], "cloud_ess": [cloud({})]}
    inv, _, summary, _ = run(tmp_path, data)
    jan, q = kepco_lines(inv, "2026-01")
    # the KEPCO meter bills the demand without the share: 700 kW x 8,320 = 5,824,000 KRW; the energy moves as above
    assert q["basic_charge"] == pytest.approx(700.0)
    assert jan["basic_charge"] == 5_824_000
    assert q["energy_light"] == pytest.approx(190_350.0) and q["energy_peak"] == pytest.approx(63_050.0)
    assert summary["storage"]["basic_charge_saving_krw"] == 0
    # default fee: (capex annuity 51,481,382 + O&M 7,500,000) / 1,000 kWh / 12 = 4,915.115 KRW per kWh-month:
    # 400 x 4,915.115 = 1,966,046 KRW a month
    fee = inv[(inv.month == "2026-01") & (inv.item == "cloud_ess_fee")]
    assert fee["krw"].tolist() == [1_966_046]


def test_perfect_foresight_saves_at_least_what_the_causal_rule_saves(tmp_path):
    """The tenant's own lossless 400 kWh / 200 kW peak_shaving battery with the learned target (90 %), causal and
    with perfect foresight."""
    bat = {"name": "b", "owner": "t", "energy_kwh": 400, "power_kw": 200, "strategy": "peak_shaving", **LOSSLESS}
    base = {"tenants": [spike_tenant(tmp_path)], "batteries": [bat]}
    (tmp_path / "c").mkdir()
    (tmp_path / "f").mkdir()
    _, _, causal, _ = run(tmp_path / "c", base)
    inv, _, fore, table = run(tmp_path / "f", base | {"battery_dispatch": "perfect_foresight"})
    # Causal: January has no history, so the target is 90 % of the 1,000 kW contract = 900 kW: the 700 kW spike
    # is not shaved, and January (a ratchet month) carries 700 kW into every month of 2026: no saving.
    assert causal["storage"]["basic_charge_saving_krw"] == 0
    # Foresight: the lowest level the battery holds in January is 500 kW: below it every billed hour needs
    # discharge, and the spike hour 700 - 200 kW (its power) = 500 > level. The spike is shaved to 500 kW:
    # 200 kW x 8,320 = 1,664,000 KRW a month, carried all year: 12 x 1,664,000 = 19,968,000 KRW.
    _, q = kepco_lines(inv, "2026-01")
    assert q["basic_charge"] == pytest.approx(500.0)
    assert fore["storage"]["basic_charge_saving_krw"] == 12 * 1_664_000
    assert fore["storage"]["basic_charge_saving_krw"] >= causal["storage"]["basic_charge_saving_krw"]
    # labelled as the benchmark it is
    assert fore["storage"]["dispatch"] == "perfect_foresight" and "not a realistic result" in fore["storage"]["note"]
    assert causal["storage"]["dispatch"] == "causal" and "note" not in causal["storage"]
    assert set(table["dispatch"]) == {"perfect_foresight"}


BASE = {"name": "v", "start_date": "2026-01-01", "years": 1, "seed": 1,
        "tenants": [{"name": "t", "annual_use_mwh": 1000}, {"name": "u", "annual_use_mwh": 500}]}
SUB = {"tenant": "t", "energy_kwh": 400, "strategy": "peak_shaving"}


@pytest.mark.parametrize("over, expected", [
    ({"subscriptions": [SUB | {"tenant": "x"}]}, "cloud_ess[0].subscriptions[0].tenant: unknown tenant 'x'"),
    ({"subscriptions": [SUB, SUB | {"tenant": "u", "energy_kwh": 700}]},
     "cloud_ess[0].subscriptions: subscribed energy_kwh add up to 1100 (at most the cloud ESS's 1000 kWh)"),
    ({"subscriptions": [SUB, SUB]}, "cloud_ess[0].subscriptions: a tenant subscribes at most once"),
    ({"name": "u"}, "cloud_ess[0].name: 'u' is already a tenant's, plant's or battery's name"),
    ({"owner": "kepco"}, "cloud_ess[0].owner: input should be"),
    ({"subscriptions": [SUB | {"fee_krw_per_kwh_month": -1}]},
     "cloud_ess[0].subscriptions[0].fee_krw_per_kwh_month: input should be greater than or equal to 0"),
])
def test_bad_cloud_ess_is_one_error_line(tmp_path, over, expected):
    p = tmp_path / "s.yaml"
    c = {"name": "park", "energy_kwh": 1000, "power_kw": 500, "subscriptions": [SUB]} | over
    p.write_text(yaml.safe_dump(BASE | {"cloud_ess": [c]}), encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {p}: {expected}"), res.output


def test_own_battery_and_unnetted_cloud_share_is_refused(tmp_path):
    p = tmp_path / "s.yaml"
    bat = {"name": "b", "owner": "t", "energy_kwh": 100, "power_kw": 50, "strategy": "peak_shaving"}
    p.write_text(yaml.safe_dump(BASE | {"batteries": [bat], "cloud_ess": [
        {"name": "park", "energy_kwh": 1000, "power_kw": 500, "subscriptions": [SUB]}]}), encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert "cloud_ess[0].subscriptions[0].tenant: 't' has a battery of its own" in res.output


def test_bundled_cloud_ess_scenario_balances(tmp_path):
    """The bundled smart-green complex with a park cloud ESS and own batteries, one year: every share and battery
    works by its rule, each subscriber is invoiced, and energy, money and certificates balance."""
    from re100sim.scenarios import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()["storage-cloud-ess"].read_text(encoding="utf-8"))
    inv, kpis, summary, bat = run(tmp_path, data | {"years": 1})
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-6
    assert abs(summary["invariants"]["money_residual_krw"]) < 0.5
    assert summary["invariants"]["certificate_residual"] < 1e-9
    per = bat.groupby("agent")[["charged_kwh", "charged_re_kwh", "discharged_kwh", "loss_kwh"]].sum()
    assert (per["discharged_kwh"] > 0).all() and len(per) == 6  # 2 own batteries, 4 cloud shares
    # the RE rules store only RE (own PV surplus, the PPA's surplus); the grid rules only grid energy
    re_rules = ["park-cloud-ess.food", "park-cloud-ess.plastics", "logistics-ess"]
    assert per.loc[re_rules, "charged_re_kwh"].tolist() == pytest.approx(per.loc[re_rules, "charged_kwh"].tolist())
    assert (per.loc[["park-cloud-ess.electronics", "park-cloud-ess.metalwork", "auto-body-ess"],
                    "charged_re_kwh"] == 0).all()
    # each battery's books close: charged - delivered - lost = SOC change
    first, last = bat.groupby("agent").first(), bat.groupby("agent").last()
    assert (per["charged_kwh"] - per["discharged_kwh"] - per["loss_kwh"]).tolist() == pytest.approx(
        (last["soc_end_kwh"] - first["soc_start_kwh"]).tolist(), abs=1e-6)
    # the metered shares shave the subscriber's bill; the PPA user's re_matching share never raises it
    demand = pd.read_parquet(tmp_path / "o" / "battery_demand.parquet")
    assert (demand["billing_kw"] <= demand["billing_without_kw"] + 1e-9).all()
    saving = demand.groupby("tenant")["basic_charge_saving_krw"].sum()
    assert saving["electronics"] > 0 and saving["auto-body"] > 0
    # twelve monthly fees (and their VAT) from each of the four subscribers to the cloud ESS's account
    fees = inv[inv.item == "cloud_ess_fee"]
    assert set(fees["payer"]) == {"electronics", "food", "plastics", "metalwork"}
    assert len(fees) == 48 and set(fees["payee"]) == {"park-cloud-ess"}
    c = summary["storage"]["cloud_ess"][0]
    assert c["fees_krw"] == int(fees["krw"].sum()) and c["subscribed_kwh"] == 2900
    # default fee = cost recovery on the whole 3,000 kWh; 2,900 subscribed: the owner recovers 29/30 of its cost
    assert c["fees_krw"] == pytest.approx(c["capital_and_om_krw"] * 2900 / 3000, abs=48)
    assert kpis.loc[kpis.agent == "electronics", "cloud_ess_fee_krw"].sum() == fees.loc[
        fees.payer == "electronics", "krw"].sum()


def test_re_matching_room_never_extends_the_ratchet():
    """BillingDemand.free_peak_kw, the level re_matching may fill in billed hours besides the month's load peak so
    far: contract 1,000 kW (floor 300 kW); January (a ratchet month, key 2026*12) billed at 800 kW."""
    import numpy as np

    from re100sim.simulator.rules.billing import BillingDemand

    d = BillingDemand(1)
    jan = 2026 * 12
    d.billing_kw(jan, np.array([800.0]), [1000.0])
    # March is not recorded by the ratchet: a peak up to the carried 800 kW changes no bill
    assert d.free_peak_kw(jan + 2, [1000.0]) == pytest.approx([800.0])
    assert d.floor_kw(jan + 2, [1000.0]) == pytest.approx([800.0])
    # July is: an 800 kW peak there would be carried to next June (January's expires in December), so only the
    # 30 % floor is free
    assert d.free_peak_kw(jan + 6, [1000.0]) == pytest.approx([300.0])


def test_data_dictionary_covers_a_run_with_batteries(tmp_path):
    """docs/outputs.md documents every file, column and summary key a run with own batteries and a cloud ESS
    writes (tests/test_report.py checks a run without)."""
    import json
    from pathlib import Path

    from test_report import _documented

    data = {"tenants": [spike_tenant(tmp_path)], "cloud_ess": [cloud({}, bill_sees_peak=True)],
            "batteries": [{"name": "b", "owner": "t", "energy_kwh": 100, "power_kw": 50, "strategy": "tou_arbitrage"}],
            "battery_dispatch": "perfect_foresight"}
    run(tmp_path, data)
    doc = _documented((Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text(encoding="utf-8"),
                      batteries=True)
    d = tmp_path / "o"
    for name in ("batteries.parquet", "battery_demand.parquet", "kpis_tenants.parquet", "timeseries_monthly.parquet",
                 "timeseries_yearly.parquet"):
        assert set(pd.read_parquet(d / name).columns) == doc[name], name

    def keys(node, prefix=""):
        for k, v in node.items():
            yield from keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k]

    storage = {k for k in keys(json.loads((d / "summary.json").read_text())) if k.startswith("storage.")}
    assert storage == {k for k in doc["summary.json"] if k.startswith("storage.")}


def test_a_drained_source_rounded_below_zero_is_carried_as_zero():
    """Found by the five-year run of storage-cloud-ess: after months of proportional discharges the grid part of a
    share's store ended a month at -3e-323 kWh, which the next month's input check refuses."""
    from types import SimpleNamespace

    import numpy as np

    from re100sim.simulator.market.storage import BatteryFleet
    from re100sim.simulator.scenario.storage import Battery

    fleet = BatteryFleet.build([Battery(name="b", owner="t", energy_kwh=100, power_kw=50, strategy="re_matching")],
                               ["t"])
    r = SimpleNamespace(battery_soc_end_kwh_by_source=np.array([[[-3e-323, 0.0, 42.0]]]),
                        battery_cycles_end=np.array([[1.5]]), tenant_prebattery_peak_kw=np.array([[10.0]]))
    fleet.advance(100, r)
    assert fleet.soc_kwh.tolist() == [[0.0, 0.0, 42.0]] and fleet.cycles.tolist() == [1.5]


def test_cloud_share_keeps_the_subscribers_certificates_net_of_losses(tmp_path):
    """tests/test_storage_engine.py's self-consumption day (200 kW in hours 0-11, 600 kW in 12-23, the tenant's own
    400 kW fuel cell behind its meter, no net metering) with a cloud share instead of its own battery: 1,200 of a
    2,400 kWh / 400 kW cloud ESS (so 200 kW), 81 % round trip, SOC 0-100 %, empty at the start."""
    day = [200.0] * 12 + [600.0] * 12
    data = {
        "tenants": [{"name": "t", "load_file": str(csv(tmp_path / "t.csv", day * 365))}],
        "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 400, "availability": 1.0,
                        "owner": "tenant", "host_tenant": "t", "net_metering": False}],
        "cloud_ess": [{"name": "park-ess", "energy_kwh": 2400, "power_kw": 400, "round_trip_efficiency_pct": 81,
                       "soc_min_pct": 0, "soc_max_pct": 100, "initial_soc_pct": 0, "fade_pct_per_cycle": 0,
                       "subscriptions": [{"tenant": "t", "energy_kwh": 1200, "strategy": "self_consumption"}]}],
    }
    _, _, summary, bat = run(tmp_path, data)
    b = bat[bat.month == "2026-01"].iloc[0]
    # as with its own battery: each day 1,333.3 kWh of the plant's surplus taken in, 1,080 delivered, 253.3 lost
    assert b["charged_re_kwh"] == pytest.approx(31 * 1_200.0 / 0.9)
    assert b["discharged_re_kwh"] == pytest.approx(31 * 1_080.0)
    # the tenant retires its plant's RECs for what reached its load: directly 31 x 7,200 = 223,200 kWh, through
    # the share 33,480 kWh: 256.68 MWh (the losses are not claimed)
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert jan.loc[(jan.status == "retired") & (jan.claimant == "t"), "mwh"].sum() == pytest.approx(256.68)
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9
    assert summary["invariants"]["certificate_residual"] < 1e-9


@pytest.mark.parametrize("impl", ["kernel", "reference"])
def test_two_shares_over_48_hours_are_independent_batteries(impl):
    """A 150 kWh / 37.5 kW cloud ESS (81 % round trip: 90 % each way; SOC 10-90 %; 10 % full at the start) with two
    tou_arbitrage subscribers of 100 and 50 kWh (so 25 and 12.5 kW), both 10 kW flat; hours 0-7 light, 12-17 peak,
    the rest mid; hours 0-23 month 0, 24-47 month 1. The fleet's kernel inputs, settled by the kernel and by
    the reference."""
    import numpy as np

    from re100sim.simulator.market.storage import BatteryFleet
    from re100sim.simulator.rules import kernel
    from re100sim.simulator.rules.settlement_reference import BlockInputs, settle_block_reference

    c = CloudEss(name="park", energy_kwh=150, power_kw=37.5, round_trip_efficiency_pct=81, initial_soc_pct=10,
                 fade_pct_per_cycle=0, subscriptions=[{"tenant": "a", "energy_kwh": 100, "strategy": "tou_arbitrage"},
                                                      {"tenant": "b", "energy_kwh": 50, "strategy": "tou_arbitrage"}])
    fleet = BatteryFleet.build([], ["a", "b"], [c])
    arrays = fleet.kernel_arrays(100, np.array([100.0, 100.0]), np.zeros(2))
    assert arrays["b_power_kw"].tolist() == [25.0, 12.5] and arrays["b_soc0_kwh"][:, 0].tolist() == [10.0, 5.0]
    hour = np.arange(48) % 24
    tou = np.select([hour < 8, (hour >= 12) & (hour < 18)], [0, 2], 1).astype(np.int8)
    x = BlockInputs.build(load_kwh=np.full((48, 2), 10.0), month_of_hour=np.repeat([0, 1], 24),
                          tariff_price=np.array([100.0, 150.0, 200.0])[tou][:, None], tariff_tou=tou[:, None],
                          smp=np.full(48, 80.0), tenant_tariff=[0, 0], **arrays)
    r = kernel.settle_block(x, hourly=True) if impl == "kernel" else settle_block_reference(x, hourly=True)
    # share a (tests/test_storage_kernel.py's tou day): light hours take 25 an hour (+22.5) from 10 to 90:
    # 75 + (90 - 77.5) / 0.9 = 88.889 bought; peak hours deliver 10 an hour (11.111 out): 60 delivered, SOC 23.333;
    # day 2 buys (90 - 23.333) / 0.9 = 74.074.
    # share b: light hours take 12.5 (+11.25) from 5: 16.25, 27.5, 38.75, then (45 - 38.75) / 0.9 = 6.944 -> 45:
    # 44.444 bought (= 40 / 0.9); peak hours deliver 10 (11.111 out): 33.889, 22.778, 11.667, then
    # (11.667 - 5) x 0.9 = 6 and the floor: 36 delivered (= 40 x 0.9); day 2 the same.
    np.testing.assert_allclose(r.battery_charged_kwh_by_source[:, :, 0], [[80 / 0.9, 40 / 0.9],
                                                                        [(90 - 70 / 3) / 0.9, 40 / 0.9]])
    np.testing.assert_allclose(r.battery_discharged_kwh_by_source[:, :, 0], [[60.0, 36.0], [60.0, 36.0]])
    np.testing.assert_allclose(r.battery_soc_end_kwh_by_source[:, :, 0], [[70 / 3, 5.0], [70 / 3, 5.0]])
    # each subscriber's peak-hour grid: 60 without; a 0, b 60 - 36 = 24
    np.testing.assert_allclose(r.tenant_grid_kwh_by_tou[:, :, 2], [[0.0, 24.0], [0.0, 24.0]], atol=1e-9)
