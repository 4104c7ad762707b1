"""Golden invoices for every PPA clause, the REC market and the policy path, through the whole engine.

Each test runs a tiny complex (flat loads from metering files, fuel cells at availability 1, so
every hour is alike) through ``re100sim.simulator.run.run`` and checks lines worked by hand. The
markets are flattened: SMP 80 KRW/kWh in every hour (no hourly shape, no midday dip, no noise)
and the REC price 50,000 KRW/REC in every month (no volatility).

Lines are picked one at a time by (month, payer, payee, item), so lines added beside them (VAT
on PPA invoices, for example) do not disturb these checks.

Hours: January, March, July 2026/2027 have 744 h (31 days), February 2026 672 h; a year 8,760 h.

The base contract (:func:`ppa_complex`): tenant ``t`` at a flat 200 kW buys the whole output of a
300 kW fuel cell ``fc`` (share 1.0) at a fixed 100 KRW/kWh; network fee 40 KRW/kWh plus 1,000
KRW per contracted kW a month; broker fee 1 KRW/kWh. Each hour the plant makes 300 kWh, 200 are
applied to the load, 100 are surplus exported at SMP. January: contracted 300 x 744 = 223,200 kWh,
applied 200 x 744 = 148,800 kWh, surplus 100 x 744 = 74,400 kWh.
"""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from re100sim.simulator.run import run

SMP_KRW_PER_KWH = 80.0
REC_KRW_PER_REC = 50_000.0
UNITS = {"kWh", "kW", "KRW", "REC"}  # every invoice line's quantity is in one of these
FLAT_MARKETS = {
    "smp": {"level_override_krw_per_kwh": SMP_KRW_PER_KWH, "hourly_shape": [1.0] * 24, "noise_sd": 0.0,
            "midday_dip_weekday": 0.0, "midday_dip_saturday": 0.0, "midday_dip_sunday_holiday": 0.0},
    "rec": {"level_override_krw_per_rec": REC_KRW_PER_REC, "volatility": 0.0},
}


def flat_csv(path, kw: float) -> str:
    path.write_text("kw\n" + f"{kw}\n" * 8760, encoding="utf-8")
    return str(path)


def fuel_cell(name: str, kw: float, **more) -> dict:
    return {"name": name, "technology": "fuel_cell", "capacity_kw": kw, "availability": 1.0} | more


def run_scenario(tmp_path, data: dict, years: int = 1) -> dict[str, pd.DataFrame]:
    base = {"name": "golden", "start_date": "2026-01-01", "years": years, "seed": 1, "markets": FLAT_MARKETS}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base | data), encoding="utf-8")
    out = run(p, tmp_path / "out").out_dir
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("invoices", "certificates", "compliance")}
    assert set(tables["invoices"].unit) <= UNITS, set(tables["invoices"].unit) - UNITS
    return tables


def line(inv: pd.DataFrame, month: str, payer: str, payee: str, item: str) -> pd.Series:
    """The one invoice line of ``item`` from ``payer`` to ``payee`` in ``month``."""
    rows = inv[(inv.month == month) & (inv.payer == payer) & (inv.payee == payee) & (inv.item == item)]
    assert len(rows) == 1, f"{len(rows)} lines {month} {payer}->{payee} {item}"
    return rows.iloc[0]


def no_line(inv: pd.DataFrame, month: str, payee: str, item: str) -> bool:
    return inv[(inv.month == month) & (inv.payee == payee) & (inv.item == item)].empty


def ppa_complex(tmp_path, load_kw: float = 200.0, plant: dict | None = None, **contract) -> dict:
    c = {"name": "c", "generator": "fc", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
         "price": {"kind": "fixed", "price_krw_per_kwh": 100.0},
         "network_fee_krw_per_kwh": 40.0, "network_fee_krw_per_kw_month": 1_000.0} | contract
    return {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", load_kw)}],
        "generators": [plant or fuel_cell("fc", 300.0)],
        "broker": {"name": "KT", "fee_krw_per_kwh": 1.0},
        "contracts": [c],
    }


# --- a surplus month under each settlement mode -------------------------------------------------


def test_pay_as_consumed_surplus_month_surplus_revenue_to_generator(tmp_path):
    """Pay-as-consumed: the tenant pays for the 148,800 kWh applied; the plant sells the surplus."""
    inv = run_scenario(tmp_path, ppa_complex(tmp_path, settlement="pay_as_consumed"))["invoices"]
    energy = line(inv, "2026-01", "t", "KT", "ppa_energy")
    assert energy.quantity == pytest.approx(148_800.0)  # applied kWh only
    assert energy.krw == 14_880_000  # 148,800 x 100
    assert line(inv, "2026-01", "KT", "fc", "ppa_energy").krw == 14_880_000  # passed through to the plant
    # Network fee: per kWh applied plus per kW of contracted capacity (share 1.0 x 300 kW):
    assert line(inv, "2026-01", "t", "KT", "network_fee").krw == 6_252_000  # 148,800 x 40 + 300 x 1,000
    assert line(inv, "2026-01", "KT", "KEPCO", "network_fee").krw == 6_252_000  # passed through to KEPCO
    assert line(inv, "2026-01", "t", "KT", "broker_fee").krw == 148_800  # 148,800 x 1
    # The surplus is the generator's: 74,400 kWh x SMP 80 = 5,952,000, from the market, bought by KEPCO.
    surplus = line(inv, "2026-01", "market", "fc", "ppa_surplus_smp")
    assert surplus.quantity == pytest.approx(74_400.0) and surplus.krw == 5_952_000
    # KEPCO buys the surplus from the market (one line for the PPA surplus; the plant's own export line is 0):
    bought = inv[(inv.month == "2026-01") & (inv.payer == "KEPCO") & (inv["item"] == "market_purchase_smp")]
    assert bought.krw.sum() == 5_952_000 and bought.quantity.max() == pytest.approx(74_400.0)
    assert no_line(inv, "2026-01", "t", "ppa_surplus_smp")
    # February (672 h): 200 x 672 = 134,400 kWh applied; the per-kW fee is per month, not per hour.
    assert line(inv, "2026-02", "t", "KT", "ppa_energy").krw == 13_440_000  # 134,400 x 100
    assert line(inv, "2026-02", "t", "KT", "network_fee").krw == 5_676_000  # 134,400 x 40 + 300,000


def test_pay_as_produced_surplus_month_surplus_revenue_to_tenant(tmp_path):
    """Pay-as-produced: the tenant pays for all 223,200 kWh contracted and, as agreed, receives the
    SMP revenue of the 74,400 kWh it paid for but could not use."""
    data = ppa_complex(tmp_path, settlement="pay_as_produced", surplus_revenue_to="tenant")
    inv = run_scenario(tmp_path, data)["invoices"]
    energy = line(inv, "2026-01", "t", "KT", "ppa_energy")
    assert energy.quantity == pytest.approx(223_200.0)
    assert energy.krw == 22_320_000  # 223,200 x 100 (vs 14,880,000 pay-as-consumed)
    assert line(inv, "2026-01", "KT", "fc", "ppa_energy").krw == 22_320_000
    assert line(inv, "2026-01", "t", "KT", "network_fee").krw == 6_252_000  # on applied kWh: 148,800 x 40 + 300,000
    assert line(inv, "2026-01", "t", "KT", "broker_fee").krw == 223_200  # on billed kWh: 223,200 x 1
    surplus = line(inv, "2026-01", "market", "t", "ppa_surplus_smp")
    assert surplus.quantity == pytest.approx(74_400.0) and surplus.krw == 5_952_000  # 74,400 x 80
    assert no_line(inv, "2026-01", "fc", "ppa_surplus_smp")
    # Bundled: the surplus's RECs are the tenant's too, so the plant has none to sell at quarter end;
    # the tenant sells the surplus's: 74,400 + 67,200 + 74,400 kWh (Jan-Mar) = 216.0 MWh x 1.9 = 410.4 RECs.
    assert inv[(inv["item"] == "rec_sale") & (inv.payee == "fc")].empty
    assert line(inv, "2026-03", "rec_market", "t", "rec_sale").quantity == pytest.approx(410.4)


