"""Batteries in whole runs: scenario -> kernel -> bills, ratchet, PPA invoices, energy books.

January 2026 as in tests/test_golden_invoices.py: 744 h = light 380, mid 238, peak 126; 1 Jan (Thu) is
a holiday; 5 Jan is a Monday; winter peak bands 09-12 and 16-19; basic charge 8,320 KRW/kW (산업용(을)
고압A 선택Ⅱ, docs/domain.md#tariff-tables). The billing demand (요금적용전력) is the month's billed-hours
peak, at least 30 % of contract demand and at least the highest peak of the ratchet months (Dec-Feb,
Jul-Sep) of the last 12 months (docs/domain.md#bill-structure).
"""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from test_economics import run_year
from typer.testing import CliRunner

from re100sim.simulator.cli import app

SPIKE_HOUR = 4 * 24 + 10  # 5 Jan 2026 (Monday) 10:00-11:00, a winter peak hour


def run(tmp_path, data: dict) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """A one-year run from 2026-01-01 (test_economics.run_year): invoices, summary and batteries.parquet."""
    inv, _, _, summary = run_year(tmp_path, data)
    return inv, summary, pd.read_parquet(tmp_path / "o" / "batteries.parquet")


def kepco_lines(inv, month: str, payer: str = "t") -> tuple[dict, dict]:
    rows = inv[(inv.month == month) & (inv.payer == payer) & (inv.payee == "KEPCO")]
    return dict(zip(rows["item"], rows["krw"])), dict(zip(rows["item"], rows["quantity"]))


def csv(path, kw: list[float]):
    path.write_text("kw\n" + "".join(f"{v}\n" for v in kw), encoding="utf-8")
    return path


def test_peak_shaving_lowers_the_billing_demand_and_the_ratchet(tmp_path):
    """A 500 kW tenant (contract 1,000 kW) with one 700 kW hour on 5 January; a lossless 400 kWh / 200 kW
    battery, peak_shaving at a fixed 550 kW, starting half full (200 kWh)."""
    load = [500.0] * 8760
    load[SPIKE_HOUR] = 700.0
    data = {
        "name": "shave",
        "tenants": [{"name": "t", "load_file": str(csv(tmp_path / "t.csv", load)), "contract_kw": 1000}],
        "batteries": [{"name": "b", "owner": "t", "energy_kwh": 400, "power_kw": 200, "strategy": "peak_shaving",
                       "peak_target_kw": 550, "round_trip_efficiency_pct": 100, "soc_min_pct": 0,
                       "soc_max_pct": 100, "initial_soc_pct": 50, "fade_pct_per_cycle": 0}],
    }
    inv, summary, bat = run(tmp_path, data)
    jan, qjan = kepco_lines(inv, "2026-01")
    # January: the battery fills in the first light hours (1 Jan 00-01: 200 kWh at 200 kW), delivers 150 kWh in
    # the spike hour (700 - 550) and refills 150 kWh in the next light hours (22:00 on 5 Jan).
    # Billed peak 550 instead of 700 (floor 300 = 30 % x 1,000 below): basic charge 550 x 8,320 = 4,576,000.
    assert qjan["basic_charge"] == pytest.approx(550.0)
    assert jan["basic_charge"] == 4_576_000
    # energy: light 380 x 500 + 200 + 150 = 190,350 kWh; peak 126 x 500 + 200 - 150 = 63,050 kWh
    assert qjan["energy_light"] == pytest.approx(190_350.0)
    assert qjan["energy_peak"] == pytest.approx(63_050.0)
    # February has no spike, but January is a ratchet month: the billing demand carries January's
    # shaved 550 kW (700 kW without the battery).
    _, qfeb = kepco_lines(inv, "2026-02")
    assert qfeb["basic_charge"] == pytest.approx(550.0)
    # March is no ratchet month... but the ratchet carries January and February for 12 months: 550 again.
    _, qmar = kepco_lines(inv, "2026-03")
    assert qmar["basic_charge"] == pytest.approx(550.0)
    b = bat[bat.month == "2026-01"].iloc[0]
    assert b["charged_kwh"] == pytest.approx(350.0)
    assert b["discharged_kwh"] == pytest.approx(150.0)
    assert b["loss_kwh"] == pytest.approx(0.0, abs=1e-9)
    assert (b["soc_start_kwh"], b["soc_end_kwh"]) == pytest.approx((200.0, 400.0))
    # Saving over the year: 150 kW x 8,320 = 1,248,000 KRW a month while the January peak is in the ratchet
    # (all 12 months of 2026: the last, December, still carries January), before fund and VAT.
    assert summary["storage"]["basic_charge_saving_krw"] == 12 * 1_248_000
    assert summary["storage"]["peak_reduction_kw_mean"] == pytest.approx(150.0)
    assert summary["storage"]["discharged_mwh"] == pytest.approx(0.150)
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9
    # The battery's own account (consolidated into its owner's cost): capex 400 kWh x 500,000 = 200,000,000 KRW
    # as an annuity at 6 %/yr over 15 years: crf = 0.06 / (1 - 1.06^-15) = 0.1029628, / 12 ->
    # 1,716,046 KRW a month; O&M 1.5 % x 200,000,000 / 12 = 250,000 KRW a month.
    own = inv[(inv.month == "2026-01") & (inv.payer == "b")]
    assert dict(zip(own["item"], own["krw"])) == {"capital_annuity": 1_716_046, "o_and_m": 250_000}
    assert summary["storage"]["capital_and_om_krw"] == 12 * (1_716_046 + 250_000)
    kpis = pd.read_parquet(tmp_path / "o" / "kpis_tenants.parquet")
    k = kpis[(kpis.agent == "t") & (kpis.year == 2026)].iloc[0]
    assert k["battery_basic_charge_saving_krw"] == pytest.approx(12 * 1_248_000)
    assert k["battery_billing_demand_reduction_kw"] == pytest.approx(150.0)
    assert k["battery_discharged_mwh"] == pytest.approx(0.150)


