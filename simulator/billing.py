"""Monthly KEPCO bills from hourly load and rates: small pure functions.

Bill formula (facts.md §1.1 "Bill formula"): 기본요금 + 전력량요금 + 기후환경요금
± 연료비조정요금 = 전기요금계; then the power-industry fund and VAT on the
전기요금계 (§1.1 rows "VAT" and "Power-industry fund"). The power-factor
charge (§1.1) is not modelled.

Flow: :func:`month_usage` aggregates a tenant's hourly load against
:class:`~simulator.tariffs.HourlyRates`; :func:`billing_demand_kw` applies the
demand ratchet; :func:`monthly_bill` turns both into invoice lines in won.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.calendar import HourlyCalendar
from simulator.tariffs import TOU_LIGHT, TOU_NAMES, HourlyRates

# facts.md §1.1 "Billing demand": months whose peaks are carried for 12 months,
# and the floor as a share of contract power.
RATCHET_MONTHS = frozenset({12, 1, 2, 7, 8, 9})
BILLING_DEMAND_FLOOR_SHARE = 0.30
# Before truncating or rounding to the won, sums are rounded to this many decimals:
# kWh with <= 3 decimals times prices with 1 decimal are exact at 4 decimals, so
# this removes float noise (e.g. 110899.99999999999 -> 110900) without moving real values.
_GUARD_DECIMALS = 4


@dataclass(frozen=True, eq=False)
class MonthUsage:
    """One tenant's month, aggregated from hourly data: everything its bill needs.

    KRW amounts are sums of kWh x rate over the month's hours, not yet truncated.
    """

    month_key: int  # year * 12 + (month - 1), as in HourlyCalendar
    kwh_by_period: np.ndarray  # (3,) kWh in TOU_LIGHT, TOU_MID, TOU_PEAK
    energy_krw_by_period: np.ndarray  # (3,) sum of kWh x energy price, by TOU period
    climate_charge_krw: float  # sum of kWh x climate-environment rate
    fuel_adj_charge_krw: float  # sum of kWh x fuel-cost adjustment rate
    peak_kw: float  # max hourly-average kW over the month's non-light-load hours
    basic_krw_per_kw_month: float  # hour-weighted mean basic rate (pro rata by days)
    fund_rate: float  # in force in the month (usage-based)
    vat_rate: float

    @property
    def energy_charge_krw(self) -> float:
        """Sum over the month's hours of kWh x energy price."""
        return float(np.sum(self.energy_krw_by_period))

    @property
    def kwh(self) -> float:
        return float(np.sum(self.kwh_by_period))


@dataclass(frozen=True)
class InvoiceLine:
    """One line of a bill: ``krw`` for ``quantity`` ``unit`` (kW, kWh or the KRW base)."""

    item: str
    quantity: float
    unit: str
    krw: int


def month_usage(load_kw: np.ndarray, rates: HourlyRates, calendar: HourlyCalendar) -> list[MonthUsage]:
    """Per billing month of ``calendar``: one tenant's usage (NumPy reference).

    ``load_kw`` is the hourly-average grid import, kW (= kWh in the hour), one
    value per calendar hour. ``peak_kw`` skips light-load hours (facts.md §1.1
    "Billing demand"); fund and VAT rates are those of the month's first hour
    (the tables change them only on the first of a month).
    """
    load = np.asarray(load_kw, dtype=float)
    if load.shape != (calendar.n_hours,):
        raise ValueError(f"load_kw has shape {load.shape} (expected ({calendar.n_hours},): one per hour)")
    if (load < 0).any():
        raise ValueError("load_kw has negative values (grid import, kW >= 0)")
    bounds = calendar.month_bounds()
    starts = np.array([s for _, s, _ in bounds])
    hours = np.array([e - s for _, s, e in bounds])
    n = len(bounds)
    cell = np.repeat(np.arange(n), hours) * 3 + rates.tou_period
    kwh = np.bincount(cell, weights=load, minlength=3 * n).reshape(n, 3)
    krw = np.bincount(cell, weights=load * rates.energy_krw_per_kwh, minlength=3 * n).reshape(n, 3)
    climate = np.add.reduceat(load * rates.climate_krw_per_kwh, starts)
    fuel = np.add.reduceat(load * rates.fuel_adj_krw_per_kwh, starts)
    peak = np.maximum.reduceat(np.where(rates.tou_period == TOU_LIGHT, 0.0, load), starts)
    basic = np.add.reduceat(rates.basic_krw_per_kw_month, starts) / hours
    return [
        MonthUsage(
            month_key=key,
            kwh_by_period=kwh[m],
            energy_krw_by_period=krw[m],
            climate_charge_krw=float(climate[m]),
            fuel_adj_charge_krw=float(fuel[m]),
            peak_kw=float(peak[m]),
            basic_krw_per_kw_month=float(basic[m]),
            fund_rate=float(rates.fund_rate[start]),
            vat_rate=float(rates.vat_rate[start]),
        )
        for m, (key, start, _) in enumerate(bounds)
    ]


