"""The yearly market round (issue 4): agents decide at the start of each simulated year.

Order: procurement whose term ended is released; awareness spreads (Bass); plants
offer their uncontracted output; every tenant not locked into a long contract or its
own plant evaluates its options for the year with the kernel and chooses (logit); the
broker clears PPA bids against offers; the choices take effect for the year (PPAs for
their term, rooftop plants for good, green tariff, premium and RECs for one year).
Adoption is therefore an outcome of the agents' own decisions.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from re100sim.agents.broker import Order
from re100sim.simulator.market.options import (
    GREEN,
    OPTIONS,
    PPA,
    PREMIUM,
    REC,
    SELF,
    evaluate,
)
from re100sim.simulator.market.procurement import month_key_of, supplies, supply_months
from re100sim.simulator.rng import stream
from re100sim.simulator.scenario.config import (
    FixedPrice,
    GeneratorSpec,
    GreenPremium,
    PpaContract,
    RecPurchase,
    ShareVolume,
    SolarParams,
)
from re100sim.simulator.scenario.year_inputs import (
    YearInputs,
    plant_block_output_kw,
    solar_kw_per_kw,
)


def decision_round(model, year: YearInputs) -> None:
    sc, dec = model.scenario, model.scenario.decisions
    k = year.index
    start: dt.date = model.blocks[k][0]
    mk = month_key_of(start)
    _release_yearly(model)
    locked = _locked_tenants(model, mk)
    growth = expected_tariff_growth(model, year)
    adopters = sum(t.option != "grid" for t in model.tenants) / len(model.tenants)
    for t, tenant in enumerate(model.tenants):
        tenant.learn(adopters, dec.bass_p, dec.bass_q, stream(sc.seed, "awareness", t, k),
                     100.0 * growth[model.tenant_tariff[t]], dec.attention_per_pct)
    deciding = np.array([t for t in range(len(model.tenants)) if t not in locked], dtype=np.int64)
    if len(deciding) == 0:
        return
    offers, offer_plants = _offers(model, year, mk)
    ppa_price = model.broker.last_price_krw_per_kwh or min((o.price_krw_per_kwh for o in offers), default=np.nan)
    pv = solar_kw_per_kw(sc.seed, k, sc.site.latitude_deg, sc.site.longitude_deg, SolarParams(), year.calendar)
    ev = evaluate(model, year, deciding, pv, ppa_price, _pool_free_mwh(model, year), growth)
    bids, choice = [], {}
    for row, t in enumerate(deciding):
        tenant = model.tenants[t]
        b = tenant.spec.behaviour
        # RE is valued as progress towards the tenant's target (none: no RE value).
        u = tenant.utilities(ev.cost_krw[row], ev.re_mwh[row], ev.spread_krw[row], ev.target_mwh[row], b.value_re_krw_per_mwh,
                             b.risk_aversion, dec.switching_cost_pct / 100 * ev.baseline_krw[row],
                             OPTIONS.index(tenant.option))
        c = tenant.choose(u, dec.logit_scale_pct / 100 * ev.baseline_krw[row], stream(sc.seed, "decision", t, k))
        choice[t] = c
        if c == PPA:
            bids.append(Order(int(t), float(ev.volume_mwh[row]), float(ev.avoided_krw_per_kwh[row])))
    matched = _sign_ppas(model, year, start, bids, offers, offer_plants)
    for row, t in enumerate(deciding):
        _apply(model, year, t, choice[t], ev, row, matched, start)
    model.replan()


def expected_tariff_growth(model, year: YearInputs) -> np.ndarray:
    """Per tariff option: the growth tenants expect (adaptive: the last observed year-on-year
    change of the option's average energy price, floored at 0 and capped; static: 0)."""
    dec = model.scenario.decisions
    prices = np.array([r.energy_krw_per_kwh.mean() for r in year.rates])
    last = model.tariff_price_history[-1] if model.tariff_price_history else prices
    model.tariff_price_history.append(prices)
    if dec.tariff_expectation == "static":
        return np.zeros_like(prices)
    return np.clip(prices / last - 1.0, 0.0, dec.expected_growth_cap_pct / 100.0)


def _release_yearly(model) -> None:
    """One-year arrangements end at each year start (green tariff: 1-year terms, the KIEE 2020 green-tariff paper)."""
    sc = model.scenario
    model.subscriptions = {s.tenant: s.subscribed_mwh_per_year for s in (sc.green_tariff.subscribers if sc.green_tariff else [])}
    model.premiums = list(sc.green_premium)
    model.rec_targets = list(sc.rec_purchases)


def _locked_tenants(model, month_key: int) -> set[int]:
    """Tenants in a live PPA or with their own plant: they do not re-decide this year."""
    names = {t.name: i for i, t in enumerate(model.tenants)}
    locked = {names[c.tenant] for c in model.contracts if supplies(c, month_key)}
    locked |= {names[g.spec.host_tenant] for g in model.generators if g.spec.host_tenant}
    for i, tenant in enumerate(model.tenants):
        if i not in locked and tenant.option in ("direct_ppa", "self_generation"):
            tenant.option = "grid"  # its contract ended
    return locked


def _offers(model, year: YearInputs, month_key: int) -> tuple[list[Order], dict[int, float]]:
    """Each plant's uncontracted share of this year's expected output at its minimum price."""
    rec_price = float(np.mean(year.rec_price_krw_per_rec))
    taken = np.zeros(len(model.generators))
    index = {g.name: i for i, g in enumerate(model.generators)}
    for c in model.contracts:  # shares signed for any month from now on (a contract may start later this year)
        if supply_months(c)[1] > month_key and c.volume.kind == "share":
            taken[index[c.generator]] += c.volume.share
    offers, expected = [], {}
    for g, plant in enumerate(model.generators):
        out = year.gen_kw[:, g]
        mwh = float(out.sum()) / 1000.0
        capture = float((out * year.smp_krw_per_kwh).sum() / max(out.sum(), 1e-9))
        q, price = plant.offer(mwh, max(0.0, 1.0 - taken[g]), capture, rec_price)
        if q > 1e-6:
            offers.append(Order(g, q, price))
            expected[g] = mwh
    return offers, expected


def _pool_free_mwh(model, year: YearInputs) -> float:
    pool = np.array([g.spec.green_pool for g in model.generators], bool)
    if not pool.any():
        return 0.0
    return float(year.gen_kw[:, pool].sum()) / 1000.0 - sum(model.subscriptions.values())


def _sign_ppas(model, year, start: dt.date, bids, offers, expected_mwh) -> set[int]:
    """The broker clears the book; each match becomes a share contract on the template's terms."""
    dec = model.scenario.decisions
    matched = set()
    for m in model.broker.clear(bids, offers):
        plant = model.generators[m.offer]
        tenant = model.tenants[m.bid]
        share = min(1.0, m.mwh / expected_mwh[m.offer])
        model.contracts.append(PpaContract(
            name=f"ppa-{start.year}-{tenant.name}-{plant.name}", generator=plant.name, tenant=tenant.name,
            volume=ShareVolume(kind="share", share=share),
            price=FixedPrice(kind="fixed", price_krw_per_kwh=round(m.price_krw_per_kwh, 2),
                             escalation_pct_per_year=dec.ppa.escalation_pct_per_year),
            settlement=dec.ppa.settlement, network_fee_krw_per_kwh=dec.ppa.network_fee_krw_per_kwh,
            start_date=start, term_years=dec.ppa.term_years,
        ))
        matched.add(m.bid)
    return matched


def _apply(model, year: YearInputs, t: int, c: int, ev, row: int, matched: set[int], start: dt.date) -> None:
    tenant = model.tenants[t]
    vol = float(ev.volume_mwh[row])
    if c == PPA and t not in matched:
        c = OPTIONS.index("grid")  # no seller at its price this year
    tenant.option = OPTIONS[c]
    if c == PREMIUM:
        model.premiums.append(GreenPremium(tenant=tenant.name, volume_mwh_per_year=vol,
                                           premium_krw_per_kwh=model.scenario.decisions.green_premium_krw_per_kwh))
    elif c == REC:
        use = float(year.load_kw[:, t].sum()) / 1000.0
        model.rec_targets.append(RecPurchase(tenant=tenant.name, target_pct=min(100.0, 100.0 * vol / max(use, 1e-9))))
    elif c == GREEN:
        model.subscriptions[tenant.name] = model.subscriptions.get(tenant.name, 0.0) + vol
    elif c == SELF:
        spec = GeneratorSpec(name=f"{tenant.name}-rooftop", capacity_kw=float(ev.rooftop_kw[row]), owner="tenant",
                             host_tenant=tenant.name, offers_ppa=False,
                             capex_krw_per_kw=model.scenario.decisions.self_generation.capex_krw_per_kw)
        model.add_generator(spec)
        g = len(model.generators) - 1
        column = plant_block_output_kw(model.scenario, spec, g, year.index, year.calendar)
        year.gen_kw = np.column_stack([year.gen_kw, column])
