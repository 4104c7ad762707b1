"""Monthly bills: golden bills to the won, usage aggregation, billing-demand ratchet, rounding.

Every expected value is worked by hand in the comment beside it. Golden bills use a
constant load for a whole month; hours per TOU period are counted from the real
Korean calendar:
- pre-reform bands (domain.md#time-of-use-periods (a), Mar-Oct): weekday light 10 h (22-08), mid 8 h
  (08-11, 12-13, 18-22), peak 6 h (11-12, 13-18);
- post-reform bands (domain.md#time-of-use-periods (b), Mar-Oct): weekday light 10 h (22-08), mid 8 h
  (08-15, 21-22), peak 6 h (15-21);
- Saturday: peak billed mid -> light 10, mid 14; Sunday/holiday: light 24 (domain.md#time-of-use-periods (c)).
Rounding (docs/domain.md#bill-structure): each charge truncated to the won, fund truncated to 10 won,
VAT rounded to the won, both on the 전기요금계. Surcharges: climate 9.0, fuel +5.0
KRW/kWh, fund 2.7 % (from 2025-07-01), VAT 10 %.
"""
import dataclasses
import datetime as dt
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.inputs.tariffs import (
    TariffIncrease,
    TariffPath,
    hourly_rates,
    load_table,
)
from re100sim.simulator.rules.billing import (
    BillingDemand,
    InvoiceLine,
    MonthUsage,
    MonthUsageArrays,
    bill_quantities,
    billing_demand_kw,
    invoice_lines,
    month_usage,
    monthly_bill,
    monthly_bill_arrays,
    round_won,
    round_won_array,
    truncate_ten_won,
    truncate_ten_won_array,
    truncate_won,
    truncate_won_array,
)
from re100sim.simulator.rules.settlement import scale_usage

ITEMS = [
    "basic_charge", "energy_light", "energy_mid", "energy_peak",
    "climate_environment", "fuel_cost_adjustment", "power_industry_fund", "vat",
]


def golden_bill(option, start, end, load_kw, contract_kw):
    """Bill of one whole month at a constant load, with no demand history."""
    cal = build_calendar(start, end)
    rates = hourly_rates(cal, load_table("kepco_industrial"), option)
    (usage,) = month_usage(np.full(cal.n_hours, load_kw), rates, cal)
    billing_kw = billing_demand_kw(usage.month_key, usage.peak_kw, {}, contract_kw)
    lines = monthly_bill(usage, billing_kw)
    assert [line.item for line in lines] == ITEMS
    return {line.item: line.krw for line in lines}, usage


# --- golden bills ---------------------------------------------------------------------------


def test_golden_eul_pre_reform_march_2026():
    # 산업용(을) 고압A 선택Ⅱ, 456.7 kW constant, contract 500 kW, March 2026 (spring/fall,
    # pre-reform, domain.md#tariff-tables: 110.9 / 133.4 / 164.1, basic 8,320).
    # Days: Sundays 1 (삼일절), 8, 15, 22, 29 = 5; substitute holiday Mon 2 -> 6 light days;
    # Saturdays 7, 14, 21, 28 = 4; weekdays 31 - 6 - 4 = 21.
    # Hours: light 21x10 + 4x10 + 6x24 = 394; mid 21x8 + 4x14 = 224; peak 21x6 = 126 (sum 744).
    bill, usage = golden_bill("eul_high_a_ii", dt.date(2026, 3, 1), dt.date(2026, 4, 1), 456.7, 500)
    assert usage.kwh_by_period.tolist() == pytest.approx([179939.8, 102300.8, 57544.2])  # 394/224/126 x 456.7
    assert bill == {
        "basic_charge": 3_799_744,  # billing kW = 456.7 (> 30 % x 500); 456.7 x 8,320 = 3,799,744
        "energy_light": 19_955_323,  # 179,939.8 x 110.9 = 19,955,323.82
        "energy_mid": 13_646_926,  # 102,300.8 x 133.4 = 13,646,926.72
        "energy_peak": 9_443_003,  # 57,544.2 x 164.1 = 9,443,003.22
        "climate_environment": 3_058_063,  # 744 x 456.7 = 339,784.8 kWh x 9.0 = 3,058,063.2
        "fuel_cost_adjustment": 1_698_924,  # 339,784.8 x 5.0 = 1,698,924.0
        # 전기요금계 = 3,799,744 + 19,955,323 + 13,646,926 + 9,443,003 + 3,058,063 + 1,698,924 = 51,601,983
        "power_industry_fund": 1_393_250,  # 51,601,983 x 0.027 = 1,393,253.541 -> 1,393,250
        "vat": 5_160_198,  # 5,160,198.3 -> 5,160,198
    }


def test_golden_eul_month_crossing_reform_april_2026():
    # Same tenant, April 2026: 1-15 pre-reform (domain.md#tariff-tables), 16-30 post-reform (domain.md#tariff-tables:
    # 116.0 / 133.4 / 150.9, and 50 % off 11-14 h on spring/fall weekends).
    # No holidays in April 2026. Apr 1-15: weekdays 1-3, 6-10, 13-15 = 11, Sat 4, 11, Sun 5, 12.
    # Apr 16-30: weekdays 16-17, 20-24, 27-30 = 11, Sat 18, 25, Sun 19, 26.
    # Each half: light 11x10 + 2x10 + 2x24 = 178, mid 11x8 + 2x14 = 116, peak 11x6 = 66.
    # Second half discounted: Sat 11-13 h = 2x3 = 6 mid hours, Sun 11-13 h = 6 light hours.
    bill, usage = golden_bill("eul_high_a_ii", dt.date(2026, 4, 1), dt.date(2026, 5, 1), 456.7, 500)
    assert usage.kwh_by_period.tolist() == pytest.approx([162585.2, 105954.4, 60284.4])  # 356/232/132 h
    assert bill == {
        "basic_charge": 3_799_744,  # 456.7 x 8,320 (basic unchanged by the reform)
        # light: 178 h x 456.7 = 81,292.6 x 110.9 = 9,015,349.34
        #      + 172 h x 456.7 = 78,552.4 x 116.0 = 9,112,078.40
        #      +   6 h x 456.7 =  2,740.2 x  58.0 =   158,931.60  -> 18,286,359.34
        "energy_light": 18_286_359,
        # mid: 116 h x 456.7 = 52,977.2 x 133.4 = 7,067,158.48
        #    + 110 h x 456.7 = 50,237.0 x 133.4 = 6,701,615.80
        #    +   6 h x 456.7 =  2,740.2 x  66.7 =   182,771.34  -> 13,951,545.62
        "energy_mid": 13_951_545,
        # peak: 66 h x 456.7 = 30,142.2 x 164.1 = 4,946,335.02 + 30,142.2 x 150.9 = 4,548,457.98
        "energy_peak": 9_494_793,  # = 9,494,793.00
        "climate_environment": 2_959_416,  # 720 h x 456.7 = 328,824.0 kWh x 9.0 = 2,959,416.0
        "fuel_cost_adjustment": 1_644_120,  # 328,824.0 x 5.0
        # 전기요금계 = 3,799,744 + 18,286,359 + 13,951,545 + 9,494,793 + 2,959,416 + 1,644,120 = 50,135,977
        "power_industry_fund": 1_353_670,  # 50,135,977 x 0.027 = 1,353,671.379 -> 1,353,670
        "vat": 5_013_598,  # 5,013,597.7 -> 5,013,598
    }


