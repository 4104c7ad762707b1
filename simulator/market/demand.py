"""Demand-side measures tenants adopted in the decision round: their effect on each year's load,
their yearly cost in the ledger, and their evaluation beside the procurement options.

A measure, once adopted, stays for the rest of the run (docs/decisions.md#demand-side-measures):
efficiency removes a share of every hour's load, load shifting moves a share of each day's peak-period
load into its light-load hours (re100sim.simulator.rules.demand), and a battery joins the fleet
(re100sim.simulator.market.storage). Costs are in KRW excluding VAT, like plants' capital and O&M.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from re100sim.simulator.market.forecast import Forecast
from re100sim.simulator.market.options import _kernel, annual_bills
from re100sim.simulator.rules.billing import round_won
from re100sim.simulator.rules.demand import (
    battery_size_for_peak,
    efficiency_load_kw,
    shifted_kwh,
    shifted_load_kw,
)
from re100sim.simulator.rules.finance import crf, levelisation_factor
from re100sim.simulator.rules.settlement_reference import N_TOU, STRATEGY
from re100sim.simulator.scenario.demand import MEASURES
from re100sim.simulator.scenario.storage import Battery, split_round_trip_efficiency

__all__ = ["DemandMeasures", "MeasureEvaluation", "DEMAND_SERVICES", "evaluate_measures", "apply_measure", "measure_battery"]

#: Payee of the measures' yearly cost: the energy service company (ESCO) or the tenant's own operating
#: costs (docs/decisions.md#demand-side-measures).
DEMAND_SERVICES = "demand_services"
EFFICIENCY_ITEM, SHIFTING_ITEM = "efficiency_measure", "load_shifting"
EFF, SHIFT, BATT = range(len(MEASURES))


@dataclass
class DemandMeasures:
    """Per tenant: the efficiency and shifting shares in force (%), their costs (KRW/MWh), and the
    adoption log; the year's saved and shifted kWh by hour, for the monthly cost lines (batteries live in
    the fleet, re100sim.simulator.market.storage)."""

    saved_pct: np.ndarray  # (T,)
    shift_pct: np.ndarray  # (T,)
    saved_cost_krw_per_mwh: np.ndarray  # (T,)
    shift_cost_krw_per_mwh: np.ndarray  # (T,)
    rows: list[dict] = field(default_factory=list)
    saved_kwh: np.ndarray | None = None  # (H, T) this year
    shifted_kwh: np.ndarray | None = None  # (H, T) this year
    load_before_kw: np.ndarray | None = None  # (H, T) this year's loads before the measures (the grid-only baseline)

    @classmethod
    def none(cls, n_tenants: int) -> "DemandMeasures":
        z = np.zeros(n_tenants)
        return cls(z.copy(), z.copy(), z.copy(), z.copy())

    @property
    def any_load_measure(self) -> bool:
        return bool((self.saved_pct > 0).any() or (self.shift_pct > 0).any())

    def load_kw(self, load_kw: np.ndarray, tariff_tou: np.ndarray, tenant_tariff: np.ndarray,
                day_of_hour: np.ndarray) -> np.ndarray:
        """(H, T) the loads with the adopted measures: efficiency first, then shifting of what is left."""
        if not self.any_load_measure:
            return load_kw
        after = efficiency_load_kw(load_kw, self.saved_pct)
        return shifted_load_kw(after, tariff_tou[:, tenant_tariff], day_of_hour, self.shift_pct)

    def apply_to_year(self, year, tenant_tariff: np.ndarray):
        """The year's inputs with the measures applied to the loads; remembers the saved and shifted
        kWh of each hour for :meth:`book_costs`."""
        if not self.any_load_measure:
            self.saved_kwh = self.shifted_kwh = self.load_before_kw = None
            return year
        import dataclasses
        efficient = efficiency_load_kw(year.load_kw, self.saved_pct)
        after = shifted_load_kw(efficient, year.tariff_tou[:, tenant_tariff], year.calendar.day, self.shift_pct)
        self.saved_kwh = year.load_kw - efficient
        self.shifted_kwh = np.clip(efficient - after, 0.0, None)
        self.load_before_kw = year.load_kw
        return dataclasses.replace(year, load_kw=after)

    def baseline_month(self, hours: slice, tariff_tou: np.ndarray, tariff_price: np.ndarray,
                       tenant_tariff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The month's loads before the measures, aggregated as the kernel aggregates a load for the grid-only
        baseline (docs/settlement-kernel.md "Outputs"): kWh and energy KRW by TOU period (T, 3), and the billed
        peak (T,): the highest hour outside light-load hours (0 if none)."""
        load = self.load_before_kw[hours]
        tou = tariff_tou[hours][:, tenant_tariff]
        price = tariff_price[hours][:, tenant_tariff]
        kwh = np.stack([np.where(tou == p, load, 0.0).sum(axis=0) for p in range(N_TOU)], axis=1)
        krw = np.stack([np.where(tou == p, load * price, 0.0).sum(axis=0) for p in range(N_TOU)], axis=1)
        return kwh, krw, np.where(tou != 0, load, 0.0).max(axis=0, initial=0.0)

    def book_costs(self, ledger, month_key: int, hours: slice, tenant_names: list[str]) -> None:
        """Each tenant's month of measure costs: saved MWh x cost per MWh saved, shifted MWh x cost per MWh shifted."""
        if self.saved_kwh is None:
            return
        for item, kwh, price in ((EFFICIENCY_ITEM, self.saved_kwh, self.saved_cost_krw_per_mwh),
                                 (SHIFTING_ITEM, self.shifted_kwh, self.shift_cost_krw_per_mwh)):
            month_kwh = kwh[hours].sum(axis=0)
            for t in np.flatnonzero(month_kwh > 0):
                krw = round_won(month_kwh[t] / 1000.0 * price[t])
                if krw:
                    ledger.add(month_key, tenant_names[t], DEMAND_SERVICES, item, float(month_kwh[t]), "kWh", krw)

    def adopt(self, t: int, measure: str, year: int, tenant: str, params, size: float, unit: str,
              annual_cost_krw: float) -> None:
        if measure == "efficiency":
            self.saved_pct[t], self.saved_cost_krw_per_mwh[t] = params.saved_pct, params.cost_krw_per_mwh_saved
        elif measure == "load_shifting":
            self.shift_pct[t], self.shift_cost_krw_per_mwh[t] = params.shift_pct, params.cost_krw_per_mwh_shifted
        self.rows.append({"year": year, "tenant": tenant, "measure": measure, "size": size, "unit": unit,
                          "expected_annual_cost_krw": annual_cost_krw})

    def summary(self) -> dict:
        """Adoptions per measure (summary.json ``demand_side``)."""
        return {m: sum(r["measure"] == m for r in self.rows) for m in MEASURES}