def re_matching_day(tmp_path, name: str, **terms) -> dict:
    """Tenant ``t`` using 200 kW in hours 00-12 and 600 kW in hours 12-24 every day, buying a flat 400 kW fuel
    cell's whole output by direct PPA (100 KRW/kWh, no network fee; ``terms`` are extra contract fields), with a
    lossless 1,200 kWh / 200 kW re_matching battery, empty at the start (SOC 0-100 %)."""
    day = [200.0] * 12 + [600.0] * 12
    return {
        "name": name,
        "tenants": [{"name": "t", "load_file": str(csv(tmp_path / "t.csv", day * 365))}],
        "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 400, "availability": 1.0}],
        "contracts": [{"name": "c", "generator": "fc", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 0.0,
                       **terms}],
        "batteries": [{"name": "b", "owner": "t", "energy_kwh": 1200, "power_kw": 200, "strategy": "re_matching",
                       "round_trip_efficiency_pct": 100, "soc_min_pct": 0, "soc_max_pct": 100,
                       "initial_soc_pct": 0, "fade_pct_per_cycle": 0}],
    }


def test_re_matching_raises_the_hourly_re_share_of_a_ppa_tenant(tmp_path):
    """The re_matching day (re_matching_day) under the default pay-as-consumed terms, no minimum take."""
    inv, summary, bat = run(tmp_path, re_matching_day(tmp_path, "match"))
    b = bat[bat.month == "2026-01"].iloc[0]
    # Each day: hours 0-5 store the 200 kW surplus (6 x 200 = 1,200 kWh, full); hours 6-11 export it;
    # hours 12-17 deliver 200 kW (empty again at 18:00); hours 18-23 buy 200 kW from the grid.
    # January: stored = delivered = 31 x 1,200 = 37,200 kWh, all PPA energy.
    assert b["charged_re_kwh"] == pytest.approx(37_200.0)
    assert b["discharged_re_kwh"] == pytest.approx(37_200.0)
    # Hourly RE share of the load: without the battery (12 x 200 + 12 x 400) / 9,600 = 75 %;
    # with it (7,200 + 1,200) / 9,600 = 87.5 %: up 12.5 points, by the worked amount.
    load = 31 * 9_600.0
    ppa_applied = 31 * 7_200.0
    assert (ppa_applied + b["discharged_re_kwh"]) / load == pytest.approx(0.875)
    assert summary["re_share_hourly"] == pytest.approx(0.875)  # every day alike, all year
    # The stored PPA energy is the tenant's: pay-as-consumed bills applied + stored = 223,200 + 37,200 kWh.
    rows = inv[(inv.month == "2026-01") & (inv.payer == "t") & (inv.item == "ppa_energy")]
    assert rows["quantity"].sum() == pytest.approx(260_400.0)
    assert rows["krw"].sum() == 26_040_000  # 260,400 x 100
    # KEPCO supplies only hours 18-23: 6 x 200 x 31 = 37,200 kWh (74,400 without the battery).
    _, q = kepco_lines(inv, "2026-01")
    assert q["energy_light"] + q["energy_mid"] + q["energy_peak"] == pytest.approx(37_200.0)
    # A PPA user's basic charge is on what its site draws from grid and plant: the battery charges in hours
    # 0-5 (light, not billed) and delivers in 12-17 (600 - 200 = 400 kW); hours 18-23 draw 600 kW: 600 kW.
    assert q["basic_charge"] == pytest.approx(600.0)
    assert summary["storage"]["stored_re_mwh"] == pytest.approx(365 * 1.2)
    # Certificates (bundled): the tenant retires what reached its load from the plant, directly (223.2 MWh)
    # or through the battery, net of losses (37.2 MWh): 260.4 MWh for January; the exported 37.2 MWh
    # (hours 6-11) stay the plant's.
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert jan.loc[(jan.status == "retired") & (jan.claimant == "t"), "mwh"].sum() == pytest.approx(260.4)
    assert jan["mwh"].sum() == pytest.approx(297.6)  # 400 kW x 744 h
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9


