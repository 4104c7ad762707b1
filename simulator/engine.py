"""The model: Mesa wires the agents, simpy drives the clock (time unit: hours).

Data flows one way: scenario -> population -> per-year profiles and prices ->
kernel settles the year's hours into monthly aggregates -> monthly billing writes
invoices into the ledger. Two simpy processes carry it:

- :func:`yearly_settlement` at the start of each simulated year builds the
  year's calendar, tariff rates, loads, plant outputs and SMP and settles them
  with the kernel (memory grows with one year block, not with the horizon);
- :func:`monthly_billing` at each month end bills every tenant for the month.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd
import simpy

from agents.generator import Generator
from agents.tenant import Tenant
from agents.utility import Utility
from simulator.billing import MonthUsage, billing_demand_kw, monthly_bill
from simulator.calendar import HourlyCalendar, build_calendar, year_blocks
from simulator.config import GeneratorSpec, Scenario
from simulator.kernel import settle_block
from simulator.ledger import Ledger
from simulator.load import profile_for_block, tenant_load_kw
from simulator.markets import smp_krw_per_kwh
from simulator.population import TenantSpec
from simulator.rng import stream
from simulator.settlement_reference import BlockInputs, BlockResult
from simulator.solar import fuel_cell_kw, solar_ac_kw
from simulator.tariffs import HourlyRates, hourly_rates, load_table

MARKET = "market"  # KPX power pool: the explicit counterparty of exports


@dataclass
class SettledYear:
    """One year block after the kernel: what monthly billing reads."""

    index: int
    calendar: HourlyCalendar
    rates: list[HourlyRates]  # by tariff index k
    smp_krw_per_kwh: np.ndarray
    result: BlockResult


class ComplexModel(mesa.Model):
    """An industrial complex: tenants, generators and the utility, over the scenario's years."""

    def __init__(
        self,
        scenario: Scenario,
        tenants: list[TenantSpec],
        on_year: Callable[[int], None] | None = None,
    ):
        super().__init__(seed=scenario.seed)
        self.scenario = scenario
        self.on_year = on_year or (lambda k: None)
        self.utility = Utility(self, scenario.tariff.table, scenario.tariff_path)
        self.tenants = [Tenant(self, spec) for spec in tenants]
        self.generators = [Generator(self, spec) for spec in scenario.generators]
        self.table = load_table(scenario.tariff.table)
        self.options = sorted({t.tariff_option for t in tenants})
        self.tenant_tariff = np.array(
            [self.options.index(t.tariff_option) for t in tenants], dtype=np.int32
        )
        self.contract_kw = np.array([t.contract_kw for t in tenants])
        self.blocks = year_blocks(scenario.start_date, scenario.years)
        self.ledger = Ledger(
            tenants=[t.name for t in self.tenants], generators=[g.name for g in self.generators]
        )
        # Billing-demand ratchet memory (facts.md §1.1): month_key -> peak kW, per tenant,
        # for the actual bills and for the grid-only baseline.
        self.peaks_actual: list[dict[int, float]] = [{} for _ in tenants]
        self.peaks_baseline: list[dict[int, float]] = [{} for _ in tenants]
        self.settled: dict[int, SettledYear] = {}
        self.env = simpy.Environment()
        self.env.process(yearly_settlement(self))
        self.env.process(monthly_billing(self))

    def run(self) -> Ledger:
        self.env.run()
        return self.ledger


# --- simpy processes ------------------------------------------------------------------------


def yearly_settlement(model: ComplexModel):
    """At each year start: build the year's inputs and settle them with the kernel."""
    for k, (a, b) in enumerate(model.blocks):
        model.settled[k] = settle_year(model, k, build_calendar(a, b))
        model.on_year(k)
        yield model.env.timeout(model.settled[k].calendar.n_hours)


