"""Batteries in the scenario: ``batteries:``, storage assets behind tenants' meters, and ``cloud_ess:``,
complex-level shared batteries whose capacity tenants subscribe to (each share a virtual battery).

Each battery is dispatched hour by hour by the settlement kernel (docs/settlement-kernel.md step 4b)
under one of four documented strategies. Defaults marked [E] are estimates without a sourced figure
in docs/domain.md; the scenario should override them with quotes for the site.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from re100sim.simulator.fields import StrictModel

__all__ = ["Battery", "BatteryCells", "CloudEss", "CloudSubscription", "STRATEGIES", "split_round_trip_efficiency"]

#: Dispatch strategies (their rules: docs/settlement-kernel.md step 4b).
STRATEGIES = ("self_consumption", "peak_shaving", "tou_arbitrage", "re_matching")


class BatteryCells(StrictModel):
    """The physical battery: size, efficiency, SOC limits, fade and what it costs (shared by :class:`Battery`
    and :class:`CloudEss`)."""

    energy_kwh: float = Field(gt=0, le=1e7, description="nameplate energy capacity, kWh")
    power_kw: float = Field(gt=0, le=1e7, description="charge and discharge power limit (AC), kW")
    round_trip_efficiency_pct: float = Field(
        85.0, gt=0, le=100,
        description="AC round trip, %; split as sqrt each way [E] (the NREL Annual Technology Baseline's "
                    "utility-scale lithium-ion battery assumes 85 %)",
    )
    soc_min_pct: float = Field(10.0, ge=0, le=100, description="lowest state of charge, % of current capacity [E]")
    soc_max_pct: float = Field(90.0, ge=0, le=100, validate_default=True,
                               description="highest state of charge, % of current capacity [E]")
    initial_soc_pct: float = Field(50.0, ge=0, le=100, validate_default=True,
                                   description="state of charge at the start, % of capacity [E]")
    fade_pct_per_cycle: float = Field(
        0.005, ge=0, lt=100,
        description="capacity lost per equivalent full cycle, % of nameplate (0.005 %: 20 % after 4,000 cycles) [E]",
    )
    capex_krw_per_kwh: float = Field(500_000.0, ge=0, description="installed cost, KRW per kWh of nameplate [E]")
    om_pct_of_capex_per_year: float = Field(1.5, ge=0, le=100, description="O&M, % of capex a year [E]")
    lifetime_years: int = Field(15, ge=1, le=50, description="economic life, years [E]")
    hurdle_rate_pct: float = Field(6.0, ge=0, le=50, description="owner's required return, %/yr [E] (as for plants)")
    capital_cost: Literal["annuity", "upfront"] = Field(
        "annuity",
        description="how the owner's books carry the capex, as for plants: annuity (capex x capital recovery factor"
        " at hurdle_rate_pct over lifetime_years, monthly from the start) or upfront (all capex in the first month)",
    )

    @field_validator("soc_max_pct")
    @classmethod
    def _max_above_min(cls, v: float, info: ValidationInfo) -> float:
        lo = info.data.get("soc_min_pct")
        if lo is not None and v < lo:
            raise ValueError(f"{v} is below soc_min_pct {lo} (soc_min_pct <= soc_max_pct)")
        return v

    @field_validator("initial_soc_pct")
    @classmethod
    def _initial_within(cls, v: float, info: ValidationInfo) -> float:
        lo, hi = info.data.get("soc_min_pct"), info.data.get("soc_max_pct")
        if lo is not None and hi is not None and not lo <= v <= hi:
            raise ValueError(f"{v} is outside [{lo}, {hi}] (within soc_min_pct..soc_max_pct)")
        return v

    @property
    def capex_krw(self) -> float:
        return self.capex_krw_per_kwh * self.energy_kwh

    @property
    def om_krw_per_year(self) -> float:
        return self.capex_krw * self.om_pct_of_capex_per_year / 100.0


class Dispatch(StrictModel):
    """How a battery (or a cloud-ESS subscription) is dispatched, hour by hour."""

    strategy: Literal["self_consumption", "peak_shaving", "tou_arbitrage", "re_matching"] = Field(
        description="dispatch rule (docs/settlement-kernel.md step 4b)"
    )
    peak_target_kw: float | None = Field(
        None, ge=0, description="peak_shaving: fixed grid-import target, kW (default: learned, peak_target_pct)"
    )
    peak_target_pct: float = Field(
        90.0, gt=0, le=100,
        description="peak_shaving: target as % of the highest billed-hours import before the battery over the "
                    "previous 12 billed months (the first month: of the contract demand) [E]",
    )


class Battery(BatteryCells, Dispatch):
    """A battery behind a tenant's meter: it serves only its owner's load and never exports."""

    name: str = Field(min_length=1, description="battery name (unique)")
    owner: str = Field(description="tenant behind whose meter it sits (one tenant; not a group)")


class CloudSubscription(Dispatch):
    """A tenant's share of a :class:`CloudEss`: a virtual battery of ``energy_kwh`` (and the same share of the
    power), dispatched on the subscriber's own flows (docs/domain.md#shared-cloud-ess)."""

    tenant: str = Field(description="subscriber (one tenant; not a group)")
    energy_kwh: float = Field(gt=0, le=1e7, description="subscribed energy capacity, kWh (its power: the same share)")
    fee_krw_per_kwh_month: float | None = Field(
        None, ge=0,
        description="subscription fee, KRW per subscribed kWh a month, before VAT (default: the owner's cost "
                    "recovery, docs/domain.md#shared-cloud-ess) [E]",
    )


