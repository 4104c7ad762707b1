"""Economics of settlement, through the whole engine: own plants cost money, one payment and one
certificate per kWh, VAT on both sides, RE claims and CO2 as the K-RE100 rules count them.

Hand-worked numbers in the comments; the harness (flat loads, fuel cells at availability 1, January
2026 hour counts) is the golden-invoice one (tests/test_golden_invoices.py).
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from test_golden_invoices import flat_csv, lines
from typer.testing import CliRunner

from re100sim.simulator.cli import app


def run_year(tmp_path, data, years: int = 1):
    base = {"start_date": "2026-01-01", "years": years, "seed": 1}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base | data), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(p), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    o = tmp_path / "o"
    return (pd.read_parquet(o / "invoices.parquet"), pd.read_parquet(o / "kpis_tenants.parquet"),
            pd.read_parquet(o / "certificates.parquet"), json.loads((o / "summary.json").read_text()))


def fc_ppa(tmp_path, name: str, load_kw: float, broker: dict | None = None, **terms) -> dict:
    """A flat ``load_kw`` tenant ``t`` buying a flat 300 kW fuel cell's whole output (availability 1) at a fixed
    100 KRW/kWh; ``terms`` are extra contract fields."""
    return {
        "name": name,
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", load_kw))}],
        "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 300, "availability": 1.0}],
        "broker": broker or {"name": "KT", "fee_krw_per_kwh": 1.0},
        "contracts": [{"name": "c", "generator": "fc", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}} | terms],
    }


def test_own_rooftop_plant_pays_capital_cost_and_om(tmp_path):
    """One tenant with its own 1 MW rooftop PV for a year: capex 1.2 M KRW/kW, owner's rate 6 %, 20 years,
    O&M 18,000 KRW/kW/yr (the defaults). CRF(6 %, 20) = 0.06 / (1 - 1.06^-20) = 0.0871846;
    annuity = 1,200,000,000 x 0.0871846 = 104,621,5xx KRW/yr, booked as 12 monthly parts of
    8,718,456 (rounded to the won); O&M 18,000 x 1,000 / 12 = 1,500,000 a month."""
    data = {
        "name": "own-roof",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 800.0))}],
        "generators": [{"name": "roof", "capacity_kw": 1000, "owner": "tenant", "host_tenant": "t"}],
    }
    inv, kpis, _, s = run_year(tmp_path, data)
    cap = inv[(inv.payer == "roof") & (inv.payee == "capital")]
    om = inv[(inv.payer == "roof") & (inv.payee == "om_contractor")]
    assert len(cap) == len(om) == 12
    assert set(cap["krw"]) == {8_718_456}  # 1.2e9 x 0.0871846 / 12
    assert set(om["krw"]) == {1_500_000}  # 18,000 x 1,000 / 12
    t = kpis[(kpis.agent == "t")].iloc[0]
    assert t["own_plant_capital_krw"] == 12 * 8_718_456  # 104,621,472
    assert t["own_plant_om_krw"] == 18_000_000
    # The tenant's cost is its KEPCO bills plus its plant's account (capital + O&M, nothing sold: the
    # plant is net-metered, <= 1,000 kW, docs/domain.md#self-generation).
    kepco = int(inv.loc[(inv.payer == "t") & (inv.payee == "KEPCO"), "krw"].sum())
    assert t["cost_krw"] == kepco + 104_621_472 + 18_000_000
    assert t["savings_krw"] == t["baseline_krw"] - t["cost_krw"]
    assert s["cost"]["own_plant_capital_krw"] == 104_621_472
    # VAT: the KEPCO bills' VAT is the only VAT this tenant pays; ex VAT, cost and baseline both drop it.
    vat = int(inv.loc[(inv.payer == "t") & (inv.item == "vat"), "krw"].sum())
    assert t["cost_ex_vat_krw"] == t["cost_krw"] - vat
    assert s["cost"]["savings_ex_vat_krw"] == t["baseline_ex_vat_krw"] - t["cost_ex_vat_krw"]


def test_upfront_capital_cost_is_booked_once(tmp_path):
    """capital_cost: upfront books the whole capex, 1,000 kW x 1,200,000 = 1,200,000,000, in the first month."""
    data = {
        "name": "own-roof-upfront",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 800.0))}],
        "generators": [{"name": "roof", "capacity_kw": 1000, "owner": "tenant", "host_tenant": "t",
                        "capital_cost": "upfront"}],
    }
    inv, kpis, _, _ = run_year(tmp_path, data)
    cap = inv[(inv.payer == "roof") & (inv.payee == "capital")]
    assert cap["month"].astype(str).tolist() == ["2026-01"]
    assert cap["item"].tolist() == ["capital_expenditure"] and cap["krw"].tolist() == [1_200_000_000]


def test_net_metered_export_earns_no_rec_sale(tmp_path):
    """A tenant's own 1,000 kW rooftop PV, net-metered (solar <= 1,000 kW, docs/domain.md#self-generation), on a flat
    100 kW load: most of its output is exported and credited against later grid kWh. Those kWh are paid once,
    by the credit: they earn no REC, so nothing is sold; RECs are issued only on the self-consumed kWh, and the
    owner retires all of them for its claim."""
    data = {
        "name": "net-metered",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 100.0))}],
        "generators": [{"name": "roof", "capacity_kw": 1000, "owner": "tenant", "host_tenant": "t"}],
    }
    inv, kpis, certs, _ = run_year(tmp_path, data)
    assert "rec_sale" not in set(inv["item"])
    assert (inv["item"] == "net_metering_credit_kwh").any()  # the export was credited
    rec = certs[certs.kind == "rec"]
    assert set(rec["status"]) == {"retired"} and set(rec["claimant"]) == {"t"}
    t = kpis[kpis.agent == "t"].iloc[0]
    # RECs on the self-consumed kWh only: what the tenant retired is what its plant delivered to its load
    assert rec["mwh"].sum() == pytest.approx(t["re_delivered_mwh"], rel=1e-9)
    assert t["re_claimed_mwh"] == pytest.approx(t["re_delivered_mwh"], rel=1e-9)


def test_pay_as_produced_surplus_revenue_goes_to_the_payer(tmp_path):
    """Flat 200 kW load, a 300 kW fuel cell (flat, availability 1) selling its whole output pay-as-produced at
    100 KRW/kWh: January 223,200 kWh contracted, 148,800 applied (200 x 744), 74,400 surplus, exported at SMP.
    The tenant pays for all 223,200 kWh (22,320,000 KRW), so the surplus's SMP revenue and bundled RECs are the
    tenant's (one payment per kWh), not the plant's; the tenant retires 148.8 MWh and sells the 74.4 MWh of RECs."""
    inv, _, certs, _ = run_year(tmp_path, fc_ppa(tmp_path, "pap", 200.0, settlement="pay_as_produced"))
    jan = inv[inv.month == "2026-01"]
    paid, q = lines(jan, "t", "KT")
    assert q["ppa_energy"] == pytest.approx(223_200.0) and paid["ppa_energy"] == 22_320_000
    got, qs = lines(jan, "market", "t")
    assert qs["ppa_surplus_smp"] == pytest.approx(74_400.0) and got["ppa_surplus_smp"] > 0
    assert "ppa_surplus_smp" not in lines(jan, "market", "fc")[0]  # the plant is not paid twice
    rec = certs[(certs.kind == "rec") & (certs.month == "2026-01")]
    assert rec.loc[rec.status == "retired", "mwh"].sum() == pytest.approx(148.8)
    assert rec.loc[rec.owner == "rec_market", "mwh"].sum() == pytest.approx(74.4)  # sold at the quarter end
    assert "rec_sale" in lines(inv, "rec_market", "t")[0] and "rec_sale" not in lines(inv, "rec_market", "fc")[0]


def test_take_or_pay_surplus_revenue_is_split_by_what_was_paid_for(tmp_path):
    """As above but pay-as-consumed with 80 % take-or-pay: January contracted 223,200 kWh, applied 148,800,
    billed max(148,800, 0.8 x 223,200 = 178,560) = 178,560. The tenant paid for 178,560 - 148,800 = 29,760 of the
    74,400 surplus kWh (40 %): 29,760 kWh of surplus SMP revenue go to it, 44,640 to the plant, and the bundled
    RECs it holds cover 148.8 + 29.76 = 178.56 MWh."""
    inv, _, certs, s = run_year(tmp_path, fc_ppa(tmp_path, "top", 200.0, min_take_pct=80))
    jan = inv[inv.month == "2026-01"]
    assert lines(jan, "t", "KT")[1]["ppa_energy"] == pytest.approx(178_560.0)
    t_kwh = lines(jan, "market", "t")[1]["ppa_surplus_smp"]
    fc_kwh = lines(jan, "market", "fc")[1]["ppa_surplus_smp"]
    assert t_kwh == pytest.approx(29_760.0) and fc_kwh == pytest.approx(44_640.0)
    t_krw, fc_krw = lines(jan, "market", "t")[0]["ppa_surplus_smp"], lines(jan, "market", "fc")[0]["ppa_surplus_smp"]
    assert t_krw / (t_krw + fc_krw) == pytest.approx(0.4, abs=1e-6)  # flat output: the same SMP hours
    rec = certs[(certs.kind == "rec") & (certs.month == "2026-01")]
    assert rec.loc[rec.claimant == "t", "mwh"].sum() == pytest.approx(148.8)
    assert rec.loc[rec.status == "retired", "mwh"].sum() == pytest.approx(148.8)
    # of the month's 223.2 MWh of RECs, 178.56 went to the tenant (retired or, the paid surplus, sold by it)
    assert s["invariants"]["money_residual_krw"] == 0


def test_bundled_recs_come_from_the_month_of_delivery(tmp_path):
    """A PPA that starts in June on a plant that has earned RECs since January (it sells them at quarter ends,
    so in June it still holds April's and May's): each month's claim retires that month's certificates,
    not the oldest the plant holds. Flat 300 kW fuel cell into a flat 500 kW load: every supplied month
    retires 300 kW x the month's hours (June 216 MWh, July 223.2 MWh ...)."""
    _, _, certs, _ = run_year(tmp_path, fc_ppa(tmp_path, "bundled", 500.0, start_date="2026-06-01"))
    claimed = certs[(certs.status == "retired") & (certs.claimant == "t")].groupby("month")["mwh"].sum()
    assert claimed.index.tolist() == [f"2026-{m:02d}" for m in range(6, 13)]
    assert claimed["2026-06"] == pytest.approx(216.0)  # 300 kW x 720 h
    assert claimed["2026-07"] == pytest.approx(223.2)  # 300 kW x 744 h
    # April and May RECs were sold by the plant at the June quarter end, none claimed
    early = certs[certs.month.isin(["2026-04", "2026-05"]) & (certs.kind == "rec")]
    assert set(early["owner"]) == {"rec_market"} and early["claimant"].isna().all()