def test_golden_eul_post_reform_october_2026():
    # 산업용(을) 고압A 선택Ⅱ, 456.7 kW, October 2026 (post-reform, domain.md#tariff-tables s/f 116.0/133.4/150.9).
    # Holidays: Sat 3 (개천절), Mon 5 (substitute), Fri 9 (한글날); Sundays 4, 11, 18, 25
    # -> 7 light days; plain Saturdays 10, 17, 24, 31 = 4; weekdays 31 - 7 - 4 = 20.
    # Hours: light 20x10 + 4x10 + 7x24 = 408; mid 20x8 + 4x14 = 216; peak 20x6 = 120.
    # Discount 11-13 h: Saturdays 4x3 = 12 mid hours; Sundays/holidays 7x3 = 21 light hours.
    bill, usage = golden_bill("eul_high_a_ii", dt.date(2026, 10, 1), dt.date(2026, 11, 1), 456.7, 500)
    assert usage.kwh_by_period.tolist() == pytest.approx([186333.6, 98647.2, 54804.0])  # 408/216/120 h
    assert bill == {
        "basic_charge": 3_799_744,
        # light: 387 h x 456.7 = 176,742.9 x 116.0 = 20,502,176.4 + 21 h x 456.7 = 9,590.7 x 58.0
        #        = 556,260.6 -> 21,058,437.0
        "energy_light": 21_058_437,
        # mid: 204 h x 456.7 = 93,166.8 x 133.4 = 12,428,451.12 + 12 h x 456.7 = 5,480.4 x 66.7
        #      = 365,542.68 -> 12,793,993.80
        "energy_mid": 12_793_993,
        "energy_peak": 8_269_923,  # 120 h x 456.7 = 54,804.0 x 150.9 = 8,269,923.6
        "climate_environment": 3_058_063,  # 339,784.8 x 9.0 = 3,058,063.2
        "fuel_cost_adjustment": 1_698_924,  # 339,784.8 x 5.0
        # 전기요금계 = 3,799,744 + 21,058,437 + 12,793,993 + 8,269,923 + 3,058,063 + 1,698,924 = 50,679,084
        "power_industry_fund": 1_368_330,  # 50,679,084 x 0.027 = 1,368,335.268 -> 1,368,330
        "vat": 5_067_908,  # 5,067,908.4 -> 5,067,908
    }


def test_golden_gap2_pre_reform_august_2025():
    # 산업용(갑)Ⅱ 고압A 선택Ⅱ, 123.4 kW, contract 200 kW, August 2025 (summer, pre-reform
    # bands; domain.md#tariff-tables: 90.8 / 116.6 / 150.1, basic 7,470). Fund 2.7 % (from 2025-07-01).
    # Days: Fri 15 (광복절) + Sundays 3, 10, 17, 24, 31 = 6 light days; Saturdays 2, 9, 16, 23,
    # 30 = 5; weekdays 31 - 6 - 5 = 20.
    # Hours: light 20x10 + 5x10 + 6x24 = 394; mid 20x8 + 5x14 = 230; peak 20x6 = 120.
    bill, usage = golden_bill("gap2_high_a_ii", dt.date(2025, 8, 1), dt.date(2025, 9, 1), 123.4, 200)
    assert usage.kwh_by_period.tolist() == pytest.approx([48619.6, 28382.0, 14808.0])
    assert bill == {
        "basic_charge": 921_798,  # 123.4 x 7,470 = 921,798.0
        "energy_light": 4_414_659,  # 394 x 123.4 = 48,619.6 x 90.8 = 4,414,659.68
        "energy_mid": 3_309_341,  # 230 x 123.4 = 28,382.0 x 116.6 = 3,309,341.2
        "energy_peak": 2_222_680,  # 120 x 123.4 = 14,808.0 x 150.1 = 2,222,680.8
        "climate_environment": 826_286,  # 744 x 123.4 = 91,809.6 kWh x 9.0 = 826,286.4
        "fuel_cost_adjustment": 459_048,  # 91,809.6 x 5.0 = 459,048.0
        # 전기요금계 = 921,798 + 4,414,659 + 3,309,341 + 2,222,680 + 826,286 + 459,048 = 12,153,812
        "power_industry_fund": 328_150,  # 12,153,812 x 0.027 = 328,152.924 -> 328,150
        "vat": 1_215_381,  # 1,215,381.2 -> 1,215,381
    }