class CloudEss(BatteryCells):
    """A complex-level shared battery (the park "Cloud-ESS" of Songsan Green City, docs/domain.md#shared-cloud-ess)
    owned by the complex authority or the broker; tenants subscribe to shares of its capacity."""

    name: str = Field(min_length=1, description="cloud ESS name (unique; its account in the invoices)")
    owner: Literal["complex_authority", "broker"] = Field(
        "complex_authority", description="who owns it, pays its capital cost and O&M and invoices the fees"
    )
    bill_sees_peak: bool = Field(
        False,
        description="true: the subscriber's billed peak is netted by its share's flows like a battery behind its "
                    "meter; false: the KEPCO meter bills the basic charge on the demand without the share "
                    "(energy netted only, as for direct-PPA users; docs/domain.md#shared-cloud-ess) [E]",
    )
    subscriptions: list[CloudSubscription] = Field([], description="tenants' shares of the capacity")

    @field_validator("subscriptions")
    @classmethod
    def _shares_fit(cls, v: list[CloudSubscription], info: ValidationInfo) -> list[CloudSubscription]:
        e = info.data.get("energy_kwh")
        total = sum(s.energy_kwh for s in v)
        if e is not None and total > e * (1 + 1e-9):
            raise ValueError(f"subscribed energy_kwh add up to {total:g} (at most the cloud ESS's {e:g} kWh)")
        if len({s.tenant for s in v}) != len(v):
            raise ValueError("a tenant subscribes at most once")
        return v

    def virtual_batteries(self) -> list[Battery]:
        """One :class:`Battery` per subscription, named ``<cloud>.<tenant>``, behind the subscriber's (virtual)
        meter: its share of the energy and power, the cloud's cells, no cost of its own (the owner carries it)."""
        cells = self.model_dump(include=set(BatteryCells.model_fields) - {"energy_kwh", "power_kw"})
        return [
            Battery(**cells | {"capex_krw_per_kwh": 0.0, "om_pct_of_capex_per_year": 0.0},
                    **s.model_dump(include=set(Dispatch.model_fields)),
                    name=f"{self.name}.{s.tenant}", owner=s.tenant, energy_kwh=s.energy_kwh,
                    power_kw=self.power_kw * s.energy_kwh / self.energy_kwh)
            for s in self.subscriptions
        ]


def split_round_trip_efficiency(round_trip_pct: float) -> tuple[float, float]:
    """(charge, discharge) one-way efficiencies whose product is the round trip: sqrt each way,
    the usual symmetric split when only the round trip is quoted (docs/settlement-kernel.md step 4b)."""
    eta = math.sqrt(round_trip_pct / 100.0)
    return eta, eta