BASE = {"name": "v", "start_date": "2026-01-01", "years": 1, "seed": 1,
        "tenants": [{"name": "t", "annual_use_mwh": 1000}]}
BAT = {"name": "b", "owner": "t", "energy_kwh": 100, "power_kw": 50, "strategy": "peak_shaving"}


@pytest.mark.parametrize("over, expected", [
    ({"owner": "x"}, "batteries[0].owner: unknown tenant 'x' (one of: t)"),
    ({"name": "t"}, "batteries[0].name: 't' is a tenant's or generator's name (a name of its own)"),
    ({"soc_min_pct": 95}, "batteries[0].soc_max_pct: 90.0 is below soc_min_pct 95.0 (soc_min_pct <= soc_max_pct)"),
    ({"initial_soc_pct": 95}, "batteries[0].initial_soc_pct: 95.0 is outside [10.0, 90.0] (within soc_min_pct..soc_max_pct)"),
    ({"energy_kwh": 0}, "batteries[0].energy_kwh: input should be greater than 0 (got 0)"),
    ({"strategy": "shave"}, "batteries[0].strategy: input should be"),
    ({"power": 5}, "batteries[0].power: unknown key"),
])
def test_bad_battery_is_one_error_line(tmp_path, over, expected):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(BASE | {"batteries": [BAT | over]}), encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {p}: {expected}"), res.output


def test_peak_target_is_learned_from_past_pre_battery_peaks():
    # Two batteries of tenants 0 and 1 (contract 1,000 and 400 kW), 90 % and 80 %; the second has a fixed
    # 300 kW target. First month (key 100): no history -> 90 % of 1,000 = 900 kW. After months 100 and 101
    # with pre-battery peaks 700 and 650 kW: 90 % x 700 = 630 kW. Month 100 leaves the 12-month window in
    # month 113 (months 101-112 are its 12 previous months): then 90 % x 650 = 585 kW.
    from re100sim.simulator.market.storage import BatteryFleet
    from re100sim.simulator.scenario.storage import Battery

    specs = [Battery(**BAT | {"owner": "a", "peak_target_pct": 90}),
             Battery(**BAT | {"name": "c", "owner": "b", "peak_target_pct": 80, "peak_target_kw": 300})]
    fleet = BatteryFleet.build(specs, ["a", "b"])
    contract = [1000.0, 400.0]
    assert fleet.peak_target_kw(100, contract) == pytest.approx([900.0, 300.0])
    fleet.peak_history = {100: [700.0, 0.0], 101: [650.0, 0.0]}
    assert fleet.peak_target_kw(102, contract) == pytest.approx([630.0, 300.0])
    assert fleet.peak_target_kw(112, contract) == pytest.approx([630.0, 300.0])
    assert fleet.peak_target_kw(113, contract) == pytest.approx([585.0, 300.0])


