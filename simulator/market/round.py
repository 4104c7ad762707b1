"""The yearly market round (issue 4): agents decide at the start of each simulated year.

Order: procurement whose term ended is released; awareness spreads (Bass); plants
offer their uncontracted expected output at their reservation price (ask); every tenant not
locked into a long contract or its own plant evaluates its options for the year with the
kernel and chooses (logit); a tenant that chose a PPA bids its reservation price (the highest
price at which the PPA still beats its next-best option); the broker clears bids against
asks, and each match is signed only if, re-evaluated at the clearing price, the PPA is still the
tenant's best option (the signing log, ``model.signings``); the choices take effect for the
year (PPAs for their term, rooftop plants for good, green tariff, premium and RECs for one year).

Every decision reads only the :class:`~re100sim.simulator.market.forecast.Forecast` built at
the year start (docs/decisions.md#information-set); all prices are KRW/kWh excluding VAT.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from re100sim.agents.broker import Order
from re100sim.agents.tenant import Tenant
from re100sim.simulator.market.demand import apply_measure, evaluate_measures
from re100sim.simulator.market.forecast import Forecast
from re100sim.simulator.market.options import (
    GREEN,
    GRID,
    OPTIONS,
    PPA,
    PREMIUM,
    REC,
    SELF,
    Evaluation,
    evaluate,
)
from re100sim.simulator.market.procurement import month_key_of, supplies, supply_months
from re100sim.simulator.rng import StreamFamily
from re100sim.simulator.scenario.config import (
    FixedPrice,
    GeneratorSpec,
    GreenPremium,
    PpaContract,
    RecPurchase,
    ShareVolume,
)
from re100sim.simulator.scenario.demand import MEASURES

#: Everything a tenant can choose in the round: procurement options, then demand-side measures.
CHOICES = OPTIONS + MEASURES


def decision_round(model, fc: Forecast) -> None:
    sc, dec = model.scenario, model.scenario.decisions
    k = fc.index
    mk = month_key_of(fc.as_of)
    _release_yearly(model)
    locked = _locked_tenants(model, mk)
    adopters = sum(t.option != "grid" for t in model.tenants) / len(model.tenants)
    unaware = [t for t, tenant in enumerate(model.tenants) if not tenant.aware]  # the others draw nothing
    for t, rng in zip(unaware, StreamFamily(sc.seed, "awareness", (k,)).batch(unaware)):
        model.tenants[t].learn(adopters, dec.bass_p, dec.bass_q, rng,
                               100.0 * max(0.0, float(fc.tariff_change[model.tenant_tariff[t]])), dec.attention_per_pct)
    deciding = np.array([t for t in range(len(model.tenants)) if t not in locked], dtype=np.int64)
    if len(deciding) == 0:
        return
    offers, offer_mwh = _offers(model, fc, mk)
    min_ask = min((o.price_krw_per_kwh for o in offers), default=np.nan)
    if model.demand.any_load_measure:  # adopted measures are part of what a tenant expects of its load
        fc = fc.with_load(model.demand.load_kw(fc.load_kw, fc.tariff_tou, model.tenant_tariff, fc.calendar.day))
    ev = evaluate(model, fc, deciding, _pool_free_mwh(model, fc))
    if any(m in dec.options for m in MEASURES):  # measures join the choice set (docs/decisions.md#demand-side-measures)
        mev = evaluate_measures(model, fc, deciding)
        ev = dataclasses.replace(ev, cost_krw=np.hstack([ev.cost_krw, mev.cost_krw]),
                                 re_mwh=np.hstack([ev.re_mwh, np.zeros_like(mev.cost_krw)]),
                                 spread_krw=np.hstack([ev.spread_krw, mev.spread_krw]))
    else:
        mev = None
    bids, choice, fallback, u_zero = [], {}, {}, {}
    decision_rngs = StreamFamily(sc.seed, "decision", (k,)).batch(deciding)
    for row, t in enumerate(deciding):
        tenant = model.tenants[t]
        b = tenant.spec.behaviour
        # RE is valued as progress towards the tenant's target (none: no RE value); the PPA at price 0.
        u0 = tenant.utilities(ev.cost_krw[row], ev.re_mwh[row], ev.spread_krw[row], ev.target_mwh[row],
                              b.value_re_krw_per_mwh, b.risk_aversion, dec.switching_cost_pct / 100 * ev.baseline_krw[row],
                              OPTIONS.index(tenant.option))
        bid = Tenant.reservation_price(u0, PPA, float(ev.ppa_paid_kwh[row]))
        expected = expected_ppa_price(bid, min_ask, sc.broker.matching)
        u = u0.copy()
        u[PPA] = u0[PPA] - ev.ppa_paid_kwh[row] * expected if np.isfinite(expected) else -np.inf
        scale = dec.logit_scale_pct / 100 * ev.baseline_krw[row]
        rng = decision_rngs[row]  # this tenant's stream(seed, "decision", t, k)
        choice[t] = tenant.choose(u, scale, rng)
        u_zero[t] = (row, u0)
        if choice[t] == PPA:
            bids.append(Order(int(t), float(ev.volume_mwh[row]), bid))
            fallback[t] = tenant.choose(np.where(np.arange(len(u)) == PPA, -np.inf, u), scale, rng)
    signed = _sign_ppas(model, fc, bids, offers, offer_mwh, ev, u_zero)
    for row, t in enumerate(deciding):
        c = choice[t] if choice[t] != PPA or t in signed else fallback[t]  # no seller at its price this year
        if c >= len(OPTIONS):
            apply_measure(model, fc, t, MEASURES[c - len(OPTIONS)], mev, row)
        else:
            _apply(model, fc, t, c, ev, row)
    model.replan()


def expected_ppa_price(bid_krw_per_kwh: float, min_ask_krw_per_kwh: float, matching: str) -> float:
    """The price a tenant expects to pay when it weighs the PPA against its other options: with
    ``uniform_price`` the midpoint of its bid and the lowest ask (the price if it were the
    marginal pair), with ``pay_as_bid`` the lowest ask; NaN when no ask is at or below its bid."""
    if not (np.isfinite(bid_krw_per_kwh) and np.isfinite(min_ask_krw_per_kwh)) or bid_krw_per_kwh < min_ask_krw_per_kwh:
        return float("nan")
    return (bid_krw_per_kwh + min_ask_krw_per_kwh) / 2 if matching == "uniform_price" else min_ask_krw_per_kwh


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


def _offers(model, fc: Forecast, month_key: int) -> tuple[list[Order], dict[int, float]]:
    """Each plant's uncontracted share of its expected output at its ask (KRW/kWh ex VAT, on the
    PPA template's term and escalation)."""
    dec = model.scenario.decisions
    taken = np.zeros(len(model.generators))
    index = {g.name: i for i, g in enumerate(model.generators)}
    for c in model.contracts:  # shares signed for any month from now on (a contract may start later this year)
        if supply_months(c)[1] > month_key and c.volume.kind == "share":
            taken[index[c.generator]] += c.volume.share
    offers, expected = [], {}
    for g, plant in enumerate(model.generators):
        out = fc.plant_kw[:, g]
        mwh = float(out.sum()) / 1000.0
        capture = float((out * fc.smp_krw_per_kwh).sum() / max(out.sum(), 1e-9))
        q, price = plant.offer(mwh, max(0.0, 1.0 - taken[g]), capture, fc.rec_mean_krw_per_rec,
                               dec.ppa.escalation_pct_per_year, dec.ppa.term_years)
        if q > 1e-6:
            offers.append(Order(g, q, price))
            expected[g] = mwh
    return offers, expected