def monthly_billing(model: ComplexModel):
    """At each month end: bill every tenant for the month and pay the plants."""
    for k in range(len(model.blocks)):
        # At a year start the yearly process fires first (its timeout was scheduled
        # earlier), so year k is settled before its first month is billed.
        year = model.settled[k]
        for m, (month_key, h0, h1) in enumerate(year.calendar.month_bounds()):
            yield model.env.timeout(h1 - h0)
            bill_month(model, year, m, month_key, slice(h0, h1))
        del model.settled[k]  # the year is billed: free its block


# --- the year block -------------------------------------------------------------------------


def settle_year(model: ComplexModel, k: int, cal: HourlyCalendar) -> SettledYear:
    sc = model.scenario
    rates = [hourly_rates(cal, model.table, opt, sc.tariff_path) for opt in model.options]
    load = np.empty((cal.n_hours, len(model.tenants)))
    for t, tenant in enumerate(model.tenants):
        load[:, t] = tenant_block_load_kw(sc, tenant.spec, t, k, cal)
    gen = np.empty((cal.n_hours, len(model.generators)))
    for g, plant in enumerate(model.generators):
        gen[:, g] = plant_block_output_kw(sc, plant.spec, g, k, cal)
    smp = smp_krw_per_kwh(cal, sc.markets.smp, stream(sc.seed, "smp", k))
    inputs = grid_only_inputs(cal, load, gen, rates, model.tenant_tariff, smp)
    return SettledYear(k, cal, rates, smp, settle_block(inputs))


def tenant_block_load_kw(sc: Scenario, spec: TenantSpec, t: int, k: int, cal: HourlyCalendar):
    """Hourly load of one tenant in year block ``k`` (kW = kWh per hour)."""
    if spec.profile_kw is not None:
        offset = _hours_before(sc, cal)
        kw = profile_for_block(spec.profile_kw, cal, offset)
        if spec.annual_use_mwh is not None:  # scale the metered shape to the stated volume
            kw = kw * (spec.annual_use_mwh * 1000.0 / _typical_year_kwh(spec.profile_kw))
        return kw
    rng = stream(sc.seed, "load", t, k)
    return tenant_load_kw(cal, spec.archetype, spec.annual_use_mwh, spec.peak_kw, spec.load_params, rng)


def plant_block_output_kw(sc: Scenario, spec: GeneratorSpec, g: int, k: int, cal: HourlyCalendar):
    """Hourly AC output of one plant in year block ``k``."""
    if spec.technology == "solar_pv":
        # One weather stream per complex and year: plants on the same site see the same clouds.
        rng = stream(sc.seed, "solar", k)
        return solar_ac_kw(cal, spec.capacity_kw, sc.site.latitude_deg, sc.site.longitude_deg, spec.solar, rng)
    return fuel_cell_kw(cal, spec.capacity_kw, spec.availability, stream(sc.seed, "fuel_cell", g, k))


def grid_only_inputs(cal, load, gen, rates, tenant_tariff, smp) -> BlockInputs:
    """Kernel inputs for a complex where every tenant buys from the grid and every plant exports."""
    n_gen = gen.shape[1]
    month_index = np.searchsorted(cal.month_keys(), cal.month_key).astype(np.int32)
    empty_i, empty_f = np.empty(0, np.int32), np.empty(0)
    return BlockInputs(
        load_kwh=np.ascontiguousarray(load),
        gen_kwh=np.ascontiguousarray(gen),
        month_of_hour=month_index,
        tariff_price=np.ascontiguousarray(np.column_stack([r.energy_krw_per_kwh for r in rates])),
        tariff_tou=np.ascontiguousarray(np.column_stack([r.tou_period for r in rates]).astype(np.int8)),
        smp=np.ascontiguousarray(smp, dtype=np.float64),
        tenant_tariff=tenant_tariff,
        gen_host=np.full(n_gen, -1, np.int32),
        gen_pool=np.zeros(n_gen, np.int8),
        gen_export_limit_kw=np.full(n_gen, np.inf),
        c_gen=empty_i,
        c_tenant=empty_i,
        c_kind=np.empty(0, np.int8),
        c_share=empty_f,
        c_block_kw=empty_f,
        c_profile=empty_i,
        profile_kwh=np.empty((cal.n_hours, 0)),
        c_price_kind=np.empty(0, np.int8),
        c_price=empty_f,
        c_price_floor=empty_f,
        c_price_cap=empty_f,
        sub_weight=np.zeros(load.shape[1]),
        pool_hourly=0,
    )


