"""The option costs a deciding tenant compares (simulator/market/options.py), worked by hand.

A one-year forecast for 2026 where every price is flat, so each option's levelised annual cost can
be worked out line by line (docs/decisions.md, docs/domain.md#bill-structure):

- tariff ``eul_high_a_ii`` as announced for 2026: basic 8,320 KRW/kW a month, climate 9 and fuel
  adjustment 5 KRW/kWh, fund 2.7 % (VAT 10 % is reclaimed, so left out); the hourly energy price is
  set to a flat 100 KRW/kWh, so every grid kWh costs 100 + 9 + 5 = 114 KRW before the fund;
- SMP flat at 80 KRW/kWh, REC 50,000 KRW/REC; no tariff growth and hurdle rate 0 %, so the levelisation factor is 1;
- PV: 0.5 kW per kWp in the clock hours 8-15 (8 hours) of every day, 0 otherwise: 4 kWh/kWp a day,
  1,460 kWh/kWp a year;
- tenant ``a``: 500 kW flat (4,380,000 kWh a year), contract 1,000 kW; tenant ``b``: 100 kW flat
  (876,000 kWh), contract 200 kW (below the 300 kW a direct PPA needs, docs/domain.md#direct-ppa), so
  on ``gap2_high_a_ii`` (basic 7,470 KRW/kW a month, the same climate, fuel and fund rates); tenant ``c``:
  100 kW flat, contract exactly 300 kW (``eul_high_a_ii``, eligible for a direct PPA); tenant ``e``:
  400 kW flat, contract 1,000 kW.
  Both have 6,670 m2 of usable roof: 6,670 / 6.67 m2 per kW = 1,000 kW.

The grid-only bill of ``a``: basic 500 kW x 8,320 x 12 = 49,920,000; energy, climate and fuel
4,380,000 kWh x 114 = 499,320,000; with the fund (49,920,000 + 499,320,000) x 1.027 = 564,069,480 KRW.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.market.forecast import build_forecast
from re100sim.simulator.market.options import GREEN, GRID, PPA, PREMIUM, REC, SELF, Evaluation, evaluate
from re100sim.simulator.run import prepare

FUND = 1.027  # fund 2.7 % of the bill (the 2026 tariff data); VAT reclaimed
REL = 1e-6  # KEPCO rounds each month's items to whole won: a few won on hundreds of millions


def _evaluate(tmp_path, procurement_pct=100.0, pool_free_mwh=1e9, tenants=("a",), green_price=None,
              decisions=None, tariff_growth=0.0, roof_m2=6670, re_target_pct=None,
              basic_from_july=None, load_kw=None, pv_kw_per_kw=None, start_date="2026-01-01") -> Evaluation:
    """Evaluate the options of ``tenants`` (names from ``a``/``b`` above) on the flat forecast; ``load_kw``
    (the forecast's calendar -> (H, D) kW) replaces their expected loads, ``pv_kw_per_kw`` (calendar -> (H,))
    the site's PV."""
    loads = {"a": (500.0, 1000.0), "b": (100.0, 200.0), "c": (100.0, 300.0), "e": (400.0, 1000.0)}
    specs = []
    for name in tenants:
        kw, contract = loads[name]
        (tmp_path / f"{name}.csv").write_text("kw\n" + f"{kw}\n" * 8760, encoding="utf-8")
        specs.append({"name": name, "load_file": str(tmp_path / f"{name}.csv"), "contract_kw": contract,
                      "behaviour": {"awareness": 1.0, "procurement_pct": procurement_pct, "roof_area_m2": roof_m2,
                                    "hurdle_rate_pct": 0.0, "re_target_pct": re_target_pct or {}}})
    data = {"name": "options", "start_date": start_date, "years": 1, "seed": 3, "tenants": specs,
            "generators": [{"name": "pool", "capacity_kw": 3000, "green_pool": True}],
            "green_tariff": {"price": green_price or {"kind": "fixed", "price_krw_per_kwh": 100}},
            "decisions": {"enabled": True, "tariff_expectation": "static",
                          "tariff_sd_pct": 10.0, "smp_sd_pct": 25.0, "rec_sd_pct": 0.0,
                          "self_generation": {"usable_roof_share": 1.0, "capex_krw_per_kw": 1_000_000,
                                              "opex_pct_per_year": 1.5, "lifetime_years": 20},
                          **(decisions or {})}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    sc, ts = prepare(path)
    model = ComplexModel(sc, ts)
    fc = build_forecast(model, 0, build_calendar(*model.blocks[0]))
    H, K = fc.tariff_price.shape
    sunny = (fc.calendar.hour >= 8) & (fc.calendar.hour < 16)
    fc = dataclasses.replace(fc, tariff_price=np.full((H, K), 100.0), smp_krw_per_kwh=np.full(H, 80.0),
                             rec_price_krw_per_rec=np.full(len(fc.rec_price_krw_per_rec), 50_000.0),
                             pv_kw_per_kw=np.where(sunny, 0.5, 0.0) if pv_kw_per_kw is None else pv_kw_per_kw(fc.calendar),
                             tariff_growth=np.full(K, tariff_growth))
    if basic_from_july is not None:  # a basic-rate step on 1 July (a tariff path step announced in advance)
        july = fc.calendar.timestamps.month >= 7
        fc = dataclasses.replace(fc, rates=[dataclasses.replace(
            r, basic_krw_per_kw_month=np.where(july, basic_from_july, r.basic_krw_per_kw_month)) for r in fc.rates])
    if load_kw is not None:
        fc = fc.with_load(load_kw(fc.calendar))
    return evaluate(model, fc, np.arange(len(tenants)), pool_free_mwh)


def test_grid_cost_and_its_tariff_spread(tmp_path):
    ev = _evaluate(tmp_path)
    assert ev.baseline_krw[0] == pytest.approx(564_069_480, rel=REL)  # worked in the module docstring
    assert ev.cost_krw[0, GRID] == pytest.approx(564_069_480, rel=REL)
    # spread: 10 % of the energy KRW exposed to the tariff, 4,380,000 kWh x 100 = 438,000,000 -> 43,800,000
    assert ev.spread_krw[0, GRID] == pytest.approx(43_800_000, rel=REL)
    assert ev.re_mwh[0, GRID] == 0.0


def test_each_month_billed_at_its_own_rates(tmp_path):
    ev = _evaluate(tmp_path, basic_from_july=9_000.0)
    # basic 500 kW x (8,320 x 6 + 9,000 x 6) = 500 x 103,920 = 51,960,000; with the kWh 499,320,000:
    # 551,280,000 x 1.027 = 566,164,560
    assert ev.cost_krw[0, GRID] == pytest.approx(566_164_560, rel=REL)


def test_fixed_price_green_tariff_for_the_whole_use(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=100.0)
    # the whole 4,380 MWh allocated: the KEPCO bill keeps only its basic charge (49,920,000); the green
    # energy 4,380,000 kWh x 100 = 438,000,000 is a KEPCO bill item with the fund:
    # (49,920,000 + 438,000,000) x 1.027 = 501,093,840
    assert ev.cost_krw[0, GREEN] == pytest.approx(501_093_840, rel=REL)
    assert ev.re_mwh[0, GREEN] == pytest.approx(4380.0)
    # a fixed price: no energy KRW left exposed to the tariff, none to SMP
    assert ev.spread_krw[0, GREEN] == pytest.approx(0.0, abs=1e-6)


def test_fixed_price_green_tariff_for_half_the_use(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0)
    # 2,190 MWh allocated, half the use: the bill keeps its basic charge and half its kWh:
    # 49,920,000 + 0.5 x 499,320,000 = 299,580,000; green 2,190,000 kWh x 100 = 219,000,000;
    # (299,580,000 + 219,000,000) x 1.027 = 532,581,660
    assert ev.cost_krw[0, GREEN] == pytest.approx(532_581_660, rel=REL)
    assert ev.re_mwh[0, GREEN] == pytest.approx(2190.0)
    # half the energy KRW still exposed to the tariff: 10 % x 219,000,000 = 21,900,000
    assert ev.spread_krw[0, GREEN] == pytest.approx(21_900_000, rel=REL)


def test_green_tariff_limited_by_the_free_pool_and_unavailable_when_it_is_empty(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=100.0, pool_free_mwh=1095.0)
    # 1,095 MWh free of the 4,380 wanted: a quarter: 49,920,000 + 0.75 x 499,320,000 = 424,410,000;
    # green 1,095,000 x 100 = 109,500,000; (424,410,000 + 109,500,000) x 1.027 = 548,325,570
    assert ev.re_mwh[0, GREEN] == pytest.approx(1095.0)
    assert ev.cost_krw[0, GREEN] == pytest.approx(548_325_570, rel=REL)
    ev = _evaluate(tmp_path, procurement_pct=100.0, pool_free_mwh=0.0)
    assert np.isnan(ev.cost_krw[0, GREEN]) and ev.re_mwh[0, GREEN] == 0.0
    # half a MWh left in the pool is still offered: 500 kWh
    ev = _evaluate(tmp_path, procurement_pct=100.0, pool_free_mwh=0.5)
    assert ev.re_mwh[0, GREEN] == pytest.approx(0.5)
    assert ev.cost_krw[0, GRID] == pytest.approx(564_069_480, rel=REL)


def test_smp_indexed_green_tariff_cost_and_smp_spread(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=100.0, green_price={"kind": "smp_indexed", "adder_krw_per_kwh": 45})
    # standard price SMP 80 + 45 = 125 KRW/kWh: 4,380,000 x 125 = 547,500,000;
    # (49,920,000 + 547,500,000) x 1.027 = 613,550,340
    assert ev.cost_krw[0, GREEN] == pytest.approx(613_550_340, rel=REL)
    # the green KRW move with SMP: 25 % x 547,500,000 = 136,875,000 (nothing left exposed to the tariff)
    assert ev.spread_krw[0, GREEN] == pytest.approx(136_875_000, rel=REL)


def test_premium_and_rec_costs(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, decisions={"green_premium_krw_per_kwh": 10.0})
    # premium: 2,190,000 kWh x 10 = 21,900,000 on top of the grid bill: 585,969,480
    assert ev.cost_krw[0, PREMIUM] == pytest.approx(585_969_480, rel=REL)
    assert ev.re_mwh[0, PREMIUM] == pytest.approx(2190.0) and ev.re_mwh[0, REC] == pytest.approx(2190.0)
    assert ev.volume_mwh[0] == pytest.approx(2190.0)
    # RECs: 2,190 MWh x 50,000 KRW/REC = 109,500,000 on top of the grid bill: 673,569,480
    assert ev.cost_krw[0, REC] == pytest.approx(673_569_480, rel=REL)


def test_an_re_target_above_the_procurement_share_sets_the_volume(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, re_target_pct={2025: 40.0, 2027: 80.0},
                   decisions={"green_premium_krw_per_kwh": 10.0})
    # the target in 2026, halfway from 40 % (2025) to 80 % (2027): 60 % of 4,380 MWh = 2,628 MWh > the 50 %
    # (2,190) sought; premium 2,628,000 x 10 = 26,280,000 -> 590,349,480
    assert ev.target_mwh[0] == pytest.approx(2628.0) and ev.volume_mwh[0] == pytest.approx(2628.0)
    assert ev.cost_krw[0, PREMIUM] == pytest.approx(590_349_480, rel=REL)


def test_options_not_offered_are_unavailable(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, decisions={"options": ["grid", "green_tariff"]})
    for option in (PREMIUM, PPA, REC, SELF):
        assert np.isnan(ev.cost_krw[0, option]) and ev.re_mwh[0, option] == 0.0
    assert ev.cost_krw[0, GREEN] == pytest.approx(532_581_660, rel=REL)  # as for half the use above


def test_direct_ppa_cost_paid_kwh_and_price(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, tenants=("a", "b"))
    # a seeks 2,190 MWh: 2,190,000 / 1,460 kWh/kWp = 1,500 kWp; 750 kW in the sunny hours exceeds its 500 kW
    # load, so it takes 500 x 8 x 365 = 1,460,000 kWh (pay-as-consumed: paid = applied, escalation 0: x 1).
    # Grid bill: basic on the full load's peak 500 kW = 49,920,000; grid kWh 4,380,000 - 1,460,000 =
    # 2,920,000 x 114 = 332,880,000; x 1.027 = 393,135,600; fees 1,460,000 x (40 network + 1 broker) =
    # 59,860,000 -> 452,995,600 at price 0
    assert ev.ppa_paid_kwh[0] == pytest.approx(1_460_000)
    assert ev.cost_krw[0, PPA] == pytest.approx(452_995_600, rel=REL)
    assert ev.re_mwh[0, PPA] == pytest.approx(1460.0)
    assert np.isnan(ev.cost_krw[1, PPA])  # b's 200 kW contract is below the 300 kW a direct PPA needs
    # at 90 KRW/kWh: + 1,460,000 x 90 = 131,400,000 -> 584,395,600; every other option unchanged
    at90 = ev.cost_at(90.0)
    assert at90[0, PPA] == pytest.approx(584_395_600, rel=REL)
    assert at90[0, GRID] == ev.cost_krw[0, GRID] and ev.cost_krw[0, PPA] == pytest.approx(452_995_600, rel=REL)
    # a price per tenant: a at 10 -> + 14,600,000 = 467,595,600
    assert ev.cost_at(np.array([10.0, 20.0]))[0, PPA] == pytest.approx(467_595_600, rel=REL)
    # tariff spread, per tenant: 10 % of the grid energy KRW left: a 2,920,000 x 100 x 10 % = 29,200,000;
    # grid only: a 43,800,000, b 876,000 x 100 x 10 % = 8,760,000
    assert ev.spread_krw[0, PPA] == pytest.approx(29_200_000, rel=REL)
    assert ev.spread_krw[:, GRID] == pytest.approx([43_800_000, 8_760_000], rel=REL)


def test_each_tenant_buys_from_its_own_virtual_plant(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=25.0, tenants=("a", "c"))
    # a: 1,095 MWh -> 750 kWp, 375 kW in the sunny hours, all taken: 1,095,000 kWh. Grid 3,285,000 x 114 =
    # 374,490,000 + basic 49,920,000 = 424,410,000 x 1.027 = 435,869,070; fees 1,095,000 x 41 = 44,895,000
    assert ev.re_mwh[0, PPA] == pytest.approx(1095.0)
    assert ev.cost_krw[0, PPA] == pytest.approx(480_764_070, rel=REL)
    # c (contract exactly 300 kW: eligible): 219 MWh -> 150 kWp, 75 kW in the sunny hours: 219,000 kWh taken;
    # grid 876,000 - 219,000 = 657,000 x 114 = 74,898,000 + basic 100 x 8,320 x 12 = 9,984,000 = 84,882,000
    # x 1.027 = 87,173,814; fees 219,000 x 41 = 8,979,000 -> 96,152,814
    assert ev.re_mwh[1, PPA] == pytest.approx(219.0)
    assert ev.cost_krw[1, PPA] == pytest.approx(96_152_814, rel=REL)


def test_self_generation_with_net_metering(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, tenants=("a", "b"))
    # a: 2,190 MWh wanted -> 1,500 kWp, roof 1,000 kW: 1,000 kWp (<= 1,000 kW: net metered); 500 kW in the
    # sunny hours covers the 500 kW load exactly, no export. Self 1,460,000 kWh; grid 2,920,000 kWh.
    # Bill (grid peak 500 kW in the evening mid hours): 49,920,000 + 2,920,000 x 114 = 382,800,000 x 1.027 =
    # 393,135,600; annuity 1,000 kW x 1,000,000 x (CRF(0 %, 20) 0.05 + O&M 0.015) = 65,000,000
    assert ev.rooftop_kw.tolist() == pytest.approx([1000.0, 300.0])
    assert ev.re_mwh[0, SELF] == pytest.approx(1460.0)
    assert ev.cost_krw[0, SELF] == pytest.approx(458_135_600, rel=REL)
    # b: 438 MWh wanted -> 300 kWp; 150 kW in the sunny hours against 100 kW of load: self 100 x 8 x 365 =
    # 292,000 kWh, export 50 x 8 x 365 = 146,000 kWh; grid 100 x 16 x 365 = 584,000 kWh. Net metering
    # credits the export against b's own grid kWh: keep 1 - 146,000 / 584,000 = 0.75.
    # Bill: basic 100 kW x 7,470 x 12 = 8,964,000; kWh 0.75 x 584,000 x 114 = 49,932,000;
    # (8,964,000 + 49,932,000) x 1.027 = 60,486,192; annuity 300 x 1,000,000 x 0.065 = 19,500,000
    assert ev.re_mwh[1, SELF] == pytest.approx(292.0)
    assert ev.cost_krw[1, SELF] == pytest.approx(79_986_192, rel=REL)
    # tariff spread: 10 % of the energy KRW still billed: a 2,920,000 x 100 = 29,200,000; b 0.75 x 58,400,000
    # x 10 % = 4,380,000 (a fixed cost otherwise: nothing sold, so nothing exposed to SMP)
    assert ev.spread_krw[:, SELF] == pytest.approx([29_200_000, 4_380_000], rel=REL)


def test_bills_levelised_with_the_expected_tariff_growth(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, tariff_growth=0.02)
    # 2 %/yr growth at a 0 % hurdle over 20 years: the mean of 1.02^1..1.02^20 = 1.02 x (1.02^20 - 1) / 0.02 / 20
    # = 1.02 x 0.485947 / 0.02 / 20 = 24.78332 / 20 = 1.239166 times this year's bill
    lev = 1.239166
    assert ev.cost_krw[0, GRID] == pytest.approx(564_069_480 * lev, rel=1e-6)  # 698,975,6xx
    # the PPA's grid bill is levelised, its fees are not: 393,135,600 x 1.239166 + 59,860,000
    assert ev.cost_krw[0, PPA] == pytest.approx(393_135_600 * lev + 59_860_000, rel=1e-6)
    # rooftop PV: the bill is levelised, the annuity is flat: 393,135,600 x 1.239166 + 65,000,000
    assert ev.cost_krw[0, SELF] == pytest.approx(393_135_600 * lev + 65_000_000, rel=1e-6)
    # green tariff for half the use: the KEPCO bill is levelised (299,580,000 x 1.027 = 307,668,660, as for half
    # the use above), the green energy at its fixed price is not: 219,000,000 x 1.027 = 224,913,000
    assert ev.cost_krw[0, GREEN] == pytest.approx(307_668_660 * lev + 224_913_000, rel=1e-6)
    # the PPA price escalates at the template's 0 %: one kWh paid per kWh taken
    assert ev.ppa_paid_kwh[0] == pytest.approx(1_460_000)


def test_pay_as_produced_ppa_pays_every_contracted_kwh_at_an_escalating_price(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, tenants=("a", "c"),
                   decisions={"ppa": {"settlement": "pay_as_produced", "escalation_pct_per_year": 2.0}})
    # a: 1,500 kWp x 0.5 x 8 h x 365 = 2,190,000 kWh contracted, all paid; the price escalating 2 %/yr weighs
    # 1.239166 times the first year's (as above): 2,190,000 x 1.239166 = 2,713,773 kWh a year at the first price;
    # c: 300 kWp x 0.5 x 2,920 h = 438,000 kWh x 1.239166 = 542,755
    assert ev.ppa_paid_kwh == pytest.approx([2_190_000 * 1.239166, 438_000 * 1.239166], rel=1e-6)
    # the grid bill and the per-kWh fees follow the 1,460,000 kWh the tenant takes, as under pay-as-consumed
    assert ev.cost_krw[0, PPA] == pytest.approx(452_995_600, rel=REL)


def test_self_generation_above_the_net_metering_limit_sells_its_export(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=100.0, roof_m2=13_340)
    # roof 13,340 / 6.67 = 2,000 kW; 4,380 MWh sought -> 3,000 kWp: 2,000 kWp, above the 1,000 kW net-metering
    # limit, so the export is sold at SMP. 1,000 kW in the sunny hours: self 500 x 8 x 365 = 1,460,000 kWh,
    # export 1,460,000 kWh x 80 = 116,800,000 KRW. Bill as for 1,000 kWp: 393,135,600; annuity 2,000 x
    # 1,000,000 x 0.065 = 130,000,000; cost 393,135,600 + 130,000,000 - 116,800,000 = 406,335,600
    assert ev.rooftop_kw[0] == pytest.approx(2000.0)
    assert ev.cost_krw[0, SELF] == pytest.approx(406_335_600, rel=REL)
    assert ev.re_mwh[0, SELF] == pytest.approx(1460.0)
    # spread: tariff 10 % x 292,000,000 = 29,200,000 and SMP 25 % x 116,800,000 = 29,200,000:
    # sqrt(2) x 29,200,000 = 1.414214 x 29,200,000 = 41,295,036
    assert ev.spread_krw[0, SELF] == pytest.approx(41_295_036, rel=REL)


def test_rec_spread_adds_the_rec_price_risk(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, decisions={"rec_sd_pct": 20.0})
    # RECs for 2,190 MWh at 50,000 = 109,500,000 KRW exposed to the REC price (20 %: 21,900,000) beside the
    # 438,000,000 of grid energy exposed to the tariff (10 %: 43,800,000): sqrt(43.8^2 + 21.9^2) M =
    # sqrt(1,918.44 + 479.61) M = sqrt(2,398.05) M = 48,969,889
    assert ev.spread_krw[0, REC] == pytest.approx(48_969_889, rel=1e-6)
    assert ev.spread_krw[0, GRID] == pytest.approx(43_800_000, rel=REL)  # no REC risk without RECs


def test_rooftop_pv_needs_a_usable_roof(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, decisions={"self_generation": {"usable_roof_share": 0.0}})
    assert ev.rooftop_kw[0] == 0.0 and np.isnan(ev.cost_krw[0, SELF]) and ev.re_mwh[0, SELF] == 0.0
    assert ev.spread_krw[0, SELF] == 0.0  # nothing exposed to any price through an option it cannot take


def test_a_one_kw_rooftop_is_still_an_option(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=50.0, roof_m2=6.67)
    # 6.67 m2 / 6.67 = 1 kWp: 0.5 kW x 2,920 sunny hours = 1,460 kWh self-consumed; grid 4,380,000 - 1,460 =
    # 4,378,540 kWh x 114 = 499,153,560 + basic 49,920,000 = 549,073,560 x 1.027 = 563,898,546;
    # annuity 1 x 1,000,000 x 0.065 = 65,000 -> 563,963,546
    assert ev.rooftop_kw[0] == pytest.approx(1.0)
    assert ev.cost_krw[0, SELF] == pytest.approx(563_963_546, rel=REL)


def test_net_metering_up_to_and_including_1000_kw(tmp_path):
    ev = _evaluate(tmp_path, procurement_pct=100.0, tenants=("e",))
    # e: 3,504 MWh sought -> 2,400 kWp, roof 1,000 kW: exactly the 1,000 kW limit, so net metered. 500 kW in the
    # sunny hours against 400 kW: export 100 x 2,920 = 292,000 kWh, credited against the grid 400 x 16 x 365 =
    # 2,336,000 kWh: keep 1 - 292,000 / 2,336,000 = 0.875; nothing sold.
    # Bill: basic 400 x 8,320 x 12 = 39,936,000; kWh 0.875 x 2,336,000 x 114 = 233,016,000;
    # 272,952,000 x 1.027 = 280,321,704; annuity 65,000,000 -> 345,321,704
    assert ev.rooftop_kw[0] == pytest.approx(1000.0)
    assert ev.cost_krw[0, SELF] == pytest.approx(345_321_704, rel=REL)


def test_each_tenant_draws_its_own_roof(tmp_path):
    # usable share 0.6: the seed-3 roof draws of tenants 0, 1, 2 (re100sim.simulator.rng.stream(3, "roof", t))
    # are 0.909, 0.834 and 0.494, so only c's roof carries PV: 438 MWh sought -> 300 kWp
    ev = _evaluate(tmp_path, procurement_pct=50.0, tenants=("a", "b", "c"),
                   decisions={"self_generation": {"usable_roof_share": 0.6}})
    assert ev.rooftop_kw == pytest.approx([0.0, 0.0, 300.0])


def test_rooftop_costs_to_the_won_with_the_fund_truncated_each_month(tmp_path):
    """The rooftop cases above to the won: KEPCO truncates each month's fund to 10 won (docs/domain.md#bill-structure),
    so the year's fund is the sum of 12 truncated months (7 of 31 days, 4 of 30 and February's 28 in 2026).

    a (net metered, nothing exported, grid 500 kW x 16 h a day): a month of d days bills 500 x 8,320 = 4,160,000 +
    8,000 d kWh x 114 = 912,000 d; fund 2.7 %: d = 31: 32,432,000 x 0.027 = 875,664 -> 875,660; d = 30: 31,520,000
    -> 851,040; d = 28: 29,696,000 -> 801,792 -> 801,790. Fund 7 x 875,660 + 4 x 851,040 + 801,790 = 10,335,570;
    bill 382,800,000 + 10,335,570 = 393,135,570; with the annuity 65,000,000: 458,135,570.
    b (net metered, keep 0.75): 100 x 7,470 = 747,000 + 0.75 x 1,600 d kWh x 114 = 136,800 d; d = 31: 4,987,800 x
    0.027 = 134,670.6 -> 134,670; d = 30: 4,851,000 -> 130,977 -> 130,970; d = 28: 4,577,400 -> 123,589.8 ->
    123,580. Fund 7 x 134,670 + 4 x 130,970 + 123,580 = 1,590,150; bill 58,896,000 + 1,590,150 = 60,486,150; with
    the annuity 19,500,000: 79,986,150.
    A 2,000 kWp host (above the net-metering limit, nothing credited): a's bill 393,135,570 + annuity 130,000,000
    - export sold 1,460,000 kWh x 80 = 116,800,000 -> 406,335,570.
    """
    ev = _evaluate(tmp_path, procurement_pct=50.0, tenants=("a", "b"))
    assert ev.cost_krw[:, SELF] == pytest.approx([458_135_570, 79_986_150], abs=0.5)
    ev = _evaluate(tmp_path, procurement_pct=100.0, roof_m2=13_340)
    assert ev.cost_krw[0, SELF] == pytest.approx(406_335_570, abs=0.5)


def test_net_metering_credits_a_host_whose_year_on_the_grid_is_under_one_kwh(tmp_path):
    """A host that draws 40 kW in the sunny hours and 0.73 kWh in the year's first hour, nothing else: use
    40 x 2,920 + 0.73 = 116,800.73 kWh, all sought -> 116,800.73 / 1,460 = 80.0005 kWp (roof 1,000 kW). In the
    sunny hours 40.00025 kW covers the 40 kW load and exports 0.00025 x 2,920 = 0.73 kWh: net metering credits it
    against the 0.73 grid kWh, so keep = 1 - 0.73 / 0.73 = 0: no energy charge and no tariff exposure.
    Bill: the 30 % floor of the 1,000 kW contract, 300 kW x 8,320 = 2,496,000 a month, fund 2,496,000 x 0.027 =
    67,392 -> 67,390: 2,563,390 x 12 = 30,760,680; annuity 80.0005 x 1,000,000 x 0.065 = 5,200,032.5;
    cost 35,960,712.5.
    A second host draws the 40 kW of the sunny hours only: 116,800 / 1,460 = 80 kWp, exactly its load, so it
    never uses the grid (nothing to credit, nothing billed per kWh): the same bill, annuity 5,200,000, cost
    35,960,680."""
    def load_kw(cal):
        kw = np.where((cal.hour >= 8) & (cal.hour < 16), 40.0, 0.0)
        first = kw.copy()
        first[0] = 0.73
        return np.column_stack([first, kw])

    ev = _evaluate(tmp_path, procurement_pct=100.0, tenants=("a", "e"), load_kw=load_kw)
    assert ev.rooftop_kw == pytest.approx([80.0005, 80.0], abs=1e-9)
    assert ev.re_mwh[:, SELF] == pytest.approx([116.8, 116.8])  # 40 kW x 2,920 sunny hours self-consumed
    assert ev.spread_krw[:, SELF] == pytest.approx([0.0, 0.0], abs=1e-6)  # nothing billed per kWh, nothing sold
    assert ev.cost_krw[:, SELF] == pytest.approx([35_960_712.5, 35_960_680], abs=0.01)


def test_a_decision_year_across_new_year_takes_the_target_of_its_middle(tmp_path):
    # A year from 1 September 2026 to 31 August 2027: its middle hour (4,380 h, 182.5 days in) is on 2 March 2027,
    # so the 2027 target applies: 80 % of 4,380 MWh = 3,504 MWh (not 2026's 60 %: 2,628 MWh), above the 50 % sought.
    ev = _evaluate(tmp_path, procurement_pct=50.0, re_target_pct={2025: 40.0, 2027: 80.0}, start_date="2026-09-01")
    assert ev.target_mwh[0] == pytest.approx(3504.0) and ev.volume_mwh[0] == pytest.approx(3504.0)


def test_green_tariff_for_a_tenant_using_under_one_mwh(tmp_path):
    """50 W flat: 0.05 x 8,760 = 438 kWh a year, all allocated from the pool, so nothing is left on KEPCO's kWh
    lines (keep 1 - 0.438 / 0.438 = 0) and nothing is exposed to the tariff. Bill: the 30 % floor of the 1,000 kW
    contract, 300 x 8,320 = 2,496,000 a month, fund 67,392 -> 67,390: 2,563,390 x 12 = 30,760,680; green energy
    438 x 100 = 43,800 with the fund: 44,982.6; cost 30,805,662.6."""
    ev = _evaluate(tmp_path, procurement_pct=100.0, load_kw=lambda cal: np.full((cal.n_hours, 1), 0.05))
    assert ev.re_mwh[0, GREEN] == pytest.approx(0.438)
    assert ev.spread_krw[0, GREEN] == pytest.approx(0.0, abs=1e-6)
    assert ev.cost_krw[0, GREEN] == pytest.approx(30_805_662.6, abs=0.01)


def test_ppa_plant_sized_for_a_yield_under_one_kwh_per_kwp(tmp_path):
    # A site whose PV makes 0.5 kWh/kWp a year (0.5 kW in the year's first noon hour only): a's 2,190 MWh need
    # 2,190,000 / 0.5 = 4,380,000 kWp, whose one hour of output, 2,190,000 kWh, is all paid under pay-as-produced.
    def pv(cal):
        kw = np.zeros(cal.n_hours)
        kw[12] = 0.5
        return kw

    ev = _evaluate(tmp_path, procurement_pct=50.0, pv_kw_per_kw=pv, decisions={"ppa": {"settlement": "pay_as_produced"}})
    assert ev.ppa_paid_kwh[0] == pytest.approx(2_190_000)
    assert ev.re_mwh[0, PPA] == pytest.approx(0.5)  # of which a's 500 kW load takes 500 kWh in that hour


@pytest.mark.parametrize("chunk", [1, 3])
def test_options_settled_in_column_chunks_equal_one_run(tmp_path, monkeypatch, chunk):
    """The option kernels run COLUMN_CHUNK tenants at a time (memory and cache): any chunk gives the
    numbers of one run over all deciding tenants, bit for bit, with the PPA and rooftop runs on."""
    from re100sim.simulator.market import options

    whole = _evaluate(tmp_path, procurement_pct=40.0, tenants=("a", "b", "c", "e"))
    assert np.isfinite(whole.cost_krw[:, [PPA, SELF]]).sum() >= 6  # both plant runs took place
    monkeypatch.setattr(options, "COLUMN_CHUNK", chunk)
    chunked = _evaluate(tmp_path, procurement_pct=40.0, tenants=("a", "b", "c", "e"))
    for f in dataclasses.fields(Evaluation):
        assert np.array_equal(getattr(chunked, f.name), getattr(whole, f.name), equal_nan=True), f.name
