"""Batteries in the scenario: ``batteries:``, a list of storage assets behind tenants' meters.

Each battery is dispatched hour by hour by the settlement kernel (docs/settlement-kernel.md step 4b)
under one of four documented strategies. Defaults marked [E] are estimates without a sourced figure
in docs/domain.md; the scenario should override them with quotes for the site.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from re100sim.simulator.fields import StrictModel

__all__ = ["Battery", "STRATEGIES", "split_round_trip_efficiency"]

#: Dispatch strategies (their rules: docs/settlement-kernel.md step 4b).
STRATEGIES = ("self_consumption", "peak_shaving", "tou_arbitrage", "re_matching")


class Battery(StrictModel):
    """A battery behind a tenant's meter: it serves only its owner's load and never exports."""

    name: str = Field(min_length=1, description="battery name (unique)")
    owner: str = Field(description="tenant behind whose meter it sits (one tenant; not a group)")
    energy_kwh: float = Field(gt=0, le=1e7, description="nameplate energy capacity, kWh")
    power_kw: float = Field(gt=0, le=1e7, description="charge and discharge power limit (AC), kW")
    strategy: Literal["self_consumption", "peak_shaving", "tou_arbitrage", "re_matching"] = Field(
        description="dispatch rule (docs/settlement-kernel.md step 4b)"
    )
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
    peak_target_kw: float | None = Field(
        None, ge=0, description="peak_shaving: fixed grid-import target, kW (default: learned, peak_target_pct)"
    )
    peak_target_pct: float = Field(
        90.0, gt=0, le=100,
        description="peak_shaving: target as % of the highest billed-hours import before the battery over the "
                    "previous 12 billed months (the first month: of the contract demand) [E]",
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


def split_round_trip_efficiency(round_trip_pct: float) -> tuple[float, float]:
    """(charge, discharge) one-way efficiencies whose product is the round trip: sqrt each way,
    the usual symmetric split when only the round trip is quoted (docs/settlement-kernel.md step 4b)."""
    eta = math.sqrt(round_trip_pct / 100.0)
    return eta, eta