@dataclass
class MeasureEvaluation:
    """Per deciding tenant (rows) and measure (columns, in ``MEASURES`` order)."""

    cost_krw: np.ndarray  # (D, 3) levelised annual cost ex VAT: bills plus the measure's yearly cost; nan: unavailable
    spread_krw: np.ndarray  # (D, 3) tariff-exposed energy KRW (x tariff s.d. in the round)
    extra_krw: np.ndarray  # (D, 3) the measure's own yearly cost (cost per MWh x MWh, or annuity + O&M)
    size: np.ndarray  # (D, 3) saved MWh, shifted MWh, battery kWh
    battery_kw: np.ndarray  # (D,) battery power


def evaluate_measures(model, fc: Forecast, tenants: np.ndarray) -> MeasureEvaluation:
    """Cost of each allowed measure for each of ``tenants`` over the forecast year ``fc`` (loads
    already carrying their adopted measures): the year's KEPCO bills with the measure, levelised with
    the tenant's expected tariff growth as the grid option's (re100sim.simulator.market.options.evaluate),
    plus its yearly cost (cost per MWh x MWh, or the battery's annuity at the tenant's hurdle rate plus
    O&M); a measure already adopted is unavailable. The spread is the tariff s.d. on the energy KRW."""
    dsm, dec = model.demand, model.scenario.decisions
    hurdle_pct = np.array([model.tenants[t].spec.behaviour.hurdle_rate_pct for t in tenants])
    lev = levelisation_factor(fc.tariff_growth[model.tenant_tariff[tenants]], hurdle_pct, dec.horizon_years)
    p = dec.demand_side
    allowed = set(dec.options)
    D = len(tenants)
    load = fc.load_kw[:, tenants]
    k = model.tenant_tariff[tenants]
    cost, spread, extra, size = (np.full((D, len(MEASURES)), np.nan) for _ in range(4))
    battery_kw = np.zeros(D)

    def bills_of(new_load, which="load", **battery):
        r = _kernel(model, fc, tenants, load=new_load, **battery)
        return annual_bills(model, fc, tenants, r, which, which) * lev, getattr(r, f"tenant_{which}_energy_krw_by_tou").sum(axis=(0, 2))

    if "efficiency" in allowed:
        new = efficiency_load_kw(load, p.efficiency.saved_pct)
        bills, energy_krw = bills_of(new)
        mwh = (load - new).sum(axis=0) / 1000.0
        extra[:, EFF], size[:, EFF] = mwh * p.efficiency.cost_krw_per_mwh_saved, mwh
        cost[:, EFF] = np.where(dsm.saved_pct[tenants] > 0, np.nan, bills + extra[:, EFF])
        spread[:, EFF] = energy_krw
    if "load_shifting" in allowed:
        new = shifted_load_kw(load, fc.tariff_tou[:, k], fc.calendar.day, p.load_shifting.shift_pct)
        bills, energy_krw = bills_of(new)
        mwh = shifted_kwh(load, new) / 1000.0
        extra[:, SHIFT], size[:, SHIFT] = mwh * p.load_shifting.cost_krw_per_mwh_shifted, mwh
        cost[:, SHIFT] = np.where((dsm.shift_pct[tenants] > 0) | (mwh <= 0), np.nan, bills + extra[:, SHIFT])
        spread[:, SHIFT] = energy_krw
    if "battery" in allowed:
        b = p.battery
        d = Battery.model_fields
        usable = (d["soc_max_pct"].default - d["soc_min_pct"].default) / 100.0
        _, eta_d = split_round_trip_efficiency(d["round_trip_efficiency_pct"].default)
        billed = fc.tariff_tou[:, k] != 0
        kw, kwh = battery_size_for_peak(load, billed, fc.calendar.day, b.peak_target_pct, usable, eta_d)
        ok = (kwh > 0) & ~np.isin(tenants, model.batteries.owner)  # one battery a tenant: none offered to an owner
        if ok.any():
            on = np.flatnonzero(ok)
            eta_c, _ = split_round_trip_efficiency(d["round_trip_efficiency_pct"].default)
            peak = np.where(billed, load, 0.0).max(axis=0)
            bills, energy_krw = bills_of(
                load, "grid", b_tenant=on, b_strategy=np.full(len(on), STRATEGY["peak_shaving"]),
                b_energy_kwh=kwh[on], b_power_kw=kw[on], b_eta_charge=np.full(len(on), eta_c), b_eta_discharge=np.full(len(on), eta_d),
                b_soc_min_frac=np.full(len(on), d["soc_min_pct"].default / 100.0),
                b_soc_max_frac=np.full(len(on), d["soc_max_pct"].default / 100.0),
                b_soc0_kwh=kwh[on] * d["initial_soc_pct"].default / 100.0,
                b_fade_per_cycle=np.full(len(on), d["fade_pct_per_cycle"].default / 100.0),
                b_target_kw=peak[on] * b.peak_target_pct / 100.0)
            annuity = kwh * b.capex_krw_per_kwh * (crf(hurdle_pct, b.lifetime_years) + b.om_pct_of_capex_per_year / 100.0)
            extra[:, BATT], size[:, BATT], battery_kw = annuity, kwh, np.where(ok, kw, 0.0)
            cost[:, BATT] = np.where(ok, bills + annuity, np.nan)
            spread[:, BATT] = energy_krw
    return MeasureEvaluation(cost, dec.tariff_sd_pct / 100.0 * np.nan_to_num(spread), extra, size, battery_kw)