def billing_demand_kw(
    month_key: int, peak_kw: float, past_peaks: Mapping[int, float], contract_kw: float
) -> float:
    """요금적용전력: the demand the basic charge is billed on (facts.md §1.1 "Billing demand").

    The highest of this month's ``peak_kw`` and the peaks of the Dec/Jan/Feb and
    Jul/Aug/Sep months among the 11 months before it (12 months counting this
    one, as in 한전 기본공급약관 "당월 포함 직전 12개월"), floored at 30 % of
    ``contract_kw``. ``past_peaks`` maps ``month_key -> peak_kw``; months before
    the simulation start are simply absent.
    """
    carried = (
        past_peaks[k]
        for k in range(month_key - 11, month_key)
        if k in past_peaks and k % 12 + 1 in RATCHET_MONTHS
    )
    return float(max(peak_kw, *carried, BILLING_DEMAND_FLOOR_SHARE * contract_kw))


def monthly_bill(
    usage: MonthUsage, billing_kw: float, extra_charges: Sequence[InvoiceLine] = ()
) -> list[InvoiceLine]:
    """Invoice lines of one month (facts.md §1.1).

    ``extra_charges`` are further whole-won charges on the same KEPCO bill (e.g. the
    green-tariff energy line, seed 003 step 4): they enter the 전기요금계, so the fund
    and VAT apply to them as well.

    Order of operations:

    1. ``basic_charge`` = trunc(billing_kw x basic rate);
    2. ``energy_light`` / ``energy_mid`` / ``energy_peak`` = trunc(energy charge of the period);
    3. ``climate_environment``, ``fuel_cost_adjustment`` = trunc(charge);
    4. 전기요금계 = the sum of lines 1-3 (whole won);
    5. ``power_industry_fund`` = 전기요금계 x fund rate, truncated to 10 won;
    6. ``vat`` = 전기요금계 x VAT rate, rounded half up to the won.

    trunc drops the fraction of a won (toward zero, so a negative fuel adjustment
    is also cut to whole won). Truncating each energy line separately can make the
    energy total up to 2 won lower than truncating the sum. The amount payable is
    the sum of all lines.
    """
    kwh = usage.kwh
    charges = [
        InvoiceLine(
            "basic_charge", float(billing_kw), "kW", truncate_won(billing_kw * usage.basic_krw_per_kw_month)
        ),
        *(
            InvoiceLine(f"energy_{name}", float(q), "kWh", truncate_won(krw))
            for name, q, krw in zip(TOU_NAMES, usage.kwh_by_period, usage.energy_krw_by_period)
        ),
        InvoiceLine("climate_environment", kwh, "kWh", truncate_won(usage.climate_charge_krw)),
        InvoiceLine("fuel_cost_adjustment", kwh, "kWh", truncate_won(usage.fuel_adj_charge_krw)),
        *extra_charges,
    ]
    subtotal = sum(line.krw for line in charges)
    return [
        *charges,
        InvoiceLine(
            "power_industry_fund", float(subtotal), "KRW", truncate_ten_won(subtotal * usage.fund_rate)
        ),
        InvoiceLine("vat", float(subtotal), "KRW", round_won(subtotal * usage.vat_rate)),
    ]


def truncate_won(krw: float) -> int:
    """Drop the fraction of a won, toward zero (원 미만 절사)."""
    return math.trunc(round(float(krw), _GUARD_DECIMALS))


def truncate_ten_won(krw: float) -> int:
    """Truncate to a multiple of 10 won (fund: facts.md §1.1 "truncated to 10 won")."""
    return 10 * math.trunc(round(float(krw), _GUARD_DECIMALS) / 10)


def round_won(krw: float) -> int:
    """Round half up to the won (VAT: facts.md §1.1 "rounded to the nearest won")."""
    return math.floor(round(float(krw), _GUARD_DECIMALS) + 0.5)
