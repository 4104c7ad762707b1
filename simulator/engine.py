"""The model: Mesa wires the agents, simpy drives the clock (time unit: hours).

Data flows one way: scenario -> population -> agents decide at their event times ->
per-year profiles and prices -> the kernel settles each month's hours at month end ->
invoices, energy and certificates in the ledgers. The simpy processes, one per
recurring event:

- :func:`yearly_cycle`: at each year start, the year's inputs are built and the agents
  decide (when decisions are on); then the year's :func:`monthly_settlement` runs: at each
  month end, settle and bill the month;
- :func:`plant_outages`: one per plant, forced outages and repairs;
- :func:`rec_trading`: after each billed month, quarterly REC sales and year-end REC purchases; at each
  calendar year's end, its compliance assessment and the close of its books (``on_books_closed``).
"""
from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
import simpy

from re100sim.agents.broker import Broker
from re100sim.agents.generator import Generator
from re100sim.agents.tenant import Tenant
from re100sim.agents.utility import Utility
from re100sim.simulator.inputs.calendar import build_calendar, year_blocks
from re100sim.simulator.inputs.tariffs import load_table
from re100sim.simulator.market.demand import DemandMeasures
from re100sim.simulator.market.forecast import MarketHistory, build_forecast
from re100sim.simulator.market.monthly import KEA, MARKET, settle_month  # noqa: F401 (re-exported party names)
from re100sim.simulator.market.procurement import Plan
from re100sim.simulator.market.round import decision_round
from re100sim.simulator.market.storage import BatteryFleet
from re100sim.simulator.outputs.ledger import Ledger
from re100sim.simulator.outputs.reporting import adoption_collector, assess_year
from re100sim.simulator.rng import stream
from re100sim.simulator.rules.billing import BillingDemand
from re100sim.simulator.rules.certificates import CertificateLedger
from re100sim.simulator.rules.certification import (
    buy_recs_for_targets,
    sell_recs_quarterly,
)
from re100sim.simulator.scenario.config import GeneratorSpec, Scenario
from re100sim.simulator.scenario.population import TenantSpec
from re100sim.simulator.scenario.year_inputs import NoiseCache, YearInputs, year_inputs


class ComplexModel(mesa.Model):
    """An industrial complex: tenants, generators, the utility and the broker, over the scenario's years."""

    def __init__(self, scenario: Scenario, tenants: list[TenantSpec], on_year: Callable[[int], None] | None = None):
        super().__init__(seed=scenario.seed)
        sc = self.scenario = scenario
        self.on_year = on_year or (lambda k: None)
        # Called with the model when a calendar year's books are closed (its last month billed, its RECs
        # traded, its compliance assessed); a run that streams its outputs drains the ledger there.
        self.on_books_closed: Callable[[ComplexModel], None] | None = None
        self.utility = Utility(self, sc.tariff.table, sc.tariff_path)
        self.broker = Broker(self, sc.broker)
        self.tenants = [
            Tenant(self, spec, aware=bool(stream(sc.seed, "awareness0", t).random() < spec.behaviour.awareness))
            for t, spec in enumerate(tenants)
        ]
        self.generators: list[Generator] = []
        self.table = load_table(sc.tariff.table)
        self.options = sorted({t.tariff_option for t in tenants})
        self.tenant_tariff = np.array([self.options.index(t.tariff_option) for t in tenants], dtype=np.int32)
        self.contract_kw = np.array([t.contract_kw for t in tenants])
        self.blocks = year_blocks(sc.start_date, sc.years)
        self.env = simpy.Environment()
        # Procurement in force; decisions add to it (contracts, rooftop plants, subscriptions...).
        self.contracts = [c if c.start_date else c.model_copy(update={"start_date": sc.start_date}) for c in sc.contracts]
        self.subscriptions = {s.tenant: s.subscribed_mwh_per_year for s in (sc.green_tariff.subscribers if sc.green_tariff else [])}
        self.premiums = list(sc.green_premium)
        self.rec_targets = list(sc.rec_purchases)
        for spec in sc.generators:
            self.add_generator(spec)
        self.replan()
        self.batteries = BatteryFleet.build(sc.batteries, [t.name for t in self.tenants], sc.cloud_ess,
                                            foresight=sc.battery_dispatch == "perfect_foresight")
        self.demand = DemandMeasures.none(len(tenants))  # demand-side measures adopted in decision rounds
        self.forecast_noise = NoiseCache()  # the forecasts' load noise, the same every year of one length
        self.ledger = Ledger(tenants=[t.name for t in self.tenants], batteries=[b.name for b in self.batteries.specs])
        self.certs = CertificateLedger()
        # Billing-demand ratchets (docs/domain.md#bill-structure), for the actual bills and the grid-only baseline.
        self.demand_actual = BillingDemand(len(tenants))
        self.demand_baseline = BillingDemand(len(tenants))
        self.net_metering_bank_kwh = np.zeros(len(tenants))  # docs/domain.md#self-generation: carried forward
        self.year_load_kwh = np.zeros(len(tenants))  # calendar year to date, for REC targets
        self.year: YearInputs | None = None
        self.current_month_key = sc.start_date.year * 12 + sc.start_date.month - 1
        self.datacollector = adoption_collector()
        self.compliance_rows: list = []
        self.signings: list[dict] = []  # every PPA the broker signed (docs/decisions.md#prices)
        self.history = MarketHistory()  # what has been observed: the decisions' information (docs/decisions.md)
        self.month_billed = self.env.event()  # fired with (the month's REC price KRW/REC, month_key)
        self.cycle = self.env.process(yearly_cycle(self))
        self.env.process(rec_trading(self))

    # -- procurement state --
    def add_generator(self, spec: GeneratorSpec) -> Generator:
        plant = Generator(self, spec)
        self.generators.append(plant)
        if spec.outages is not None:
            self.env.process(plant_outages(self, plant, len(self.generators) - 1))
        return plant

    def replan(self) -> None:
        """Recompile the kernel's index arrays after procurement changed."""
        self.plan = Plan.build(
            self.contracts, [g.spec for g in self.generators], [t.name for t in self.tenants],
            self.subscriptions, self.scenario.green_tariff,
        )
        self.ppa_tenants = set(self.plan.c_tenant.tolist())

    def availability_mask(self, hours: slice, year: YearInputs) -> np.ndarray:
        """(H, G) 1.0 where a plant is available, 0.0 during its forced outages."""
        h0 = year.hours_from_start + hours.start
        n = hours.stop - hours.start
        mask = np.ones((n, len(self.generators)))
        for g, plant in enumerate(self.generators):
            for a, b in plant.outages:
                lo, hi = max(a, h0) - h0, min(b, h0 + n) - h0
                if hi > lo:
                    mask[int(lo):int(np.ceil(hi)), g] = 0.0
        return mask

    def run(self) -> Ledger:
        # Outage processes never end by themselves: the run ends with the last year.
        self.env.run(until=self.cycle)
        return self.ledger