def test_take_or_pay_at_80_pct(tmp_path):
    """Pay-as-consumed with an 80 % take-or-pay: applied 148,800 kWh is 66.7 % of 223,200, so the
    tenant pays for 0.8 x 223,200 = 178,560 kWh: the 148,800 applied at 100 plus 29,760 of the
    surplus at the surplus's average contract price 100."""
    data = ppa_complex(tmp_path, settlement="pay_as_consumed", min_take_pct=80.0, surplus_revenue_to="tenant")
    inv = run_scenario(tmp_path, data)["invoices"]
    energy = line(inv, "2026-01", "t", "KT", "ppa_energy")
    assert energy.quantity == pytest.approx(178_560.0)
    assert energy.krw == 17_856_000  # 14,880,000 + 29,760 x 100
    assert line(inv, "2026-01", "KT", "fc", "ppa_energy").krw == 17_856_000
    assert line(inv, "2026-01", "t", "KT", "broker_fee").krw == 178_560  # 178,560 x 1
    # surplus_revenue_to: tenant: all 74,400 surplus kWh earn SMP for the tenant (not only the 29,760 it
    # paid for): 74,400 x 80 = 5,952,000.
    assert line(inv, "2026-01", "market", "t", "ppa_surplus_smp").krw == 5_952_000


def test_take_or_pay_does_not_bind_above_the_minimum(tmp_path):
    """A 400 kW tenant uses all 223,200 kWh (> 80 %): the minimum does not bind."""
    data = ppa_complex(tmp_path, load_kw=400.0, settlement="pay_as_consumed", min_take_pct=80.0,
                       surplus_revenue_to="tenant")
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 22_320_000  # 223,200 x 100
    assert line(inv, "2026-01", "t", "KT", "network_fee").krw == 9_228_000  # 223,200 x 40 + 300,000


def test_fixed_price_escalates_at_the_contract_anniversary(tmp_path):
    """A contract from 1 July 2026 at 100 KRW/kWh escalating 3 %/yr: January 2027 is still in the
    first contract year (100), July 2027 starts the second (103)."""
    data = ppa_complex(tmp_path, start_date="2026-07-01",
                       price={"kind": "fixed", "price_krw_per_kwh": 100.0, "escalation_pct_per_year": 3.0})
    inv = run_scenario(tmp_path, data, years=2)["invoices"]
    assert inv[(inv.month == "2026-06") & (inv.item == "ppa_energy")].empty  # before the start
    assert line(inv, "2026-07", "t", "KT", "ppa_energy").krw == 14_880_000  # 148,800 x 100
    assert line(inv, "2027-01", "t", "KT", "ppa_energy").krw == 14_880_000  # 148,800 x 100
    assert line(inv, "2027-07", "t", "KT", "ppa_energy").krw == 15_326_400  # 148,800 x 103
    assert line(inv, "2027-07", "KT", "fc", "ppa_energy").krw == 15_326_400


# --- export limit, curtailment compensation, RECs ----------------------------------------------


def test_export_limit_curtailment_compensation_and_recs(tmp_path):
    """The plant may export at most 50 kW: of each hour's 100 kWh surplus 50 are exported and 50
    curtailed. January: 37,200 kWh exported, 37,200 curtailed. Pay-as-consumed with 50 %
    curtailment compensation: the tenant pays half the contract price on curtailed energy."""
    data = ppa_complex(tmp_path, plant=fuel_cell("fc", 300.0, export_limit_kw=50.0),
                       settlement="pay_as_consumed", curtailment_compensation_pct=50.0)
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 14_880_000  # 148,800 x 100
    comp = line(inv, "2026-01", "t", "KT", "curtailment_compensation")
    assert comp.quantity == pytest.approx(37_200.0)
    assert comp.krw == 1_860_000  # 37,200 x 100 x 50 %
    assert line(inv, "2026-01", "KT", "fc", "curtailment_compensation").krw == 1_860_000
    assert line(inv, "2026-01", "market", "fc", "ppa_surplus_smp").krw == 2_976_000  # 37,200 x 80
    # RECs only on metered output (generation - curtailment): 223,200 - 37,200 = 186,000 kWh = 186.0 MWh,
    # x 1.9 (fuel cell, docs/domain.md#rec-weights) = 353.4 RECs.
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert jan["mwh"].sum() == pytest.approx(186.0)
    assert jan["certificates"].sum() == pytest.approx(353.4)
    # The year: metered (300 - 50) x 8,760 = 2,190 MWh; the tenant claims what was applied,
    # 200 x 8,760 = 1,752 MWh; the plant sells the rest, 438 MWh x 1.9 = 832.2 RECs x 50,000.
    recs = certs[certs.kind == "rec"]
    assert recs["mwh"].sum() == pytest.approx(2_190.0)
    assert recs[(recs.status == "retired") & (recs.claimant == "t")]["mwh"].sum() == pytest.approx(1_752.0)
    sales = inv[inv.item == "rec_sale"]
    assert sales.quantity.sum() == pytest.approx(832.2) and sales.krw.sum() == 41_610_000
    # Quarter end (March): the plant sells the RECs it still holds, per REC: exported surplus
    # 37.2 (Jan) + 50 x 672 h = 33.6 (Feb) + 37.2 (Mar) = 108.0 MWh x 1.9 = 205.2 RECs x 50,000.
    sale = line(inv, "2026-03", "rec_market", "fc", "rec_sale")
    assert sale.quantity == pytest.approx(205.2)
    assert sale.krw == 10_260_000  # 205.2 x 50,000 (108.0 MWh x 50,000 would be 5,400,000)
    assert inv[(inv.month.isin(["2026-01", "2026-02"])) & (inv.item == "rec_sale")].empty  # only at quarter end


def test_year_end_rec_purchase_net_of_claims(tmp_path):
    """A 500 kW tenant takes a 300 kW fuel cell's whole output by PPA and targets 80 % RE. 2026:
    use 500 x 8,760 = 4,380 MWh, target 0.8 x 4,380 = 3,504 MWh; the PPA's bundled RECs already
    claimed 300 x 8,760 = 2,628 MWh; so in December it buys 3,504 - 2,628 = 876 MWh of unbundled
    RECs. The market holds none (no surplus), so they come from plants outside the complex at
    weight 1: 876 RECs x 50,000 KRW."""
    data = ppa_complex(tmp_path, load_kw=500.0) | {"rec_purchases": [{"tenant": "t", "target_pct": 80}]}
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    buy = line(inv, "2026-12", "t", "rec_market", "rec_purchase")
    assert buy.quantity == pytest.approx(876.0)
    assert buy.krw == 43_800_000  # 876 x 50,000 (ignoring the claims: 3,504 x 50,000 = 175,200,000)
    assert inv[(inv.item == "rec_purchase") & (inv.month != "2026-12")].empty  # only at year end
    claims = certs[(certs.status == "retired") & (certs.claimant == "t")]
    assert claims["mwh"].sum() == pytest.approx(3_504.0)  # 2,628 bundled + 876 bought = 80 % of 4,380


# --- the policy path --------------------------------------------------------------------------