def test_pay_as_produced_with_surplus_to_generator_is_rejected(tmp_path):
    data = {
        "name": "bad", "start_date": "2026-01-01", "years": 1, "seed": 1,
        "tenants": [{"name": "t", "annual_use_mwh": 1000}],
        "generators": [{"name": "g", "capacity_kw": 300}],
        "contracts": [{"name": "c", "generator": "g", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "settlement": "pay_as_produced",
                       "surplus_revenue_to": "generator"}],
    }
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "one payment per kWh" in res.output


def test_green_claim_with_rec_sold_is_issued_twice(tmp_path):
    """A 100 kW pooled fuel cell (flat, 876 MWh a year) keeps and sells its RECs (the KIEE 2020 green-tariff paper
    step 2) while its one subscriber claims green certificates on all of it (subscription 876 MWh/yr, flat
    500 kW load): every month's MWh is claimed once and sold once as a REC -> 12 issued_twice findings on
    876 MWh, none a double claim (no REC is retired), and none of it counts in the tenant's RE share."""
    data = {
        "name": "twice",
        "tenants": [{"name": "a", "load_file": str(flat_csv(tmp_path / "a.csv", 500.0))}],
        "generators": [{"name": "pool", "technology": "fuel_cell", "capacity_kw": 100, "availability": 1.0,
                        "green_pool": True}],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "a", "subscribed_mwh_per_year": 876}]},
    }
    _, kpis, certs, s = run_year(tmp_path, data)
    c = s["certificates"]
    assert c["issued_twice_findings"] == 12 and c["double_counting_findings"] == 0
    assert c["issued_twice_mwh"] == pytest.approx(876.0)  # 100 kW x 8,760 h
    assert c["retired_by_tenants_mwh"] == pytest.approx(876.0)
    a = kpis[kpis.agent == "a"].iloc[0]
    assert a["re_claimed_mwh"] == pytest.approx(0.0, abs=1e-6)
    assert a["re_claimed_twice_mwh"] == pytest.approx(876.0)
    assert s["re_share_annual"] == pytest.approx(0.0, abs=1e-9)


