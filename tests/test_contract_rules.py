"""Edge cases of the month-level contract rules (simulator/rules/settlement.py, the contract term in
simulator/market/procurement.py) that the golden invoices do not reach: found by the mutation score (docs/testing.md)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from re100sim.simulator.market.monthly import capital_cost_krw
from re100sim.simulator.market.procurement import supplies
from re100sim.simulator.rules.billing import MonthUsage
from re100sim.simulator.rules.settlement import (
    contract_capacity_kw,
    curtailment_compensation_krw,
    net_metering,
    pool_allocation_kwh,
    ppa_energy_krw,
    scale_usage,
    standard_price_krw_per_kwh,
    surplus_paid_fraction,
)
from re100sim.simulator.scenario.config import PpaContract, ShapedVolume, SmpIndexedPrice


def test_curtailment_compensation_only_under_pay_as_consumed():
    # 1,000 of 10,000 contracted kWh curtailed; contract energy worth 1,000,000 KRW (100 KRW/kWh); 50 %.
    assert curtailment_compensation_krw(1_000, 10_000, 1_000_000, 50, "pay_as_consumed") == 50_000  # 1,000 x 100 x 0.5
    # Under pay-as-produced the curtailed energy is already paid for: nothing more.
    assert curtailment_compensation_krw(1_000, 10_000, 1_000_000, 50, "pay_as_produced") == 0.0
    # A month with under 1 kWh contracted is still priced: 0.5 kWh x 100 x 0.5 = 25.
    assert curtailment_compensation_krw(0.5, 0.5, 50.0, 50, "pay_as_consumed") == pytest.approx(25.0)
    assert curtailment_compensation_krw(0.0, 0.0, 0.0, 50, "pay_as_consumed") == 0.0


def test_pool_allocation_of_small_pools_and_subscriptions():
    # A 0.5 kWh pool against two 1 kWh subscriptions: pro rata, 0.25 kWh each.
    np.testing.assert_allclose(pool_allocation_kwh(0.5, np.array([1.0, 1.0]), np.array([10.0, 10.0])), [0.25, 0.25])
    # Subscriptions totalling 0.5 kWh, pool 10 kWh: each in full.
    np.testing.assert_allclose(pool_allocation_kwh(10.0, np.array([0.2, 0.3]), np.array([10.0, 10.0])), [0.2, 0.3])
    # A pool of 100 kWh and nobody subscribed: nothing allocated (and no division by the zero total).
    np.testing.assert_array_equal(pool_allocation_kwh(100.0, np.zeros(2), np.array([5.0, 5.0])), [0.0, 0.0])


def test_green_tariff_standard_price_floor_and_cap():
    p = SmpIndexedPrice(kind="smp_indexed", adder_krw_per_kwh=45.0, floor_krw_per_kwh=150.0, cap_krw_per_kwh=170.0)
    assert standard_price_krw_per_kwh(p, 80.0) == 150.0  # 80 + 45 = 125, below the floor
    assert standard_price_krw_per_kwh(p, 110.0) == 155.0  # 110 + 45
    assert standard_price_krw_per_kwh(p, 140.0) == 170.0  # 185, above the cap
    assert standard_price_krw_per_kwh(SmpIndexedPrice(kind="smp_indexed", adder_krw_per_kwh=45.0), 10.0) == 55.0


def test_net_metering_credits_no_more_than_the_grid_kwh():
    # Bank 10 kWh, nothing exported, 0.5 kWh of grid use: 0.5 credited, 9.5 carried forward.
    assert net_metering(10.0, 0.0, 0.5) == (pytest.approx(0.5), pytest.approx(9.5))
    assert net_metering(10.0, 0.0, 0.0) == (0.0, 10.0)  # no grid use, nothing credited


def test_scale_usage_never_bills_more_than_the_month():
    u = MonthUsage(month_key=0, kwh_by_period=np.array([100.0, 50.0, 10.0]),
                   energy_krw_by_period=np.array([10_000.0, 8_000.0, 2_000.0]), climate_charge_krw=1_440.0,
                   fuel_adj_charge_krw=800.0, peak_kw=20.0, basic_krw_per_kw_month=8_320.0, fund_rate=0.027,
                   vat_rate=0.1)
    s = scale_usage(u, 1.5)  # a keep fraction above 1 is clipped to the whole month
    np.testing.assert_allclose(s.kwh_by_period, u.kwh_by_period)
    assert s.climate_charge_krw == 1_440.0


def test_ppa_energy_of_sub_kwh_months():
    # 0.5 kWh applied at 100 KRW/kWh (50 KRW), billed 0.5 kWh: the applied energy's own price, 50 KRW.
    assert ppa_energy_krw(1.0, 0.5, 100.0, 50.0, 0.5) == pytest.approx(50.0)
    # Pay-as-produced: contracted 1.5 kWh worth 150 KRW, applied 1.0 kWh worth 100 KRW, billed 1.5:
    # 100 + 0.5 kWh x (150 - 100) / 0.5 = 150 KRW (the surplus at its own average price, 100 KRW/kWh).
    assert ppa_energy_krw(1.5, 1.0, 150.0, 100.0, 1.5) == pytest.approx(150.0)


def test_contract_supplies_from_its_first_month_for_its_term():
    # From 1 July 2026 for 1 year: supplies July 2026 to June 2027 (month_key = year x 12 + month - 1).
    c = PpaContract(name="c", generator="g", tenant="t", volume={"kind": "share", "share": 1.0},
                    price={"kind": "fixed", "price_krw_per_kwh": 100.0}, start_date=dt.date(2026, 7, 1), term_years=1)
    jul26, jun27 = 2026 * 12 + 6, 2027 * 12 + 5
    assert [supplies(c, k) for k in (jul26 - 1, jul26, jun27, jun27 + 1)] == [False, True, True, False]


def test_annuity_ends_after_the_plant_lifetime():
    # 1,200,000 KRW over 1 year at 6 %: crf = 1.06, so 1,200,000 x 1.06 / 12 = 106,000 KRW a month in months
    # 0-11 of service, nothing from month 12 on.
    assert capital_cost_krw(1_200_000.0, 6.0, 1, "annuity", 11) == ("capital_annuity", 106_000)
    assert capital_cost_krw(1_200_000.0, 6.0, 1, "annuity", 12) == ("capital_annuity", 0)


def test_scale_usage_never_bills_a_negative_month():
    u = MonthUsage(month_key=0, kwh_by_period=np.array([100.0, 50.0, 10.0]),
                   energy_krw_by_period=np.array([10_000.0, 8_000.0, 2_000.0]), climate_charge_krw=1_440.0,
                   fuel_adj_charge_krw=800.0, peak_kw=20.0, basic_krw_per_kw_month=8_320.0, fund_rate=0.027,
                   vat_rate=0.1)
    s = scale_usage(u, -0.25)  # a keep fraction below 0 is clipped to nothing left on the tariff
    assert s.kwh_by_period.tolist() == [0.0, 0.0, 0.0]
    assert (s.climate_charge_krw, s.fuel_adj_charge_krw, s.peak_kw) == (0.0, 0.0, 20.0)  # the peak stays


def test_ppa_energy_of_a_bill_below_the_applied_energy():
    # A bill for part of the applied energy is priced at the applied energy's average price:
    # 700 kWh applied for 70,000 KRW (100 KRW/kWh), 350 kWh billed -> 35,000 KRW.
    assert ppa_energy_krw(1000.0, 700.0, 106_000.0, 70_000.0, 350.0) == pytest.approx(35_000.0)


def test_surplus_paid_fraction_of_small_and_unbilled_surpluses():
    # Contracted 10.5 kWh, 10 applied: a 0.5 kWh surplus, billed in full (pay-as-produced, 10.5):
    # (10.5 - 10) / 0.5 = all of it; half billed (10.25): (10.25 - 10) / 0.5 = 0.5.
    assert surplus_paid_fraction(10.5, 10.0, 10.5, None) == 1.0
    assert surplus_paid_fraction(10.5, 10.0, 10.25, None) == 0.5
    # Billed below the applied energy (60 applied, 50 billed): none of the 40 kWh surplus is paid for.
    assert surplus_paid_fraction(100.0, 60.0, 50.0, None) == 0.0


def test_capacity_of_a_shaped_contract_is_its_profile_peak():
    shaped = ShapedVolume.model_construct(kind="shaped", profile_file="profile.csv")
    assert contract_capacity_kw(shaped, 1200.0, 350.0) == 350.0  # the profile's peak, not the plant's 1,200 kW
    assert contract_capacity_kw(shaped, 1200.0) == 0.0  # no profile peak given: no per-kW capacity
