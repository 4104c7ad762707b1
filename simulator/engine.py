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
from agents.broker import Broker
from simulator.billing import InvoiceLine, MonthUsage, billing_demand_kw, monthly_bill, round_won, truncate_won
from simulator.calendar import HourlyCalendar, build_calendar, year_blocks
from simulator.config import GeneratorSpec, Scenario
from simulator.kernel import settle_block
from simulator.ledger import Ledger
from simulator.load import profile_for_block, tenant_load_kw
from simulator.certificates import CertificateLedger
from simulator.certification import buy_recs_for_targets, certify_month, sell_recs_quarterly
from simulator.markets import rec_price_krw_per_rec, smp_krw_per_kwh
from simulator.population import TenantSpec
from simulator.procurement import Plan
from simulator.rng import stream
from simulator.settlement import (
    contract_capacity_kw,
    curtailment_compensation_krw,
    net_metering,
    network_fee_krw,
    pool_allocation_kwh,
    ppa_billed_kwh,
    ppa_energy_krw,
    scale_usage,
    standard_price_krw_per_kwh,
    weighted_price,
)
from simulator.settlement_reference import BlockResult
from simulator.solar import fuel_cell_kw, solar_ac_kw
from simulator.tariffs import HourlyRates, hourly_rates, load_table

MARKET = "market"  # KPX power pool: the explicit counterparty of exports
HOURS_PER_YEAR = 8760.0  # a yearly subscription spread over a month pro rata to its hours
KEA = "korea_energy_agency"  # receives green-premium proceeds (facts.md §4.1)


@dataclass
class SettledYear:
    """One year block after the kernel: what monthly billing reads."""

    index: int
    calendar: HourlyCalendar
    rates: list[HourlyRates]  # by tariff index k
    smp_krw_per_kwh: np.ndarray
    months: list[BlockResult]  # one kernel result per billing month (M = 1)
    active: list[np.ndarray]  # per month: indices into plan.contracts supplying that month
    rec_price_krw_per_rec: np.ndarray  # per billing month of the block


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
        self.plan = Plan.build(scenario, [t.name for t in self.tenants])
        self.broker = Broker(self, scenario.broker)
        self.net_metering_bank_kwh = np.zeros(len(tenants))  # facts.md §4.4: carried forward
        self.ppa_tenants = set(self.plan.c_tenant.tolist())
        self.certs = CertificateLedger()
        self.year_load_kwh = np.zeros(len(tenants))  # calendar year to date, for REC targets
        self.month_billed = None  # simpy event, fired with (year, month index) after each month's billing
        self.env = simpy.Environment()
        self.month_billed = self.env.event()
        self.env.process(yearly_settlement(self))
        self.env.process(monthly_billing(self))
        self.env.process(rec_trading(self))

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
            done, model.month_billed = model.month_billed, model.env.event()
            done.succeed((year, m, month_key))
        del model.settled[k]  # the year is billed: free its block


