"""Tariff tables, versions, TOU periods, surcharges and tariff paths.

Expected values are copied from docs/domain.md#tariff-tables or worked by hand in the comment beside them.
"""
import datetime as dt

import numpy as np
import pytest
from pydantic import ValidationError

from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.inputs.tariffs import (
    TOU_LIGHT,
    TOU_MID,
    TOU_NAMES,
    TOU_PEAK,
    TariffIncrease,
    TariffPath,
    UnknownTariffError,
    available_tables,
    hourly_rates,
    load_table,
)

L, M, P = TOU_LIGHT, TOU_MID, TOU_PEAK
EUL_OPTIONS = [f"eul_high_{v}_{c}" for v in "abc" for c in ("i", "ii", "iii")]
GAP_OPTIONS = [
    "gap1_low", "gap1_high_a_i", "gap1_high_a_ii", "gap1_high_b_i", "gap1_high_b_ii",
    "gap2_high_a_i", "gap2_high_a_ii", "gap2_high_b_i", "gap2_high_b_ii",
]


@pytest.fixture(scope="module")
def table():
    return load_table("kepco_industrial")


def energy(table, option, on):
    """[summer, spring_fall, winter] x [light, mid, peak] energy prices in force on ``on``."""
    return table.terms(option, on).energy_krw_per_kwh.tolist()


def day_rates(table, option, day, path=None):
    cal = build_calendar(day, day + dt.timedelta(days=1))
    return hourly_rates(cal, table, option, path)


# --- registry and options -------------------------------------------------------------------


def test_registry(table):
    assert "kepco_industrial" in available_tables()
    assert load_table("kepco_industrial") is table  # cached
    assert table.first_effective_date == dt.date(2022, 1, 1)
    assert TOU_NAMES == ("light", "mid", "peak") and (L, M, P) == (0, 1, 2)


def test_unknown_table():
    with pytest.raises(UnknownTariffError) as e:
        load_table("foo")
    assert str(e.value) == "unknown tariff table 'foo' (expected one of: kepco_industrial)"
    assert isinstance(e.value, ValueError)


def test_unknown_option(table):
    with pytest.raises(UnknownTariffError) as e:
        table.check_option("x")
    msg = str(e.value)
    assert msg.startswith("unknown option 'x' for kepco_industrial (expected one of: eul_high_a_i, eul_high_a_ii,")
    assert "gap2_high_b_ii)" in msg
    with pytest.raises(UnknownTariffError):
        hourly_rates(build_calendar(dt.date(2026, 1, 1), dt.date(2026, 1, 2)), table, "eul_high_d_i")


def test_option_keys_and_classes(table):
    assert sorted(table.options) == sorted(EUL_OPTIONS + GAP_OPTIONS)
    assert table.check_option("eul_high_a_ii").name_ko == "산업용(을) 고압A 선택Ⅱ"
    assert table.contract_class("eul_high_c_iii") == "eul"
    assert table.contract_class("gap1_low") == "gap1"
    assert table.contract_class("gap2_high_a_ii") == "gap2"


# --- prices by version ----------------------------------------------------------------------


def test_2024_table_as_in_facts(table):
    # docs/domain.md#tariff-tables 고압A 선택Ⅱ and domain.md#tariff-tables 갑Ⅱ 고압A 선택Ⅱ, in force 2024-10-24.
    on = dt.date(2024, 10, 24)
    assert energy(table, "eul_high_a_ii", on) == [[110.9, 163.8, 245.9], [110.9, 133.4, 164.1], [117.9, 164.0, 221.5]]
    assert energy(table, "gap2_high_a_ii", on) == [[90.8, 116.6, 150.1], [90.8, 95.6, 114.8], [98.2, 115.1, 144.5]]
    assert table.terms("eul_high_a_ii", on).basic_krw_per_kw_month == 8320
    assert table.terms("gap2_high_a_ii", on).basic_krw_per_kw_month == 7470