def test_green_premium_is_not_zero_emission(tmp_path):
    """A flat 500 kW tenant (4,380 MWh a year) buys a green premium on 1,200 MWh/yr: it counts toward its RE
    claim, but not toward GHG reduction (only RECs and qualifying instruments do, docs/domain.md#procurement-routes),
    so market-based CO2 stays at 4,380 x 0.4173 = 1,827.774 t; a REC purchase of the same share would cut it."""
    data = {
        "name": "premium",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 500.0))}],
        "green_premium": [{"tenant": "t", "volume_mwh_per_year": 1200}],
    }
    _, kpis, _, s = run_year(tmp_path, data)
    t = kpis[kpis.agent == "t"].iloc[0]
    assert t["re_claimed_mwh"] == pytest.approx(1200.0)
    assert t["co2_market_t"] == pytest.approx(1827.774)  # 4,380 x 0.4173
    assert s["co2_t"] == pytest.approx(1827.774)


def test_rec_weight_blends_the_bands_of_a_5mw_ground_plant(tmp_path):
    """docs/domain.md#rec-weights, general land: 1.2 on the first 100 kW, 1.0 to 3 MW, 0.7 on the part above 3 MW.
    A 5 MW ground plant: (100 x 1.2 + 2,900 x 1.0 + 2,000 x 0.7) / 5,000 = (120 + 2,900 + 1,400) / 5,000 = 0.884,
    not 0.7 (or the rooftop 1.0) on the whole plant. The same plant on roofs: (3,000 x 1.5 + 2,000 x 1.0) / 5,000
    = 1.3; floating: (100 x 1.6 + 2,900 x 1.4 + 2,000 x 1.2) / 5,000 = 1.324."""
    from re100sim.simulator.scenario.config import GeneratorSpec

    assert GeneratorSpec(name="g", capacity_kw=5000, mount="ground").effective_rec_weight() == pytest.approx(0.884)
    assert GeneratorSpec(name="g", capacity_kw=5000).effective_rec_weight() == pytest.approx(1.3)
    assert GeneratorSpec(name="g", capacity_kw=5000, mount="floating").effective_rec_weight() == pytest.approx(1.324)
    assert GeneratorSpec(name="g", capacity_kw=80, mount="ground").effective_rec_weight() == pytest.approx(1.2)
    data = {
        "name": "ground",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 500.0))}],
        "generators": [{"name": "field", "capacity_kw": 5000, "owner": "private", "mount": "ground"}],
    }
    _, _, certs, _ = run_year(tmp_path, data)
    rec = certs[certs.kind == "rec"]
    assert set(rec["weight"].round(9)) == {0.884}
    assert rec["certificates"].sum() == pytest.approx(0.884 * rec["mwh"].sum())


