"""The consortium's contract stress test: direct-PPA terms under market and tariff uncertainty.

Per run (:func:`ppa_terms_kpis`, columns prefixed ``ppa.``), over each party's contract months
(the supply months of its direct PPAs, docs/domain.md#direct-ppa; within the simulated horizon):

- ``ppa.tenant.<name>.savings_krw``: grid-only baseline bill minus what the tenant paid less what it
  received (grid, PPA energy, network and broker fees; its own plants' accounts included), both ex
  VAT: a business recovers its input VAT (docs/domain.md#bill-structure), so VAT is no saving;
  ``ppa.all_tenants.savings_krw`` their sum and ``ppa.all_tenants.min_savings_krw`` the smallest (all
  tenants save when it is > 0);
- ``ppa.generator.<name>.revenue_krw``: every receipt of the plant ex VAT (PPA energy, SMP sales, RECs);
- ``ppa.generator.<name>.npv_krw``: -capex + sum of monthly (revenue - opex/12) discounted at the
  plant's ``hurdle_rate_pct`` from the contract start (end-of-month flows, no terminal value;
  the standard discounted-cash-flow definition, e.g. Brealey, Myers and Allen, *Principles of
  Corporate Finance*, ch. 2);
- ``ppa.broker.margin_krw``: the broker's fees (``broker_fee`` lines; energy and network charges
  pass through it).

Across the runs of a sweep, :func:`terms_table` gives per term set (sweep point) the
probability that each tenant and all tenants save, the generator's P10 revenue and P50 NPV, the
broker's P50 margin, and each tenant's break-even PPA price: the price at which its P50 saving
is zero, interpolated linearly between neighbouring prices of the grid with the other terms fixed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from re100sim.simulator.market.procurement import supply_months
from re100sim.simulator.outputs.results import vat_mask

PRICE_PATH = "contracts[*].price.price_krw_per_kwh"


def _month_key(labels: pd.Series) -> pd.Series:
    return labels.str.slice(0, 4).astype(int) * 12 + labels.str.slice(5, 7).astype(int) - 1


def ppa_terms_kpis(scenario, ev) -> dict[str, float]:
    """Per-run contract KPIs (module docstring) of a scenario's direct PPAs."""
    inv = ev.ledger.invoices()
    inv = inv[~vat_mask(inv)]
    inv = inv.assign(month_key=_month_key(inv["month"].astype(str)), payer=inv["payer"].astype(str),
                     payee=inv["payee"].astype(str), item=inv["item"].astype(str))
    base = ev.ledger.baseline()
    owners = {g.name: g.host_tenant for g in scenario.generators if g.owner == "tenant" and g.host_tenant}
    broker = scenario.broker.name
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for c in scenario.contracts:
        c = c if c.start_date else c.model_copy(update={"start_date": scenario.start_date})
        a, b = supply_months(c)
        for party in (("tenant", c.tenant), ("generator", c.generator), ("broker", broker)):
            lo, hi = spans.get(party, (a, b))
            spans[party] = (min(lo, a), max(hi, b))
    out: dict[str, float] = {}
    savings = []
    for (kind, name), (a, b) in spans.items():
        months = inv[(inv["month_key"] >= a) & (inv["month_key"] < b)]
        if kind == "tenant":
            accounts = {name} | {p for p, o in owners.items() if o == name}
            paid = months.loc[months["payer"].isin(accounts), "krw"].sum() - months.loc[months["payee"].isin(accounts), "krw"].sum()
            grid_only = base.loc[(base["agent"] == name) & (base["month"] >= a) & (base["month"] < b),
                                 "baseline_ex_vat_krw"].sum()
            savings.append(float(grid_only - paid))
            out[f"ppa.tenant.{name}.savings_krw"] = savings[-1]
        elif kind == "generator":
            spec = next(g for g in scenario.generators if g.name == name)
            horizon_end = scenario.start_date.year * 12 + scenario.start_date.month - 1 + 12 * scenario.years
            monthly = (months[months["payee"] == name].groupby("month_key")["krw"].sum()
                       .reindex(range(a, min(b, horizon_end)), fill_value=0))
            rate = spec.hurdle_rate_pct / 100.0
            t = (np.arange(len(monthly)) + 1) / 12.0
            flows = monthly.to_numpy(float) - spec.opex_krw_per_kw_year * spec.capacity_kw / 12.0
            out[f"ppa.generator.{name}.revenue_krw"] = float(monthly.sum())
            out[f"ppa.generator.{name}.npv_krw"] = float(
                -spec.capex_krw_per_kw * spec.capacity_kw + (flows / (1 + rate) ** t).sum()
            )
        else:
            out["ppa.broker.margin_krw"] = float(
                months.loc[(months["payee"] == name) & (months["item"] == "broker_fee"), "krw"].sum()
            )
    if savings:
        out["ppa.all_tenants.savings_krw"] = float(sum(savings))
        out["ppa.all_tenants.min_savings_krw"] = float(min(savings))
    return out