def test_golden_gap2_post_reform_august_2026():
    # Same tenant, August 2026: 갑Ⅱ on the new bands from 2026-06-01 at unchanged prices.
    # Days: Sat 15 (광복절) and Mon 17 (substitute) + Sundays 2, 9, 16, 23, 30 = 7 light days;
    # plain Saturdays 1, 8, 22, 29 = 4; weekdays 31 - 7 - 4 = 20.
    # Hours: light 20x10 + 4x10 + 7x24 = 408; mid 20x8 + 4x14 = 216; peak 20x6 = 120.
    bill, usage = golden_bill("gap2_high_a_ii", dt.date(2026, 8, 1), dt.date(2026, 9, 1), 123.4, 200)
    assert usage.kwh_by_period.tolist() == pytest.approx([50347.2, 26654.4, 14808.0])
    assert bill == {
        "basic_charge": 921_798,  # 123.4 x 7,470
        "energy_light": 4_571_525,  # 408 x 123.4 = 50,347.2 x 90.8 = 4,571,525.76
        "energy_mid": 3_107_903,  # 216 x 123.4 = 26,654.4 x 116.6 = 3,107,903.04
        "energy_peak": 2_222_680,  # 14,808.0 x 150.1 = 2,222,680.8
        "climate_environment": 826_286,  # 91,809.6 x 9.0 = 826,286.4
        "fuel_cost_adjustment": 459_048,
        # 전기요금계 = 921,798 + 4,571,525 + 3,107,903 + 2,222,680 + 826,286 + 459,048 = 12,109,240
        "power_industry_fund": 326_940,  # 12,109,240 x 0.027 = 326,949.48 -> 326,940
        "vat": 1_210_924,  # 1,210,924.0
    }


# --- month_usage ----------------------------------------------------------------------------


def test_peak_skips_light_load_hours():
    # March 2026, pre-reform. 400 kW base; 900 kW at night (22-08, light); 1,000 kW at 14 h on
    # Sun 2026-03-08 (light all day); 700 kW at 14 h on Sat 2026-03-07 (billed mid -> counts).
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    load = np.where((cal.hour >= 22) | (cal.hour < 8), 900.0, 400.0)
    load[(cal.day == 8) & (cal.hour == 14)] = 1000.0
    load[(cal.day == 7) & (cal.hour == 14)] = 700.0
    (usage,) = month_usage(load, rates, cal)
    assert usage.peak_kw == 700.0


def test_month_usage_splits_months_and_prorates_basic():
    # +10 % from Fri 2027-04-16 (basic 8,320 -> 9,152): April has 15 days at each rate
    # -> hour-weighted basic (15 x 8,320 + 15 x 9,152) / 30 = 8,736.
    path = TariffPath(increases=[TariffIncrease(date=dt.date(2027, 4, 16), pct=10)])
    cal = build_calendar(dt.date(2027, 3, 20), dt.date(2027, 5, 3))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii", path)
    usage = month_usage(np.ones(cal.n_hours), rates, cal)
    # 1 kW for 12 days in March (20-31), 30 in April, 2 in May.
    assert [u.month_key for u in usage] == [2027 * 12 + 2, 2027 * 12 + 3, 2027 * 12 + 4]
    assert [u.kwh for u in usage] == [12 * 24, 30 * 24, 2 * 24]
    assert [u.basic_krw_per_kw_month for u in usage] == pytest.approx([8320.0, 8736.0, 9152.0])
    assert [u.climate_charge_krw for u in usage] == pytest.approx([12 * 24 * 9.0, 30 * 24 * 9.0, 2 * 24 * 9.0])
    assert usage[1].energy_charge_krw == pytest.approx(usage[1].energy_krw_by_period.sum())
    assert (usage[1].fund_rate, usage[1].vat_rate) == (0.027, 0.10)


def test_month_usage_rejects_bad_load():
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    with pytest.raises(ValueError, match="shape"):
        month_usage(np.ones(23), rates, cal)
    with pytest.raises(ValueError, match="negative"):
        month_usage(-np.ones(24), rates, cal)


# --- billing demand -------------------------------------------------------------------------


def test_billing_demand_ratchet_across_a_year():
    # Contract 1,000 kW (floor 300). Monthly peaks 500 kW, except Aug 2025 900 (ratchet month)
    # and Oct 2025 950 (not a ratchet month). Bills Aug 2025 .. Aug 2026, history fed as the
    # engine does (each month's own peak recorded after its bill).
    aug25 = 2025 * 12 + 7
    peaks = {aug25: 900.0, aug25 + 2: 950.0}
    history: dict[int, float] = {}
    billed = []
    for key in range(aug25, aug25 + 13):
        peak = peaks.get(key, 500.0)
        billed.append(billing_demand_kw(key, peak, history, 1000.0))
        history[key] = peak
    # Aug 25: own 900; Sep 25: 900 carried; Oct 25: own 950; Nov 25 .. Jul 26: 900 carried
    # (Oct is not carried); Aug 26: Aug 25 is 12 months back -> expired -> own 500.
    assert billed == [900, 900, 950] + [900] * 9 + [500]


def test_billing_demand_floor_and_no_history():
    # 30 % of 4,000 kW = 1,200 > peak 900.
    assert billing_demand_kw(2026 * 12, 900.0, {}, 4000.0) == pytest.approx(1200.0)
    # First month of a simulation: no history -> own peak 450 (floor 30 % x 1,000 = 300).
    assert billing_demand_kw(2026 * 12, 450.0, {}, 1000.0) == 450.0
    # Dec 2025 peak (ratchet month) counts in Jan 2026; Nov 2025 (not) does not.
    jan26 = 2026 * 12
    assert billing_demand_kw(jan26, 450.0, {jan26 - 1: 800.0}, 1000.0) == 800.0
    assert billing_demand_kw(jan26, 450.0, {jan26 - 2: 800.0}, 1000.0) == 450.0


# --- rounding -------------------------------------------------------------------------------