def test_two_year_dea_run_with_authority_installation(tmp_path):
    """DEA obligation (docs/domain.md#policy-rules) on a 1,000 kW flat tenant: use 8,760 MWh/yr;
    project area 2,000,000 m² (>= 1,000,000: the Act applies); capital region, plan year 2026:
    ratio 1.0 x 0.02. Direct trade: a 10 kW off-site fuel cell's whole output by PPA, 87.6 MWh/yr.
    Design capacity factor 0.2.
    Required = (8,760 x 0.02 - 87.6) / (0.2 x 8,760) = 87.6 / 1,752 = 0.05 MW.
    Credited: in-complex capacity only, the 20 kW fuel cell = 0.02 MW (the off-site 0.01 MW is not).
    2026: shortfall 0.03 MW, penalty 1.5 x 0.03 x 1,000 x 1,300,000 = 58,500,000 KRW.
    The authority builds the 0.03 MW shortfall as public rooftop PV at the start of 2027, so 2027
    credits 0.02 + 0.03 = 0.05 MW: compliant."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 1_000.0)}],
        "generators": [fuel_cell("inside", 20.0), fuel_cell("outside", 10.0, in_complex=False)],
        "contracts": [{"name": "c", "generator": "outside", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}}],
        "policy": {"rule": "dea", "project_area_m2": 2_000_000, "design_capacity_factor": 0.2},
    }
    out = run_scenario(tmp_path, data, years=2)
    rows = out["compliance"].set_index("year")
    assert list(rows.index) == [2026, 2027]
    y1, y2 = rows.loc[2026], rows.loc[2027]
    assert y1.ratio == pytest.approx(0.02)
    assert y1.required_mwh == pytest.approx(87.6)  # 175.2 - 87.6
    assert y1.required_mw == pytest.approx(0.05)
    assert y1.credited_mw == pytest.approx(0.02)
    assert y1.credited_mwh == pytest.approx(35.04)  # 0.02 x 0.2 x 8,760
    assert y1.shortfall_mw == pytest.approx(0.03) and not y1.compliant
    assert y1.shortfall_mwh == pytest.approx(52.56)  # 87.6 - 35.04
    assert y1.penalty_krw == pytest.approx(58_500_000.0)
    assert y2.required_mw == pytest.approx(0.05)  # same use and direct trade in 2027
    assert y2.credited_mw == pytest.approx(0.05)  # 0.02 + the authority's 0.03
    assert y2.compliant and y2.shortfall_mw == 0.0 and y2.penalty_krw == 0.0
    # What the authority installed: a public in-complex plant of 30 kW, producing from 2027 on.
    inv = out["invoices"]
    pv = inv[(inv.payee == "complex-pv-2027") & (inv.item == "energy_export_smp")]
    assert sorted(pv.month.unique()) == [f"2027-{m:02d}" for m in range(1, 13)]
    assert pv.krw.sum() > 0


def test_gyeonggi_option_1_corrects_off_site_output(tmp_path):
    """Gyeonggi option 1 (docs/domain.md#policy-rules) in 2026: required = 8,760 MWh x 0.10 = 876 MWh.
    In-complex 50 kW fuel cell: 438 MWh; off-site 100 kW: 876 MWh. In-complex rate 438 / 8,760 =
    0.05 (< 0.10) -> correction factor 0.7 on off-site output: credited 438 + 0.7 x 876 = 1,051.2 MWh.
    Capacity factor (438 + 876) / (0.15 MW x 8,760) = 1.0, so MW = MWh / 8,760."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 1_000.0)}],
        "generators": [fuel_cell("inside", 50.0), fuel_cell("outside", 100.0, in_complex=False)],
        "policy": {"rule": "gyeonggi_option_1"},
    }
    row = run_scenario(tmp_path, data)["compliance"].set_index("year").loc[2026]
    assert row.required_mwh == pytest.approx(876.0)
    assert row.correction_factor == pytest.approx(0.7)
    assert row.credited_mwh == pytest.approx(1_051.2)  # swapped in/off-site: 876 + 0.8 x 438 = 1,226.4
    assert row.capacity_factor == pytest.approx(1.0)
    assert row.required_mw == pytest.approx(0.1)  # 876 / 8,760
    assert row.credited_mw == pytest.approx(0.12)  # 1,051.2 / 8,760
    assert row.compliant and row.shortfall_mwh == 0.0


def test_shaped_volume_network_fee_per_kw_of_profile_peak(tmp_path):
    """A shaped volume of a flat 150 kW from the 300 kW fuel cell to the 200 kW tenant: 150 kWh an
    hour contracted and applied, January 150 x 744 = 111,600 kWh. The per-kW network fee applies
    to the profile's peak, 150 kW."""
    data = ppa_complex(tmp_path, volume={"kind": "shaped", "profile_file": flat_csv(tmp_path / "shape.csv", 150.0)})
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 11_160_000  # 111,600 x 100
    assert line(inv, "2026-01", "t", "KT", "network_fee").krw == 4_614_000  # 111,600 x 40 + 150 x 1,000


# --- self-generation RECs, net metering, a green premium, a plant without RECs -----------------


def test_self_generation_recs_net_metering_premium_and_zero_weight_plant(tmp_path):
    """A tenant-owned 300 kW fuel cell behind the 200 kW tenant's meter, net-metered: each hour 200 kWh
    are used on site and 100 exported and credited (docs/domain.md#self-generation). Only the
    self-consumed kWh earn RECs, for the host to retire: January 200 x 744 = 148,800 kWh = 148.8 MWh,
    x 1.9 = 282.72 RECs, all retired by t (none left to sell at quarter end). A 10 kW public fuel cell
    with REC weight 0 sells 10 x 744 = 7,440 kWh at SMP and earns no REC. A green premium on
    120 MWh a year: 10 MWh a month claimed, 10,000 kWh x 10.4 KRW/kWh = 104,000 KRW."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 200.0)}],
        "generators": [fuel_cell("roof", 300.0, owner="tenant", host_tenant="t", net_metering=True),
                       fuel_cell("zero", 10.0, rec_weight=0.0)],
        "green_premium": [{"tenant": "t", "volume_mwh_per_year": 120.0}],
    }
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    jan = certs[certs.month == "2026-01"].set_index("kind")
    rec = jan.loc["rec"]
    assert (rec.source, rec.owner, rec.status, rec.claimant) == ("roof", "t", "retired", "t")
    assert rec.mwh == pytest.approx(148.8) and rec.certificates == pytest.approx(282.72)  # 148.8 x 1.9
    premium = jan.loc["premium"]
    assert (premium.status, premium.claimant) == ("retired", "t") and premium.mwh == pytest.approx(10.0)  # 120 / 12
    assert line(inv, "2026-01", "t", "korea_energy_agency", "green_premium").krw == 104_000  # 10,000 x 10.4
    assert certs[certs.source == "zero"].empty  # weight 0: no REC batch
    assert line(inv, "2026-01", "market", "zero", "energy_export_smp").krw == 595_200  # 7,440 x 80
    assert line(inv, "2026-01", "KEPCO", "market", "market_purchase_smp").krw == 595_200  # KEPCO buys it
    assert inv[inv.item == "rec_sale"].empty  # the host retired every REC it earned
    # The year: 200 x 8,760 = 1,752 MWh of RECs, all retired by t.
    recs = certs[certs.kind == "rec"]
    assert recs.mwh.sum() == pytest.approx(1_752.0) and set(recs.status) == {"retired"}


def test_year_end_purchase_takes_the_market_recs_first(tmp_path):
    """The base complex (the plant sells its 100 kW surplus and keeps its RECs, weight 1.9) plus a
    100 kW tenant u on the grid with a 10 % target: need 0.10 x 100 x 8,760 = 87.6 MWh. By December
    the market holds the plant's RECs of three quarters (100 kW x 6,552 h = 655.2 MWh), so u buys
    87.6 MWh of them, oldest first: 87.6 x 1.9 = 166.44 RECs x 50,000 = 8,322,000 KRW, and no REC
    comes from plants outside the complex."""
    data = ppa_complex(tmp_path, settlement="pay_as_consumed")
    data["tenants"].append({"name": "u", "load_file": flat_csv(tmp_path / "u.csv", 100.0)})
    data["rec_purchases"] = [{"tenant": "u", "target_pct": 10}]
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    buy = line(inv, "2026-12", "u", "rec_market", "rec_purchase")
    assert buy.unit == "REC" and buy.quantity == pytest.approx(166.44)  # 87.6 x 1.9
    assert buy.krw == 8_322_000  # 166.44 x 50,000
    assert not (certs.source == "rec-market-external").any()
    claimed = certs[(certs.status == "retired") & (certs.claimant == "u")]
    assert claimed.mwh.sum() == pytest.approx(87.6) and set(claimed.source) == {"fc"}


# --- indexed prices and a leap-year profile ---------------------------------------------------


def test_smp_indexed_price_capped(tmp_path):
    """SMP 80 + adder 30 = 110 KRW/kWh, capped at 100: January 148,800 kWh x 100 = 14,880,000 KRW
    (uncapped 16,368,000)."""
    data = ppa_complex(tmp_path, price={"kind": "smp_indexed", "adder_krw_per_kwh": 30.0, "cap_krw_per_kwh": 100.0})
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 14_880_000


def test_smp_indexed_price_floored(tmp_path):
    """SMP 80 + adder 10 = 90 KRW/kWh, floored at 120: January 148,800 kWh x 120 = 17,856,000 KRW
    (unfloored 13,392,000)."""
    data = ppa_complex(tmp_path, price={"kind": "smp_indexed", "adder_krw_per_kwh": 10.0, "floor_krw_per_kwh": 120.0})
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 17_856_000


def test_tariff_indexed_price_is_the_grid_energy_price_less_the_discount(tmp_path):
    """A tariff-indexed PPA at 10 % below the tenant's hourly energy price covers the whole 200 kW load
    every hour, so its January bill is 0.9 x the energy charge KEPCO bills the same tenant without the
    PPA (independent reference: the tariff's own bill; a won of truncation per TOU line)."""
    (tmp_path / "grid").mkdir()
    grid = run_scenario(tmp_path / "grid", {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 200.0)}]})["invoices"]
    energy = sum(line(grid, "2026-01", "t", "KEPCO", f"energy_{p}").krw for p in ("light", "mid", "peak"))
    data = ppa_complex(tmp_path, price={"kind": "tariff_indexed", "discount_pct": 10.0}, settlement="pay_as_consumed")
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == pytest.approx(0.9 * energy, abs=3)


