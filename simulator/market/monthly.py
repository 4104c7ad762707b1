"""Month-end settlement: the kernel matches the month's hours, then the month is priced.

Money goes to the ledger as invoice lines (payer, payee, item, quantity, unit, KRW);
energy goes to the energy ledger; certificates to the certificate ledger.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from re100sim.simulator.rules.billing import (
    LINE_UNITS,
    MonthUsageArrays,
    bill_quantities,
    monthly_bill_arrays,
    round_won,
    truncate_ten_won,
    truncate_won_array,
)
from re100sim.simulator.rules.certification import certify_month
from re100sim.simulator.rules.finance import crf
from re100sim.simulator.rules.kernel import settle_block
from re100sim.simulator.rules.settlement import (
    contract_capacity_kw,
    curtailment_compensation_krw,
    market_monthly_smp_krw_per_kwh,
    net_metering,
    network_fee_krw,
    pool_allocation_kwh,
    ppa_billed_kwh,
    ppa_energy_krw,
    standard_price_krw_per_kwh,
    surplus_paid_fraction,
)
from re100sim.simulator.rules.settlement_reference import BlockResult
from re100sim.simulator.scenario.year_inputs import YearInputs

MARKET = "market"  # KPX power pool: the explicit counterparty of exports
HOURS_PER_YEAR = 8760.0  # a yearly subscription spread over a month pro rata to its hours
KEA = "korea_energy_agency"  # receives green-premium proceeds (docs/domain.md#procurement-routes)
NTS = "nts"  # National Tax Service: receives the VAT each seller collects (docs/domain.md#bill-structure)
VAT_REMITTANCE = "vat_remittance"
CAPITAL = "capital"  # lenders and equity: paid the plant's capital cost (docs/domain.md#self-generation)
OM_CONTRACTOR = "om_contractor"  # paid the plant's operation and maintenance
CAPITAL_ANNUITY, CAPITAL_EXPENDITURE, OM_ITEM = "capital_annuity", "capital_expenditure", "o_and_m"
CAPITAL_ITEMS = (CAPITAL_ANNUITY, CAPITAL_EXPENDITURE)


def settle_month(model, year: YearInputs, month_key: int, hours: slice) -> None:
    """Settle the month's hours with the kernel (after this month's forced outages), then price it."""
    plan = model.plan
    active = plan.active(month_key)
    gen = year.gen_kw[hours] * model.availability_mask(hours, year)
    inputs = plan.month_inputs(
        month_key, active, year.load_kw[hours], gen, year.tariff_price[hours], year.tariff_tou[hours],
        year.smp_krw_per_kwh[hours], model.tenant_tariff, year.hours_from_start + hours.start,
    )
    if model.batteries.n:  # behind-the-meter batteries, their state carried from last month
        inputs = model.batteries.month_inputs(inputs, month_key, model.contract_kw,
                                              model.demand_actual.free_peak_kw(month_key, model.contract_kw))
    r = settle_block(inputs, hourly=True)
    model.batteries.advance(month_key, r)
    # Complex-level hourly series for the coverage heat map: RE delivered = load - grid (docs/settlement-kernel.md).
    model.ledger.add_hourly(year.calendar.timestamps[hours], inputs.load_kwh.sum(axis=1),
                            r.hourly_grid_kwh.sum(axis=1), gen.sum(axis=1))
    bill_month(model, year, r, active, month_key, hours)


def month_usage(year: YearInputs, hours: slice, month_key: int, tariff_index: np.ndarray, kwh_by_tou, krw_by_tou,
                peak_kw) -> MonthUsageArrays:
    """Tenants' month for the bill engine, from the kernel's aggregates and each tenant's tariff
    (``tariff_index``): hour-weighted mean rates (pro rata when a rate changes mid-month); fund
    and VAT rates of the month's first hour (they change only on the 1st, re100sim.simulator.inputs.tariffs)."""

    def monthly(field: str, how: str = "mean") -> np.ndarray:
        per_k = np.array([getattr(r, field)[hours].mean() if how == "mean" else getattr(r, field)[hours.start]
                          for r in year.rates])
        return per_k[tariff_index]

    kwh = kwh_by_tou.sum(axis=1)
    return MonthUsageArrays(
        month_key=month_key,
        kwh_by_period=kwh_by_tou,
        energy_krw_by_period=krw_by_tou,
        climate_charge_krw=kwh * monthly("climate_krw_per_kwh"),
        fuel_adj_charge_krw=kwh * monthly("fuel_adj_krw_per_kwh"),
        peak_kw=peak_kw,
        basic_krw_per_kw_month=monthly("basic_krw_per_kw_month"),
        fund_rate=monthly("fund_rate", "first"),
        vat_rate=monthly("vat_rate", "first"),
    )


