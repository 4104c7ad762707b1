"""Month-end settlement: the kernel matches the month's hours, then the month is priced.

Money goes to the ledger as invoice lines (payer, payee, item, quantity, unit, KRW);
energy goes to the energy ledger; certificates to the certificate ledger.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from re100sim.simulator.rules.billing import (
    LINE_UNITS,
    MonthUsageArrays,
    bill_quantities,
    monthly_bill_arrays,
    round_won,
    truncate_won_array,
)
from re100sim.simulator.rules.certification import certify_month
from re100sim.simulator.rules.kernel import settle_block
from re100sim.simulator.rules.settlement import (
    contract_capacity_kw,
    curtailment_compensation_krw,
    net_metering,
    network_fee_krw,
    pool_allocation_kwh,
    ppa_billed_kwh,
    ppa_energy_krw,
    standard_price_krw_per_kwh,
    weighted_price,
)
from re100sim.simulator.rules.settlement_reference import BlockResult
from re100sim.simulator.scenario.year_inputs import YearInputs

MARKET = "market"  # KPX power pool: the explicit counterparty of exports
HOURS_PER_YEAR = 8760.0  # a yearly subscription spread over a month pro rata to its hours
KEA = "korea_energy_agency"  # receives green-premium proceeds (docs/domain.md#procurement-routes)


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
        inputs = dataclasses.replace(inputs, **model.batteries.kernel_arrays(month_key, model.contract_kw))
    r = settle_block(inputs)
    model.batteries.advance(month_key, r)
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
    smp_avg = float(year.smp_krw_per_kwh[hours].mean())
    # -- green tariff: the pool's kWh allocated to subscribers (the KIEE 2020 green-tariff paper, docs/domain.md#procurement-routes) --
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
    monthly_green = np.zeros_like(grid_kwh) if model.plan.pool_hourly else green_kwh
    credit, model.net_metering_bank_kwh = net_metering(model.net_metering_bank_kwh, net_metered, grid_kwh - monthly_green)
    keep = np.where(grid_kwh > 0, (grid_kwh - monthly_green - credit) / np.where(grid_kwh > 0, grid_kwh, 1.0), 1.0)
    # PPA users keep paying the basic charge on their full demand (docs/domain.md#direct-ppa,
    # "Double-charging complaint"); others on what the KEPCO meter sees.
    is_ppa = np.isin(np.arange(len(model.tenants)), list(model.ppa_tenants))
    peak = np.where(is_ppa, r.tenant_load_peak_kw[0], r.tenant_grid_peak_kw[0])
    k = model.tenant_tariff
    actual = month_usage(year, hours, month_key, k, r.tenant_grid_kwh_by_tou[0], r.tenant_grid_energy_krw_by_tou[0], peak)
    baseline = month_usage(year, hours, month_key, k, r.tenant_load_kwh_by_tou[0], r.tenant_load_energy_krw_by_tou[0],
                           r.tenant_load_peak_kw[0])
    green_krw = truncate_won_array(green_kwh * green_price)
    names = np.array([t.name for t in model.tenants], dtype=object)
    actual = actual.scaled(keep)
    billing_kw = model.demand_actual.billing_kw(month_key, peak, model.contract_kw)
    model.batteries.book_demand(month_key, np.where(is_ppa, r.tenant_load_peak_kw[0], r.tenant_prebattery_peak_kw[0]),
                                billing_kw, model.contract_kw, actual.basic_krw_per_kw_month)
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
    led.add_baseline_many(month_key, names, sum(base_bill.values()))
    _settle_contracts(model, r, active, month_key)
    _pay_plants(model, r, month_key, net_metered)
    for gp in model.premiums:  # docs/domain.md#procurement-routes: proceeds go to the Korea Energy Agency
        kwh = gp.volume_mwh_per_year * 1000.0 / 12.0
        led.add(month_key, gp.tenant, KEA, "green_premium", kwh, "kWh", round_won(kwh * gp.premium_krw_per_kwh))
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


def _settle_contracts(model, r: BlockResult, active: np.ndarray, month_key: int) -> None:
    """Direct-PPA lines for the month (docs/domain.md#procurement-routes; the Namdong direct-PPA proposal: the broker bills, passes network fees through)."""
    led, broker, fees = model.ledger, model.broker.name, model.scenario.broker
    for j, c in enumerate(active):
        spec = model.plan.contracts[c]
        tenant = model.tenants[model.plan.c_tenant[c]].name
        plant = model.generators[model.plan.c_gen[c]]
        e, ap = float(r.contract_contracted_kwh[0, j]), float(r.contract_applied_kwh[0, j])
        e_krw, ap_krw = float(r.contract_contracted_krw[0, j]), float(r.contract_applied_krw[0, j])
        # energy stored in the off-taker's battery is taken like applied energy (paid for at the
        # surplus's average price, ppa_energy_krw)
        billed = ppa_billed_kwh(e, ap + float(r.contract_stored_kwh[0, j]), spec.settlement, spec.min_take_pct)
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


def _pay_plants(model, r: BlockResult, month_key: int, net_metered: np.ndarray) -> None:
    """Plants' own (uncontracted) output: pool plants sell to KEPCO at their monthly weighted
    SMP (the KIEE 2020 green-tariff paper step 1); net-metered self-generation is credited in kWh, not paid; the
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