def test_leap_year_shaped_profile_repeats(tmp_path):
    """A shaped volume given as an 8,784-hour (leap) typical year repeats after 8,784 h: a flat 150 kW
    profile still supplies 150 x 744 = 111,600 kWh in January of the second year."""
    (tmp_path / "shape.csv").write_text("kw\n" + "150.0\n" * 8784, encoding="utf-8")
    data = ppa_complex(tmp_path, volume={"kind": "shaped", "profile_file": str(tmp_path / "shape.csv")})
    inv = run_scenario(tmp_path, data, years=2)["invoices"]
    assert line(inv, "2027-01", "t", "KT", "ppa_energy").krw == 11_160_000  # 111,600 x 100


def test_baseload_block_volume(tmp_path):
    """A baseload block of 100 kW from the 300 kW fuel cell to the 200 kW tenant: 100 kWh every hour,
    January 100 x 744 = 74,400 kWh x 100 = 7,440,000 KRW; the per-kW fee on the 100 kW block:
    74,400 x 40 + 100 x 1,000 = 3,076,000 KRW."""
    data = ppa_complex(tmp_path, volume={"kind": "baseload", "block_kw": 100.0})
    inv = run_scenario(tmp_path, data)["invoices"]
    energy = line(inv, "2026-01", "t", "KT", "ppa_energy")
    assert energy.quantity == pytest.approx(74_400.0) and energy.krw == 7_440_000
    assert line(inv, "2026-01", "t", "KT", "network_fee").krw == 3_076_000


def test_green_pool_allocates_only_delivered_energy(tmp_path):
    """A 300 kW pooled fuel cell limited to 200 kW of export: each hour 100 kWh are curtailed, so the pool
    delivers 200 x 744 = 148,800 kWh in January. The 500 kW subscriber's 5,000 MWh/yr subscription
    (5,000,000 x 744 / 8,760 = 424,658 kWh in January) exceeds the pool, so it is allocated all of the
    delivered 148,800 kWh (not the 223,200 generated), at 150 KRW/kWh = 22,320,000 KRW. The complex's
    hourly table shows the plant's 300 kWh every hour of January."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)}],
        "generators": [fuel_cell("pool", 300.0, green_pool=True, export_limit_kw=200.0)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 5_000}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    green = line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy")
    assert green.quantity == pytest.approx(148_800.0) and green.krw == 22_320_000  # 148,800 x 150
    hourly = pd.read_parquet(tmp_path / "out" / "hourly_complex.parquet")
    assert (hourly.gen_kwh.iloc[:744] == 300.0).all()


def test_net_metering_credit_line(tmp_path):
    """A 300 kW rooftop PV behind a flat 100 kW tenant's meter (net-metered: solar <= 1,000 kW,
    docs/domain.md#self-generation) exports at midday and imports at night: the exported kWh are
    credited against the grid kWh, shown as a zero-won line in kWh from the tenant to KEPCO."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 100.0)}],
        "generators": [{"name": "roof", "capacity_kw": 300.0, "owner": "tenant", "host_tenant": "t"}],
    }
    run_scenario(tmp_path, data)
    inv = pd.read_parquet(tmp_path / "out" / "invoices.parquet")
    credit = inv[inv["item"] == "net_metering_credit_kwh"]
    assert len(credit) > 0 and set(credit.unit) == {"kWh"} and (credit.krw == 0).all()
    assert set(credit.payer) == {"t"} and set(credit.payee) == {"KEPCO"}


def test_ppa_power_industry_fund_and_broker_fee_per_kwh(tmp_path):
    """The broker levies the power industry fund on PPA energy (here 0.5 %, truncated to 10 won, no VAT)
    and passes it to KEPCO, and charges 2 KRW/kWh: January energy 148,800 x 100 = 14,880,000 KRW; fund
    14,880,000 x 0.005 = 74,400 KRW; broker fee 148,800 x 2 = 297,600 KRW."""
    data = ppa_complex(tmp_path, settlement="pay_as_consumed")
    data["broker"] = {"name": "KT", "fee_krw_per_kwh": 2.0, "ppa_fund_pct": 0.5}
    inv = run_scenario(tmp_path, data)["invoices"]
    fund = line(inv, "2026-01", "t", "KT", "ppa_power_industry_fund")
    assert (fund.quantity, fund.unit, fund.krw) == (14_880_000.0, "KRW", 74_400)
    assert line(inv, "2026-01", "KT", "KEPCO", "ppa_power_industry_fund").krw == 74_400
    assert line(inv, "2026-01", "t", "KT", "broker_fee").krw == 297_600


def test_plant_capital_cost_annuity_upfront_and_o_and_m(tmp_path):
    """Plant owners' costs (docs/accounts.md). fc: 300 kW x 1,200,000 KRW/kW = 360,000,000 KRW as an
    annuity at 6 % over 20 years: crf = 0.06 / (1 - 1.06^-20) = 0.0871846, so 360,000,000 x 0.0871846
    / 12 = 2,615,536.7 -> 2,615,537 KRW a month; O&M 300 x 18,000 / 12 = 450,000 KRW a month.
    up: 10 kW x 1,000,000 = 10,000,000 KRW booked upfront in its first month, nothing after;
    O&M 10 x 18,000 / 12 = 15,000 KRW."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 100.0)}],
        "generators": [fuel_cell("fc", 300.0, capex_krw_per_kw=1_200_000.0, hurdle_rate_pct=6.0, lifetime_years=20),
                       fuel_cell("up", 10.0, capex_krw_per_kw=1_000_000.0, capital_cost="upfront")],
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "fc", "capital", "capital_annuity").krw == 2_615_537
    assert line(inv, "2026-07", "fc", "capital", "capital_annuity").krw == 2_615_537
    assert line(inv, "2026-01", "fc", "om_contractor", "o_and_m").krw == 450_000
    assert line(inv, "2026-01", "up", "capital", "capital_expenditure").krw == 10_000_000
    assert inv[(inv.payer == "up") & (inv["item"] == "capital_expenditure")].month.tolist() == ["2026-01"]
    assert line(inv, "2026-02", "up", "om_contractor", "o_and_m").krw == 15_000


def test_green_subscription_pro_rata_to_the_months_hours(tmp_path):
    """876 MWh/yr subscribed to a 300 kW pool (223,200 kWh in January, 201,600 in February): the pool
    covers the subscription, which is spread over the year by hours: January 876,000 x 744 / 8,760 =
    74,400 kWh, February 876,000 x 672 / 8,760 = 67,200 kWh, at 150 KRW/kWh."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)}],
        "generators": [fuel_cell("pool", 300.0, green_pool=True)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 876}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy").quantity == pytest.approx(74_400.0)
    feb = line(inv, "2026-02", "t", "KEPCO", "green_tariff_energy")
    assert feb.quantity == pytest.approx(67_200.0) and feb.krw == 10_080_000  # 67,200 x 150


# --- whose RECs under each clause, in a month the tenant takes nothing ----------------------------