def test_self_consumption_keeps_own_plant_certificates_net_of_losses(tmp_path):
    """The re_matching day above with the 400 kW fuel cell the tenant's own, behind its meter (no net
    metering), and a self_consumption battery at 81 % round trip (90 % each way), 1,200 kWh / 200 kW."""
    day = [200.0] * 12 + [600.0] * 12
    data = {
        "name": "own",
        "tenants": [{"name": "t", "load_file": str(csv(tmp_path / "t.csv", day * 365))}],
        "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 400, "availability": 1.0,
                        "owner": "tenant", "host_tenant": "t", "net_metering": False}],
        "batteries": [{"name": "b", "owner": "t", "energy_kwh": 1200, "power_kw": 200, "strategy": "self_consumption",
                       "round_trip_efficiency_pct": 81, "soc_min_pct": 0, "soc_max_pct": 100,
                       "initial_soc_pct": 0, "fade_pct_per_cycle": 0}],
    }
    inv, summary, bat = run(tmp_path, data)
    b = bat[bat.month == "2026-01"].iloc[0]
    # Each day: hours 0-5 take the 200 kW surplus, storing 180 an hour (1,080 kWh); hour 6 takes
    # (1,200 - 1,080) / 0.9 = 133.3 kWh and fills it: 1,333.3 kWh taken in (= 1,200 / 0.9). Hours 12-17 deliver
    # 200 kW, 222.2 kWh out of the cells an hour, until the 1,200 kWh are out: 1,200 x 0.9 = 1,080 kWh delivered
    # (5 h x 200 + 80). Lost 133.3 + 120 = 253.3 kWh a day (1,333.3 - 1,080: the 81 % round trip).
    assert b["charged_re_kwh"] == pytest.approx(31 * 1_200.0 / 0.9)
    assert b["discharged_re_kwh"] == pytest.approx(31 * 1_080.0)
    assert b["loss_kwh"] == pytest.approx(31 * (1_200.0 / 0.9 - 1_080.0))
    # Certificates: the tenant retires its own plant's RECs for what reached its load: directly
    # 31 x 7,200 = 223,200 kWh, through the battery 33,480 kWh: 256.68 MWh (the 7,853 kWh lost are not claimed).
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert jan.loc[(jan.status == "retired") & (jan.claimant == "t"), "mwh"].sum() == pytest.approx(256.68)
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9