def _pool_free_mwh(model, fc: Forecast) -> float:
    pool = np.array([g.spec.green_pool for g in model.generators], bool)
    if not pool.any():
        return 0.0
    return float(fc.plant_kw[:, pool].sum()) / 1000.0 - sum(model.subscriptions.values())


def _sign_ppas(model, fc: Forecast, bids: list[Order], offers: list[Order], expected_mwh: dict[int, float],
               ev: Evaluation, u_zero: dict) -> set[int]:
    """The broker clears the book; each tenant's matches are re-evaluated at their prices and
    signed only if the PPA is still its best option there. A tenant matched for part of its volume
    gets that part of the PPA's gain over the grid (the rest stays on the grid). Signed matches become
    share contracts on the template's terms and rows of ``model.signings``."""
    dec = model.scenario.decisions
    asks = {o.who: o.price_krw_per_kwh for o in offers}
    bid_of = {o.who: (o.price_krw_per_kwh, o.mwh) for o in bids}
    by_tenant: dict[int, list] = {}
    for m in model.broker.clear(bids, offers):
        by_tenant.setdefault(m.bid, []).append(m)
    signed = set()
    for t, matches in by_tenant.items():
        row, u0 = u_zero[t]
        others = np.where(np.arange(len(u0)) == PPA, -np.inf, u0)
        alt = int(np.argmax(others))
        prices = [round(m.price_krw_per_kwh, 2) for m in matches]
        u_ppa = u0[GRID] + sum(m.mwh / bid_of[t][1] * (u0[PPA] - ev.ppa_paid_kwh[row] * p - u0[GRID])
                               for m, p in zip(matches, prices))
        if not u_ppa >= others[alt]:
            continue  # not the tenant's best option at these prices: no signature
        tenant = model.tenants[t]
        for m, price in zip(matches, prices):
            plant = model.generators[m.offer]
            name = f"ppa-{fc.as_of.year}-{tenant.name}-{plant.name}"
            share = min(1.0, m.mwh / expected_mwh[m.offer])
            model.contracts.append(PpaContract(
                name=name, generator=plant.name, tenant=tenant.name,
                volume=ShareVolume(kind="share", share=share),
                price=FixedPrice(kind="fixed", price_krw_per_kwh=price, escalation_pct_per_year=dec.ppa.escalation_pct_per_year),
                settlement=dec.ppa.settlement, network_fee_krw_per_kwh=dec.ppa.network_fee_krw_per_kwh,
                start_date=fc.as_of, term_years=dec.ppa.term_years,
            ))
            model.signings.append({
                "year": fc.as_of.year, "start_date": fc.as_of.isoformat(), "contract": name, "tenant": tenant.name,
                "plant": plant.name, "seller_owner": plant.spec.owner, "price_krw_per_kwh": price, "mwh_per_year": m.mwh, "share": share,
                "term_years": dec.ppa.term_years, "escalation_pct_per_year": dec.ppa.escalation_pct_per_year,
                "settlement": dec.ppa.settlement, "bid_krw_per_kwh": bid_of[t][0], "ask_krw_per_kwh": asks[m.offer],
                "utility_ppa_krw": float(u_ppa), "utility_best_alternative_krw": float(others[alt]),
                "best_alternative": CHOICES[alt],
            })
        signed.add(t)
    return signed


