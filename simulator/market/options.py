"""Evaluate each tenant's procurement options for the coming year with the settlement kernel.

A tenant deciding at a year start simulates every option over its own forecast of
that year (a :class:`~re100sim.simulator.market.forecast.Forecast`: its expected load, the
site's expected PV, the announced tariff, trailing SMP and REC price levels): one batched
kernel run per physical option (direct PPA, rooftop PV), with every deciding tenant as a
column, and priced with the same bill engine as the settlement. The result per tenant and
option is a levelised annual cost (KRW excluding VAT: factories reclaim input VAT), the RE
MWh it can claim, and the cost's spread under price uncertainty (docs/decisions.md). The
direct-PPA cost is linear in the PPA price: ``cost_krw[:, PPA] + ppa_paid_kwh x price``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from re100sim.simulator.market.forecast import Forecast
from re100sim.simulator.market.monthly import month_usage
from re100sim.simulator.rng import stream
from re100sim.simulator.rules.billing import BillingDemand, monthly_bill_arrays
from re100sim.simulator.rules.finance import crf, levelisation_factor
from re100sim.simulator.rules.kernel import settle_columns
from re100sim.simulator.rules.settlement import net_metering
from re100sim.simulator.rules.settlement_reference import BlockInputs, BlockResult
from re100sim.simulator.scenario.config import NET_METERING_LIMIT_KW

OPTIONS = ("grid", "green_premium", "green_tariff", "direct_ppa", "rec", "self_generation")
GRID, PREMIUM, GREEN, PPA, REC, SELF = range(len(OPTIONS))


@dataclass
class Evaluation:
    """Per deciding tenant (rows) and option (columns, in ``OPTIONS`` order)."""

    cost_krw: np.ndarray  # (D, 6) levelised annual cost ex VAT; nan where unavailable; PPA: at price 0
    re_mwh: np.ndarray  # (D, 6) RE MWh the option lets the tenant claim
    spread_krw: np.ndarray  # (D, 6) s.d. of the annual cost under price uncertainty
    baseline_krw: np.ndarray  # (D,) the grid-only cost
    volume_mwh: np.ndarray  # (D,) what the tenant seeks to procure
    target_mwh: np.ndarray  # (D,) its RE target this year (0: none)
    rooftop_kw: np.ndarray  # (D,) rooftop PV it would install
    ppa_paid_kwh: np.ndarray  # (D,) levelised kWh a PPA bills per year: cost per KRW/kWh of first-year price

    def cost_at(self, ppa_price_krw_per_kwh) -> np.ndarray:
        """(D, 6) costs with the direct PPA at a first-year price (KRW/kWh ex VAT, scalar or (D,))."""
        cost = self.cost_krw.copy()
        cost[:, PPA] += self.ppa_paid_kwh * np.asarray(ppa_price_krw_per_kwh, float)
        return cost


def annual_bills(model, fc: Forecast, tenants: np.ndarray, r: BlockResult, which: str, peak_from: str,
                 keep: np.ndarray | None = None) -> np.ndarray:
    """Annual KEPCO bill (KRW, incl. the fund, excluding VAT, which the tenant reclaims) of
    ``tenants`` from a kernel result over the year.

    ``which`` picks the grid (``grid``) or the load (``load``, the grid-only case) aggregates;
    ``keep`` scales the billed kWh (green allocation, net metering credit).
    """
    demand = BillingDemand(len(tenants))
    total = np.zeros(len(tenants))
    k = model.tenant_tariff[tenants]
    for m, (month_key, h0, h1) in enumerate(fc.calendar.month_bounds()):
        hours = slice(h0, h1)
        peak = getattr(r, f"tenant_{peak_from}_peak_kw")[m]
        usage = month_usage(fc, hours, month_key, k, getattr(r, f"tenant_{which}_kwh_by_tou")[m],
                            getattr(r, f"tenant_{which}_energy_krw_by_tou")[m], peak)
        if keep is not None:
            usage = usage.scaled(keep)
        bill = monthly_bill_arrays(usage, demand.billing_kw(month_key, peak, model.contract_kw[tenants]))
        total += sum(v for item, v in bill.items() if item != "vat")
    return total


#: Deciding tenants per kernel run. The runs are independent by column (each tenant alone with its own
#: virtual plant), so the year is settled 256 columns at a time, every chunk's loads and plant outputs in
#: the same two (hours x 256) buffers (18 MB each). Whole-block copies were 700 MB each at 10,000
#: tenants: faulting them in cost up to 2.4 s of system time a year, and the kernel took 1.7-2.0x as long
#: on them (docs/settlement-kernel.md#performance). [E] a speed and memory setting: any value gives the same numbers,
#: bit for bit (tests/test_options.py).
COLUMN_CHUNK = 256


def _kernels(model, fc: Forecast, tenants: np.ndarray, runs: dict, load: np.ndarray | None = None,
             **battery) -> dict[int, BlockResult]:
    """Kernel runs over one year of the deciding tenants, by key of ``runs``: ``None`` for the tenants
    alone, or ``(plant_kw, host)`` for each with its own virtual plant of ``plant_kw`` (D,) kWp on the
    forecast's PV profile, hosted behind its meter (``host``: rooftop PV) or selling to it under a
    share-1 PPA (at price 0: the kernel's energy flows do not depend on the price; the cost adds it
    linearly). ``load`` replaces their forecast loads (a demand-side measure), ``battery`` gives
    ``b_*`` arrays (settled in one chunk: battery rows are not split by column). Each chunk's loads are
    taken once for every run."""
    month_of_hour = np.searchsorted(fc.calendar.month_keys(), fc.calendar.month_key)
    H = fc.calendar.n_hours
    chunk = max(len(tenants), 1) if battery else COLUMN_CHUNK
    width = min(chunk, len(tenants))
    load_buf, gen_buf = np.empty(H * width), np.empty(H * width)  # every chunk's, reused

    def columns(cols: slice):
        n = cols.stop - cols.start
        idx = np.arange(n)
        common = dict(
            load_kwh=fc.load_kw.take(tenants[cols], axis=1, out=load_buf[:H * n].reshape(H, n)) if load is None
            else np.ascontiguousarray(load[:, cols]),
            month_of_hour=month_of_hour,
            tariff_price=fc.tariff_price, tariff_tou=fc.tariff_tou, smp=fc.smp_krw_per_kwh,
            tenant_tariff=model.tenant_tariff[tenants[cols]], **battery,
        )
        for plant in runs.values():  # one at a time: each run is settled before the next reuses gen_buf
            kw = dict(common)
            if plant is not None:
                plant_kw, host = plant
                kw["gen_kwh"] = np.outer(fc.pv_kw_per_kw, plant_kw[cols], out=gen_buf[:H * n].reshape(H, n))
                if host:
                    kw["gen_host"] = idx
                else:
                    kw.update(c_gen=idx, c_tenant=idx, c_share=np.ones(n))  # a share of the plant, fixed price 0 (the defaults)
            yield BlockInputs.build(**kw)

    results = settle_columns(columns, len(tenants), chunk)
    return dict(zip(runs, results))


def _kernel(model, fc: Forecast, tenants: np.ndarray, load: np.ndarray | None = None, **battery) -> BlockResult:
    """The deciding tenants alone over the year (:func:`_kernels`' run ``None``)."""
    return _kernels(model, fc, tenants, {GRID: None}, load, **battery)[GRID]


def evaluate(model, fc: Forecast, tenants: np.ndarray, pool_free_mwh: float) -> Evaluation:
    """Cost, RE claim and spread of every option for each of ``tenants`` over the coming year,
    from the information set ``fc`` only."""
    sc, dec = model.scenario, model.scenario.decisions
    cal_year = int(fc.calendar.year[len(fc.calendar.year) // 2])
    D = len(tenants)
    use_mwh = fc.load_kwh_total[tenants] / 1000.0
    specs = [model.tenants[t].spec for t in tenants]
    target = np.array([s.behaviour.target_share(cal_year) for s in specs]) * use_mwh
    wanted = np.array([s.behaviour.procurement_pct / 100.0 for s in specs]) * use_mwh
    volume = np.maximum(target, wanted)
    yield_kwh_per_kw = float(fc.pv_kw_per_kw.sum())
    smp_avg = fc.smp_mean_krw_per_kwh
    rec_krw_per_mwh = fc.rec_mean_krw_per_rec  # weight-1 RECs from the market

    # Grid bills are levelised with the tenant's expected tariff growth (by its tariff option).
    lev = levelisation_factor(fc.tariff_growth[model.tenant_tariff[tenants]], _hurdle(specs), dec.horizon_years)
    k = model.tenant_tariff[tenants]
    fund = np.array([r.fund_rate.mean() for r in fc.rates])
    ppa_kw = volume * 1000.0 / max(yield_kwh_per_kw, 1e-9)
    eligible = model.contract_kw[tenants] >= 300.0  # docs/domain.md#direct-ppa: direct PPA needs >= 300 kW
    sg = dec.self_generation
    usable = np.array([_roof_draw(sc.seed, int(t)) < sg.usable_roof_share for t in tenants])
    roof_kw = np.array([s.roof_area_m2 for s in specs]) / sg.m2_per_kw * usable
    rooftop_kw = np.minimum(roof_kw, ppa_kw)
    allowed = set(dec.options)
    runs = {GRID: None}
    if "direct_ppa" in allowed and eligible.any():
        runs[PPA] = (ppa_kw, False)
    if "self_generation" in allowed and (rooftop_kw > 0).any():
        runs[SELF] = (rooftop_kw, True)
    settled = _kernels(model, fc, tenants, runs)
    base = settled[GRID]
    baseline = annual_bills(model, fc, tenants, base, "load", "load") * lev
    energy_krw = base.tenant_load_energy_krw_by_tou.sum(axis=(0, 2))
    cost = np.full((D, len(OPTIONS)), np.nan)
    re = np.zeros((D, len(OPTIONS)))
    tariff_x = np.zeros((D, len(OPTIONS)))  # KRW exposed to tariff changes
    smp_x = np.zeros((D, len(OPTIONS)))  # KRW exposed to SMP
    rec_x = np.zeros((D, len(OPTIONS)))  # KRW exposed to REC prices

    cost[:, GRID], tariff_x[:, GRID] = baseline, energy_krw
    if "green_premium" in allowed:  # a premium on the declared volume (docs/domain.md#green-premium)
        cost[:, PREMIUM] = baseline + volume * 1000.0 * dec.green_premium_krw_per_kwh
        re[:, PREMIUM], tariff_x[:, PREMIUM] = volume, energy_krw
    if "rec" in allowed:  # unbundled RECs at the market price
        cost[:, REC] = baseline + volume * rec_krw_per_mwh
        re[:, REC], tariff_x[:, REC], rec_x[:, REC] = volume, energy_krw, volume * rec_krw_per_mwh
    if "green_tariff" in allowed and sc.green_tariff is not None and pool_free_mwh > 0:
        alloc = np.minimum(volume, pool_free_mwh)
        price = sc.green_tariff.price
        std = price.price_krw_per_kwh if price.kind == "fixed" else smp_avg + price.adder_krw_per_kwh
        keep = 1.0 - np.minimum(alloc / np.maximum(use_mwh, 1e-9), 1.0)
        green_krw = alloc * 1000.0 * std
        cost[:, GREEN] = (annual_bills(model, fc, tenants, base, "load", "load", keep) * lev
                          + green_krw * (1 + fund[k]))  # a KEPCO bill item: the fund applies, VAT is reclaimed
        re[:, GREEN], tariff_x[:, GREEN] = alloc, energy_krw * keep
        smp_x[:, GREEN] = green_krw if price.kind != "fixed" else 0.0
    ppa_paid = np.zeros(D)
    if PPA in settled:
        r = settled[PPA]
        applied = r.contract_applied_kwh.sum(0)
        fees = dec.ppa.network_fee_krw_per_kwh + sc.broker.fee_krw_per_kwh
        paid = r.contract_contracted_kwh.sum(0) if dec.ppa.settlement == "pay_as_produced" else applied
        grid_bill = annual_bills(model, fc, tenants, r, "grid", "load") * lev  # basic on the full load (docs/domain.md#direct-ppa)
        # The PPA price is fixed for the term, escalating at the template's rate (docs/decisions.md#prices).
        ppa_paid = paid * levelisation_factor(np.full(D, dec.ppa.escalation_pct_per_year / 100.0), _hurdle(specs),
                                              dec.horizon_years)
        cost[:, PPA] = np.where(eligible, grid_bill + applied * fees, np.nan)
        re[:, PPA], tariff_x[:, PPA] = applied / 1000.0, r.tenant_grid_energy_krw_by_tou.sum(axis=(0, 2))
    if SELF in settled:
        r = settled[SELF]
        export = r.gen_export_kwh.sum(0)
        grid = r.tenant_grid_kwh.sum(0)
        metered = rooftop_kw <= NET_METERING_LIMIT_KW
        credit = np.where(metered, net_metering(0.0, export, grid)[0], 0.0)
        keep = np.where(grid > 0, 1.0 - credit / np.maximum(grid, 1e-9), 1.0)
        annuity = rooftop_kw * sg.capex_krw_per_kw * (crf(_hurdle(specs), sg.lifetime_years) + sg.opex_pct_per_year / 100)
        sales = np.where(metered, 0.0, export * smp_avg)
        bills = annual_bills(model, fc, tenants, r, "grid", "grid", keep) * lev
        cost[:, SELF] = np.where(rooftop_kw > 0, bills + annuity - sales, np.nan)
        re[:, SELF] = r.gen_self_kwh.sum(0) / 1000.0
        tariff_x[:, SELF], smp_x[:, SELF] = r.tenant_grid_energy_krw_by_tou.sum(axis=(0, 2)) * keep, sales
    spread = np.sqrt((dec.tariff_sd_pct / 100 * tariff_x) ** 2 + (dec.smp_sd_pct / 100 * smp_x) ** 2
                     + (dec.rec_sd_pct / 100 * rec_x) ** 2)
    return Evaluation(cost, re, spread, baseline, volume, target, rooftop_kw, ppa_paid)


@lru_cache(maxsize=65536)
def _roof_draw(seed: int, tenant: int) -> float:
    """The tenant's one draw on its roof's usability (the same every year: cached, not re-seeded)."""
    return stream(seed, "roof", tenant).random()


def _hurdle(specs) -> np.ndarray:
    return np.array([s.behaviour.hurdle_rate_pct for s in specs])