def test_cross_check_eul_2023_05_16(table):
    # docs/domain.md#tariff-tables [D]: the 2023-05-16 선택Ⅱ values (code file 62099556617) are the
    # 2024-10-24 values minus 16.9 (2024-10-24) minus 6.7 (2023-11-09, 고압A):
    # 110.9 - 23.6 = 87.3, 163.8 - 23.6 = 140.2, 245.9 - 23.6 = 222.3, ...
    expected = [[87.3, 140.2, 222.3], [87.3, 109.8, 140.5], [94.3, 140.4, 197.9]]
    assert energy(table, "eul_high_a_ii", dt.date(2023, 5, 16)) == expected
    assert energy(table, "eul_high_a_ii", dt.date(2023, 11, 8)) == expected  # the day before +6.7
    # 2023-11-09: +6.7 -> summer light 87.3 + 6.7 = 94.0
    assert energy(table, "eul_high_a_ii", dt.date(2023, 11, 9))[0][0] == 94.0


def test_cross_check_gap2_2024_01_01(table):
    # docs/domain.md#tariff-tables "pre-increase 2024-01-01 갑Ⅱ 고압A 선택Ⅱ values" = 2024-10-24 minus 8.5:
    # 90.8 - 8.5 = 82.3, 116.6 - 8.5 = 108.1, 150.1 - 8.5 = 141.6, ...
    assert energy(table, "gap2_high_a_ii", dt.date(2024, 1, 1)) == [
        [82.3, 108.1, 141.6], [82.3, 87.1, 106.3], [89.7, 106.6, 136.0],
    ]
    # 갑 was not raised on 2023-11-09 (을 only): same values on 2023-11-08.
    assert energy(table, "gap2_high_a_ii", dt.date(2023, 11, 8))[0] == [82.3, 108.1, 141.6]


def test_history_back_to_2022(table):
    # 을 고압A steps since 2022-01-01: 4.9 + 11.9 + 11.4 + 8.0 + 6.7 + 16.9 = 59.8
    # -> summer 110.9 - 59.8 = 51.1, 163.8 - 59.8 = 104.0, 245.9 - 59.8 = 186.1.
    assert energy(table, "eul_high_a_ii", dt.date(2022, 1, 1))[0] == [51.1, 104.0, 186.1]
    # Summer light along the steps: 51.1 +4.9 = 56.0 (2022-04-01), +11.9 = 67.9 (2022-10-01,
    # 고압A reading 4.9 + 7.0), +11.4 = 79.3 (2023-01-01), +8.0 = 87.3 (2023-05-16).
    lights = [energy(table, "eul_high_a_ii", dt.date(*d))[0][0]
              for d in [(2022, 3, 31), (2022, 4, 1), (2022, 10, 1), (2023, 1, 1), (2023, 5, 16)]]
    assert lights == [51.1, 56.0, 67.9, 79.3, 87.3]
    # 을 고압B steps: 4.9 + 16.6 + 11.4 + 8.0 + 13.5 + 16.9 = 71.3 -> 122.5 - 71.3 = 51.2.
    assert energy(table, "eul_high_b_ii", dt.date(2022, 1, 1))[0][0] == 51.2
    # 갑 steps: 4.9 + 7.4 + 11.4 + 8.0 + 0 + 8.5 = 40.2 -> 90.8 - 40.2 = 50.6, 116.6 - 40.2 = 76.4.
    assert energy(table, "gap2_high_a_ii", dt.date(2022, 1, 1))[0] == [50.6, 76.4, 109.9]
    # 갑Ⅰ 저압 summer (flat): 116.2 - 40.2 = 76.0.
    assert energy(table, "gap1_low", dt.date(2022, 1, 1))[0] == [76.0, 76.0, 76.0]


def test_reform_table_equals_2024_plus_announced_deltas(table):
    # docs/domain.md#tariff-tables: light +5.1, mid 0, peak -16.9 (summer, winter) / -13.2 (spring/fall).
    delta = np.array([[5.1, 0.0, -16.9], [5.1, 0.0, -13.2], [5.1, 0.0, -16.9]])
    for option in EUL_OPTIONS:
        before = table.terms(option, dt.date(2026, 4, 15)).energy_krw_per_kwh
        after = table.terms(option, dt.date(2026, 4, 16)).energy_krw_per_kwh
        np.testing.assert_allclose(after, before + delta, atol=1e-9, err_msg=option)
    # docs/domain.md#tariff-tables bold row, 고압A 선택Ⅱ.
    assert energy(table, "eul_high_a_ii", dt.date(2026, 4, 16)) == [
        [116.0, 163.8, 229.0], [116.0, 133.4, 150.9], [123.0, 164.0, 204.6],
    ]