def test_pool_is_paid_the_market_monthly_smp_the_standard_price_is_indexed_to(tmp_path):
    """Green tariff with the standard price SMP + 45 KRW/kWh (the KIEE 2020 green-tariff paper step 4): the pool plant
    is paid the market's monthly weighted-average SMP (step 1), the same figure the standard price is built on,
    so each month standard price - pool price = 45 KRW/kWh (to the won's rounding), not the plant's own
    output-weighted SMP (a solar plant's output weights the cheaper midday hours)."""
    data = {
        "name": "pool-price",
        "tenants": [{"name": "a", "load_file": str(flat_csv(tmp_path / "a.csv", 500.0))}],
        "generators": [{"name": "pool", "capacity_kw": 400, "green_pool": True}],
        "green_tariff": {"price": {"kind": "smp_indexed", "adder_krw_per_kwh": 45.0},
                         "subscribers": [{"tenant": "a", "subscribed_mwh_per_year": 400}]},
    }
    inv, _, _, _ = run_year(tmp_path, data)
    pool = inv[inv.item == "green_pool_purchase"].set_index("month")
    green = inv[inv.item == "green_tariff_energy"].set_index("month")
    gap = green["krw"] / green["quantity"] - pool["krw"] / pool["quantity"]
    assert len(gap) == 12 and gap.sub(45.0).abs().max() < 1e-3


def test_ppa_fund_when_switched_on(tmp_path):
    """broker.ppa_fund_pct (off by default: the fund is inside the default all-in network fee) levies the fund on
    the PPA energy charge, truncated to 10 won like KEPCO's, without VAT on it, passed to KEPCO. January: 300 kW x
    744 h = 223,200 kWh at 100 KRW/kWh = 22,320,000; fund 2.7 % = 602,640."""
    inv, _, _, s = run_year(tmp_path, fc_ppa(tmp_path, "fund", 500.0, broker={"name": "KT", "ppa_fund_pct": 2.7}))
    jan = inv[inv.month == "2026-01"]
    assert lines(jan, "t", "KT")[0]["ppa_power_industry_fund"] == 602_640  # 22,320,000 x 0.027
    assert lines(jan, "KT", "KEPCO")[0]["ppa_power_industry_fund"] == 602_640
    assert "ppa_power_industry_fund_vat" not in set(inv["item"])
    assert s["invariants"]["money_residual_krw"] == 0