def terms_table(runs: pd.DataFrame, term_columns: list[str]) -> pd.DataFrame:
    """One row per term set (sweep point) from the ``ok`` runs of a stress-test sweep (module docstring)."""
    ok = runs[runs["status"] == "ok"]
    tenants = sorted(c.split(".")[2] for c in ok.columns if c.startswith("ppa.tenant.") and c.endswith(".savings_krw"))
    plants = sorted(c.split(".")[2] for c in ok.columns if c.startswith("ppa.generator.") and c.endswith(".npv_krw"))
    rows = []
    for point_id, g in ok.groupby("point_id", sort=True):
        row = {"point_id": point_id, "runs": len(g)} | {c: g[c].iloc[0] for c in term_columns}
        for t in tenants:
            row[f"p_save.{t}"] = float((g[f"ppa.tenant.{t}.savings_krw"] > 0).mean())
            row[f"p50_savings_krw.{t}"] = float(g[f"ppa.tenant.{t}.savings_krw"].median())
        row["p_save.all_tenants"] = float((g["ppa.all_tenants.min_savings_krw"] > 0).mean())
        for p in plants:
            row[f"p10_revenue_krw.{p}"] = float(g[f"ppa.generator.{p}.revenue_krw"].quantile(0.10))
            row[f"p50_npv_krw.{p}"] = float(g[f"ppa.generator.{p}.npv_krw"].median())
            row[f"p_npv_positive.{p}"] = float((g[f"ppa.generator.{p}.npv_krw"] > 0).mean())
        row["p50_broker_margin_krw"] = float(g["ppa.broker.margin_krw"].median())
        rows.append(row)
    table = pd.DataFrame(rows)
    if PRICE_PATH in term_columns and len(table):
        others = [c for c in term_columns if c != PRICE_PATH]
        groups = table.groupby(others, dropna=False).groups if others else {0: table.index}
        for t in tenants:
            col = f"break_even_price_krw_per_kwh.{t}"
            table[col] = np.nan
            for idx in groups.values():
                table.loc[idx, col] = break_even(table.loc[idx, PRICE_PATH], table.loc[idx, f"p50_savings_krw.{t}"])
    return table


def break_even(prices: pd.Series, p50_savings: pd.Series) -> float:
    """Price where the P50 saving crosses zero, linear between the grid's neighbouring prices;
    NaN when it does not cross inside the grid (the saving keeps one sign over it)."""
    order = np.argsort(prices.to_numpy(float))
    x, y = prices.to_numpy(float)[order], p50_savings.to_numpy(float)[order]
    for i in range(len(x) - 1):
        if y[i] == 0:
            return float(x[i])
        if y[i] * y[i + 1] < 0:
            return float(x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1]))
    return float(x[-1]) if len(x) and y[-1] == 0 else float("nan")