# --- simpy processes ------------------------------------------------------------------------


def yearly_cycle(model: ComplexModel):
    """Each year: let the agents decide (when decisions are on) on what they know at the year
    start (a :class:`Forecast` from the history so far), then build the year's realised inputs
    (profiles, tariff rates, prices) and run its monthly settlement to its end; the settled
    year joins the history."""
    for k, (a, b) in enumerate(model.blocks):
        # The settled year's hourly inputs are needed no more (the history has observed them): dropped before
        # the decision round and the next year's inputs are built, so memory holds one year of them, not two.
        model.year = None
        install_for_policy(model, a)
        cal = build_calendar(a, b)
        if model.scenario.decisions.enabled:
            decision_round(model, build_forecast(model, k, cal))
        model.year = year_inputs(
            model.scenario, k, cal, [t.spec for t in model.tenants], [g.spec for g in model.generators],
            model.options, model.table,
        )
        model.year = model.demand.apply_to_year(model.year, model.tenant_tariff)
        yield model.env.process(monthly_settlement(model, model.year))
        model.history.observe(model.year)
        model.on_year(k)


def plant_outages(model: ComplexModel, plant: Generator, g: int):
    """Forced outages of one plant: exponential times to failure and to repair
    (mean ``outages.mtbf_hours`` and ``outages.mttr_hours``), so the long-run
    availability is mtbf / (mtbf + mttr)."""
    rng = stream(model.scenario.seed, "outage", g)
    o = plant.spec.outages
    while True:
        yield model.env.timeout(rng.exponential(o.mtbf_hours))
        outage = [model.env.now, np.inf]  # open until repaired; month ends see it as ongoing
        plant.outages.append(outage)
        yield model.env.timeout(rng.exponential(o.mttr_hours))
        outage[1] = model.env.now


def monthly_settlement(model: ComplexModel, year: YearInputs):
    """At each month end of the year: settle the month's hours and bill every tenant."""
    for m, (month_key, h0, h1) in enumerate(year.calendar.month_bounds()):
        yield model.env.timeout(h1 - h0)
        model.current_month_key = month_key
        settle_month(model, year, month_key, slice(h0, h1))
        model.datacollector.collect(model)
        done, model.month_billed = model.month_billed, model.env.event()
        done.succeed((float(year.rec_price_krw_per_rec[m]), month_key))  # not the year: its waiter would hold it


def rec_trading(model: ComplexModel):
    """After each billed month: quarterly REC sales (docs/domain.md#time-and-settlement: the broker trades RECs
    quarterly) and, at each calendar year's end and at the horizon's end, the target
    tenants' unbundled REC purchases."""
    last_month = model.blocks[-1][1].year * 12 + model.blocks[-1][1].month - 2
    while True:
        price, month_key = yield model.month_billed
        if month_key % 12 == 11 or month_key == last_month:
            buy_recs_for_targets(model, month_key, model.year_load_kwh / 1000.0, price)
        if month_key % 3 == 2 or month_key == last_month:
            sell_recs_quarterly(model, month_key, price)
        if month_key % 12 == 11 or month_key == last_month:
            if model.scenario.policy.rule != "none":
                model.compliance_rows.append(assess_year(
                    model, month_key // 12, model.ledger.tenant_energy(), model.ledger.generator_energy()))
        if month_key % 12 == 11:
            model.year_load_kwh[:] = 0.0
            if model.on_books_closed is not None:
                model.on_books_closed(model)


def install_for_policy(model: ComplexModel, start) -> None:
    """The rule sets what the complex must install: last year's shortfall is built by the
    complex authority as public rooftop PV in the complex (docs/domain.md#policy-rules; policy.authority_installs)."""
    cfg = model.scenario.policy
    if not model.compliance_rows or not cfg.authority_installs:
        return
    short_mw = model.compliance_rows[-1].shortfall_mw
    if short_mw > 1e-6:
        model.add_generator(GeneratorSpec(name=f"complex-pv-{start.year}", capacity_kw=short_mw * 1000.0,
                                          owner="public", in_complex=True))
        model.replan()
