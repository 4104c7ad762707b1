"""Monthly KEPCO bills from hourly load and rates: small pure functions.

Bill formula (docs/domain.md#bill-structure "Bill formula"): 기본요금 + 전력량요금 + 기후환경요금
± 연료비조정요금 = 전기요금계; then the power-industry fund and VAT on the
전기요금계 (domain.md#bill-structure rows "VAT" and "Power-industry fund"). The power-factor
charge (domain.md#bill-structure) is not modelled.

Flow: :func:`month_usage` aggregates a tenant's hourly load against
:class:`~re100sim.simulator.inputs.tariffs.HourlyRates`; :func:`billing_demand_kw` applies the
demand ratchet; :func:`monthly_bill` turns both into invoice lines in won.

The scalar functions are the readable specification. For many tenants at once the
same bill is computed over arrays: :class:`MonthUsageArrays` (N tenants, one month),
:class:`BillingDemand` (the ratchet state of N tenants) and
:func:`monthly_bill_arrays`, which gives exactly the integers of :func:`monthly_bill`
(rounding by :func:`truncate_won_array`, :func:`truncate_ten_won_array`,
:func:`round_won_array`, the exact twins of the scalar helpers).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from re100sim.simulator.inputs.calendar import HourlyCalendar
from re100sim.simulator.inputs.tariffs import TOU_LIGHT, TOU_NAMES, HourlyRates

# docs/domain.md#bill-structure "Billing demand": months whose peaks are carried for 12 months,
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
    value per calendar hour. ``peak_kw`` skips light-load hours (docs/domain.md#bill-structure
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
    """요금적용전력: the demand the basic charge is billed on (docs/domain.md#bill-structure "Billing demand").

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
    """Invoice lines of one month (docs/domain.md#bill-structure).

    ``extra_charges`` are further whole-won charges on the same KEPCO bill (e.g. the
    green-tariff energy line, the KIEE 2020 green-tariff paper step 4): they enter the 전기요금계, so the fund
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
    """Truncate to a multiple of 10 won (fund: docs/domain.md#bill-structure "truncated to 10 won")."""
    return 10 * math.trunc(round(float(krw), _GUARD_DECIMALS) / 10)


def round_won(krw: float) -> int:
    """Round half up to the won (VAT: docs/domain.md#bill-structure "rounded to the nearest won")."""
    return math.floor(round(float(krw), _GUARD_DECIMALS) + 0.5)


# --- vectorised engine: N tenants, one month ------------------------------------------------
#
# The scalar helpers round to _GUARD_DECIMALS with Python's round(), which rounds the
# exact binary value of a float to 4 decimals (correctly rounded, half to even).
# numpy.round (scale, rint, unscale) differs from it on some inputs, so the array
# helpers do not call it. They use closed forms, exact for |x| < 2**38 won (written
# here for _GUARD_DECIMALS = 4; the limit keeps the float spacing below 10**-4 / 2):
#
# - truncate_won(x), x >= 0: round(x, 4) reaches floor(x) + 1 exactly when the
#   fraction f = x - floor(x) (exact in float) exceeds 0.99995; below 2**38 the float
#   spacing (<= 2**-14) is too fine for the round trip through float to move an
#   integer boundary. So truncate_won(x) = floor(x) + [f > 0.99995], mirrored for x < 0.
# - round_won(x) = floor(round(x, 4) + 0.5) = floor(x) + [f > 0.49995] (the 0.5 is
#   added exactly; a result R + 0.5 that is not a whole won is >= 1e-4 from one).
# - truncate_ten_won(x) = 10 * trunc(round(x, 4) / 10) = truncate_won(x) truncated
#   to a multiple of 10: the float division r / 10 cannot round up to k + 1 unless
#   r >= 10 (k + 1), because r's spacing is >= 8 times that of k + 1.
#
# No ties: 0.99995 and 0.49995 are not dyadic, so no float equals them. The cut-offs
# are the smallest floats above them. Elements outside the exact range (|x| >= 2**38,
# inf, nan) go through the scalar helper one by one: same results, same errors.
_ARRAY_EXACT_LIMIT = 2.0**38


def _smallest_float_above(value: Fraction) -> float:
    c = float(value)
    return c if Fraction(c) > value else float(np.nextafter(c, np.inf))


_HALF_GUARD_UNIT = Fraction(1, 2 * 10**_GUARD_DECIMALS)  # 0.00005
_TRUNC_CUT = _smallest_float_above(1 - _HALF_GUARD_UNIT)  # fraction > 0.99995
_HALF_UP_CUT = _smallest_float_above(Fraction(1, 2) - _HALF_GUARD_UNIT)  # fraction > 0.49995


def _apply_scalar_outside_range(x: np.ndarray, out: np.ndarray, scalar) -> np.ndarray:
    slow = ~(np.abs(x) < _ARRAY_EXACT_LIMIT)  # also catches nan
    if slow.any():
        for i in np.flatnonzero(slow):
            out.flat[i] = scalar(float(x.flat[i]))
    return out


def truncate_won_array(krw) -> np.ndarray:
    """:func:`truncate_won` element-wise (int64): identical on every input."""
    x = np.asarray(krw, dtype=float)
    with np.errstate(invalid="ignore"):  # inf/nan: redone (and rejected) by the scalar helper
        a = np.abs(x)
        whole = np.floor(a)
        n = whole + (a - whole >= _TRUNC_CUT)
        out = np.where(x < 0, -n, n).astype(np.int64)
    return _apply_scalar_outside_range(x, out, truncate_won)


def truncate_ten_won_array(krw) -> np.ndarray:
    """:func:`truncate_ten_won` element-wise (int64): identical on every input."""
    x = np.asarray(krw, dtype=float)
    won = truncate_won_array(x)
    out = np.sign(won) * (np.abs(won) // 10 * 10)
    return _apply_scalar_outside_range(x, out, truncate_ten_won)


def round_won_array(krw) -> np.ndarray:
    """:func:`round_won` element-wise (int64, half up, also for negatives): identical on every input."""
    x = np.asarray(krw, dtype=float)
    with np.errstate(invalid="ignore"):
        whole = np.floor(x)
        out = (whole + (x - whole >= _HALF_UP_CUT)).astype(np.int64)
    return _apply_scalar_outside_range(x, out, round_won)


@dataclass(frozen=True, eq=False)
class MonthUsageArrays:
    """:class:`MonthUsage` of N tenants for one month, as arrays (row i = tenant i)."""

    month_key: int
    kwh_by_period: np.ndarray  # (N, 3) kWh in TOU_LIGHT, TOU_MID, TOU_PEAK
    energy_krw_by_period: np.ndarray  # (N, 3)
    climate_charge_krw: np.ndarray  # (N,)
    fuel_adj_charge_krw: np.ndarray  # (N,)
    peak_kw: np.ndarray  # (N,)
    basic_krw_per_kw_month: np.ndarray  # (N,)
    fund_rate: np.ndarray  # (N,)
    vat_rate: np.ndarray  # (N,)

    def __post_init__(self):
        n = len(self.peak_kw)
        for f in dataclasses.fields(self):
            if f.name == "month_key":
                object.__setattr__(self, "month_key", int(self.month_key))
                continue
            value = np.asarray(getattr(self, f.name), dtype=float)
            shape = (n, 3) if f.name.endswith("_by_period") else (n,)
            if value.shape != shape:
                raise ValueError(f"{f.name} has shape {value.shape} (expected {shape})")
            object.__setattr__(self, f.name, value)

    def __len__(self) -> int:
        return len(self.peak_kw)

    @property
    def kwh(self) -> np.ndarray:
        """(N,) kWh of the month; the same floats as :attr:`MonthUsage.kwh`."""
        k = self.kwh_by_period
        return k[:, 0] + k[:, 1] + k[:, 2]

    @classmethod
    def from_usages(cls, usages: Sequence[MonthUsage]) -> MonthUsageArrays:
        """Stack one :class:`MonthUsage` per tenant (all of the same month)."""
        keys = {u.month_key for u in usages}
        if len(keys) != 1:
            raise ValueError(f"usages span months {sorted(keys)} (expected exactly one)")
        return cls(
            month_key=keys.pop(),
            **{
                f.name: np.array([getattr(u, f.name) for u in usages], dtype=float).reshape(
                    (len(usages), 3) if f.name.endswith("_by_period") else (len(usages),)
                )
                for f in dataclasses.fields(cls)
                if f.name != "month_key"
            },
        )

    def at(self, i: int) -> MonthUsage:
        """Tenant ``i`` as a scalar :class:`MonthUsage` (the test oracle's input)."""
        return MonthUsage(
            month_key=self.month_key,
            kwh_by_period=self.kwh_by_period[i].copy(),
            energy_krw_by_period=self.energy_krw_by_period[i].copy(),
            climate_charge_krw=float(self.climate_charge_krw[i]),
            fuel_adj_charge_krw=float(self.fuel_adj_charge_krw[i]),
            peak_kw=float(self.peak_kw[i]),
            basic_krw_per_kw_month=float(self.basic_krw_per_kw_month[i]),
            fund_rate=float(self.fund_rate[i]),
            vat_rate=float(self.vat_rate[i]),
        )

    def scaled(self, keep_fraction) -> MonthUsageArrays:
        """:func:`re100sim.simulator.rules.settlement.scale_usage` for each tenant: kWh, energy KRW,
        climate and fuel charges times ``keep_fraction`` (N,) clipped to [0, 1]; peak
        and basic rate unchanged."""
        f = np.clip(np.broadcast_to(np.asarray(keep_fraction, dtype=float), (len(self),)), 0.0, 1.0)
        return dataclasses.replace(
            self,
            kwh_by_period=self.kwh_by_period * f[:, None],
            energy_krw_by_period=self.energy_krw_by_period * f[:, None],
            climate_charge_krw=self.climate_charge_krw * f,
            fuel_adj_charge_krw=self.fuel_adj_charge_krw * f,
        )


class BillingDemand:
    """Billing-demand ratchet of N tenants (:func:`billing_demand_kw` over arrays).

    Holds, per tenant, the peaks of the last 11 billed months that are ratchet months
    (Dec/Jan/Feb, Jul/Aug/Sep): one slot per calendar month, stamped with its
    month key, so a slot older than the window (or a month never billed) is ignored.
    Call :meth:`billing_kw` once per billed month, in non-decreasing month order
    (months may be skipped); it returns the demand and then records the month's peaks,
    exactly as :func:`billing_demand_kw` with a dict history updated after each bill.
    """

    _NEVER = np.iinfo(np.int64).min // 2

    def __init__(self, n_tenants: int):
        self.n_tenants = int(n_tenants)
        self._slot_key = np.full(12, self._NEVER, dtype=np.int64)  # month key held by slot m
        self._slot_peak = np.zeros((12, self.n_tenants))
        self._last_key: int | None = None

    def carried_kw(self, month_key: int) -> np.ndarray | None:
        """(N,) highest carried ratchet-month peak for a bill of ``month_key``, or None."""
        live = (self._slot_key >= month_key - 11) & (self._slot_key < month_key)
        if not live.any():
            return None
        return self._slot_peak[live].max(axis=0)

    def floor_kw(self, month_key: int, contract_kw) -> np.ndarray:
        """(N,) the billing demand of ``month_key`` before its own peak is known: 30 % of contract demand or the
        carried ratchet-month peak, whichever is higher (known at the month start)."""
        floor = BILLING_DEMAND_FLOOR_SHARE * np.broadcast_to(np.asarray(contract_kw, dtype=float), (self.n_tenants,))
        carried = self.carried_kw(month_key)
        return floor if carried is None else np.maximum(floor, carried)

    def free_peak_kw(self, month_key: int, contract_kw) -> np.ndarray:
        """(N,) a peak under which ``month_key``'s billed peak raises no billing demand, this month's or a later
        one's: the month's :meth:`floor_kw` in a month the ratchet does not record; in a ratchet month (its peak
        is carried for 12 months) only 30 % of contract demand. Known at the month start."""
        if month_key % 12 + 1 in RATCHET_MONTHS:
            return BILLING_DEMAND_FLOOR_SHARE * np.broadcast_to(np.asarray(contract_kw, dtype=float), (self.n_tenants,))
        return self.floor_kw(month_key, contract_kw)

    def billing_kw(self, month_key: int, peak_kw, contract_kw) -> np.ndarray:
        """(N,) 요금적용전력 of ``month_key``; then records ``peak_kw`` as this month's peaks."""
        month_key = int(month_key)
        if self._last_key is not None and month_key < self._last_key:
            raise ValueError(f"month {month_key} billed after month {self._last_key} (months must not go back)")
        peak = np.asarray(peak_kw, dtype=float)
        if peak.shape != (self.n_tenants,):
            raise ValueError(f"peak_kw has shape {peak.shape} (expected ({self.n_tenants},))")
        billing = np.maximum(peak, self.floor_kw(month_key, contract_kw))
        if month_key % 12 + 1 in RATCHET_MONTHS:
            slot = month_key % 12
            self._slot_key[slot] = month_key
            self._slot_peak[slot] = peak
        self._last_key = month_key
        return billing


BILL_ITEMS = (
    "basic_charge", "energy_light", "energy_mid", "energy_peak",
    "climate_environment", "fuel_cost_adjustment", "extra", "power_industry_fund", "vat",
)
# Unit of each line's quantity, as in monthly_bill ("extra": the caller's own line).
LINE_UNITS = {
    "basic_charge": "kW", "energy_light": "kWh", "energy_mid": "kWh", "energy_peak": "kWh",
    "climate_environment": "kWh", "fuel_cost_adjustment": "kWh",
    "power_industry_fund": "KRW", "vat": "KRW",
}


def monthly_bill_arrays(
    usage: MonthUsageArrays, billing_kw, extra_krw=None
) -> dict[str, np.ndarray]:
    """:func:`monthly_bill` for N tenants: item -> (N,) int64 won, same integers.

    Keys in invoice order: ``basic_charge``, ``energy_light``, ``energy_mid``,
    ``energy_peak``, ``climate_environment``, ``fuel_cost_adjustment``, then
    ``extra`` if ``extra_krw`` (N,) whole-won charges are given (they enter the
    전기요금계 like ``extra_charges``), then ``power_industry_fund`` and ``vat``.
    Quantities: :func:`bill_quantities`.
    """
    billing_kw = np.asarray(billing_kw, dtype=float)
    n = len(usage)
    if billing_kw.shape != (n,):
        raise ValueError(f"billing_kw has shape {billing_kw.shape} (expected ({n},))")
    energy = truncate_won_array(usage.energy_krw_by_period)
    bill = {
        "basic_charge": truncate_won_array(billing_kw * usage.basic_krw_per_kw_month),
        **{f"energy_{name}": energy[:, p] for p, name in enumerate(TOU_NAMES)},
        "climate_environment": truncate_won_array(usage.climate_charge_krw),
        "fuel_cost_adjustment": truncate_won_array(usage.fuel_adj_charge_krw),
    }
    if extra_krw is not None:
        extra = np.asarray(extra_krw)
        if extra.shape != (n,) or extra.dtype.kind not in "iu":
            raise ValueError(f"extra_krw must be ({n},) integer won (got {extra.shape} {extra.dtype})")
        bill["extra"] = extra.astype(np.int64)
    subtotal = sum(bill.values())
    bill["power_industry_fund"] = truncate_ten_won_array(subtotal * usage.fund_rate)
    bill["vat"] = round_won_array(subtotal * usage.vat_rate)
    return bill


def bill_quantities(
    usage: MonthUsageArrays, billing_kw, bill: Mapping[str, np.ndarray], extra_quantity=None
) -> dict[str, np.ndarray]:
    """Item -> (N,) float quantity of each line of ``bill`` (from :func:`monthly_bill_arrays`),
    the same floats as the scalar :class:`InvoiceLine` quantities: billing kW, kWh of the
    period or of the month, and the 전기요금계 for the fund and VAT. ``extra`` takes
    ``extra_quantity`` (required when the bill has an extra line)."""
    kwh = usage.kwh
    subtotal = sum(bill[item] for item in BILL_ITEMS[:7] if item in bill).astype(float)
    q = {
        "basic_charge": np.asarray(billing_kw, dtype=float),
        **{f"energy_{name}": usage.kwh_by_period[:, p] for p, name in enumerate(TOU_NAMES)},
        "climate_environment": kwh,
        "fuel_cost_adjustment": kwh,
    }
    if "extra" in bill:
        if extra_quantity is None:
            raise ValueError("the bill has an extra line: give extra_quantity")
        q["extra"] = np.broadcast_to(np.asarray(extra_quantity, dtype=float), kwh.shape)
    q["power_industry_fund"] = subtotal
    q["vat"] = subtotal
    return q


def invoice_lines(
    bill: Mapping[str, np.ndarray], quantities: Mapping[str, np.ndarray], i: int,
    extra_item: str = "extra", extra_unit: str = "KRW",
) -> list[InvoiceLine]:
    """Tenant ``i``'s bill as the :class:`InvoiceLine` list :func:`monthly_bill` returns
    (the extra line named ``extra_item`` in ``extra_unit``)."""
    return [
        InvoiceLine(
            extra_item if item == "extra" else item,
            float(quantities[item][i]),
            extra_unit if item == "extra" else LINE_UNITS[item],
            int(krw[i]),
        )
        for item, krw in bill.items()
    ]