def bill_month(model, year: YearInputs, r: BlockResult, active: np.ndarray, month_key: int, hours: slice) -> None:
    """Price one settled month into invoice lines (money), the energy ledger and certificates."""
    sc = model.scenario
    led = model.ledger
    kepco = model.utility.name
    smp_avg = market_monthly_smp_krw_per_kwh(year.smp_krw_per_kwh[hours])
    # -- green tariff: the pool's kWh allocated to subscribers (the KIEE 2020 green-tariff paper, docs/domain.md#procurement-routes) --
    grid_kwh = r.tenant_grid_kwh[0]
    if sc.green_tariff is not None:
        green_price = standard_price_krw_per_kwh(sc.green_tariff.price, smp_avg)
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
    monthly_green = np.zeros_like(grid_kwh) if model.plan.pool_hourly else green_kwh
    credit, model.net_metering_bank_kwh = net_metering(model.net_metering_bank_kwh, net_metered, grid_kwh - monthly_green)
    keep = np.where(grid_kwh > 0, (grid_kwh - monthly_green - credit) / np.where(grid_kwh > 0, grid_kwh, 1.0), 1.0)
    # PPA users keep paying the basic charge on their full demand (docs/domain.md#direct-ppa,
    # "Double-charging complaint"); others on what the KEPCO meter sees.
    is_ppa = np.isin(np.arange(len(model.tenants)), list(model.ppa_tenants))
    peak = np.where(is_ppa, r.tenant_site_peak_kw[0], r.tenant_grid_peak_kw[0])  # site = load without batteries
    # the peak without the batteries: billed where the meter does not net a cloud ESS share (docs/domain.md#shared-cloud-ess)
    peak_without = np.where(is_ppa, r.tenant_load_peak_kw[0], r.tenant_prebattery_peak_kw[0])
    if model.batteries.demand_unnetted.any():
        peak = np.where(model.batteries.demand_unnetted, peak_without, peak)
    k = model.tenant_tariff
    actual = month_usage(year, hours, month_key, k, r.tenant_grid_kwh_by_tou[0], r.tenant_grid_energy_krw_by_tou[0], peak)
    base = (r.tenant_load_kwh_by_tou[0], r.tenant_load_energy_krw_by_tou[0], r.tenant_load_peak_kw[0])
    if model.demand.load_before_kw is not None:  # the grid-only baseline: the loads before demand-side measures
        base = model.demand.baseline_month(hours, year.tariff_tou, year.tariff_price, k)
    baseline = month_usage(year, hours, month_key, k, *base)
    green_krw = truncate_won_array(green_kwh * green_price)
    names = np.array([t.name for t in model.tenants], dtype=object)
    actual = actual.scaled(keep)
    billing_kw = model.demand_actual.billing_kw(month_key, peak, model.contract_kw)
    model.batteries.book_demand(month_key, peak, peak_without, billing_kw, model.contract_kw, actual.basic_krw_per_kw_month)
    bill = monthly_bill_arrays(actual, billing_kw, green_krw)
    qty = bill_quantities(actual, billing_kw, bill, green_kwh)
    for item, krw in bill.items():
        show = green_kwh > 0 if item == "extra" else slice(None)
        led.add_many(month_key, names[show], kepco, "green_tariff_energy" if item == "extra" else item,
                     qty[item][show], LINE_UNITS.get(item, "kWh"), krw[show])
    has_credit = credit > 0
    if has_credit.any():
        led.add_many(month_key, names[has_credit], kepco, "net_metering_credit_kwh", credit[has_credit], "kWh",
                     np.zeros(int(has_credit.sum()), np.int64))
    base_bill = monthly_bill_arrays(baseline, model.demand_baseline.billing_kw(month_key, baseline.peak_kw, model.contract_kw))
    led.add_baseline_many(month_key, names, sum(base_bill.values()), base_bill["vat"])
    vat_due = {kepco: int(bill["vat"].sum())}
    vat_rate = float(year.rates[0].vat_rate[hours.start])
    _settle_contracts(model, r, active, month_key, vat_rate, vat_due)
    model.batteries.book_fees(led, month_key, vat_rate, vat_due)
    _pay_plants(model, r, month_key, net_metered, smp_avg)
    for gp in model.premiums:  # docs/domain.md#procurement-routes: proceeds go to the Korea Energy Agency
        kwh = gp.volume_mwh_per_year * 1000.0 / 12.0
        led.add(month_key, gp.tenant, KEA, "green_premium", kwh, "kWh", round_won(kwh * gp.premium_krw_per_kwh))
    remit_vat(led, month_key, vat_due)
    _plant_costs(model, month_key)
    model.batteries.book_costs(led, month_key)
    model.demand.book_costs(led, month_key, hours, list(names))
    led.add_energy(month_key, r, 0, monthly_green, [g.name for g in model.generators])
    model.year_load_kwh += r.tenant_load_kwh[0]
    certify_month(model, r, active, month_key, green_kwh)