def apply_measure(model, fc: Forecast, t: int, measure: str, ev: MeasureEvaluation, row: int) -> None:
    """Tenant ``t`` adopts ``measure`` on the terms it evaluated; its procurement for the year is the grid."""
    tenant = model.tenants[t]
    tenant.option = "grid"
    p = model.scenario.decisions.demand_side
    j = MEASURES.index(measure)
    if measure == "battery":
        spec = measure_battery(f"{tenant.name}-battery-{fc.as_of.year}", tenant.name, ev.size[row, j], ev.battery_kw[row],
                               p.battery, tenant.spec.behaviour.hurdle_rate_pct)
        model.batteries.add(spec, t)
        model.ledger.batteries.append(spec.name)
        size, unit = spec.energy_kwh, "kWh"
    else:
        size, unit = float(ev.size[row, j]) * 1000.0, "kWh/yr"
    model.demand.adopt(t, measure, fc.as_of.year, tenant.name, getattr(p, measure), float(size), unit,
                       float(ev.extra_krw[row, j]))


def measure_battery(name: str, owner: str, energy_kwh: float, power_kw: float, option, hurdle_rate_pct: float) -> Battery:
    """The own battery the decision round evaluates and installs: peak shaving at the option's target,
    its capex, O&M and life, the owner's hurdle rate; the rest :class:`Battery`'s defaults."""
    return Battery(name=name, owner=owner, energy_kwh=float(energy_kwh), power_kw=float(power_kw), strategy="peak_shaving",
                   peak_target_pct=option.peak_target_pct, capex_krw_per_kwh=option.capex_krw_per_kwh,
                   om_pct_of_capex_per_year=option.om_pct_of_capex_per_year, lifetime_years=option.lifetime_years,
                   hurdle_rate_pct=float(hurdle_rate_pct))
