"""Time series, adoption and policy compliance of a run.

The agents' state (options adopted, awareness, contracted MW) is collected by a Mesa
DataCollector at each month end; money and energy series are aggregated from the
ledgers afterwards (they already hold every line); compliance is assessed each year
against the scenario's policy rule (re100sim.simulator.rules.policy, docs/domain.md#policy-rules).
"""
from __future__ import annotations

import dataclasses
import weakref

import mesa
import numpy as np
import pandas as pd

from re100sim.simulator.market.options import GREEN, GRID, OPTIONS, PPA, PREMIUM, REC, SELF
from re100sim.simulator.market.procurement import supplies, supply_months
from re100sim.simulator.outputs.ledger import month_label
from re100sim.simulator.outputs.results import (
    code_flags,
    month_keys,
    net_cost_by_month,
    sums_on_months,
    text_codes,
    vat_lines,
)
from re100sim.simulator.rules.policy import ComplianceRow, compliance
from re100sim.simulator.scenario.demand import MEASURES


def contracted_mw(model, month_key: int) -> float:
    """MW of plant capacity under live direct PPAs (share x capacity, or the block)."""
    cap = {g.name: g.spec.capacity_kw for g in model.generators}
    total_kw = 0.0
    for c in model.contracts:
        if supplies(c, month_key):
            v = c.volume
            total_kw += v.share * cap[c.generator] if v.kind == "share" else getattr(v, "block_kw", 0.0)
    return total_kw / 1000.0


_TENANT_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tenant_index(model) -> dict[str, int]:
    """Tenant name -> its index, built once per model (the tenants are fixed at its start; a collect at each month
    end asks for it once per option)."""
    if model not in _TENANT_INDEX:
        _TENANT_INDEX[model] = {t.name: i for i, t in enumerate(model.tenants)}
    return _TENANT_INDEX[model]


def options_held(model, month_key: int) -> np.ndarray:
    """(options, tenants) bool: which procurement options each tenant actually has in ``month_key``,
    whoever decided them (the scenario file or the tenant), rows in :data:`OPTIONS` order: a live
    direct PPA, its own plant, a green-tariff subscription, a green-premium purchase, an
    unbundled-REC target; the ``grid`` row is true for a tenant with none of them."""
    index = _tenant_index(model)
    held = np.zeros((len(OPTIONS), len(model.tenants)), dtype=bool)
    held[PPA, [index[c.tenant] for c in model.contracts if supplies(c, month_key)]] = True
    held[SELF, [index[g.spec.host_tenant] for g in model.generators if g.spec.owner == "tenant" and g.spec.host_tenant]] = True
    held[GREEN, [index[name] for name in model.subscriptions]] = True
    held[PREMIUM, [index[gp.tenant] for gp in model.premiums]] = True
    held[REC, [index[rp.tenant] for rp in model.rec_targets]] = True
    held[GRID] = ~held.any(axis=0)
    return held


def adopters(model, month_key: int) -> dict[str, int]:
    """Tenants holding each option (a tenant with two options counts under both); ``grid``: tenants with none."""
    counts = options_held(model, month_key).sum(axis=1)
    return {o: int(n) for o, n in zip(OPTIONS, counts)}


def adoption_collector() -> mesa.DataCollector:
    counted: dict = {}

    def count(m, option: str) -> int:
        """:func:`adopters` counted once per collect (a month end, the state fixed), not once per option."""
        key = (m.env.now, m.current_month_key)
        if counted.get("key") != key:
            counted.update(key=key, counts=adopters(m, m.current_month_key))
        return counted["counts"][option]

    reporters = {f"adopters_{o}": (lambda o: lambda m: count(m, o))(o) for o in OPTIONS}
    reporters |= {
        "aware_tenants": lambda m: sum(t.aware for t in m.tenants),
        "contracted_mw": lambda m: contracted_mw(m, m.current_month_key),
        "rooftop_mw": lambda m: sum(g.spec.capacity_kw for g in m.generators if g.spec.host_tenant) / 1000.0,
        "month": lambda m: month_label(m.current_month_key),
    }
    return mesa.DataCollector(model_reporters=reporters)


def adoption_summary(model) -> dict:
    """Final month's count of tenants per option held (:func:`adopters`) and the contracted MW
    (summary.json ``adoption``)."""
    out = adopters(model, model.current_month_key)
    out["contracted_mw"] = round(contracted_mw(model, model.current_month_key), 6)
    out["rooftop_mw"] = round(sum(g.spec.capacity_kw for g in model.generators if g.spec.host_tenant) / 1000.0, 6)
    if any(m in model.scenario.decisions.options for m in MEASURES):  # demand-side measures adopted in the run
        out |= {f"measure_{m}": n for m, n in model.demand.summary().items()}
    return out