def test_monthly_bill_rounding_order():
    usage = MonthUsage(
        month_key=2026 * 12,
        kwh_by_period=np.array([10.0, 20.0, 0.0]),
        energy_krw_by_period=np.array([100.99, 200.5, 0.0]),
        climate_charge_krw=9.99,
        fuel_adj_charge_krw=-4.2,
        peak_kw=1.5,
        basic_krw_per_kw_month=8320.0,
        fund_rate=0.027,
        vat_rate=0.10,
    )
    lines = monthly_bill(usage, 1.5)
    assert lines == [
        InvoiceLine("basic_charge", 1.5, "kW", 12480),  # 1.5 x 8,320 = 12,480
        InvoiceLine("energy_light", 10.0, "kWh", 100),  # 100.99 -> 100
        InvoiceLine("energy_mid", 20.0, "kWh", 200),  # 200.5 -> 200
        InvoiceLine("energy_peak", 0.0, "kWh", 0),
        InvoiceLine("climate_environment", 30.0, "kWh", 9),  # 9.99 -> 9
        InvoiceLine("fuel_cost_adjustment", 30.0, "kWh", -4),  # -4.2 -> -4 (toward zero)
        # 전기요금계 = 12,480 + 100 + 200 + 0 + 9 - 4 = 12,785
        InvoiceLine("power_industry_fund", 12785.0, "KRW", 340),  # 345.195 -> 340
        InvoiceLine("vat", 12785.0, "KRW", 1279),  # 1,278.5 -> 1,279 (half up)
    ]


def test_rounding_helpers_resist_float_noise():
    assert truncate_won(1000 * 110.9) == 110900  # 110900.00000000001 or 110899.99999999999
    assert truncate_won(0.1 + 0.2 + 0.7) == 1  # 0.9999999999999999
    assert truncate_won(123.9999) == 123
    assert truncate_ten_won(1393253.541) == 1393250
    assert truncate_ten_won(3 * 0.1 * 100) == 30  # 30.000000000000004
    assert round_won(1234.5) == 1235 and round_won(1234.49) == 1234


# --- vectorised engine: must give exactly the scalar engine's integers ----------------------

ARRAY_HELPERS = [
    (truncate_won_array, truncate_won),
    (truncate_ten_won_array, truncate_ten_won),
    (round_won_array, round_won),
]


def nudge(x: float, ulps: int) -> float:
    """``x`` moved by ``ulps`` floats (up if > 0)."""
    for _ in range(abs(ulps)):
        x = math.nextafter(x, math.inf if ulps > 0 else -math.inf)
    return x


# Won amounts at the rounding edges: n + 0.5 and n + 0.99995 (where round(x, 4) flips),
# n +- 0.00005, exact integers, 4-decimal values, a few floats either side of each.
EDGE_FRACTIONS = [0.0, 0.5, 0.49995, 0.50005, 0.99995, 0.9999, 0.00005, 0.25, 0.03125]
edge_krw = st.builds(
    lambda n, frac, ulps, neg: (-1 if neg else 1) * nudge(n + frac, ulps),
    st.integers(0, 10**10), st.sampled_from(EDGE_FRACTIONS), st.integers(-2, 2), st.booleans(),
)
product_krw = st.builds(  # kWh with 3 decimals x price with 1 decimal (the real inputs' shape)
    lambda kwh, price: kwh / 1000 * (price / 10), st.integers(0, 10**9), st.integers(-50, 3000)
)
any_krw = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)
krw = st.one_of(edge_krw, product_krw, any_krw, st.integers(-(10**9), 10**10).map(float))


def test_rounding_arrays_on_known_edges():
    # Values where a numpy.round-based version (scale by 1e4, rint, unscale) gives the
    # other answer than Python's round(x, 4), and half-won ties (numpy: half to even).
    hard = [179440734.99995, 236810506.99995, 179440734.49995, 236810506.49995,
            2.5, 0.5, -0.5, -2.5, 1234.5, 1234.49, 110899.99999999999, 0.9999999999999999,
            123.9999, -4.2, -0.0, 30.000000000000004, 1393253.541, 0.03125, -0.03125]
    big = [2.0**38 - 0.5, 2.0**38, -(2.0**38), 2.0**40 + 0.5, 1e15 + 0.5, -1e15 - 0.99995]  # scalar path
    x = np.array(hard + big + [nudge(v, k) for v in hard for k in (-1, 1)])
    for array_fn, scalar_fn in ARRAY_HELPERS:
        assert array_fn(x).dtype == np.int64
        assert array_fn(x).tolist() == [scalar_fn(v) for v in x.tolist()], scalar_fn.__name__
    assert round_won_array(np.array([2.5, -2.5, -0.5])).tolist() == [3, -2, 0]  # half up, also below 0
    assert truncate_won_array(np.array([-4.2, -0.99999])).tolist() == [-4, -1]  # toward zero (guard)
    assert truncate_ten_won_array(np.array([-345.195, 345.195])).tolist() == [-340, 340]


def test_rounding_arrays_on_a_grid_of_edges():
    rng = np.random.default_rng(7)
    whole = np.floor(rng.uniform(0, 1e11, 500) / 10.0 ** rng.integers(0, 11, 500))
    x = (whole[:, None] + np.array([0.49995, 0.5, 0.99995, 1.00005, 0.00005])).ravel()
    x = np.concatenate([x, np.nextafter(x, np.inf), np.nextafter(x, -np.inf)])
    x = np.concatenate([x, -x])
    for array_fn, scalar_fn in ARRAY_HELPERS:
        assert array_fn(x).tolist() == [scalar_fn(v) for v in x.tolist()], scalar_fn.__name__


@given(st.lists(krw, min_size=1, max_size=20))
def test_rounding_arrays_equal_scalar(values):
    x = np.array(values)
    for array_fn, scalar_fn in ARRAY_HELPERS:
        assert array_fn(x).tolist() == [scalar_fn(v) for v in values], scalar_fn.__name__


def test_rounding_arrays_reject_what_the_scalar_rejects():
    for array_fn, scalar_fn in ARRAY_HELPERS:
        for bad, error in [(math.inf, OverflowError), (-math.inf, OverflowError), (math.nan, ValueError)]:
            with pytest.raises(error):
                scalar_fn(bad)
            with pytest.raises(error):
                array_fn(np.array([1.0, bad]))


kwh_values = st.one_of(
    st.just(0.0), st.integers(0, 10**9).map(lambda k: k / 1000), st.floats(0, 1e8, allow_nan=False)
)
rate_values = {
    "fund": st.one_of(st.sampled_from([0.027, 0.032, 0.037, 0.0]), st.floats(0, 0.1)),
    "vat": st.one_of(st.just(0.1), st.floats(0, 0.2)),
}


