"""Golden invoices: whole runs of tiny complexes whose every line is worked by hand.

Loads come from flat metering files and plants are fuel cells at availability 1 (flat
output), so January 2026's hours can be counted by hand:

January 2026 (31 days): 1 Jan (Thu) is a holiday; Sundays 4, 11, 18, 25; Saturdays 3, 10,
17, 24, 31. Day types: 21 weekdays, 5 Saturdays, 5 Sundays/holidays.
Winter bands (docs/domain.md#time-of-use-periods): light 22-08 (10 h), mid 08-09, 12-16, 19-22 (8 h), peak 09-12,
16-19 (6 h). Saturday peak hours are billed at mid; Sundays/holidays are all light.
Hours: light 21x10 + 5x10 + 5x24 = 380; mid 21x8 + 5x14 = 238; peak 21x6 = 126 (total 744).
산업용(을) 고압A 선택Ⅱ winter prices in force (docs/domain.md#tariff-tables, from 2024-10-24): 117.9 / 164.0 /
221.5 KRW/kWh; basic 8,320 KRW/kW; climate 9.0, fuel adjustment +5.0 KRW/kWh; fund 2.7 %
(truncated to 10 won), VAT 10 % (docs/domain.md#bill-structure).
"""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app


def flat_csv(path, kw: float):
    path.write_text("kw\n" + f"{kw}\n" * 8760, encoding="utf-8")
    return path


def run_jan(tmp_path, data) -> tuple[pd.DataFrame, dict]:
    base = {"start_date": "2026-01-01", "years": 1, "seed": 1}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(base | data), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(p), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    inv = pd.read_parquet(tmp_path / "o" / "invoices.parquet")
    certs = pd.read_parquet(tmp_path / "o" / "certificates.parquet")
    return inv[inv["month"] == "2026-01"], certs


def lines(inv, payer, payee):
    rows = inv[(inv.payer == payer) & (inv.payee == payee)]
    return dict(zip(rows["item"], rows["krw"])), dict(zip(rows["item"], rows["quantity"]))


def test_direct_ppa_month(tmp_path):
    """One tenant at a flat 500 kW, one 300 kW fuel cell selling all its output by direct PPA:
    fixed 100 KRW/kWh, pay-as-consumed, network fee 40 KRW/kWh, broker fee 1 KRW/kWh."""
    data = {
        "name": "golden-ppa",
        "tenants": [{"name": "t", "load_file": str(flat_csv(tmp_path / "t.csv", 500.0))}],
        "generators": [{"name": "fc", "technology": "fuel_cell", "capacity_kw": 300, "availability": 1.0}],
        "broker": {"name": "KT", "fee_krw_per_kwh": 1.0},
        "contracts": [{"name": "c", "generator": "fc", "tenant": "t", "volume": {"kind": "share", "share": 1.0},
                       "price": {"kind": "fixed", "price_krw_per_kwh": 100.0}, "network_fee_krw_per_kwh": 40.0}],
    }
    inv, certs = run_jan(tmp_path, data)
    # PPA: 300 kW x 744 h = 223,200 kWh, all applied (load 500 > 300).
    ppa, q = lines(inv, "t", "KT")
    assert q["ppa_energy"] == pytest.approx(223_200.0)
    assert ppa["ppa_energy"] == 22_320_000  # 223,200 x 100
    assert ppa["network_fee"] == 8_928_000  # 223,200 x 40
    assert ppa["broker_fee"] == 223_200  # 223,200 x 1
    assert lines(inv, "KT", "fc")[0]["ppa_energy"] == 22_320_000  # passed through to the plant
    assert lines(inv, "KT", "KEPCO")[0]["network_fee"] == 8_928_000  # passed through to KEPCO
    # VAT, 10 % rounded to the won, as a line of its own on each invoice (docs/domain.md#direct-ppa):
    assert ppa["ppa_energy_vat"] == 2_232_000  # 22,320,000 x 0.1
    assert ppa["network_fee_vat"] == 892_800  # 8,928,000 x 0.1
    assert ppa["broker_fee_vat"] == 22_320  # 223,200 x 0.1
    assert lines(inv, "KT", "fc")[0]["ppa_energy_vat"] == 2_232_000  # passed on with the energy
    assert lines(inv, "KT", "KEPCO")[0]["network_fee_vat"] == 892_800  # passed on with the network fee
    # each seller remits what it collected: the plant the energy VAT, the broker its fee's VAT, KEPCO its
    # bill's VAT (below, 2,859,180) plus the network fee's: 2,859,180 + 892,800 = 3,751,980
    assert lines(inv, "fc", "nts")[0]["vat_remittance"] == 2_232_000
    assert lines(inv, "KT", "nts")[0]["vat_remittance"] == 22_320
    assert lines(inv, "KEPCO", "nts")[0]["vat_remittance"] == 3_751_980
    # KEPCO backup supply: the residual 200 kW -> light 76,000, mid 47,600, peak 25,200 kWh.
    kepco, q = lines(inv, "t", "KEPCO")
    assert q["energy_light"] == pytest.approx(76_000.0)
    assert kepco["energy_light"] == 8_960_400  # 76,000 x 117.9
    assert kepco["energy_mid"] == 7_806_400  # 47,600 x 164.0
    assert kepco["energy_peak"] == 5_581_800  # 25,200 x 221.5
    # A PPA user keeps paying the basic charge on its full demand (docs/domain.md#direct-ppa): 500 kW x 8,320.
    assert kepco["basic_charge"] == 4_160_000
    assert kepco["climate_environment"] == 1_339_200  # 148,800 x 9.0
    assert kepco["fuel_cost_adjustment"] == 744_000  # 148,800 x 5.0
    # 전기요금계 = 4,160,000 + 8,960,400 + 7,806,400 + 5,581,800 + 1,339,200 + 744,000 = 28,591,800
    assert kepco["power_industry_fund"] == 771_970  # 28,591,800 x 0.027 = 771,978.6 -> 771,970
    assert kepco["vat"] == 2_859_180  # 28,591,800 x 0.1
    # RECs: the fuel cell's 223.2 MWh earn 223.2 x 1.9 = 424.08 RECs (docs/domain.md#rec-weights); bundled with
    # the PPA, the tenant retires 223.2 MWh for its January claim.
    jan = certs[(certs.month == "2026-01") & (certs.kind == "rec")]
    assert jan["mwh"].sum() == pytest.approx(223.2)
    assert jan["certificates"].sum() == pytest.approx(424.08)
    assert set(jan["status"]) == {"retired"} and set(jan["claimant"]) == {"t"}