def test_gap_prices_unchanged_by_2026_versions(table):
    for option in GAP_OPTIONS:
        ref = table.terms(option, dt.date(2024, 10, 24))
        for on in (dt.date(2026, 4, 16), dt.date(2026, 6, 1)):
            t = table.terms(option, on)
            assert (t.energy_krw_per_kwh == ref.energy_krw_per_kwh).all(), option
            assert t.basic_krw_per_kw_month == ref.basic_krw_per_kw_month


def test_gap1_flat_and_basic_charges_constant(table):
    for on in table.effective_dates:
        for option in table.options:
            t = table.terms(option, on)
            if option.startswith("gap1"):
                assert (t.energy_krw_per_kwh == t.energy_krw_per_kwh[:, :1]).all(), (option, on)
            assert t.basic_krw_per_kw_month == table.terms(option, dt.date(2024, 10, 24)).basic_krw_per_kw_month


def test_band_scheme_versions(table):
    scheme = {(o, d): table.terms(o, d).band_scheme
              for o in ("eul_high_a_ii", "gap2_high_a_ii")
              for d in (dt.date(2026, 4, 15), dt.date(2026, 4, 16), dt.date(2026, 5, 31), dt.date(2026, 6, 1))}
    assert scheme == {
        ("eul_high_a_ii", dt.date(2026, 4, 15)): "pre_reform",
        ("eul_high_a_ii", dt.date(2026, 4, 16)): "post_reform",
        ("eul_high_a_ii", dt.date(2026, 5, 31)): "post_reform",
        ("eul_high_a_ii", dt.date(2026, 6, 1)): "post_reform",
        ("gap2_high_a_ii", dt.date(2026, 4, 15)): "pre_reform",
        ("gap2_high_a_ii", dt.date(2026, 4, 16)): "pre_reform",
        ("gap2_high_a_ii", dt.date(2026, 5, 31)): "pre_reform",
        ("gap2_high_a_ii", dt.date(2026, 6, 1)): "post_reform",
    }


def test_before_first_effective_date_rejected(table):
    cal = build_calendar(dt.date(2021, 12, 31), dt.date(2022, 1, 2))
    with pytest.raises(ValueError, match="before the first effective date 2022-01-01"):
        hourly_rates(cal, table, "eul_high_a_ii")


# --- TOU periods of sample days -------------------------------------------------------------


def test_seollal_all_light(table):
    # 2026-02-17 (설날, a Tuesday): Sunday/holiday rule -> all 24 hours light.
    for option in ("eul_high_a_ii", "gap2_high_a_ii"):
        assert day_rates(table, option, dt.date(2026, 2, 17)).tou_period.tolist() == [L] * 24


def test_weekday_july_pre_vs_post_reform(table):
    # domain.md#time-of-use-periods (a) summer: light 22-08, mid 08-11, 12-13, 18-22, peak 11-12, 13-18.
    pre = day_rates(table, "eul_high_a_ii", dt.date(2025, 7, 16)).tou_period  # Wednesday
    assert pre.tolist() == [L] * 8 + [M] * 3 + [P] + [M] + [P] * 5 + [M] * 4 + [L] * 2
    # domain.md#time-of-use-periods (b) summer: light 22-08, mid 08-15, 21-22, peak 15-21.
    post = day_rates(table, "eul_high_a_ii", dt.date(2026, 7, 15)).tou_period  # Wednesday
    assert post.tolist() == [L] * 8 + [M] * 7 + [P] * 6 + [M] + [L] * 2
    # 16 h is peak in both; 11 h and 14 h peak -> mid; 19 h mid -> peak.
    assert (pre[16], post[16]) == (P, P)
    assert (pre[11], post[11], pre[14], post[14], pre[19], post[19]) == (P, M, P, M, M, P)
    # 10 light + 8 mid + 6 peak hours per weekday in both (domain.md#time-of-use-periods (b) last bullet).
    assert np.bincount(pre).tolist() == np.bincount(post).tolist() == [10, 8, 6]


def test_saturday_peak_billed_mid(table):
    # Sat 2025-07-05 (pre-reform): weekday peak hours 11, 13-17 are billed mid.
    sat = day_rates(table, "eul_high_a_ii", dt.date(2025, 7, 5)).tou_period
    assert sat.tolist() == [L] * 8 + [M] * 14 + [L] * 2
    # Sat 2026-07-04 (post-reform): weekday peak 15-20 billed mid, at the summer mid price.
    rates = day_rates(table, "eul_high_a_ii", dt.date(2026, 7, 4))
    assert rates.tou_period[15:21].tolist() == [M] * 6
    assert rates.energy_krw_per_kwh[16] == 163.8  # domain.md#tariff-tables 고압A 선택Ⅱ summer mid