@st.composite
def month_of_tenants(draw):
    n = draw(st.integers(1, 6))
    tenants = []
    for _ in range(n):
        kwh = draw(st.lists(kwh_values, min_size=3, max_size=3))
        zero = draw(st.booleans()) and draw(st.booleans())  # a quarter of tenants use nothing
        tenants.append(MonthUsage(
            month_key=2026 * 12 + 2,
            kwh_by_period=np.array([0.0] * 3 if zero else kwh),
            energy_krw_by_period=np.array([0.0] * 3 if zero else draw(st.lists(krw, min_size=3, max_size=3))),
            climate_charge_krw=0.0 if zero else draw(krw),
            fuel_adj_charge_krw=0.0 if zero else draw(krw),  # krw includes negatives
            peak_kw=draw(kwh_values),
            basic_krw_per_kw_month=draw(st.one_of(st.sampled_from([8320.0, 7470.0, 8736.0]), st.floats(0, 2e4))),
            fund_rate=draw(rate_values["fund"]),
            vat_rate=draw(rate_values["vat"]),
        ))
    billing_kw = draw(st.lists(st.one_of(kwh_values, st.integers(0, 10**6).map(lambda k: k / 10)),
                               min_size=n, max_size=n))
    extra = draw(st.none() | st.lists(st.integers(-(10**8), 10**9), min_size=n, max_size=n))
    return tenants, billing_kw, extra


@settings(max_examples=100, deadline=None)
@given(month_of_tenants())
def test_monthly_bill_arrays_equals_scalar_bill(case):
    tenants, billing_kw, extra = case
    usage = MonthUsageArrays.from_usages(tenants)
    kw = np.array(billing_kw)
    extra_krw = None if extra is None else np.array(extra, dtype=np.int64)
    bill = monthly_bill_arrays(usage, kw, extra_krw)
    assert all(v.dtype == np.int64 and v.shape == (len(tenants),) for v in bill.values())
    extra_kwh = np.arange(len(tenants)) * 1.5
    quantities = bill_quantities(usage, kw, bill, None if extra is None else extra_kwh)
    assert list(quantities) == list(bill)
    for i, u in enumerate(tenants):
        extra_lines = [] if extra is None else [InvoiceLine("green_tariff_energy", extra_kwh[i], "kWh", extra[i])]
        expected = monthly_bill(u, billing_kw[i], extra_lines)
        got = invoice_lines(bill, quantities, i, extra_item="green_tariff_energy", extra_unit="kWh")
        assert got == expected


@given(month_of_tenants(), st.data())
def test_scaled_equals_scale_usage(case, data):
    tenants, _, _ = case
    keep = data.draw(st.lists(st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0])),
                              min_size=len(tenants), max_size=len(tenants)))
    scaled = MonthUsageArrays.from_usages(tenants).scaled(np.array(keep))
    for i, u in enumerate(tenants):
        want, got = scale_usage(u, keep[i]), scaled.at(i)
        assert got.kwh_by_period.tolist() == want.kwh_by_period.tolist()
        assert got.energy_krw_by_period.tolist() == want.energy_krw_by_period.tolist()
        assert (got.climate_charge_krw, got.fuel_adj_charge_krw, got.peak_kw, got.basic_krw_per_kw_month,
                got.fund_rate, got.vat_rate, got.month_key) == (
                want.climate_charge_krw, want.fuel_adj_charge_krw, want.peak_kw, want.basic_krw_per_kw_month,
                want.fund_rate, want.vat_rate, want.month_key)
        assert got.kwh == want.kwh


def test_monthly_bill_arrays_by_hand():
    # Tenant 0: the month of test_monthly_bill_rounding_order (same lines, worked there).
    # Tenant 1: kWh 100 / 200 / 50 at 110.9 / 133.4 / 164.1, fuel 350 kWh x -5.002, 10.5 kW
    # at 8,320, an extra (green tariff) line of 1,240 won.
    usage = MonthUsageArrays(
        month_key=2026 * 12,
        kwh_by_period=np.array([[10.0, 20.0, 0.0], [100.0, 200.0, 50.0]]),
        energy_krw_by_period=np.array([[100.99, 200.5, 0.0], [100 * 110.9, 200 * 133.4, 50 * 164.1]]),
        climate_charge_krw=np.array([9.99, 350 * 9.0]),
        fuel_adj_charge_krw=np.array([-4.2, 350 * -5.002]),
        peak_kw=np.array([1.5, 10.5]),
        basic_krw_per_kw_month=np.array([8320.0, 8320.0]),
        fund_rate=np.array([0.027, 0.027]),
        vat_rate=np.array([0.10, 0.10]),
    )
    demand = BillingDemand(2)
    billing_kw = demand.billing_kw(usage.month_key, usage.peak_kw, np.array([4.0, 30.0]))
    assert billing_kw.tolist() == [1.5, 10.5]  # floors 1.2 and 9.0 are lower
    bill = monthly_bill_arrays(usage, billing_kw, np.array([0, 1240]))
    assert list(bill) == [
        "basic_charge", "energy_light", "energy_mid", "energy_peak", "climate_environment",
        "fuel_cost_adjustment", "extra", "power_industry_fund", "vat",
    ]
    assert {k: v.tolist() for k, v in bill.items()} == {
        "basic_charge": [12480, 87360],  # 1.5 x 8,320; 10.5 x 8,320 = 87,360
        "energy_light": [100, 11090],  # 100.99 -> 100; 100 x 110.9 = 11,090
        "energy_mid": [200, 26680],  # 200.5 -> 200; 200 x 133.4 = 26,680
        "energy_peak": [0, 8205],  # 50 x 164.1 = 8,205
        "climate_environment": [9, 3150],  # 9.99 -> 9; 350 x 9.0
        "fuel_cost_adjustment": [-4, -1750],  # -4.2 -> -4; 350 x -5.002 = -1,750.7 -> -1,750
        "extra": [0, 1240],
        # 전기요금계: 12,785 (see the scalar test); 87,360 + 11,090 + 26,680 + 8,205 + 3,150
        # - 1,750 + 1,240 = 135,975
        "power_industry_fund": [340, 3670],  # 345.195 -> 340; 3,671.325 -> 3,670
        "vat": [1279, 13598],  # 1,278.5 -> 1,279; 13,597.5 -> 13,598 (half up)
    }
    q = bill_quantities(usage, billing_kw, bill, extra_quantity=np.array([0.0, 12.0]))
    assert q["climate_environment"].tolist() == [30.0, 350.0]
    assert q["vat"].tolist() == [12785.0, 135975.0]
    assert invoice_lines(bill, q, 0)[:6] + invoice_lines(bill, q, 0)[7:] == monthly_bill(usage.at(0), 1.5)