def test_green_tariff_pro_rata_month(tmp_path):
    """Two subscribers (flat 500 and 400 kW) share a 100 kW pooled fuel cell (74,400 kWh in
    January). Subscriptions 584 and 1,168 MWh/yr -> January shares 584,000 x 744/8,760 = 49,600
    and 99,200 kWh (total 148,800): the pool covers half, so 24,800 and 49,600 kWh are allocated
    (the KIEE 2020 green-tariff paper: pro rata to subscribed demand), billed at the fixed standard price 150 KRW/kWh."""
    data = {
        "name": "golden-green",
        "tenants": [{"name": "a", "load_file": str(flat_csv(tmp_path / "a.csv", 500.0))},
                    {"name": "b", "load_file": str(flat_csv(tmp_path / "b.csv", 400.0))}],
        "generators": [{"name": "pool", "technology": "fuel_cell", "capacity_kw": 100, "availability": 1.0,
                        "green_pool": True}],
        "green_tariff": {"price": {"kind": "fixed", "price_krw_per_kwh": 150.0},
                         "subscribers": [{"tenant": "a", "subscribed_mwh_per_year": 584},
                                         {"tenant": "b", "subscribed_mwh_per_year": 1168}]},
    }
    inv, certs = run_jan(tmp_path, data)
    a, qa = lines(inv, "a", "KEPCO")
    assert qa["green_tariff_energy"] == pytest.approx(24_800.0)
    assert a["green_tariff_energy"] == 3_720_000  # 24,800 x 150
    # The rest of a's 372,000 kWh stays on the ordinary tariff: 347,200 / 372,000 = 14/15 of each
    # period (baseline 190,000 / 119,000 / 63,000 kWh):
    assert a["energy_light"] == 20_907_600  # 190,000 x 117.9 x 14/15
    assert a["energy_mid"] == 18_214_933  # 119,000 x 164.0 x 14/15 = 18,214,933.3
    assert a["energy_peak"] == 13_024_200  # 63,000 x 221.5 x 14/15
    assert a["climate_environment"] == 3_124_800  # 347,200 x 9.0
    assert a["fuel_cost_adjustment"] == 1_736_000  # 347,200 x 5.0
    assert a["basic_charge"] == 4_160_000  # unchanged (the KIEE 2020 green-tariff paper step 4): 500 kW x 8,320
    # 전기요금계 incl. the green line = 64,887,533; fund 1,751,963.4 -> 1,751,960; VAT 6,488,753.3
    assert a["power_industry_fund"] == 1_751_960
    assert a["vat"] == 6_488_753
    b, qb = lines(inv, "b", "KEPCO")
    assert qb["green_tariff_energy"] == pytest.approx(49_600.0)
    assert b["green_tariff_energy"] == 7_440_000  # 49,600 x 150
    assert b["energy_mid"] == 13_010_666  # 95,200 x 164.0 x 5/6 = 13,010,666.7
    # The pool plant sells its whole output to KEPCO (the KIEE 2020 green-tariff paper step 1).
    _, qp = lines(inv, "KEPCO", "pool")
    assert qp["green_pool_purchase"] == pytest.approx(74_400.0)
    # One green certificate per kWh allocated, retired by each subscriber (the KIEE 2020 green-tariff paper steps 2-6).
    green = certs[(certs.month == "2026-01") & (certs.kind == "green")]
    by = green.groupby("claimant")["mwh"].sum()
    assert by["a"] == pytest.approx(24.8) and by["b"] == pytest.approx(49.6)
    assert green["certificates"].sum() == pytest.approx(74_400.0)