def test_winter_10h_peak(table):
    # Winter bands (domain.md#time-of-use-periods (a), unchanged in (b)): peak 09-12 and 16-19, mid 08-09, 12-16, 19-22.
    for day in (dt.date(2026, 1, 14), dt.date(2026, 12, 16)):  # Wednesdays, pre and post reform
        period = day_rates(table, "eul_high_a_ii", day).tou_period
        assert period.tolist() == [L] * 8 + [M] + [P] * 3 + [M] * 4 + [P] * 3 + [M] * 3 + [L] * 2
    # 2026-12-16 10 h: post-reform winter peak price 204.6 (domain.md#tariff-tables).
    assert day_rates(table, "eul_high_a_ii", dt.date(2026, 12, 16)).energy_krw_per_kwh[10] == 204.6


def test_gap_keeps_old_bands_until_june_2026(table):
    # Wed 2026-05-13: 을 on post-reform bands, 갑Ⅱ still on pre-reform bands.
    eul = day_rates(table, "eul_high_a_ii", dt.date(2026, 5, 13)).tou_period
    gap = day_rates(table, "gap2_high_a_ii", dt.date(2026, 5, 13)).tou_period
    assert (eul[14], gap[14], eul[19], gap[19]) == (M, P, P, M)


def test_switch_on_effective_date_hour_by_hour(table):
    cal = build_calendar(dt.date(2026, 4, 15), dt.date(2026, 4, 17))  # Wed, Thu
    e = hourly_rates(cal, table, "eul_high_a_ii").energy_krw_per_kwh
    # 2026-04-15 23 h light 110.9 (domain.md#tariff-tables) -> 2026-04-16 00 h light 116.0 (domain.md#tariff-tables).
    assert (e[23], e[24]) == (110.9, 116.0)
    # 11 h: pre peak 164.1 -> post mid 133.4; 19 h: pre mid 133.4 -> post peak 150.9.
    assert (e[11], e[24 + 11], e[19], e[24 + 19]) == (164.1, 133.4, 133.4, 150.9)


def test_weekend_discount(table):
    # domain.md#tariff-tables "New discount": 50 % off, spring/fall Saturdays, Sundays and holidays, 11-14 h.
    sat = day_rates(table, "eul_high_a_ii", dt.date(2026, 5, 9)).energy_krw_per_kwh
    # Saturday 11-13 h are mid: 133.4 x 0.5 = 66.7; 10 h and 14 h full 133.4.
    assert sat[10:15].tolist() == [133.4, 66.7, 66.7, 66.7, 133.4]
    sun = day_rates(table, "eul_high_a_ii", dt.date(2026, 5, 10)).energy_krw_per_kwh
    assert sun[10:15].tolist() == [116.0, 58.0, 58.0, 58.0, 116.0]  # light 116.0 x 0.5 = 58.0
    # Not on weekdays (Wed 2026-05-13 12 h mid 133.4), not in summer (Sat 2026-07-04 12 h 163.8),
    # not before the reform (Sat 2026-04-11 12 h: pre-reform mid 133.4), not for 갑Ⅱ
    # (Sat 2026-10-10 12 h mid 95.6, domain.md#tariff-tables).
    assert day_rates(table, "eul_high_a_ii", dt.date(2026, 5, 13)).energy_krw_per_kwh[12] == 133.4
    assert day_rates(table, "eul_high_a_ii", dt.date(2026, 7, 4)).energy_krw_per_kwh[12] == 163.8
    assert day_rates(table, "eul_high_a_ii", dt.date(2026, 4, 11)).energy_krw_per_kwh[12] == 133.4
    assert day_rates(table, "gap2_high_a_ii", dt.date(2026, 10, 10)).energy_krw_per_kwh[12] == 95.6
    # Sunset: still on Sat 2030-10-05, gone on Sat 2031-04-05.
    assert day_rates(table, "eul_high_a_ii", dt.date(2030, 10, 5)).energy_krw_per_kwh[12] == 66.7
    assert day_rates(table, "eul_high_a_ii", dt.date(2031, 4, 5)).energy_krw_per_kwh[12] == 133.4