def test_bundled_storage_scenario_balances(tmp_path):
    """The bundled storage scenario, one year: every battery works by its rule, and the books balance."""
    from re100sim.scenarios import bundled_scenarios

    data = yaml.safe_load(bundled_scenarios()["storage-behind-the-meter"].read_text(encoding="utf-8"))
    inv, summary, bat = run(tmp_path, data | {"years": 1})
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-6
    assert abs(summary["invariants"]["money_residual_krw"]) < 0.5
    assert summary["invariants"]["certificate_residual"] < 1e-9
    per = bat.groupby("agent")[["charged_kwh", "charged_re_kwh", "discharged_kwh", "loss_kwh"]].sum()
    assert (per["discharged_kwh"] > 0).all()
    # RE strategies charge only RE, grid strategies only grid energy
    assert per.loc[["auto-parts-ess", "chemicals-ess"], "charged_re_kwh"].tolist() == pytest.approx(
        per.loc[["auto-parts-ess", "chemicals-ess"], "charged_kwh"].tolist())
    assert (per.loc[["semicon-ess", "packaging-ess"], "charged_re_kwh"] == 0).all()
    # losses are the round trip's: at 85 % about 15 % of what went in (SOC changes aside)
    assert per["loss_kwh"].sum() == pytest.approx(0.15 * per["charged_kwh"].sum(), rel=0.05)
    demand = pd.read_parquet(tmp_path / "o" / "battery_demand.parquet")
    semicon = demand[demand.tenant == "semicon-tools"]
    assert (semicon["billing_kw"] <= semicon["billing_without_kw"] + 1e-9).all()
    saving = demand.groupby("tenant")["basic_charge_saving_krw"].sum()
    assert saving["semicon-tools"] > 0  # peak shaving
    # chemicals is a direct-PPA user: its basic charge is on what its site draws from grid and plant; its
    # re_matching battery takes PPA surplus in billed hours only under the billing-demand floor or the month's
    # load peak so far (docs/decisions.md#storage-dispatch), so it never raises that demand
    chem = demand[demand.tenant == "chemicals"]
    ratchet = chem[chem.month.str.slice(5).isin(["01", "02", "07", "08", "09", "12"])]
    assert (ratchet["peak_kw"] <= ratchet["peak_without_kw"] + 1e-9).all()  # the peaks the ratchet carries
    assert (chem["billing_kw"] <= chem["billing_without_kw"] + 1e-9).all()
    assert saving["chemicals"] >= 0
    # the table is written in whole won (each row rounded): the sum may differ by half a won a row
    assert summary["storage"]["basic_charge_saving_krw"] == pytest.approx(saving.sum(), abs=0.5 * len(demand))
    assert summary["storage"]["capital_and_om_krw"] > 0


def test_battery_energy_carried_into_a_month_that_stores_none(tmp_path):
    """Two tenants as above, each with a lossless 1,200 kWh / 200 kW battery, empty at the start: s owns a
    400 kW fuel cell behind its meter (no net metering; self_consumption battery), u buys a 400 kW fuel
    cell's output by bundled PPA (pay-as-consumed; re_matching battery). Both use the 200/600 kW day on
    1-30 January, 200 kW all of 31 January and of 1 February 00-12 h, then 600 kW flat: the battery ends
    January full, so the 200 kW surplus of 1 February 00-12 h is exported, and it delivers its 1,200 kWh at
    1 February 12-18 h, in a month in which it stores nothing: the delivered energy is shared over the
    tenant's suppliers by their applied energy (battery_re_claim_kwh)."""
    jan = ([200.0] * 12 + [600.0] * 12) * 30 + [200.0] * 24
    load = jan + [200.0] * 12 + [600.0] * (8760 - 744 - 12)
    lossless = {"energy_kwh": 1200, "power_kw": 200, "round_trip_efficiency_pct": 100, "soc_min_pct": 0,
                "soc_max_pct": 100, "initial_soc_pct": 0, "fade_pct_per_cycle": 0}
    data = {
        "name": "carry",
        "tenants": [{"name": "s", "load_file": str(csv(tmp_path / "s.csv", load))},
                    {"name": "u", "load_file": str(csv(tmp_path / "u.csv", load))}],
        "generators": [{"name": "own", "technology": "fuel_cell", "capacity_kw": 400, "availability": 1.0,
                        "owner": "tenant", "host_tenant": "s", "net_metering": False},
                       {"name": "fc", "technology": "fuel_cell", "capacity_kw": 400, "availability": 1.0}],
        "contracts": [{"name": "c", "generator": "fc", "tenant": "u", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 0.0}],
        "batteries": [{"name": "bs", "owner": "s", "strategy": "self_consumption"} | lossless,
                      {"name": "bu", "owner": "u", "strategy": "re_matching"} | lossless],
    }
    inv, summary, bat = run(tmp_path, data)
    feb = bat[bat.month == "2026-02"].set_index("agent")
    assert feb["charged_kwh"].tolist() == [0.0, 0.0] and feb["discharged_re_kwh"].tolist() == [1_200.0, 1_200.0]
    # January, each tenant: direct 30 x (12 x 200 + 12 x 400) + 24 x 200 = 220,800 kWh of its plant's energy;
    # stored 31 x 1,200 = 37,200 kWh, delivered 30 x 1,200 = 36,000 (none on the 31st): it retires
    # 220.8 + 36.0 = 256.8 MWh. February: of its plant's 400 x 672 = 268,800 kWh, 12 x 200 = 2,400 exported
    # on the 1st, 266,400 used directly; s retires those and the 1,200 kWh its battery delivered, 267.6 MWh
    # (the carried kWh are retired from February's batch: docs/settlement-kernel.md step 4b, a simplification
    # of vintages). u retires only its 266.4 MWh applied: a bundled PPA moves it the RECs of what it took this
    # month (applied + stored + paid surplus); the 1,200 kWh its battery delivered were moved to it with
    # January's batch, where they stay held (and are sold) instead of claimed.
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    rec = certs[(certs.kind == "rec") & certs.month.isin(["2026-01", "2026-02"])]
    retired = rec[rec.status == "retired"].groupby(["claimant", "source", "month"]).mwh.sum().round(6).to_dict()
    assert retired == {("s", "own", "2026-01"): 256.8, ("s", "own", "2026-02"): 267.6,
                       ("u", "fc", "2026-01"): 256.8, ("u", "fc", "2026-02"): 266.4}
    # u paid for applied + stored = 220,800 + 37,200 = 258,000 kWh in January and holds their RECs: it sells
    # the 258.0 - 256.8 = 1.2 MWh it did not retire at the quarter's end, 1.2 x 1.9 = 2.28 RECs; the plant fc
    # sells its exported 30 x 6 x 200 + 18 x 200 = 39,600 kWh (hours 6-11, and 6-23 on the 31st) and the 2,400
    # of 1 February: 42.0 MWh x 1.9 = 79.8 RECs; s its own plant's January 297.6 - 256.8 = 40.8 MWh not used on
    # site (39.6 sold at SMP + 1.2 left in the battery) and February's 2.4 exported: 79.8 RECs as well.
    assert line_sum(inv, "2026-01", "u", "ppa_energy") == pytest.approx(258_000.0)
    sales = inv[(inv.month == "2026-03") & (inv.item == "rec_sale")]
    assert dict(zip(sales.payee, sales.quantity.round(6))) == {"u": 2.28, "fc": 79.8, "s": 79.8}
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9
    assert summary["invariants"]["certificate_residual"] < 1e-9