def test_billing_demand_arrays_ratchet_by_hand():
    # Tenant 0: test_billing_demand_ratchet_across_a_year (contract 1,000 kW, Aug 2025 900 kW,
    # Oct 2025 950 kW, else 500). Tenant 1: flat 200 kW on a 1,000 kW contract -> floor 300.
    aug25 = 2025 * 12 + 7
    demand = BillingDemand(2)
    billed = []
    for key in range(aug25, aug25 + 13):
        peak0 = {aug25: 900.0, aug25 + 2: 950.0}.get(key, 500.0)
        billed.append(demand.billing_kw(key, np.array([peak0, 200.0]), np.array([1000.0, 1000.0])).tolist())
    assert [b[0] for b in billed] == [900, 900, 950] + [900] * 9 + [500]
    assert [b[1] for b in billed] == [300] * 13
    # Skipped months: Jan 2026 peak 800 is carried to Nov 2026 (10 months later), not to Jan 2027.
    demand = BillingDemand(1)
    jan26 = 2026 * 12
    assert demand.billing_kw(jan26, np.array([800.0]), 0.0).tolist() == [800.0]
    assert demand.billing_kw(jan26 + 10, np.array([100.0]), 0.0).tolist() == [800.0]
    assert demand.billing_kw(jan26 + 12, np.array([100.0]), 0.0).tolist() == [100.0]
    with pytest.raises(ValueError, match="back"):
        demand.billing_kw(jan26 + 11, np.array([100.0]), 0.0)


@st.composite
def ratchet_history(draw):
    n = draw(st.integers(1, 4))
    key = draw(st.integers(2024 * 12, 2030 * 12))
    peak = st.one_of(st.sampled_from([0.0, 100.0, 300.0, 900.0]), st.floats(0, 5000))
    months = []
    for _ in range(draw(st.integers(1, 30))):
        months.append((key, draw(st.lists(peak, min_size=n, max_size=n))))
        key += draw(st.sampled_from([1, 1, 1, 1, 2, 3, 5, 10, 11, 12, 13]))  # some months skipped
    contract = draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 10000)), min_size=n, max_size=n))
    return n, months, contract


@settings(max_examples=100, deadline=None)
@given(ratchet_history())
def test_billing_demand_equals_scalar_ratchet(case):
    n, months, contract = case
    demand = BillingDemand(n)
    histories: list[dict[int, float]] = [{} for _ in range(n)]
    for key, peaks in months:
        want = [billing_demand_kw(key, peaks[t], histories[t], contract[t]) for t in range(n)]
        assert demand.billing_kw(key, np.array(peaks), np.array(contract)).tolist() == want
        for t in range(n):
            histories[t][key] = peaks[t]


# --- edges the mutation score found unchecked (docs/testing.md) ------------------------------


def test_night_only_tenant_has_no_peak():
    # 50 kW only in the light-load hours (22-08) of March 2026: every metered kW is in a light hour,
    # so the month's peak outside them is 0 kW (the contract floor then sets the billing demand).
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    load = np.where((cal.hour >= 22) | (cal.hour < 8), 50.0, 0.0)
    (usage,) = month_usage(load, rates, cal)
    assert usage.peak_kw == 0.0
    assert usage.kwh == 31 * 10 * 50.0  # 31 nights x 10 h x 50 kW = 15,500 kWh


def test_bad_input_messages_name_the_unit_and_the_argument():
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    with pytest.raises(ValueError, match=r"\(grid import, kW >= 0\)"):
        month_usage(-np.ones(24), rates, cal)
    (usage,) = month_usage(np.ones(24), rates, cal)
    arrays = MonthUsageArrays.from_usages([usage])
    with pytest.raises(ValueError, match=r"extra_krw must be \(1,\) integer won"):
        monthly_bill_arrays(arrays, np.array([1.0]), np.array([1.5]))


def test_rounding_arrays_do_not_warn_on_inf():
    # inf goes to the scalar helper, which raises OverflowError; no RuntimeWarning on the way.
    for array_fn, _ in ARRAY_HELPERS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(OverflowError):
                array_fn(np.array([1.0, math.inf]))


def test_rounding_arrays_ignore_invalid_values_whatever_the_callers_errstate():
    # inf - floor(inf) is NaN (an "invalid" operation): the helpers switch that check off themselves, so a
    # caller running with NumPy's invalid-value errors on still gets the scalar helper's OverflowError
    for array_fn, _ in ARRAY_HELPERS:
        with np.errstate(invalid="raise"), pytest.raises(OverflowError):
            array_fn(np.array([1.0, math.inf]))


def test_smallest_float_above_is_the_next_float():
    # Independent check of the cut-off helper (it runs at import for the rounding constants):
    # r is the smallest float with r > v exactly: r > v and the float just below r is <= v.
    from re100sim.simulator.rules.billing import _smallest_float_above

    for v in [Fraction(1, 10), Fraction(1, 3), Fraction(99995, 100000), Fraction(49995, 100000), Fraction(1, 2)]:
        r = _smallest_float_above(v)
        assert Fraction(r) > v and Fraction(float(np.nextafter(r, -np.inf))) <= v, v
    assert _smallest_float_above(Fraction(1, 2)) == float(np.nextafter(0.5, 1.0))  # 0.5 is exact: next one up