def _net_metered_export_kwh(model, r: BlockResult) -> np.ndarray:
    """kWh exported by each tenant's net-metered self-generation plants this month."""
    out = np.zeros(len(model.tenants))
    for g, plant in enumerate(model.generators):
        if plant.spec.uses_net_metering():
            out[model.plan.gen_host[g]] += r.gen_export_kwh[0, g]
    return out


def _settle_contracts(model, r: BlockResult, active: np.ndarray, month_key: int, vat_rate: float,
                      vat_due: dict[str, int]) -> None:
    """Direct-PPA lines for the month (docs/domain.md#procurement-routes; the Namdong direct-PPA proposal: the broker bills,
    passes network fees through). Energy, compensation, network and broker fees each carry VAT as a line of
    their own (``<item>_vat``, :func:`vat_line`); the broker passes the energy and network VAT through with
    the charge, so the plant and KEPCO collect it, and the broker collects the VAT on its own fee."""
    led, broker, fees = model.ledger, model.broker.name, model.scenario.broker

    def taxed(payer, payee, item, qty, krw, pass_to=None):
        v = vat_line(krw, vat_rate)
        for a, b in ((payer, payee), (payee, pass_to)) if pass_to else ((payer, payee),):
            led.add(month_key, a, b, item, qty, "kWh", krw)
            if v:
                led.add(month_key, a, b, f"{item}_vat", krw, "KRW", v)
        seller = pass_to or payee
        vat_due[seller] = vat_due.get(seller, 0) + v

    for j, c in enumerate(active):
        spec = model.plan.contracts[c]
        tenant = model.tenants[model.plan.c_tenant[c]].name
        plant = model.generators[model.plan.c_gen[c]]
        e, ap = float(r.contract_contracted_kwh[0, j]), float(r.contract_applied_kwh[0, j])
        e_krw, ap_krw = float(r.contract_contracted_krw[0, j]), float(r.contract_applied_krw[0, j])
        # energy stored in the off-taker's battery is taken like applied energy (paid for at the
        # surplus's average price, ppa_energy_krw); only the rest is surplus
        taken = ap + float(r.contract_stored_kwh[0, j])
        billed = ppa_billed_kwh(e, taken, spec.settlement, spec.min_take_pct)
        energy_krw = round_won(ppa_energy_krw(e, ap, e_krw, ap_krw, billed))
        taxed(tenant, broker, "ppa_energy", billed, energy_krw, pass_to=plant.name)
        curtailed = float(r.contract_surplus_curtailed_kwh[0, j])
        comp = round_won(curtailment_compensation_krw(curtailed, e, e_krw, spec.curtailment_compensation_pct,
                                                      spec.settlement))
        if comp:
            taxed(tenant, broker, "curtailment_compensation", curtailed, comp, pass_to=plant.name)
        cap_kw = contract_capacity_kw(spec.volume, plant.spec.capacity_kw,
                                      float(model.plan.profiles_kw[model.plan.c_profile[c]].max()) if spec.volume.kind == "shaped" else 0.0)
        net = round_won(network_fee_krw(ap, spec.network_fee_krw_per_kwh, cap_kw, spec.network_fee_krw_per_kw_month))
        taxed(tenant, broker, "network_fee", ap, net, pass_to=model.utility.name)
        if fees.ppa_fund_pct > 0:  # no VAT on the fund (as on KEPCO bills, docs/domain.md#bill-structure)
            fund = truncate_ten_won(energy_krw * fees.ppa_fund_pct / 100.0)
            led.add(month_key, tenant, broker, "ppa_power_industry_fund", energy_krw, "KRW", fund)
            led.add(month_key, broker, model.utility.name, "ppa_power_industry_fund", energy_krw, "KRW", fund)
        taxed(tenant, broker, "broker_fee", billed, round_won(billed * fees.fee_krw_per_kwh + fees.fee_krw_per_contract_month))
        surplus_kwh, surplus_krw = float(r.contract_surplus_export_kwh[0, j]), round_won(float(r.contract_surplus_smp_krw[0, j]))
        if surplus_kwh > 0:
            f = surplus_paid_fraction(e, taken, billed, spec.surplus_revenue_to)
            to_tenant = round_won(surplus_krw * f)
            for to, kwh, krw in ((tenant, surplus_kwh * f, to_tenant), (plant.name, surplus_kwh * (1 - f), surplus_krw - to_tenant)):
                if kwh > 0:
                    led.add(month_key, MARKET, to, "ppa_surplus_smp", kwh, "kWh", krw)
            led.add(month_key, model.utility.name, MARKET, "market_purchase_smp", surplus_kwh, "kWh", surplus_krw)