def line_sum(inv, month: str, payer: str, item: str) -> float:
    return float(inv[(inv.month == month) & (inv.payer == payer) & (inv.item == item)]["quantity"].sum())


def test_take_or_pay_with_stored_ppa_energy_bills_and_certifies_by_hand(tmp_path):
    """The re_matching day above under 90 % take-or-pay (pay-as-consumed, min_take_pct 90): energy stored in the
    tenant's battery counts as taken, so the minimum take binds on applied + stored, not on applied alone."""
    data = re_matching_day(tmp_path, "take", settlement="pay_as_consumed", min_take_pct=90)
    inv, summary, bat = run(tmp_path, data)
    b = bat[bat.month == "2026-01"].iloc[0]
    assert b["charged_re_kwh"] == pytest.approx(37_200.0)  # as above: 31 x 1,200 kWh stored, all PPA energy
    # January, contracted 400 kW x 744 h = 297,600 kWh: applied 31 x 7,200 = 223,200, stored 37,200, exported
    # (hours 6-11) 37,200. Taken = applied + stored = 260,400 < 90 % x 297,600 = 267,840: the tenant pays for
    # 267,840 kWh, 223,200 at 100 KRW plus 44,640 of surplus at its average price 100 -> 26,784,000 KRW.
    rows = inv[(inv.month == "2026-01") & (inv.payer == "t") & (inv.item == "ppa_energy")]
    assert rows["quantity"].sum() == pytest.approx(267_840.0)
    assert rows["krw"].sum() == 26_784_000
    # Of the 37,200 kWh surplus beyond what was taken (297,600 - 260,400), the tenant paid for
    # 267,840 - 260,400 = 7,440 kWh: a fifth. It gets a fifth of the exported 37,200 kWh's SMP revenue
    # (7,440 kWh; the plant 29,760) and, bundled, of their RECs: applied + stored + a fifth of the exported,
    # 223.2 + 37.2 + 7.44 = 267.84 MWh; it retires the 260.4 that reached its load (directly or through the
    # battery) and sells the 7.44 MWh it paid for; the plant sells its 297.6 - 267.84 = 29.76.
    smp = inv[(inv.month == "2026-01") & (inv.item == "ppa_surplus_smp")]
    assert dict(zip(smp["payee"], smp["quantity"])) == pytest.approx({"t": 7_440.0, "fc": 29_760.0})
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert sorted(zip(jan["owner"], jan["status"], jan["mwh"].round(6))) == [
        ("rec_market", "issued", 7.44), ("rec_market", "issued", 29.76), ("t", "retired", 260.4)]
    # The quarter's sale: a fifth of the surplus every day of January to March, (31 + 28 + 31) x 240 kWh =
    # 21.6 MWh x 1.9 RECs/MWh (fuel cell, docs/domain.md#rec-weights) = 41.04 RECs.
    sale = inv[(inv.month == "2026-03") & (inv.item == "rec_sale") & (inv.payee == "t")]
    assert sale["quantity"].sum() == pytest.approx(41.04)
    assert abs(summary["invariants"]["energy_residual_mwh"]) < 1e-9