def test_bundled_recs_follow_what_the_tenant_paid_for_clause_by_clause(tmp_path):
    """Tenant t is shut in January (0 kW; 500 kW from February) and buys four 100 kW fuel cells' whole output
    (share 1.0) by four contracts, listed in this order: ``ca`` from fa with ``recs: generator`` (REC weight
    set to 1.0), ``cb`` from fb pay-as-consumed, ``cc`` from fc pay-as-produced and ``cd`` from fd
    pay-as-consumed with ``surplus_revenue_to: tenant``, the last three bundled (weight 1.9). Each plant
    makes 100 x 744 = 74,400 kWh in January and March, 100 x 672 = 67,200 kWh in February. Bundled RECs
    follow the kWh the tenant used or paid for (docs/domain.md#direct-ppa "Surplus generation"):

    - January, all exported: fb's 74.4 MWh stay fb's (t used and paid nothing); t paid for fc's 74.4 MWh
      (pay-as-produced) and gets fd's surplus revenue, so it holds both plants' RECs, retiring none (none
      reached its load); fa keeps its own (recs: generator).
    - February and March, all used by t (400 of its 500 kW): fb, fc, fd's 67.2 + 74.4 MWh each retired by
      t; fa's still fa's.
    - The quarter's sale (March, 50,000 KRW/REC): t sells 2 x 74.4 MWh x 1.9 = 282.72 RECs; fa
      74.4 + 67.2 + 74.4 = 216 MWh x 1.0 = 216 RECs; fb 74.4 x 1.9 = 141.36 RECs; fc and fd nothing."""
    load = [0.0] * 744 + [500.0] * (8760 - 744)
    (tmp_path / "t.csv").write_text("kw\n" + "".join(f"{v}\n" for v in load), encoding="utf-8")
    terms = {"tenant": "t", "volume": {"kind": "share", "share": 1.0},
             "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}}
    data = {
        "tenants": [{"name": "t", "load_file": str(tmp_path / "t.csv")}],
        "generators": [fuel_cell("fa", 100.0, rec_weight=1.0), fuel_cell("fb", 100.0), fuel_cell("fc", 100.0),
                       fuel_cell("fd", 100.0)],
        "contracts": [{"name": "ca", "generator": "fa", "recs": "generator"} | terms,
                      {"name": "cb", "generator": "fb", "settlement": "pay_as_consumed"} | terms,
                      {"name": "cc", "generator": "fc", "settlement": "pay_as_produced"} | terms,
                      {"name": "cd", "generator": "fd", "settlement": "pay_as_consumed",
                       "surplus_revenue_to": "tenant"} | terms],
    }
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    recs = certs[(certs.kind == "rec") & certs.month.isin(["2026-01", "2026-02", "2026-03"])]
    retired = recs[recs.status == "retired"]
    assert set(retired.claimant) == {"t"}
    by_plant = retired.groupby(["source", "month"]).mwh.sum().round(6).to_dict()
    assert by_plant == {(p, m): mwh for p in ("fb", "fc", "fd") for m, mwh in (("2026-02", 67.2), ("2026-03", 74.4))}
    sales = inv[(inv.month == "2026-03") & (inv.item == "rec_sale")]
    assert dict(zip(sales.payee, sales.quantity.round(6))) == {"t": 282.72, "fa": 216.0, "fb": 141.36}
    assert line(inv, "2026-03", "rec_market", "t", "rec_sale").krw == 14_136_000  # 282.72 x 50,000
    assert line(inv, "2026-03", "rec_market", "fa", "rec_sale").krw == 10_800_000  # 216 x 50,000
    # January's surplus SMP revenue follows the same rule: fc's and fd's 74,400 kWh are t's, fa's and fb's
    # their own (pay-as-consumed, ca being pay-as-consumed by default)
    jan_smp = inv[(inv.month == "2026-01") & (inv.item == "ppa_surplus_smp")].groupby("payee").quantity.sum()
    assert jan_smp.to_dict() == pytest.approx({"t": 148_800.0, "fa": 74_400.0, "fb": 74_400.0})
    assert inv[(inv.month == "2026-01") & (inv.item == "ppa_surplus_smp")].krw.sum() == 23_808_000  # 297,600 x 80


def test_year_end_purchases_two_years_from_the_market_and_outside(tmp_path):
    """The base complex (the plant sells its 100 kW surplus and keeps its RECs, weight 1.9) plus a 100 kW
    grid tenant u with a 100 % target, two years: u needs 100 x 8,760 = 876 MWh a year.
    2026: in December the market holds the plant's RECs of three quarters, 100 kW x 6,552 h = 655.2 MWh;
    u buys them (655.2 x 1.9 = 1,244.88 RECs) and the 876 - 655.2 = 220.8 MWh left from plants outside
    the complex at weight 1 (220.8 RECs): 1,465.68 RECs x 50,000 = 73,284,000 KRW.
    2027: its claims of 2026 do not count; the market holds the fourth quarter of 2026 (sold after the
    purchase, 100 x 2,208 h = 220.8 MWh) and three quarters of 2027 (655.2): 876 MWh, all bought from it,
    876 x 1.9 = 1,664.4 RECs x 50,000 = 83,220,000 KRW; nothing from outside."""
    data = ppa_complex(tmp_path, settlement="pay_as_consumed")
    data["tenants"].append({"name": "u", "load_file": flat_csv(tmp_path / "u.csv", 100.0)})
    data["rec_purchases"] = [{"tenant": "u", "target_pct": 100}]
    out = run_scenario(tmp_path, data, years=2)
    inv, certs = out["invoices"], out["certificates"]
    buy = line(inv, "2026-12", "u", "rec_market", "rec_purchase")
    assert buy.quantity == pytest.approx(1_465.68) and buy.krw == 73_284_000
    buy = line(inv, "2027-12", "u", "rec_market", "rec_purchase")
    assert buy.quantity == pytest.approx(1_664.4) and buy.krw == 83_220_000
    external = certs[certs.source == "rec-market-external"]
    assert external.mwh.sum() == pytest.approx(220.8) and set(external.month) == {"2026-12"}
    claimed = certs[(certs.status == "retired") & (certs.claimant == "u")]
    assert claimed.groupby("retired_year").mwh.sum().to_dict() == pytest.approx({2026: 876.0, 2027: 876.0})


def test_shaped_profiles_follow_the_calendar_and_a_term_ends(tmp_path):
    """A typical-year shaped profile (8,760 h) of 150 kW in January, 100 kW from February to November and
    50 kW in December, two years, taken by two flat 500 kW tenants from one 300 kW fuel cell each at
    100 KRW/kWh: t's contract from the start for 1 year, u's from 1 July 2026. The profile's rows follow the
    calendar (the hour of the year), not the months into the contract: February 2026 t 100 x 672 =
    67,200 kWh; July 2026 u 100 x 744 = 74,400 kWh; December 2026 t and u 50 x 744 = 37,200 kWh;
    January 2027 u 150 x 744 = 111,600 kWh and t nothing (its term ended with December 2026)."""
    typical = [150.0] * 744 + [100.0] * (8760 - 744 - 744) + [50.0] * 744
    (tmp_path / "typical.csv").write_text("kw\n" + "".join(f"{v}\n" for v in typical), encoding="utf-8")
    terms = {"price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 0.0,
             "volume": {"kind": "shaped", "profile_file": str(tmp_path / "typical.csv")}}
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)},
                    {"name": "u", "load_file": flat_csv(tmp_path / "u.csv", 500.0)}],
        "generators": [fuel_cell("ft", 300.0), fuel_cell("fu", 300.0)],
        "contracts": [{"name": "ct", "generator": "ft", "tenant": "t", "term_years": 1} | terms,
                      {"name": "cu", "generator": "fu", "tenant": "u", "start_date": "2026-07-01"} | terms],
    }
    inv = run_scenario(tmp_path, data, years=2)["invoices"]
    expected = {("2026-02", "t"): 67_200.0, ("2026-07", "u"): 74_400.0, ("2026-12", "t"): 37_200.0,
                ("2026-12", "u"): 37_200.0, ("2027-01", "u"): 111_600.0}
    for (month, tenant), kwh in expected.items():
        energy = line(inv, month, tenant, "broker", "ppa_energy")
        assert (energy.quantity, energy.krw) == (pytest.approx(kwh), round(kwh * 100)), (month, tenant)
    assert inv[(inv.month == "2027-01") & (inv.payer == "t") & (inv["item"] == "ppa_energy")].empty
    assert inv[(inv.month == "2026-06") & (inv.payer == "u") & (inv["item"] == "ppa_energy")].empty


def test_green_pool_allocated_hour_by_hour(tmp_path):
    """``allocation: hourly``: a 100 kW pooled fuel cell shared each hour by subscription weight between a
    (flat 500 kW, 1,314 MWh/yr) and b (200 kW from 08 to 20 h, nothing at night, 438 MWh/yr): 75 and 25 kWh
    an hour (docs/settlement-kernel.md step 4). January: a 75 x 744 = 55,800 kWh; b only in its 12 working
    hours, 25 x 12 x 31 = 9,300 kWh (its night share is not its energy: the plant exports it). Monthly
    allocation would give b 74,400 x 37,200 / 148,800 = 18,600 kWh (pro rata, under its 74,400 kWh of grid
    use). At 150 KRW/kWh: 8,370,000 and 1,395,000 KRW."""
    day = [0.0] * 8 + [200.0] * 12 + [0.0] * 4
    (tmp_path / "b.csv").write_text("kw\n" + "".join(f"{v}\n" for v in day * 365), encoding="utf-8")
    data = {
        "tenants": [{"name": "a", "load_file": flat_csv(tmp_path / "a.csv", 500.0)},
                    {"name": "b", "load_file": str(tmp_path / "b.csv")}],
        "generators": [fuel_cell("pool", 100.0, green_pool=True)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0}, "allocation": "hourly",
                         "subscribers": [{"tenant": "a", "subscribed_mwh_per_year": 1_314},
                                         {"tenant": "b", "subscribed_mwh_per_year": 438}]},
    }
    out = run_scenario(tmp_path, data)
    inv, certs = out["invoices"], out["certificates"]
    a = line(inv, "2026-01", "a", "KEPCO", "green_tariff_energy")
    assert a.quantity == pytest.approx(55_800.0) and a.krw == 8_370_000
    b = line(inv, "2026-01", "b", "KEPCO", "green_tariff_energy")
    assert b.quantity == pytest.approx(9_300.0) and b.krw == 1_395_000
    green = certs[(certs.month == "2026-01") & (certs.kind == "green")].groupby("claimant").mwh.sum()
    assert green.to_dict() == pytest.approx({"a": 55.8, "b": 9.3})