def vat_line(krw: int, vat_rate: float) -> int:
    """VAT on one invoice line: ``krw`` x rate, rounded to the won, as on KEPCO bills (docs/domain.md#bill-structure:
    10 % of the charge). Electricity supply, network use and brokerage are taxable supplies, settled with the
    energy in one bill through the supplier (docs/domain.md#direct-ppa, "Settlement simplification")."""
    return round_won(krw * vat_rate)


def remit_vat(led, month_key: int, vat_due: dict[str, int]) -> None:
    """Each seller pays the VAT it collected in the month to the tax authority (:data:`NTS`), so VAT leaves the
    buyer and reaches the state through the seller, never stays as the seller's revenue."""
    for party, krw in sorted(vat_due.items()):
        if krw:
            led.add(month_key, party, NTS, VAT_REMITTANCE, krw, "KRW", krw)


def _pay_plants(model, r: BlockResult, month_key: int, net_metered: np.ndarray, smp_avg: float) -> None:
    """Plants' own (uncontracted) output: pool plants sell to KEPCO at the market's monthly weighted-average
    SMP (the KIEE 2020 green-tariff paper step 1, docs/domain.md#green-tariff), the figure the green-tariff
    standard price and the tenants' decisions use; net-metered self-generation is credited in kWh, not paid;
    the rest is sold to the market at SMP and KEPCO buys it from the market."""
    led, kepco = model.ledger, model.utility.name
    for g, plant in enumerate(model.generators):
        if plant.spec.uses_net_metering():
            continue
        if plant.spec.green_pool:
            kwh = float(r.gen_kwh[0, g] - r.gen_curtailed_kwh[0, g])
            led.add(month_key, kepco, plant.name, "green_pool_purchase", kwh, "kWh", round_won(kwh * smp_avg))
            continue
        kwh, krw = float(r.gen_export_kwh[0, g]), round_won(float(r.gen_export_smp_krw[0, g]))
        led.add(month_key, MARKET, plant.name, "energy_export_smp", kwh, "kWh", krw)
        led.add(month_key, kepco, MARKET, "market_purchase_smp", kwh, "kWh", krw)


def _plant_costs(model, month_key: int) -> None:
    """Every plant's owner pays its capital cost and O&M each month (the plant's account: a tenant-owned
    plant's account is consolidated into its owner's cost, re100sim.simulator.outputs.results), so own
    generation is not free and plants' net revenue can be read off their accounts."""
    led = model.ledger
    for plant in model.generators:
        s = plant.spec
        if plant.in_service_month_key is None:
            plant.in_service_month_key = month_key
        age = month_key - plant.in_service_month_key
        item, krw = capital_cost_krw(s.capex_krw_per_kw * s.capacity_kw, s.hurdle_rate_pct, s.lifetime_years,
                                     s.capital_cost, age)
        if krw:
            led.add(month_key, plant.name, CAPITAL, item, s.capacity_kw, "kW", krw)
        om = round_won(s.opex_krw_per_kw_year * s.capacity_kw / 12.0)
        if om:
            led.add(month_key, plant.name, OM_CONTRACTOR, OM_ITEM, s.capacity_kw, "kW", om)


def capital_cost_krw(capex_krw: float, rate_pct: float, lifetime_years: int, booking: str,
                     age_months: int) -> tuple[str, int]:
    """(item, KRW) of a plant's capital cost in the month ``age_months`` after it entered service.

    ``annuity``: capex x capital recovery factor (re100sim.simulator.rules.finance.crf) / 12 in each of the
    first ``lifetime_years`` x 12 months, 0 after; ``upfront``: all capex in the first month.
    """
    if booking == "upfront":
        return CAPITAL_EXPENDITURE, round_won(capex_krw) if age_months == 0 else 0
    if age_months >= lifetime_years * 12:
        return CAPITAL_ANNUITY, 0
    return CAPITAL_ANNUITY, _monthly_annuity_krw(capex_krw, rate_pct, lifetime_years)


@lru_cache(maxsize=4096)
def _monthly_annuity_krw(capex_krw: float, rate_pct: float, lifetime_years: int) -> int:
    """capex x crf / 12, rounded to the won: the same every month of a plant's life (cached, as
    every plant books it every month)."""
    return round_won(capex_krw * float(crf(rate_pct, lifetime_years)) / 12.0)