def rec_trading(model: ComplexModel):
    """After each billed month: quarterly REC sales (DOMAIN §3: the broker trades RECs
    quarterly) and, at each calendar year's end and at the horizon's end, the target
    tenants' unbundled REC purchases."""
    last_month = model.blocks[-1][1].year * 12 + model.blocks[-1][1].month - 2
    while True:
        year, m, month_key = yield model.month_billed
        price = float(year.rec_price_krw_per_rec[m])
        if month_key % 12 == 11 or month_key == last_month:
            buy_recs_for_targets(model, month_key, model.year_load_kwh / 1000.0, price)
        if month_key % 3 == 2 or month_key == last_month:
            sell_recs_quarterly(model, month_key, price)
        if month_key % 12 == 11:
            model.year_load_kwh[:] = 0.0


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
    price = np.ascontiguousarray(np.column_stack([r.energy_krw_per_kwh for r in rates]))
    tou = np.ascontiguousarray(np.column_stack([r.tou_period for r in rates]).astype(np.int8))
    offset = _hours_before(sc, cal)
    months, actives = [], []
    for month_key, h0, h1 in cal.month_bounds():
        active = model.plan.active(month_key)
        inputs = model.plan.month_inputs(
            month_key, active, load[h0:h1], gen[h0:h1], price[h0:h1], tou[h0:h1], smp[h0:h1],
            model.tenant_tariff, offset + h0,
        )
        months.append(settle_block(inputs))
        actives.append(active)
    rec = rec_price_krw_per_rec(cal.month_keys(), sc.markets.rec, stream(sc.seed, "rec", k))
    return SettledYear(k, cal, rates, smp, months, actives, rec)


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
    """Settle one month into invoice lines (money) and the energy ledger."""
    r = year.months[m]
    sc = model.scenario
    led = model.ledger
    kepco = model.utility.name
    smp_avg = float(year.smp_krw_per_kwh[hours].mean())
    # -- green tariff: the pool's kWh allocated to subscribers (seed 003, DOMAIN §2) --
    grid_kwh = r.tenant_grid_kwh[0]
    if sc.green_tariff is not None:
        pool_smp = weighted_price(float(r.pool_smp_krw[0]), float(r.pool_kwh[0])) or smp_avg
        green_price = standard_price_krw_per_kwh(sc.green_tariff.price, pool_smp)
        if model.plan.pool_hourly:
            green_kwh = r.tenant_pool_kwh[0]  # applied hour by hour by the kernel
        else:  # the pool's delivered (not curtailed) kWh, against the month's subscriptions
            pool = model.plan.gen_pool == 1
            delivered = float((r.gen_kwh[0] - r.gen_curtailed_kwh[0])[pool].sum())
            subscribed_kwh = model.plan.sub_weight * 1000.0 * (hours.stop - hours.start) / HOURS_PER_YEAR
            green_kwh = pool_allocation_kwh(delivered, subscribed_kwh, grid_kwh)
    else:
        green_kwh, green_price = np.zeros(len(model.tenants)), 0.0
    net_metered = _net_metered_export_kwh(model, r)
    for t, tenant in enumerate(model.tenants):
        rates = year.rates[model.tenant_tariff[t]]
        # PPA users keep paying the basic charge on their full demand (facts.md §4.3,
        # "Double-charging complaint"); others on what the KEPCO meter sees.
        peak = r.tenant_load_peak_kw[0, t] if t in model.ppa_tenants else r.tenant_grid_peak_kw[0, t]
        actual = month_usage(rates, hours, month_key, r.tenant_grid_kwh_by_tou[0, t],
                             r.tenant_grid_energy_krw_by_tou[0, t], peak)
        ordinary_kwh = float(grid_kwh[t])
        monthly_green = 0.0 if model.plan.pool_hourly else float(green_kwh[t])
        credit, model.net_metering_bank_kwh[t] = net_metering(
            model.net_metering_bank_kwh[t], net_metered[t], ordinary_kwh - monthly_green
        )
        if ordinary_kwh > 0:
            actual = scale_usage(actual, (ordinary_kwh - monthly_green - credit) / ordinary_kwh)
        baseline = month_usage(rates, hours, month_key, r.tenant_load_kwh_by_tou[0, t],
                               r.tenant_load_energy_krw_by_tou[0, t], r.tenant_load_peak_kw[0, t])
        green_line = (
            [InvoiceLine("green_tariff_energy", float(green_kwh[t]), "kWh", truncate_won(green_kwh[t] * green_price))]
            if green_kwh[t] > 0 else []
        )
        lines = _bill(actual, model.peaks_actual[t], model.contract_kw[t], green_line)
        if credit > 0:
            lines.append(InvoiceLine("net_metering_credit_kwh", credit, "kWh", 0))
        led.add_lines(month_key, tenant.name, kepco, lines)
        led.add_baseline(month_key, tenant.name, sum(line.krw for line in _bill(baseline, model.peaks_baseline[t], model.contract_kw[t])))
    _settle_contracts(model, year, m, month_key)
    _pay_plants(model, r, month_key, net_metered)
    for gp in sc.green_premium:  # facts.md §4.1: proceeds go to the Korea Energy Agency
        kwh = gp.volume_mwh_per_year * 1000.0 / 12.0
        led.add(month_key, gp.tenant, KEA, "green_premium", kwh, "kWh", round_won(kwh * gp.premium_krw_per_kwh))
    monthly_green = np.zeros(len(model.tenants)) if model.plan.pool_hourly else green_kwh
    led.add_energy(month_key, r, 0, monthly_green)
    model.year_load_kwh += r.tenant_load_kwh[0]
    certify_month(model, r, year.active[m], month_key, green_kwh)


def _net_metered_export_kwh(model: ComplexModel, r: BlockResult) -> np.ndarray:
    """kWh exported by each tenant's net-metered self-generation plants this month."""
    out = np.zeros(len(model.tenants))
    for g, plant in enumerate(model.generators):
        if plant.spec.uses_net_metering():
            out[model.plan.gen_host[g]] += r.gen_export_kwh[0, g]
    return out