# --- surcharges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, climate, fuel, fund",
    [
        (dt.date(2022, 3, 31), 5.3, 0.0, 0.037),  # domain.md#tariff-increases 2022-04-01 "5.3 -> 7.3"; fuel 0 before 2022-07
        (dt.date(2022, 4, 1), 7.3, 0.0, 0.037),  # domain.md#bill-structure climate 7.3 from 2022-04-01
        (dt.date(2022, 7, 1), 7.3, 5.0, 0.037),  # domain.md#tariff-increases 2022-07-01 fuel 0 -> +5
        (dt.date(2023, 1, 1), 9.0, 5.0, 0.037),  # domain.md#bill-structure climate 9.0 from 2023-01-01
        (dt.date(2024, 6, 30), 9.0, 5.0, 0.037),
        (dt.date(2024, 7, 1), 9.0, 5.0, 0.032),  # domain.md#bill-structure fund 3.2 % from 2024-07-01 usage
        (dt.date(2025, 7, 1), 9.0, 5.0, 0.027),  # domain.md#bill-structure fund 2.7 % from 2025-07-01
    ],
)
def test_surcharges(table, day, climate, fuel, fund):
    r = day_rates(table, "gap2_high_a_ii", day)
    assert set(r.climate_krw_per_kwh) == {climate}
    assert set(r.fuel_adj_krw_per_kwh) == {fuel}
    assert set(r.fund_rate) == {fund}
    assert set(r.vat_rate) == {0.10}  # domain.md#bill-structure VAT 10 %