# --- monthly settlement of a cloud-ESS share the KEPCO meter does not net (simulator/market/monthly.py) ---


def test_unnetted_cloud_share_fee_vat_and_the_basic_charge_on_the_peak_without_it(tmp_path):
    """The 500 kW tenant with one 700 kW hour on 5 Jan (contract 1,000 kW) subscribes 400 kWh (200 kW) of a
    lossless 1,000 kWh / 500 kW cloud ESS at 5,000 KRW per kWh-month, peak_shaving at 550 kW; the meter does
    not net the share (bill_sees_peak: false, the default). The share delivers 150 kWh in the spike hour
    (energy light 380 x 500 + 200 + 150 = 190,350 kWh, peak 126 x 500 + 200 - 150 = 63,050 kWh, as with a
    netted share), but the basic charge is on the peak without it: 700 kW x 8,320 = 5,824,000 KRW.
    Fee 400 x 5,000 = 2,000,000 KRW + 10 % VAT 200,000, which the cloud ESS's account remits. A flat 500 kW
    neighbour u without a share pays its basic charge on its own meter's peak: 500 x 8,320 = 4,160,000 KRW."""
    load = [500.0] * 8760
    load[SPIKE_HOUR] = 700.0
    data = {
        "name": "cloud-unnetted",
        "tenants": [{"name": "t", "load_file": str(csv(tmp_path / "t.csv", load)), "contract_kw": 1000},
                    {"name": "u", "load_file": str(csv(tmp_path / "u.csv", [500.0] * 8760)), "contract_kw": 1000}],
        "cloud_ess": [{"name": "park-ess", "energy_kwh": 1000, "power_kw": 500, "round_trip_efficiency_pct": 100,
                       "soc_min_pct": 0, "soc_max_pct": 100, "initial_soc_pct": 50, "fade_pct_per_cycle": 0,
                       "subscriptions": [{"tenant": "t", "energy_kwh": 400, "strategy": "peak_shaving",
                                          "peak_target_kw": 550, "fee_krw_per_kwh_month": 5000}]}],
    }
    inv, summary, _ = run(tmp_path, data)
    jan, q = kepco_lines(inv, "2026-01")
    assert q["basic_charge"] == pytest.approx(700.0) and jan["basic_charge"] == 5_824_000
    assert q["energy_light"] == pytest.approx(190_350.0) and q["energy_peak"] == pytest.approx(63_050.0)
    assert kepco_lines(inv, "2026-01", "u")[0]["basic_charge"] == 4_160_000
    m = inv[inv.month == "2026-01"]
    fee = m[(m.payer == "t") & (m.payee == "park-ess")]
    assert dict(zip(fee["item"], fee["krw"])) == {"cloud_ess_fee": 2_000_000, "cloud_ess_fee_vat": 200_000}
    remit = m[(m.payer == "park-ess") & (m.payee == "nts")]
    assert dict(zip(remit["item"], remit["krw"])) == {"vat_remittance": 200_000}
    assert summary["storage"]["basic_charge_saving_krw"] == 0