def test_array_types_month_key_int_and_float_quantities():
    # month_key is kept as a Python int (keys of the ledger), quantities are floats even from int kW;
    # the default extra line is "extra" in KRW.
    usage = MonthUsageArrays(
        month_key=np.int64(2026 * 12), kwh_by_period=np.array([[10.0, 20.0, 0.0]]),
        energy_krw_by_period=np.array([[1000.0, 2000.0, 0.0]]), climate_charge_krw=np.array([270.0]),
        fuel_adj_charge_krw=np.array([150.0]), peak_kw=np.array([2.0]), basic_krw_per_kw_month=np.array([8320.0]),
        fund_rate=np.array([0.0]), vat_rate=np.array([0.0]),
    )
    assert type(usage.month_key) is int
    bill = monthly_bill_arrays(usage, np.array([2]), np.array([500]))
    q = bill_quantities(usage, np.array([2]), bill, extra_quantity=7.0)
    assert q["basic_charge"].dtype == np.float64
    # basic 2 x 8,320 = 16,640; energy 1,000 + 2,000; climate 270; fuel 150; extra 500
    assert invoice_lines(bill, q, 0)[6] == InvoiceLine("extra", 7.0, "KRW", 500)
    assert bill["basic_charge"].tolist() == [16640]


def test_free_peak_kw_by_hand():
    # Two tenants on 1,000 and 2,000 kW contracts (30 % floors: 300 and 600 kW). Aug 2025 (a ratchet
    # month) is billed with peaks 900 and 400 kW: 900 is carried to the bills of Sep 2025 .. Jul 2026,
    # 400 stays under tenant 1's floor.
    aug25 = 2025 * 12 + 7
    contract = np.array([1000.0, 2000.0])
    demand = BillingDemand(2)
    assert demand.billing_kw(aug25, np.array([900.0, 400.0]), contract).tolist() == [900.0, 600.0]
    # Ratchet month (Sep, Dec, Jan, Jul: its own peak is carried for 12 months): only the 30 % floor
    # is free, 0.3 x 1,000 = 300 and 0.3 x 2,000 = 600, whatever is carried.
    # Other months (Oct, Nov, Mar, Jun): the floor_kw of the month, max(300, carried 900) = 900 and
    # max(600, 400) = 600. Oct 2026: Aug 2025 is 14 months back (expired) -> the floors 300 and 600.
    free = {
        aug25 + 1: [300.0, 600.0], aug25 + 2: [900.0, 600.0], aug25 + 3: [900.0, 600.0],
        aug25 + 4: [300.0, 600.0], aug25 + 5: [300.0, 600.0], aug25 + 7: [900.0, 600.0],
        aug25 + 10: [900.0, 600.0], aug25 + 11: [300.0, 600.0], aug25 + 14: [300.0, 600.0],
    }
    assert {key: demand.free_peak_kw(key, contract).tolist() for key in free} == free
    # A scalar contract is broadcast to the tenants: Sep 0.3 x 1,000 = 300 each; Oct max(300, carried
    # 900) = 900 and max(300, carried 400) = 400.
    assert demand.free_peak_kw(aug25 + 1, 1000.0).tolist() == [300.0, 300.0]
    assert demand.free_peak_kw(aug25 + 2, 1000.0).tolist() == [900.0, 400.0]


def test_billing_demand_floor_never_counts_the_months_own_peak():
    # floor_kw is the demand known at the month start: billing Aug 2025 (peak 900 kW, contract 1,000)
    # does not move Aug 2025's own floor (0.3 x 1,000 = 300), only the later months' (900).
    aug25 = 2025 * 12 + 7
    demand = BillingDemand(1)
    assert demand.billing_kw(aug25, np.array([900.0]), 1000.0).tolist() == [900.0]
    assert demand.carried_kw(aug25) is None
    assert demand.floor_kw(aug25, 1000.0).tolist() == [300.0]
    assert demand.floor_kw(aug25 + 1, 1000.0).tolist() == [900.0]
    # Months must not go back, but the same month may be billed again (a corrected meter read,
    # 500 kW): its demand is max(500, floor 300) = 500 and the corrected peak replaces the first,
    # so Sep 2025 (peak 400) carries 500, not 900.
    assert demand.billing_kw(aug25, np.array([500.0]), 1000.0).tolist() == [500.0]
    assert demand.billing_kw(aug25 + 1, np.array([400.0]), 1000.0).tolist() == [500.0]


def test_array_inputs_bad_shapes_exact_messages():
    usage = MonthUsage(
        month_key=2026 * 12, kwh_by_period=np.array([10.0, 20.0, 0.0]),
        energy_krw_by_period=np.array([1000.0, 2000.0, 0.0]), climate_charge_krw=270.0,
        fuel_adj_charge_krw=150.0, peak_kw=2.0, basic_krw_per_kw_month=8320.0, fund_rate=0.0, vat_rate=0.0,
    )
    feb = dataclasses.replace(usage, month_key=2026 * 12 + 1)
    with pytest.raises(ValueError, match=r"^usages span months \[24312, 24313\] \(expected exactly one\)$"):
        MonthUsageArrays.from_usages([feb, usage, usage])  # 2026 x 12 = 24,312 (Jan), 24,313 (Feb)
    arrays = MonthUsageArrays.from_usages([usage, usage])
    with pytest.raises(ValueError, match=r"^fund_rate has shape \(3,\) \(expected \(2,\)\)$"):
        dataclasses.replace(arrays, fund_rate=np.zeros(3))
    with pytest.raises(ValueError, match=r"^kwh_by_period has shape \(2,\) \(expected \(2, 3\)\)$"):
        dataclasses.replace(arrays, kwh_by_period=np.zeros(2))
    with pytest.raises(ValueError, match=r"^billing_kw has shape \(3,\) \(expected \(2,\)\)$"):
        monthly_bill_arrays(arrays, np.ones(3))
    with pytest.raises(ValueError, match=r"^peak_kw has shape \(1,\) \(expected \(2,\)\)$"):
        BillingDemand(2).billing_kw(2026 * 12, np.ones(1), 1000.0)
    bill = monthly_bill_arrays(arrays, np.ones(2), np.array([5, 5]))
    with pytest.raises(ValueError, match=r"^the bill has an extra line: give extra_quantity$"):
        bill_quantities(arrays, np.ones(2), bill)
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    with pytest.raises(ValueError, match=r"^load_kw has negative values \(grid import, kW >= 0\)$"):
        month_usage(-np.ones(24), rates, cal)