def _hours_before(sc: Scenario, cal: HourlyCalendar) -> int:
    """Hours from the scenario start to this block's first hour."""
    start = pd.Timestamp(sc.start_date).tz_localize(cal.timestamps.tz)
    return int((cal.timestamps[0] - start) / pd.Timedelta(hours=1))


def _typical_year_kwh(profile_kw: np.ndarray) -> float:
    """Annual kWh of a metering profile (a full-horizon file: its mean year)."""
    return float(profile_kw.sum()) * 8760.0 / len(profile_kw)


# --- monthly billing ------------------------------------------------------------------------


def month_usage(rates: HourlyRates, hours: slice, month_key: int, kwh_by_tou, krw_by_tou, peak_kw):
    """A tenant's month for the bill engine, from the kernel's aggregates."""
    kwh = float(np.sum(kwh_by_tou))
    return MonthUsage(
        month_key=month_key,
        kwh_by_period=np.asarray(kwh_by_tou, dtype=float),
        energy_krw_by_period=np.asarray(krw_by_tou, dtype=float),
        climate_charge_krw=kwh * float(rates.climate_krw_per_kwh[hours].mean()),
        fuel_adj_charge_krw=kwh * float(rates.fuel_adj_krw_per_kwh[hours].mean()),
        peak_kw=float(peak_kw),
        basic_krw_per_kw_month=float(rates.basic_krw_per_kw_month[hours].mean()),
        fund_rate=float(rates.fund_rate[hours.start]),
        vat_rate=float(rates.vat_rate[hours.start]),
    )


def bill_month(model: ComplexModel, year: SettledYear, m: int, month_key: int, hours: slice) -> None:
    r = year.result
    led = model.ledger
    for t, tenant in enumerate(model.tenants):
        rates = year.rates[model.tenant_tariff[t]]
        actual = month_usage(
            rates, hours, month_key, r.tenant_grid_kwh_by_tou[m, t],
            r.tenant_grid_energy_krw_by_tou[m, t], r.tenant_grid_peak_kw[m, t],
        )
        baseline = month_usage(
            rates, hours, month_key, r.tenant_load_kwh_by_tou[m, t],
            r.tenant_load_energy_krw_by_tou[m, t], r.tenant_load_peak_kw[m, t],
        )
        lines = _bill(actual, model.peaks_actual[t], model.contract_kw[t])
        base_lines = _bill(baseline, model.peaks_baseline[t], model.contract_kw[t])
        led.add_lines(month_key, tenant.name, model.utility.name, lines)
        led.add_baseline(month_key, tenant.name, sum(line.krw for line in base_lines))
    for g, plant in enumerate(model.generators):
        kwh = float(r.gen_export_kwh[m, g])
        krw = int(round(float(r.gen_export_smp_krw[m, g])))
        led.add(month_key, MARKET, plant.name, "energy_export_smp", kwh, "kWh", krw)
        # KEPCO buys the pool's energy from KPX at SMP: the market passes the money through.
        led.add(month_key, model.utility.name, MARKET, "pool_purchase_smp", kwh, "kWh", krw)
    led.add_energy(month_key, r, m)


def _bill(usage: MonthUsage, peaks: dict[int, float], contract_kw: float):
    billing_kw = billing_demand_kw(usage.month_key, usage.peak_kw, peaks, contract_kw)
    peaks[usage.month_key] = usage.peak_kw
    for old in [mk for mk in peaks if mk <= usage.month_key - 12]:
        del peaks[old]
    return monthly_bill(usage, billing_kw)
