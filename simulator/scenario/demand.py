"""Demand-side options of the decision round: efficiency, load shifting and an own battery.

Each is a tenant option beside the procurement options when listed in ``decisions.options``
(docs/decisions.md#demand-side-measures); their effect on the load is applied by
re100sim.simulator.rules.demand. Sources: docs/domain.md#storage-and-demand-side.
"""
from __future__ import annotations

from pydantic import Field

from re100sim.simulator.fields import StrictModel
from re100sim.simulator.scenario.storage import Battery

__all__ = ["Efficiency", "LoadShifting", "BatteryOption", "DemandSide", "MEASURES"]

#: Options of the decision round that change the tenant's own demand (docs/decisions.md#demand-side-measures).
MEASURES = ("efficiency", "load_shifting", "battery")


class Efficiency(StrictModel):
    """An efficiency measure from an energy diagnosis: a share of every hour's load removed for good."""

    saved_pct: float = Field(
        10.0, gt=0, lt=100,
        description="share of the load removed, % (docs/domain.md#storage-and-demand-side: the Gwangju smart-complex "
                    "energy diagnosis, at least 10 % per process across 50 firms, about 1 GWh saved) [N]",
    )
    cost_krw_per_mwh_saved: float = Field(
        62_000.0, ge=0,
        description="levelised cost per MWh saved, paid each year the measure runs (docs/domain.md#storage-and-demand-side: "
                    "US total cost of saved electricity 0.046 USD/kWh, LBNL 2015, at 1,350 KRW/USD) [D]",
    )


class LoadShifting(StrictModel):
    """Moving part of the peak-period load of each day into its light-load hours (process scheduling)."""

    shift_pct: float = Field(
        20.0, gt=0, le=100,
        description="share of each day's peak-period load moved to its light-load hours, % [E] (heat treatment is "
                    "180 of 960 kW at the peak in the metal-working case of docs/domain.md#load-shapes)",
    )
    cost_krw_per_mwh_shifted: float = Field(
        40_000.0, ge=0,
        description="cost per MWh moved (night-shift premiums, storage of intermediate goods) [E]: about a third "
                    "of the peak-light energy price gap of 산업용(을) 선택Ⅱ in summer (docs/domain.md#tariff-increases)",
    )


class BatteryOption(StrictModel):
    """An own battery behind the tenant's meter for peak shaving, sized by the rule of
    re100sim.simulator.rules.demand.battery_size_for_peak; the other parameters are :class:`Battery`'s defaults."""

    peak_target_pct: float = Field(
        85.0, gt=0, lt=100,
        description="billed-hours peak kept under this share of its highest value, % (sizing and dispatch) [E]",
    )
    capex_krw_per_kwh: float = Field(
        Battery.model_fields["capex_krw_per_kwh"].default, ge=0,
        description="installed cost, KRW per kWh [E] (docs/domain.md#storage-and-demand-side: 800,000 KRW/kWh "
                    "for 1 MWh with a 0.5 MW converter in 2015; cell prices have fallen since)",
    )
    lifetime_years: int = Field(Battery.model_fields["lifetime_years"].default, ge=1, le=50,
                                description="economic life, years [E] (as an own battery's default)")
    om_pct_of_capex_per_year: float = Field(Battery.model_fields["om_pct_of_capex_per_year"].default, ge=0, le=100,
                                            description="O&M, % of capex a year [E] (as an own battery's default)")


class DemandSide(StrictModel):
    """Parameters of the demand-side options (used when listed in ``decisions.options``)."""

    efficiency: Efficiency = Efficiency()
    load_shifting: LoadShifting = LoadShifting()
    battery: BatteryOption = BatteryOption()