def _settle_contracts(model: ComplexModel, year: SettledYear, m: int, month_key: int) -> None:
    """Direct-PPA lines for the month (DOMAIN §2; seed 000: the broker bills, passes network fees through)."""
    r, led, broker, fees = year.months[m], model.ledger, model.broker.name, model.scenario.broker
    for j, c in enumerate(year.active[m]):
        spec = model.plan.contracts[c]
        tenant = model.tenants[model.plan.c_tenant[c]].name
        plant = model.generators[model.plan.c_gen[c]]
        e, ap = float(r.contract_contracted_kwh[0, j]), float(r.contract_applied_kwh[0, j])
        e_krw, ap_krw = float(r.contract_contracted_krw[0, j]), float(r.contract_applied_krw[0, j])
        billed = ppa_billed_kwh(e, ap, spec.settlement, spec.min_take_pct)
        energy_krw = round_won(ppa_energy_krw(e, ap, e_krw, ap_krw, billed))
        led.add(month_key, tenant, broker, "ppa_energy", billed, "kWh", energy_krw)
        led.add(month_key, broker, plant.name, "ppa_energy", billed, "kWh", energy_krw)
        comp = round_won(curtailment_compensation_krw(float(r.contract_surplus_curtailed_kwh[0, j]), e, e_krw,
                                                      spec.curtailment_compensation_pct, spec.settlement))
        if comp:
            led.add(month_key, tenant, broker, "curtailment_compensation", float(r.contract_surplus_curtailed_kwh[0, j]), "kWh", comp)
            led.add(month_key, broker, plant.name, "curtailment_compensation", float(r.contract_surplus_curtailed_kwh[0, j]), "kWh", comp)
        cap_kw = contract_capacity_kw(spec.volume, plant.spec.capacity_kw,
                                      float(model.plan.profiles_kw[model.plan.c_profile[c]].max()) if spec.volume.kind == "shaped" else 0.0)
        net = round_won(network_fee_krw(ap, spec.network_fee_krw_per_kwh, cap_kw, spec.network_fee_krw_per_kw_month))
        led.add(month_key, tenant, broker, "network_fee", ap, "kWh", net)
        led.add(month_key, broker, model.utility.name, "network_fee", ap, "kWh", net)
        fee = round_won(billed * fees.fee_krw_per_kwh + fees.fee_krw_per_contract_month)
        led.add(month_key, tenant, broker, "broker_fee", billed, "kWh", fee)
        surplus_kwh, surplus_krw = float(r.contract_surplus_export_kwh[0, j]), round_won(float(r.contract_surplus_smp_krw[0, j]))
        if surplus_kwh > 0:
            to = tenant if spec.surplus_revenue_to == "tenant" else plant.name
            led.add(month_key, MARKET, to, "ppa_surplus_smp", surplus_kwh, "kWh", surplus_krw)
            led.add(month_key, model.utility.name, MARKET, "market_purchase_smp", surplus_kwh, "kWh", surplus_krw)


def _pay_plants(model: ComplexModel, r: BlockResult, month_key: int, net_metered: np.ndarray) -> None:
    """Plants' own (uncontracted) output: pool plants sell to KEPCO at their monthly weighted
    SMP (seed 003 step 1); net-metered self-generation is credited in kWh, not paid; the
    rest is sold to the market at SMP and KEPCO buys it from the market."""
    led, kepco = model.ledger, model.utility.name
    for g, plant in enumerate(model.generators):
        if plant.spec.uses_net_metering():
            continue
        if plant.spec.green_pool:
            kwh = float(r.gen_kwh[0, g] - r.gen_curtailed_kwh[0, g])
            krw = round_won(kwh * weighted_price(float(r.gen_smp_krw[0, g]), float(r.gen_kwh[0, g])))
            led.add(month_key, kepco, plant.name, "green_pool_purchase", kwh, "kWh", krw)
            continue
        kwh, krw = float(r.gen_export_kwh[0, g]), round_won(float(r.gen_export_smp_krw[0, g]))
        led.add(month_key, MARKET, plant.name, "energy_export_smp", kwh, "kWh", krw)
        led.add(month_key, kepco, MARKET, "market_purchase_smp", kwh, "kWh", krw)


def _bill(usage: MonthUsage, peaks: dict[int, float], contract_kw: float, extra=()) -> list[InvoiceLine]:
    billing_kw = billing_demand_kw(usage.month_key, usage.peak_kw, peaks, contract_kw)
    peaks[usage.month_key] = usage.peak_kw
    for old in [mk for mk in peaks if mk <= usage.month_key - 12]:
        del peaks[old]
    return monthly_bill(usage, billing_kw, extra)
