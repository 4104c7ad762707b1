"""Month-level contract rules: from the kernel's monthly energy aggregates to KRW.

Small pure functions, one per rule, each citing its source. The hourly energy
matching is the kernel's (``docs/settlement-kernel.md``); these functions only
price and allocate monthly totals.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from re100sim.simulator.rules.billing import MonthUsage
from re100sim.simulator.scenario.config import FixedPrice, SmpIndexedPrice


def scale_usage(usage: MonthUsage, keep_fraction: float) -> MonthUsage:
    """The part of a month's grid use still billed on the ordinary tariff.

    Green tariff (the KIEE 2020 green-tariff paper step 4, docs/domain.md#procurement-routes): allocated green kWh are billed at the
    standard price and "the rest of its use at the ordinary tariff"; the basic charge
    stays as in the ordinary tariff, so the peak is unchanged. Net metering (docs/domain.md#self-generation) credits kWh the same way. kWh and energy KRW of every TOU period shrink in
    proportion (the allocation is a monthly volume, not tied to hours).
    """
    f = float(np.clip(keep_fraction, 0.0, 1.0))
    return dataclasses.replace(
        usage,
        kwh_by_period=usage.kwh_by_period * f,
        energy_krw_by_period=usage.energy_krw_by_period * f,
        climate_charge_krw=usage.climate_charge_krw * f,
        fuel_adj_charge_krw=usage.fuel_adj_charge_krw * f,
    )


def ppa_billed_kwh(contracted_kwh: float, applied_kwh: float, settlement: str, min_take_pct: float) -> float:
    """kWh the off-taker pays for in a month (docs/domain.md#procurement-routes direct PPA; issue 3 contract rules).

    Pay-as-produced: all contracted energy; pay-as-consumed: the energy applied to its
    load, but at least ``min_take_pct`` of the contracted energy (take-or-pay).
    """
    if settlement == "pay_as_produced":
        return contracted_kwh
    return min(contracted_kwh, max(applied_kwh, contracted_kwh * min_take_pct / 100.0))


def ppa_energy_krw(contracted_kwh, applied_kwh, contracted_krw, applied_krw, billed_kwh) -> float:
    """KRW for ``billed_kwh``: applied energy at its hourly prices, any extra (surplus
    paid for under pay-as-produced or take-or-pay) at the month's average contract price."""
    if billed_kwh <= applied_kwh:
        return applied_krw * (billed_kwh / applied_kwh) if applied_kwh > 0 else 0.0
    extra = billed_kwh - applied_kwh
    surplus_kwh = contracted_kwh - applied_kwh
    avg_surplus_price = (contracted_krw - applied_krw) / surplus_kwh if surplus_kwh > 0 else 0.0
    return applied_krw + extra * avg_surplus_price


def surplus_paid_fraction(contracted_kwh: float, applied_kwh: float, billed_kwh: float,
                          surplus_revenue_to: str | None) -> float:
    """Share of a contract's surplus (contracted kWh beyond the tenant's load) that the tenant paid for.

    One payment per kWh: under pay-as-produced or take-or-pay the tenant pays for surplus kWh, so their SMP
    revenue (and, bundled, their RECs) are the tenant's, not sold a second time by the plant
    (docs/domain.md#direct-ppa "Surplus generation": surplus is sold to the market and earns RECs). The rest
    of the surplus stays with the plant, unless the contract gives all surplus revenue to the tenant
    (``surplus_revenue_to: tenant``).
    """
    if surplus_revenue_to == "tenant":
        return 1.0
    surplus = contracted_kwh - applied_kwh
    if surplus <= 0:
        return 0.0
    return float(np.clip((billed_kwh - applied_kwh) / surplus, 0.0, 1.0))


def market_monthly_smp_krw_per_kwh(smp_hourly_krw_per_kwh: np.ndarray) -> float:
    """The market's monthly weighted-average SMP, from the month's hourly SMP.

    The KIEE 2020 green-tariff paper prices the pool's purchases at the monthly weighted-average SMP
    (docs/domain.md#green-tariff). The model's hourly SMP path is built so that its monthly mean is the
    published monthly average level (re100sim.simulator.inputs.markets), so the mean over the month's
    hours is that figure, whatever the plants' own output profile.
    """
    return float(np.mean(smp_hourly_krw_per_kwh))


def curtailment_compensation_krw(
    curtailed_kwh: float, contracted_kwh: float, contracted_krw: float, pct: float, settlement: str
) -> float:
    """Compensation the off-taker pays for contracted energy curtailed at the export limit.

    Only under pay-as-consumed: under pay-as-produced curtailed contract energy is already paid.
    """
    if settlement == "pay_as_produced" or contracted_kwh <= 0:
        return 0.0
    return curtailed_kwh * (contracted_krw / contracted_kwh) * pct / 100.0


def contract_capacity_kw(volume, plant_capacity_kw: float, profile_peak_kw: float = 0.0) -> float:
    """kW a network fee per kW applies to: the block, the share of the plant, or the profile peak."""
    if volume.kind == "share":
        return volume.share * plant_capacity_kw
    if volume.kind == "baseload":
        return volume.block_kw
    return profile_peak_kw


def network_fee_krw(applied_kwh: float, fee_krw_per_kwh: float, capacity_kw: float, fee_krw_per_kw_month: float):
    """PPA network usage fee: per kWh delivered to the tenant plus per kW per month (docs/domain.md#direct-ppa)."""
    return applied_kwh * fee_krw_per_kwh + capacity_kw * fee_krw_per_kw_month


def pool_allocation_kwh(pool_kwh: float, subscribed_kwh: np.ndarray, grid_kwh: np.ndarray) -> np.ndarray:
    """Monthly green-tariff allocation (the KIEE 2020 green-tariff paper: "allocated in proportion to subscribed
    green demand"): pro rata when the pool is short of total subscriptions, each
    subscription in full when it is not; never more than the subscriber's grid use."""
    total = float(subscribed_kwh.sum())
    if total <= 0 or pool_kwh <= 0:
        return np.zeros_like(subscribed_kwh)
    return np.minimum(subscribed_kwh * min(1.0, pool_kwh / total), grid_kwh)


def standard_price_krw_per_kwh(price: FixedPrice | SmpIndexedPrice, weighted_smp_krw_per_kwh: float) -> float:
    """The green tariff's single standard price (the KIEE 2020 green-tariff paper step 4): fixed, or the month's
    weighted SMP plus an adder, clipped to floor and cap."""
    if isinstance(price, FixedPrice):
        return price.price_krw_per_kwh
    p = weighted_smp_krw_per_kwh + price.adder_krw_per_kwh
    lo = -np.inf if price.floor_krw_per_kwh is None else price.floor_krw_per_kwh
    hi = np.inf if price.cap_krw_per_kwh is None else price.cap_krw_per_kwh
    return float(np.clip(p, lo, hi))


def net_metering(bank_kwh, exported_kwh, grid_kwh):
    """Net metering (요금상계거래, docs/domain.md#self-generation): exported kWh offset the host's grid kWh,
    surplus carried forward. Returns (kWh credited this period, new bank); numbers or arrays."""
    available = np.add(bank_kwh, exported_kwh)
    used = np.minimum(available, np.maximum(grid_kwh, 0.0))
    return used, available - used