def test_integer_inputs_give_float_quantities():
    # bill_quantities gives (N,) float quantities (InvoiceLine.quantity is a float), also when the
    # usage, the billing kW and the extra line's quantity come as integers: 1 tenant, 10 / 20 / 0 kWh,
    # 2 kW at 8,320 = 16,640 won, extra quantity 7 (kWh) for a 500-won line.
    usage = MonthUsageArrays(
        month_key=2026 * 12, kwh_by_period=np.array([[10, 20, 0]]), energy_krw_by_period=np.array([[1000, 2000, 0]]),
        climate_charge_krw=np.array([270]), fuel_adj_charge_krw=np.array([150]), peak_kw=np.array([2]),
        basic_krw_per_kw_month=np.array([8320]), fund_rate=np.array([0]), vat_rate=np.array([0]),
    )
    bill = monthly_bill_arrays(usage, np.array([2]), np.array([500]))
    q = bill_quantities(usage, np.array([2]), bill, extra_quantity=7)
    assert {k: (v.dtype, v.tolist()) for k, v in q.items()} == {
        "basic_charge": (np.float64, [2.0]),
        "energy_light": (np.float64, [10.0]), "energy_mid": (np.float64, [20.0]), "energy_peak": (np.float64, [0.0]),
        "climate_environment": (np.float64, [30.0]), "fuel_cost_adjustment": (np.float64, [30.0]),  # 10 + 20 + 0
        "extra": (np.float64, [7.0]),
        # 전기요금계 = 16,640 + 1,000 + 2,000 + 0 + 270 + 150 + 500 = 20,560
        "power_industry_fund": (np.float64, [20560.0]), "vat": (np.float64, [20560.0]),
    }


def test_rounding_arrays_equal_scalar_on_float32_and_int64_inputs():
    # "Identical on every input": float32 won amounts are rounded from their exact (float64) values,
    # not in float32, where 0.99995 and 0.49995 fall on the cut-offs (float32(0.99995) is
    # 0.99994999..., which truncates to 0 won, and float32(0.49995) = 0.49994999... rounds to 0).
    x32 = np.array([0.99995, 0.49995, 1234.99995, 1234.49995, -0.99995, -0.49995, 2.5, -4.2], dtype=np.float32)
    x32 = np.concatenate([x32, np.nextafter(x32, np.float32(np.inf)), np.nextafter(x32, np.float32(-np.inf))])
    for array_fn, scalar_fn in ARRAY_HELPERS:
        assert array_fn(x32).tolist() == [scalar_fn(v) for v in x32.tolist()], scalar_fn.__name__
    assert truncate_won_array(np.float32([0.99995])).tolist() == [0]
    assert round_won_array(np.float32([0.49995])).tolist() == [0]
    # int64 won go through the same float64 path; the most negative one, -2**63 (|x| overflows in
    # int64), truncated to 10 won is 10 x trunc(-2**63 / 10) = -9,223,372,036,854,776,320 in float
    # arithmetic, below int64's range: an error, never a wrapped amount.
    ints = np.array([np.iinfo(np.int64).min, -(2**38), 2**38, -7, 0, 123], dtype=np.int64)
    assert truncate_won_array(ints).tolist() == [-(2**63), -(2**38), 2**38, -7, 0, 123]
    assert round_won_array(ints).tolist() == [-(2**63), -(2**38), 2**38, -7, 0, 123]
    assert truncate_ten_won_array(ints[1:]).tolist() == [-274877906940, 274877906940, 0, 0, 120]
    with pytest.raises(ValueError):
        truncate_ten_won_array(ints[:1])


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="np.longdouble is float64 on this platform")
def test_wider_than_float64_inputs_are_rounded_to_float64_first():
    # The kernel, the ledger and the scalar bill work in float64: an extended-precision (np.longdouble)
    # input gives the usage, demand and bill of its float64 rounding, in float64.
    ld = np.longdouble
    cal = build_calendar(dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    rates = hourly_rates(cal, load_table("kepco_industrial"), "eul_high_a_ii")
    load = np.arange(1, cal.n_hours + 1, dtype=ld) / 3  # 1/3, 2/3, ... kW: not float64 numbers
    (wide,) = month_usage(load, rates, cal)
    (narrow,) = month_usage(load.astype(float), rates, cal)
    for f in dataclasses.fields(MonthUsage):
        got, want = np.asarray(getattr(wide, f.name)), np.asarray(getattr(narrow, f.name))
        assert got.dtype == want.dtype and got.tolist() == want.tolist(), f.name
    arrays = MonthUsageArrays.from_usages([narrow, narrow])
    keep = np.array([ld(1) / 3, ld(2) / 3])
    for f in ("kwh_by_period", "energy_krw_by_period", "climate_charge_krw", "fuel_adj_charge_krw"):
        got, want = getattr(arrays.scaled(keep), f), getattr(arrays.scaled(keep.astype(float)), f)
        assert got.dtype == np.float64 and got.tolist() == want.tolist(), f
    # Demand: 0.3 x 1,000 = 300 and 0.3 x 2,000 = 600 in float64 (0.3 x 1,000 in float80 is
    # 299.99999999999998889...); a peak of 1/3 kW is billed as the float64 1/3.
    aug25 = 2025 * 12 + 7
    contract = np.array([ld(1000), ld(2000)])
    demand = BillingDemand(2)
    for got in (demand.floor_kw(aug25, contract), demand.free_peak_kw(aug25, contract),
                demand.free_peak_kw(aug25 + 2, contract)):
        assert got.dtype == np.float64 and got.tolist() == [300.0, 600.0]
    billed = demand.billing_kw(aug25, np.array([ld(1) / 3, ld(700)]), np.zeros(2))
    assert billed.dtype == np.float64 and billed.tolist() == [1 / 3, 700.0]
    # Basic charge of 0.002884609375 kW at 8,320 KRW/kW: the scalar bill multiplies in float64, which
    # gives 23.999950000000002 -> 24 won; in float80 the product is 23.99995 -> 23 won. The arrays
    # give the scalar bill's 24.
    assert narrow.basic_krw_per_kw_month == 8320.0
    kw = ld("0.002884609375")
    bill = monthly_bill_arrays(MonthUsageArrays.from_usages([narrow]), np.array([kw]))
    assert bill["basic_charge"].tolist() == [monthly_bill(narrow, float(kw))[0].krw] == [24]