def test_hourly_rates_arrays(table):
    cal = build_calendar(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    r = hourly_rates(cal, table, "eul_high_a_ii")
    assert r.tou_period.dtype == np.int8 and r.energy_krw_per_kwh.dtype == np.float64
    assert all(len(a) == 8760 for a in vars(r).values())
    with pytest.raises(ValueError):
        r.energy_krw_per_kwh[0] = 0.0  # read-only
    assert set(r.basic_krw_per_kw_month) == {8320.0}


# --- tariff path ----------------------------------------------------------------------------


def test_path_krw_increase(table):
    # +10 KRW/kWh from Thu 2027-04-15: 0 h light 116.0 -> 126.0; basic charge unchanged.
    path = TariffPath(increases=[TariffIncrease(date=dt.date(2027, 4, 15), energy_krw_per_kwh=10)])
    cal = build_calendar(dt.date(2027, 4, 14), dt.date(2027, 4, 16))
    r = hourly_rates(cal, table, "eul_high_a_ii", path)
    assert (r.energy_krw_per_kwh[0], r.energy_krw_per_kwh[24]) == (116.0, 126.0)
    assert set(r.basic_krw_per_kw_month) == {8320.0}
    assert set(r.climate_krw_per_kwh) == {9.0}  # surcharges are not moved by the path


def test_path_pct_increase(table):
    # +10 % from 2027-04-15: light 116.0 x 1.1 = 127.6; basic 8320 x 1.1 = 9152.
    path = TariffPath(increases=[TariffIncrease(date=dt.date(2027, 4, 15), pct=10)])
    cal = build_calendar(dt.date(2027, 4, 14), dt.date(2027, 4, 16))
    r = hourly_rates(cal, table, "eul_high_a_ii", path)
    assert r.energy_krw_per_kwh[24] == pytest.approx(127.6)
    assert (r.basic_krw_per_kw_month[0], r.basic_krw_per_kw_month[24]) == (8320.0, pytest.approx(9152.0))


def test_path_increases_compound_in_date_order(table):
    # +10 KRW on 04-15 then +10 % on 04-16 (listed in reverse): (116.0 + 10) x 1.1 = 138.6.
    path = TariffPath(increases=[
        TariffIncrease(date=dt.date(2027, 4, 16), pct=10),
        TariffIncrease(date=dt.date(2027, 4, 15), energy_krw_per_kwh=10),
    ])
    cal = build_calendar(dt.date(2027, 4, 14), dt.date(2027, 4, 17))
    e = hourly_rates(cal, table, "eul_high_a_ii", path).energy_krw_per_kwh
    assert e[[0, 24, 48]] == pytest.approx([116.0, 126.0, 138.6])


def test_path_yearly_pct(table):
    # Default yearly_from = 1 Jan of the year after the last version (2026-06-01) = 2027-01-01.
    # 0 h winter light 123.0 (domain.md#tariff-tables): 2026-12-31 123.0; 2027-01-01 123.0 x 1.02 = 125.46;
    # 2029-01-02 123.0 x 1.02^3 = 123.0 x 1.061208 = 130.528584; basic 8320 x 1.061208 = 8829.25056.
    cal = build_calendar(dt.date(2026, 12, 31), dt.date(2029, 1, 3))
    r = hourly_rates(cal, table, "eul_high_a_ii", TariffPath(yearly_pct=2.0))
    last = cal.n_hours - 24  # 2029-01-02 00 h
    assert r.energy_krw_per_kwh[[0, 24, last]] == pytest.approx([123.0, 125.46, 130.528584])
    assert r.basic_krw_per_kw_month[last] == pytest.approx(8829.25056)
    # yearly_from 2027-06-15: the first step is 2028-01-01 -> 2029-01-02 is 123.0 x 1.02^2 = 127.9692.
    late = TariffPath(yearly_pct=2.0, yearly_from=dt.date(2027, 6, 15))
    e = hourly_rates(cal, table, "eul_high_a_ii", late).energy_krw_per_kwh
    assert e[[24, last]] == pytest.approx([123.0, 127.9692])


def test_path_hold_at_2022(table):
    # Frozen at the 2022-01-01 version: Wed 2026-07-15 on pre-reform bands and 2022 prices
    # (summer 51.1 / 104.0 / 186.1, see test_history_back_to_2022) and 2022 surcharges.
    r = day_rates(table, "eul_high_a_ii", dt.date(2026, 7, 15), TariffPath(hold_at=dt.date(2022, 1, 1)))
    assert r.energy_krw_per_kwh[[0, 14, 19]].tolist() == [51.1, 186.1, 104.0]  # 14 h peak, 19 h mid
    assert r.tou_period[[14, 19]].tolist() == [P, M]
    assert set(r.climate_krw_per_kwh) == {5.3} and set(r.fuel_adj_krw_per_kwh) == {0.0}
    assert set(r.fund_rate) == {0.037} and set(r.basic_krw_per_kw_month) == {8320.0}


def test_path_hold_at_freezes_from_its_date(table):
    # hold_at 2026-05-01 on 갑Ⅱ 고압A 선택Ⅱ: before it, the bundled history; from it on, the
    # version in force on 2026-05-01 (so the 갑 band change of 2026-06-01 never comes).
    path = TariffPath(hold_at=dt.date(2026, 5, 1))
    before = day_rates(table, "gap2_high_a_ii", dt.date(2024, 10, 23), path)  # Wednesday
    assert before.energy_krw_per_kwh[0] == 82.3  # domain.md#tariff-tables 2024-01-01 s/f light (not 90.8)
    after = day_rates(table, "gap2_high_a_ii", dt.date(2026, 7, 15), path)  # Wednesday
    # 14 h: pre-reform peak 150.1 (domain.md#tariff-tables summer peak); bundled it would be post-reform mid 116.6.
    assert (after.tou_period[14], after.energy_krw_per_kwh[14]) == (P, 150.1)
    assert day_rates(table, "gap2_high_a_ii", dt.date(2026, 7, 15)).energy_krw_per_kwh[14] == 116.6


def test_path_validation():
    with pytest.raises(ValidationError, match="exactly one of energy_krw_per_kwh or pct \\(got energy_krw_per_kwh and pct\\)"):
        TariffIncrease(date=dt.date(2027, 1, 1), energy_krw_per_kwh=1, pct=1)
    with pytest.raises(ValidationError, match="got neither"):
        TariffIncrease(date=dt.date(2027, 1, 1))
    with pytest.raises(ValidationError, match="greater than -100"):
        TariffIncrease(date=dt.date(2027, 1, 1), pct=-100)
    with pytest.raises(ValidationError, match="greater than -100"):
        TariffPath(yearly_pct=-150)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TariffPath(yearly_pcts=2)
    path = TariffPath.model_validate({"increases": [{"date": "2027-01-01", "pct": 5}]})
    assert path.increases[0].affine() == (1.05, 0.0)
    with pytest.raises(ValidationError):
        path.yearly_pct = 3.0  # frozen