def test_contracts_on_one_plant_settle_in_priority_order(tmp_path):
    """Two 200 kW baseload blocks sold from one 300 kW fuel cell to two flat 500 kW tenants: ``c1`` (to t1,
    listed first, priority 1) and ``c2`` (to t2, priority 0). The lower priority settles first
    (PpaContract.priority): c2 gets its 200 kWh every hour, c1 the 100 kWh left. January at 100 KRW/kWh:
    t2 200 x 744 = 148,800 kWh = 14,880,000 KRW, t1 100 x 744 = 74,400 kWh = 7,440,000 KRW."""
    terms = {"generator": "fc", "volume": {"kind": "baseload", "block_kw": 200.0},
             "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 0.0}
    data = {
        "tenants": [{"name": "t1", "load_file": flat_csv(tmp_path / "t1.csv", 500.0)},
                    {"name": "t2", "load_file": flat_csv(tmp_path / "t2.csv", 500.0)}],
        "generators": [fuel_cell("fc", 300.0)],
        "contracts": [{"name": "c1", "tenant": "t1", "priority": 1} | terms,
                      {"name": "c2", "tenant": "t2", "priority": 0} | terms],
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    t2 = line(inv, "2026-01", "t2", "broker", "ppa_energy")
    assert t2.quantity == pytest.approx(148_800.0) and t2.krw == 14_880_000
    t1 = line(inv, "2026-01", "t1", "broker", "ppa_energy")
    assert t1.quantity == pytest.approx(74_400.0) and t1.krw == 7_440_000


# --- monthly settlement wiring (simulator/market/monthly.py): outages, the complex's hours, ----
# --- shaped profiles after the first month, mid-month tariff changes, the green pool -----------


def test_forced_outages_zero_the_plant_hour_by_hour_in_invoices_and_the_complex_hours(tmp_path):
    """The base contract at a 500 kW tenant, the 300 kW fuel cell with forced outages (MTBF 200 h,
    MTTR 50 h). Each hour the plant is either up (300 kWh, all applied: load 500 > 300) or in a forced
    outage (0 kWh), so the complex's hour is load 500 / grid 500 - gen / gen 0 or 300, and January's
    pay-as-consumed PPA energy is 300 kWh x the hours the plant was up (read off the hourly table)."""
    data = ppa_complex(tmp_path, load_kw=500.0, settlement="pay_as_consumed",
                       plant=fuel_cell("fc", 300.0, outages={"mtbf_hours": 200, "mttr_hours": 50}))
    inv = run_scenario(tmp_path, data)["invoices"]
    hourly = pd.read_parquet(tmp_path / "out" / "hourly_complex.parquet")
    assert len(hourly) == 8_760
    jan = hourly.iloc[:744]
    up = int((jan.gen_kwh == 300.0).sum())
    assert set(jan.gen_kwh) == {0.0, 300.0} and 0 < up < 744  # this seed: some outage hours in January
    assert (hourly.load_kwh == 500.0).all()  # the tenant's 500 kW every hour (summed over tenants, not hours)
    assert (hourly.grid_kwh == 500.0 - hourly.gen_kwh).all()  # 200 when the plant is up, 500 in an outage
    assert (hourly.re_delivered_kwh == hourly.gen_kwh).all()
    energy = line(inv, "2026-01", "t", "KT", "ppa_energy")
    assert energy.quantity == pytest.approx(300.0 * up)  # applied kWh: 300 x the hours up
    assert energy.krw == 100 * 300 * up  # x 100 KRW/kWh


def test_shaped_profile_rows_follow_the_month_after_january(tmp_path):
    """A shaped volume whose profile changes by month: 100 kW in January's 744 h, 150 kW in February's
    672 h, 120 kW in the other 7,344 h (8,760 rows, a typical year). Each month's contract reads the
    profile's rows of that month: February 150 x 672 = 100,800 kWh (December's rows would give
    120 x 672 = 80,640) x 100 = 10,080,000 KRW; network fee 100,800 x 40 + 150 kW (the profile's
    peak) x 1,000 = 4,182,000 KRW. January: 100 x 744 = 74,400 kWh x 100 = 7,440,000 KRW."""
    (tmp_path / "shape.csv").write_text("kw\n" + "100.0\n" * 744 + "150.0\n" * 672 + "120.0\n" * 7_344,
                                        encoding="utf-8")
    data = ppa_complex(tmp_path, volume={"kind": "shaped", "profile_file": str(tmp_path / "shape.csv")})
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 7_440_000
    feb = line(inv, "2026-02", "t", "KT", "ppa_energy")
    assert feb.quantity == pytest.approx(100_800.0) and feb.krw == 10_080_000
    assert line(inv, "2026-02", "t", "KT", "network_fee").krw == 4_182_000
    assert line(inv, "2026-03", "t", "KT", "ppa_energy").krw == 8_928_000  # 120 x 744 = 89,280 kWh x 100


def test_basic_charge_mid_month_tariff_increase_is_hour_weighted(tmp_path):
    """A tariff path raising energy prices and basic charges by 31 % from 16 January 2026 (a mid-month
    change; docs/domain.md#tariff-increases). The month's basic charge uses the hour-weighted mean rate:
    16 of January's 31 days at +31 % -> 8,320 x (1 + 0.31 x 16/31) = 8,320 x 1.16 = 9,651.2 KRW/kW,
    x 500 kW = 4,825,600 KRW (the first hour's rate would give 4,160,000; the last hour's 5,449,600).
    February, all at +31 %: 8,320 x 1.31 = 10,899.2 x 500 = 5,449,600 KRW. The surcharges do not move
    with the path: climate 500 x 744 = 372,000 kWh x 9.0 = 3,348,000 KRW."""
    data = {"tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)}],
            "tariff_path": {"increases": [{"date": "2026-01-16", "pct": 31.0}]}}
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KEPCO", "basic_charge").krw == 4_825_600
    assert line(inv, "2026-02", "t", "KEPCO", "basic_charge").krw == 5_449_600
    assert line(inv, "2026-01", "t", "KEPCO", "climate_environment").krw == 3_348_000


def test_green_pool_allocation_counts_only_the_pool_plants(tmp_path):
    """A 150 kW pooled fuel cell limited to 100 kW of export (delivers 100 x 744 = 74,400 kWh in January,
    37,200 curtailed) beside a 300 kW plant outside the pool that sells its 223,200 kWh to the market. The
    500 kW subscriber's 5,000 MWh/yr (424,658 kWh in January) exceeds the pool, so it is allocated the
    pool's delivered 74,400 kWh only (all plants' 297,600 kWh would be wrong) at 150 KRW/kWh = 11,160,000
    KRW; KEPCO buys the pool's delivered 74,400 kWh at the month's average SMP, 74,400 x 80 = 5,952,000 KRW
    (not the 111,600 generated), and the market the other plant's 223,200 kWh (x 80 = 17,856,000 KRW)."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)}],
        "generators": [fuel_cell("pool", 150.0, green_pool=True, export_limit_kw=100.0), fuel_cell("other", 300.0)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 5_000}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    green = line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy")
    assert green.quantity == pytest.approx(74_400.0) and green.krw == 11_160_000
    bought = line(inv, "2026-01", "KEPCO", "pool", "green_pool_purchase")
    assert bought.quantity == pytest.approx(74_400.0) and bought.krw == 5_952_000
    assert line(inv, "2026-01", "market", "other", "energy_export_smp").krw == 17_856_000


def test_no_surplus_month_lines_and_the_grid_only_baseline(tmp_path):
    """The base contract at a 500 kW tenant (all 300 kWh an hour applied, no surplus), a broker fee of 1 KRW/kWh
    plus 50,000 KRW per contract-month, no PPA fund (the default 0 %), no net metering.
    Broker fee: 223,200 x 1 + 50,000 = 273,200 KRW (+ 10 % VAT 27,320). Lines that must not appear: a
    PPA fund line at 0 %, a net-metering credit, a surplus payment; KEPCO's one purchase line from the market
    is the plant's own (empty) export, 0 kWh and 0 KRW.
    The grid-only baseline bill of the 500 kW tenant (January, as in tests/test_golden_invoices.py): light
    190,000 x 117.9 = 22,401,000; mid 119,000 x 164.0 = 19,516,000; peak 63,000 x 221.5 = 13,954,500; basic
    500 x 8,320 = 4,160,000; climate 372,000 x 9.0 = 3,348,000; fuel 372,000 x 5.0 = 1,860,000; 전기요금계
    65,239,500; fund x 0.027 = 1,761,466.5 -> 1,761,460; VAT 6,523,950; total 73,524,910 (ex-VAT 67,000,960)."""
    data = ppa_complex(tmp_path, load_kw=500.0)
    data["broker"] = {"name": "KT", "fee_krw_per_kwh": 1.0, "fee_krw_per_contract_month": 50_000.0}
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "broker_fee").krw == 273_200
    assert line(inv, "2026-01", "t", "KT", "broker_fee_vat").krw == 27_320
    assert line(inv, "2026-01", "KT", "nts", "vat_remittance").krw == 27_320  # the broker remits its fee's VAT
    # the broker passes on the energy (to the plant) and the network fee (to KEPCO) with their VAT, and keeps its fee
    kt = inv[(inv.month == "2026-01") & (inv.payer == "KT")]
    assert sorted(f"{b} {i}" for b, i in zip(kt.payee, kt["item"])) == [
        "KEPCO network_fee", "KEPCO network_fee_vat", "fc ppa_energy", "fc ppa_energy_vat", "nts vat_remittance"]
    bought = line(inv, "2026-01", "KEPCO", "market", "market_purchase_smp")
    assert (bought.quantity, bought.krw) == (0.0, 0)
    assert inv[inv["item"].isin(["ppa_power_industry_fund", "net_metering_credit_kwh", "ppa_surplus_smp"])].empty
    # KEPCO's bill: the basic charge in kW, energy and surcharges per kWh, the fund and VAT on the 전기요금계 in KRW
    bill = inv[(inv.month == "2026-01") & (inv.payer == "t") & (inv.payee == "KEPCO")]
    assert dict(zip(bill["item"], bill.unit)) == {
        "basic_charge": "kW", "energy_light": "kWh", "energy_mid": "kWh", "energy_peak": "kWh",
        "climate_environment": "kWh", "fuel_cost_adjustment": "kWh", "power_industry_fund": "KRW", "vat": "KRW"}
    monthly = pd.read_parquet(tmp_path / "out" / "tenant_monthly.parquet").set_index("month").loc["2026-01"]
    assert (monthly.baseline_krw, monthly.baseline_ex_vat_krw) == (73_524_910, 67_000_960)
    # energy: load 500 x 744 = 372,000 kWh = PPA 300 x 744 = 223,200 + grid 200 x 744 = 148,800
    assert (monthly.load_kwh, monthly.ppa_kwh, monthly.grid_kwh) == pytest.approx((372_000.0, 223_200.0, 148_800.0))
    assert monthly.green_allocated_kwh == 0.0
    # the plant's year: 300 kW x 8,760 h = 2,628 MWh generated, none exported or curtailed
    fc = pd.read_parquet(tmp_path / "out" / "kpis_generators.parquet").set_index("agent").loc["fc"]
    assert (fc.gen_mwh, fc.export_mwh, fc.curtailed_mwh) == pytest.approx((2_628.0, 0.0, 0.0))


def test_green_tariff_lines_only_for_subscribers_down_to_a_fraction_of_a_kwh(tmp_path):
    """A 300 kW pool (223,200 kWh in January) covers every subscription in full: t subscribes 876 MWh/yr ->
    876,000 x 744 / 8,760 = 74,400 kWh x 150 = 11,160,000 KRW; u only 0.001 MWh/yr -> 1 x 744 / 8,760 =
    0.0849 kWh x 150 = 12.7 -> 12 KRW, still a line of its own; v subscribes nothing: no green line, and its
    ordinary bill is unchanged (basic 500 kW x 8,320 = 4,160,000 KRW)."""
    data = {
        "tenants": [{"name": n, "load_file": flat_csv(tmp_path / f"{n}.csv", 500.0)}
                    for n in ("t", "u", "v")],
        "generators": [fuel_cell("pool", 300.0, green_pool=True)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 876},
                                         {"tenant": "u", "subscribed_mwh_per_year": 0.001}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    t = line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy")
    assert t.quantity == pytest.approx(74_400.0) and t.krw == 11_160_000
    u = line(inv, "2026-01", "u", "KEPCO", "green_tariff_energy")
    assert u.quantity == pytest.approx(744 / 8_760) and u.krw == 12
    assert inv[(inv.payer == "v") & (inv["item"] == "green_tariff_energy")].empty
    assert line(inv, "2026-01", "v", "KEPCO", "basic_charge").krw == 4_160_000
    monthly = pd.read_parquet(tmp_path / "out" / "tenant_monthly.parquet")
    jan = monthly[monthly.month == "2026-01"].set_index("agent").green_allocated_kwh
    assert jan.to_dict() == pytest.approx({"t": 74_400.0, "u": 744 / 8_760, "v": 0.0})


def test_take_or_pay_surplus_split_between_tenant_and_plant_and_a_sub_kwh_surplus(tmp_path):
    """Two contracts. c: the base contract with an 80 % take-or-pay and the surplus revenue to the generator
    (the default): the tenant pays for 178,560 kWh (as in test_take_or_pay_at_80_pct), 29,760 of them surplus,
    so it earns the SMP of the surplus it paid for, 29,760 / 74,400 = 40 %: 29,760 kWh x 80 = 2,380,800 KRW,
    and the plant the other 44,640 kWh: 3,571,200 KRW (together 74,400 x 80 = 5,952,000).
    c2: a second 300 kW fuel cell for a 299.999 kW tenant u: 0.001 kWh surplus an hour, 0.744 kWh in
    January, still sold and paid: 0.744 x 80 = 59.52 -> 60 KRW to the plant."""
    data = ppa_complex(tmp_path, settlement="pay_as_consumed", min_take_pct=80.0)
    data["tenants"].append({"name": "u", "load_file": flat_csv(tmp_path / "u.csv", 299.999)})
    data["generators"].append(fuel_cell("fc2", 300.0))
    data["contracts"].append(data["contracts"][0] | {"name": "c2", "generator": "fc2", "tenant": "u",
                                                      "min_take_pct": 0.0})
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 17_856_000  # 178,560 x 100
    to_t = line(inv, "2026-01", "market", "t", "ppa_surplus_smp")
    assert to_t.quantity == pytest.approx(29_760.0) and to_t.krw == 2_380_800
    to_fc = line(inv, "2026-01", "market", "fc", "ppa_surplus_smp")
    assert to_fc.quantity == pytest.approx(44_640.0) and to_fc.krw == 3_571_200
    tiny = line(inv, "2026-01", "market", "fc2", "ppa_surplus_smp")
    assert tiny.quantity == pytest.approx(0.744) and tiny.krw == 60
    assert no_line(inv, "2026-01", "u", "ppa_surplus_smp")
    bought = inv[(inv.month == "2026-01") & (inv.payer == "KEPCO") & (inv["item"] == "market_purchase_smp")]
    assert bought.krw.sum() == 5_952_000 + 60  # KEPCO buys both surpluses from the market


def test_net_metering_credits_the_exports_of_every_plant_behind_the_meter(tmp_path):
    """Net metering (docs/domain.md#self-generation) on two meters; every plant is a tenant-owned, net-metered
    fuel cell, and a meter's plants serve its load in order (the first one's output first).
    w: two 150 kW plants; 400 kW in the first 600 hours of the year, 140 kW in the other 144 hours of
    January, 400 kW after. January: 600 x (400 - 300) = 60,000 kWh drawn; exported 144 x (300 - 140) =
    23,040 kWh, 10 kWh an hour from the first plant and 150 from the second. Credit 23,040 kWh (the second
    plant's alone would be 144 x 150 = 21,600), so KEPCO bills 60,000 - 23,040 = 36,960 kWh.
    v: one 300 kW plant; 300.9 kW in the first hour of the year, 299.999 kW after: January draws 0.9 kWh and
    exports 743 x 0.001 = 0.743 kWh, still credited on a line of its own: billed 0.9 - 0.743 = 0.157 kWh
    (1 January is a holiday: all light-load). Credits are zero-won lines in kWh."""
    w_load = [400.0] * 600 + [140.0] * 144 + [400.0] * (8760 - 744)
    v_load = [300.9] + [299.999] * 8759
    for name, load in (("w", w_load), ("v", v_load)):
        (tmp_path / f"{name}.csv").write_text("kw\n" + "".join(f"{x}\n" for x in load), encoding="utf-8")

    def own(host: str) -> dict:
        return {"owner": "tenant", "host_tenant": host, "net_metering": True}

    data = {"tenants": [{"name": n, "load_file": str(tmp_path / f"{n}.csv")} for n in ("w", "v")],
            "generators": [fuel_cell("w-a", 150.0, **own("w")), fuel_cell("w-b", 150.0, **own("w")),
                           fuel_cell("v-fc", 300.0, **own("v"))]}
    inv = run_scenario(tmp_path, data)["invoices"]
    credit = line(inv, "2026-01", "w", "KEPCO", "net_metering_credit_kwh")
    assert credit.quantity == pytest.approx(23_040.0) and credit.krw == 0
    jan_w = inv[(inv.month == "2026-01") & (inv.payer == "w") & inv["item"].str.startswith("energy_")]
    assert jan_w.quantity.sum() == pytest.approx(36_960.0)
    credit = line(inv, "2026-01", "v", "KEPCO", "net_metering_credit_kwh")
    assert credit.quantity == pytest.approx(0.743, abs=1e-6) and credit.krw == 0
    assert line(inv, "2026-01", "v", "KEPCO", "energy_light").quantity == pytest.approx(0.157, abs=1e-6)


def test_load_shifting_month_cost_line_and_the_baseline_before_the_measure(tmp_path):
    """A flat 500 kW tenant deciding between the grid and load shifting (20 % at 1,000 KRW/MWh shifted, far
    cheaper than the peak-light price gap: adopted in the first round, in force from January;
    docs/decisions.md#demand-side-measures). January: peak kWh 126 x 500 = 63,000 -> 12,600 kWh moved to the
    same days' light hours: cost line 12.6 MWh x 1,000 = 12,600 KRW to the demand services. The grid-only
    baseline is the bill of the load before the measure: 73,524,910 KRW (67,000,960 ex VAT), the flat 500 kW
    bill worked in test_no_surplus_month_lines_and_the_grid_only_baseline."""
    data = {"tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0), "behaviour": {"awareness": 1.0}}],
            "decisions": {"enabled": True, "options": ["grid", "load_shifting"], "logit_scale_pct": 0.01,
                          "switching_cost_pct": 0.0,
                          "demand_side": {"load_shifting": {"cost_krw_per_mwh_shifted": 1000}}}}
    inv = run_scenario(tmp_path, data)["invoices"]
    cost = line(inv, "2026-01", "t", "demand_services", "load_shifting")
    assert cost.quantity == pytest.approx(12_600.0) and cost.krw == 12_600
    assert line(inv, "2026-01", "t", "KEPCO", "energy_peak").quantity == pytest.approx(50_400.0)  # 63,000 x 0.8
    monthly = pd.read_parquet(tmp_path / "out" / "tenant_monthly.parquet").set_index("month").loc["2026-01"]
    assert (monthly.baseline_krw, monthly.baseline_ex_vat_krw) == (73_524_910, 67_000_960)


def test_hourly_green_pool_allocation_is_billed_once(tmp_path):
    """allocation: hourly: the kernel applies the 100 kW pool to the 500 kW subscriber hour by hour, so its
    meter's grid kWh already exclude the 100 x 744 = 74,400 green kWh (x 150 = 11,160,000 KRW); KEPCO bills
    the remaining 400 kW at the tariff without taking the green kWh off a second time: light 400 x 380 =
    152,000 kWh, mid 400 x 238 = 95,200, peak 400 x 126 = 50,400."""
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)}],
        "generators": [fuel_cell("pool", 100.0, green_pool=True)],
        "green_tariff": {"allocation": "hourly", "price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 876}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    green = line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy")
    assert green.quantity == pytest.approx(74_400.0) and green.krw == 11_160_000
    for period, kwh in (("light", 152_000.0), ("mid", 95_200.0), ("peak", 50_400.0)):
        assert line(inv, "2026-01", "t", "KEPCO", f"energy_{period}").quantity == pytest.approx(kwh)


def test_net_metering_credit_is_capped_by_the_grid_kwh_left_after_the_green_allocation(tmp_path):
    """A green-tariff subscriber with its own net-metered 300 kW fuel cell: 600 kW in the first 372 hours of
    the year (111,600 kWh drawn), 100 kW in the other 372 hours of January (74,400 kWh exported), 600 kW after.
    A 100 kW pool (74,400 kWh) covers its 876 MWh/yr subscription (74,400 kWh in January), allocated
    against the grid kWh: 111,600 - 74,400 = 37,200 kWh are left on the tariff, so only 37,200 of the
    74,400 exported kWh are credited this month (the other 37,200 stay in the bank) and no tariff kWh
    are billed. February: 600 kW all month, 300 x 672 = 201,600 kWh drawn, 67,200 of them green
    (876,000 x 672 / 8,760), the banked 37,200 credited: 201,600 - 67,200 - 37,200 = 97,200 kWh billed."""
    load = [600.0] * 372 + [100.0] * 372 + [600.0] * (8760 - 744)
    (tmp_path / "t.csv").write_text("kw\n" + "".join(f"{x}\n" for x in load), encoding="utf-8")
    data = {
        "tenants": [{"name": "t", "load_file": str(tmp_path / "t.csv")}],
        "generators": [fuel_cell("pool", 100.0, green_pool=True),
                       fuel_cell("own", 300.0, owner="tenant", host_tenant="t", net_metering=True)],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "t", "subscribed_mwh_per_year": 876}]},
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KEPCO", "green_tariff_energy").quantity == pytest.approx(74_400.0)
    assert line(inv, "2026-01", "t", "KEPCO", "net_metering_credit_kwh").quantity == pytest.approx(37_200.0)
    assert line(inv, "2026-02", "t", "KEPCO", "net_metering_credit_kwh").quantity == pytest.approx(37_200.0)
    for month, kwh in (("2026-01", 0.0), ("2026-02", 97_200.0)):
        billed = inv[(inv.month == month) & (inv.payer == "t") & inv["item"].str.startswith("energy_")]
        assert billed.quantity.sum() == pytest.approx(kwh, abs=1e-6)


def test_pay_as_produced_owes_no_curtailment_compensation(tmp_path):
    """The export-limited plant of test_export_limit_curtailment_compensation_and_recs (50 kW: of each hour's
    100 kWh surplus 50 are exported, 50 curtailed) under pay-as-produced with the same 50 % compensation
    clause: the tenant already pays for all 300 x 744 = 223,200 contracted kWh (22,320,000 KRW), curtailed
    ones included, so no compensation is owed; the exported 50 x 744 = 37,200 kWh it paid for earn it
    37,200 x 80 = 2,976,000 KRW."""
    data = ppa_complex(tmp_path, plant=fuel_cell("fc", 300.0, export_limit_kw=50.0),
                       settlement="pay_as_produced", curtailment_compensation_pct=50.0)
    inv = run_scenario(tmp_path, data)["invoices"]
    assert line(inv, "2026-01", "t", "KT", "ppa_energy").krw == 22_320_000
    assert inv[inv["item"].str.startswith("curtailment_compensation")].empty
    surplus = line(inv, "2026-01", "market", "t", "ppa_surplus_smp")
    assert surplus.quantity == pytest.approx(37_200.0) and surplus.krw == 2_976_000


def test_two_shaped_contracts_each_follow_their_own_profile(tmp_path):
    """Two shaped contracts on two profile files: t's 100 kW flat, u's 200 kW flat, each from its own 300 kW
    fuel cell at 100 KRW/kWh to a flat 500 kW tenant. January: t 100 x 744 = 74,400 kWh (7,440,000 KRW),
    u 200 x 744 = 148,800 kWh (14,880,000 KRW): each contract reads its own file's column."""
    for name, kw in (("p100", 100.0), ("p200", 200.0)):
        (tmp_path / f"{name}.csv").write_text("kw\n" + f"{kw}\n" * 8760, encoding="utf-8")
    def terms(profile):
        return {"price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 0.0,
                "volume": {"kind": "shaped", "profile_file": str(tmp_path / f"{profile}.csv")}}
    data = {
        "tenants": [{"name": "t", "load_file": flat_csv(tmp_path / "t.csv", 500.0)},
                    {"name": "u", "load_file": flat_csv(tmp_path / "u.csv", 500.0)}],
        "generators": [fuel_cell("ft", 300.0), fuel_cell("fu", 300.0)],
        "contracts": [{"name": "ct", "generator": "ft", "tenant": "t"} | terms("p100"),
                      {"name": "cu", "generator": "fu", "tenant": "u"} | terms("p200")],
    }
    inv = run_scenario(tmp_path, data)["invoices"]
    for tenant, kwh in (("t", 74_400.0), ("u", 148_800.0)):
        energy = line(inv, "2026-01", tenant, "broker", "ppa_energy")
        assert (energy.quantity, energy.krw) == (pytest.approx(kwh), round(kwh * 100)), tenant