SIGNING_COLUMNS = ("year", "start_date", "contract", "tenant", "plant", "seller_owner", "price_krw_per_kwh", "mwh_per_year", "share",
                   "term_years", "escalation_pct_per_year", "settlement", "bid_krw_per_kwh", "ask_krw_per_kwh",
                   "utility_ppa_krw", "utility_best_alternative_krw", "best_alternative")


def signings_frame(signings: list[dict]) -> pd.DataFrame:
    """The signing log as a table (``signings.parquet``): one row per signed PPA, prices KRW/kWh ex VAT."""
    return pd.DataFrame(signings, columns=list(SIGNING_COLUMNS))


def signed_price_summary(signings: list[dict]) -> dict:
    """Signed first-year PPA prices, KRW/kWh ex VAT: count, min, median, max and the MWh-weighted mean."""
    if not signings:
        return {"count": 0}
    p = np.array([s["price_krw_per_kwh"] for s in signings])
    w = np.array([s["mwh_per_year"] for s in signings])
    return {"count": len(p), "min": float(p.min()), "median": float(np.median(p)), "max": float(p.max()),
            "mwh_weighted_mean": round(float((p * w).sum() / w.sum()), 2), "prices": p.tolist()}


def _apply(model, fc: Forecast, t: int, c: int, ev: Evaluation, row: int) -> None:
    tenant = model.tenants[t]
    vol = float(ev.volume_mwh[row])
    tenant.option = OPTIONS[c]
    if c == PREMIUM:
        model.premiums.append(GreenPremium(tenant=tenant.name, volume_mwh_per_year=vol,
                                           premium_krw_per_kwh=model.scenario.decisions.green_premium_krw_per_kwh))
    elif c == REC:
        use = float(fc.load_kw[:, t].sum()) / 1000.0
        model.rec_targets.append(RecPurchase(tenant=tenant.name, target_pct=min(100.0, 100.0 * vol / max(use, 1e-9))))
    elif c == GREEN:
        model.subscriptions[tenant.name] = model.subscriptions.get(tenant.name, 0.0) + vol
    elif c == SELF:
        # Booked on the terms the tenant evaluated (options.evaluate): its own hurdle rate, the option's
        # capex, O&M share and lifetime, so realised capital cost equals the decided one.
        sg = model.scenario.decisions.self_generation
        model.add_generator(GeneratorSpec(name=f"{tenant.name}-rooftop", capacity_kw=float(ev.rooftop_kw[row]),
                                          owner="tenant", host_tenant=tenant.name, offers_ppa=False, mount="rooftop",
                                          capex_krw_per_kw=sg.capex_krw_per_kw,
                                          opex_krw_per_kw_year=sg.capex_krw_per_kw * sg.opex_pct_per_year / 100.0,
                                          lifetime_years=sg.lifetime_years,
                                          hurdle_rate_pct=tenant.spec.behaviour.hurdle_rate_pct))