def assess_year(model, year: int, t_energy: pd.DataFrame, g_energy: pd.DataFrame):
    """Compliance row for calendar ``year`` from its energy (re100sim.simulator.rules.policy.compliance)."""
    cfg = model.scenario.policy
    te = t_energy[t_energy["month"] // 12 == year]
    ge = g_energy[g_energy["month"] // 12 == year] if not g_energy.empty else g_energy
    inside = {g.name: g.spec.in_complex for g in model.generators}
    gen_in = ge[ge["agent"].map(inside).fillna(False).astype(bool)]["gen_kwh"].sum() / 1000.0 if len(ge) else 0.0
    gen_out = ge[~ge["agent"].map(inside).fillna(False).astype(bool)]["gen_kwh"].sum() / 1000.0 if len(ge) else 0.0
    mw_in = sum(g.spec.capacity_kw for g in model.generators if g.spec.in_complex) / 1000.0
    mw_out = sum(g.spec.capacity_kw for g in model.generators if not g.spec.in_complex) / 1000.0
    # substitutes of equal GHG effect (options 2 and 3): batteries behind tenants' meters, non-solar plants
    other = {g.name for g in model.generators if g.spec.in_complex and g.spec.technology != "solar_pv"}
    other_mwh = ge[ge["agent"].isin(other)]["gen_kwh"].sum() / 1000.0 if len(ge) else 0.0
    return compliance(cfg, year, float(te["load_kwh"].sum()) / 1000.0, float(te["ppa_kwh"].sum()) / 1000.0,
                      mw_in, mw_out, gen_in, gen_out, first_year=model.scenario.start_date.year,
                      storage_in_complex_mwh=sum(b.energy_kwh for b in model.batteries.specs) / 1000.0,
                      non_solar_in_complex_mw=sum(g.spec.capacity_kw for g in model.generators if g.name in other) / 1000.0,
                      non_solar_in_complex_mwh=float(other_mwh))


def compliance_table(model) -> pd.DataFrame:
    """One row per assessed year; with no rule (or no year assessed) an empty table with the same columns."""
    columns = [f.name for f in dataclasses.fields(ComplianceRow)]
    rows = [dataclasses.asdict(r) for r in model.compliance_rows]
    if rows:
        return pd.DataFrame(rows, columns=columns)
    dtypes = {"int": np.int64, "str": str, "bool": bool}
    return pd.DataFrame({f.name: pd.Series(dtype=dtypes.get(str(f.type), float)) for f in dataclasses.fields(ComplianceRow)})


def compliance_summary(model) -> dict:
    rows = model.compliance_rows
    if not rows:
        return {"rule": model.scenario.policy.rule, "years": 0}
    last = rows[-1]
    return {
        "rule": model.scenario.policy.rule,
        "years": len(rows),
        "years_compliant": int(sum(r.compliant for r in rows)),
        "final_required_mw": round(last.required_mw, 6),
        "final_credited_mw": round(last.credited_mw, 6),
        "final_shortfall_mw": round(last.shortfall_mw, 6),
        "penalty_krw_total": int(round(sum(r.penalty_krw for r in rows))),
    }


def timeseries(invoices: pd.DataFrame, baseline: pd.DataFrame, t_energy: pd.DataFrame, claims: pd.DataFrame,
               adoption: pd.DataFrame, accounts: dict[str, str], generators: list[str], utility: str, broker: str,
               ef_t_per_mwh: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly and yearly series: energy, RE shares, costs vs baseline, revenues, CO2, adoption
    (:func:`monthly_flows` completed by :func:`finish_timeseries`).

    ``claims``: tenants' claims by certificate month (re100sim.simulator.outputs.results.claims_by_tenant);
    ``accounts``: party -> tenant, for the tenants' net cost (own plants consolidated)."""
    flows = monthly_flows(invoices, baseline, t_energy, accounts, generators, utility, broker)
    return finish_timeseries(flows, claims, adoption, ef_t_per_mwh)


def monthly_flows(invoices: pd.DataFrame, baseline: pd.DataFrame, t_energy: pd.DataFrame, accounts: dict[str, str],
                  generators: list[str], utility: str, broker: str, net_cost: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per month (index ``month``: the month key): energy (MWh) and money (KRW) of the complex. Each month
    needs only its own rows, so a run's table is the concatenation of its years' tables; the claims
    (``re_claimed_mwh``, 0 here) are known only at the run's end (:func:`finish_timeseries`).
    ``net_cost``: ``net_cost_by_month(invoices, accounts)`` when the caller has it."""
    cols = ["load_kwh", "grid_kwh", "self_kwh", "ppa_kwh", "pool_kwh", "battery_re_kwh"]
    e = t_energy.groupby("month")[cols].sum() / 1000.0
    m = {"load_mwh": e["load_kwh"].to_numpy(), "grid_mwh": e["grid_kwh"].to_numpy(),
         "re_delivered_mwh": (e["self_kwh"] + e["ppa_kwh"] + e["pool_kwh"] + e["battery_re_kwh"]).to_numpy(),
         "re_claimed_mwh": np.zeros(len(e))}
    keys = e.index.to_numpy(np.int64)
    month, krw = month_keys(invoices["month"]), invoices["krw"].to_numpy(np.int64)
    by = lambda lines: sums_on_months(keys, month[lines], krw[lines])  # noqa: E731
    net = net_cost_by_month(invoices, accounts) if net_cost is None else net_cost
    net_month = month_keys(pd.Series(net.index.get_level_values("month")))
    base_month = baseline["month"].to_numpy(np.int64)
    for col, values, at in (("tenant_cost_krw", net["cost_krw"], net_month),
                            ("tenant_cost_ex_vat_krw", net["cost_ex_vat_krw"], net_month),
                            ("baseline_krw", baseline["baseline_krw"], base_month),
                            ("baseline_ex_vat_krw", baseline["baseline_ex_vat_krw"], base_month)):
        m[col] = sums_on_months(keys, at, values.to_numpy(np.int64))
    m["savings_krw"] = m["baseline_krw"] - m["tenant_cost_krw"]
    m["savings_ex_vat_krw"] = m["baseline_ex_vat_krw"] - m["tenant_cost_ex_vat_krw"]
    payer, payers = text_codes(invoices["payer"])
    payee, payees = text_codes(invoices["payee"])
    item, items = text_codes(invoices["item"])
    to_plant = code_flags(payees, set(generators))[payee]
    m["generator_revenue_krw"] = by(to_plant & ~vat_lines(invoices))  # VAT is the state's
    m["broker_margin_krw"] = by(code_flags(payees, {broker})[payee] & code_flags(items, {"broker_fee"})[item])
    m["utility_net_krw"] = by(code_flags(payees, {utility})[payee]) - by(code_flags(payers, {utility})[payer])
    return pd.DataFrame(m, index=e.index)  # one frame of the columns (a column inserted at a time costs more)


def finish_timeseries(flows: pd.DataFrame, claims: pd.DataFrame, adoption: pd.DataFrame,
                      ef_t_per_mwh: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monthly and yearly series from :func:`monthly_flows` (all months of the run), the tenants'
    claims by certificate month and the adoption collected at each month end."""
    m = flows.copy()
    c = claims.reset_index().set_index("month_key") if len(claims) else claims
    m["re_claimed_mwh"] = c["counted_mwh"].reindex(m.index, fill_value=0.0) if len(c) else 0.0
    co2_mwh = c["co2_mwh"].reindex(m.index, fill_value=0.0) if len(c) else 0.0
    m["co2_market_t"] = (m["load_mwh"] - co2_mwh) * ef_t_per_mwh
    m = m.reset_index().rename(columns={"month": "month_key"})
    m["year"] = m["month_key"] // 12
    m["month"] = m["month_key"].map(month_label)
    monthly = m.merge(adoption, on="month", how="left")
    sums = [c for c in m.columns if c.endswith(("_mwh", "_krw", "_t"))]
    yearly = monthly.groupby("year")[sums].sum()
    last = monthly.groupby("year").tail(1).set_index("year")
    state = [c for c in adoption.columns if c != "month"]
    yearly[state] = last[state]
    yearly["re_share_annual"] = (yearly["re_claimed_mwh"] / yearly["load_mwh"]).fillna(0.0)
    yearly["re_share_hourly"] = (yearly["re_delivered_mwh"] / yearly["load_mwh"]).fillna(0.0)
    return monthly, yearly.reset_index()


def counterparty_risk(model, g_energy: pd.DataFrame) -> dict:
    """The broker's counterparty report at the horizon end (the Namdong direct-PPA proposal: the platform monitors price
    and volume risk): for each live fixed-price PPA, what its plant would lose if the off-taker
    defaulted and the contracted energy sold at market (last year's mean SMP + REC x weight)
    instead: max(0, price - market) x the contract's share of last year's output x remaining years."""
    year = model.year
    if year is None or g_energy.empty:
        return {"live_contracts": 0, "exposure_krw": 0}
    last = g_energy[g_energy["month"] > model.current_month_key - 12].groupby("agent")["gen_kwh"].sum()
    smp, rec = float(year.smp_krw_per_kwh.mean()), float(np.mean(year.rec_price_krw_per_rec))
    plants = {g.name: g.spec for g in model.generators}
    live, exposure = 0, 0.0
    for c in model.contracts:
        _, end = supply_months(c)
        if not supplies(c, model.current_month_key) or c.price.kind != "fixed" or c.volume.kind != "share":
            continue
        live += 1
        market = smp + rec * plants[c.generator].effective_rec_weight() / 1000.0
        kwh = c.volume.share * float(last.get(c.generator, 0.0))
        exposure += max(0.0, c.price.price_krw_per_kwh - market) * kwh * (end - model.current_month_key - 1) / 12.0
    return {"live_contracts": live, "exposure_krw": int(round(exposure))}
