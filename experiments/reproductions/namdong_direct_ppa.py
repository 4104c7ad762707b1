"""`namdong-direct-ppa`: the four-tenant 1.2 MW direct PPA over its 10-year term and after.

Runs the bundled ``namdong`` scenario (whole simulator) for each seed over exactly the term (its
calendar-year KPIs then cover the term only), and once longer for the years after the term. Each
tenant's break-even PPA price is ``price + saving ex VAT / PPA kWh paid``: the PPA is billed per kWh
at a fixed price and nothing else in the settlement depends on that price (namdong makes no yearly
decisions), so the saving falls one for one with the price. The seeds run in process until the
Monte Carlo command is on main. Sources: the Namdong direct-PPA platform proposal;
docs/domain.md#namdong-direct-ppa.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.inputs.markets import RecParams, SmpParams, rec_level_krw_per_rec, smp_level_krw_per_kwh
from re100sim.simulator.reproduce import Outcome, scenario_run


def _tenant_term(folder, price_krw_per_kwh: float) -> pd.DataFrame:
    kpis = pd.read_parquet(folder / "kpis_tenants.parquet")
    tenants = kpis.groupby("agent")[["savings_ex_vat_krw", "baseline_ex_vat_krw"]].sum()
    inv = pd.read_parquet(folder / "invoices.parquet")
    ppa = inv[inv["item"].astype(str) == "ppa_energy"]
    kwh = ppa.groupby(ppa["payer"].astype(str))["quantity"].sum()
    tenants["ppa_kwh"] = kwh.reindex(tenants.index).to_numpy()
    tenants["saving_share"] = tenants["savings_ex_vat_krw"] / tenants["baseline_ex_vat_krw"]
    tenants["break_even_krw_per_kwh"] = price_krw_per_kwh + tenants["savings_ex_vat_krw"] / tenants["ppa_kwh"]
    return tenants


def _monthly(folder) -> pd.DataFrame:
    """The run's monthly series with ``month_key`` (``year*12 + month-1``) from its ``month`` (YYYY-MM)."""
    monthly = pd.read_parquet(folder / "timeseries_monthly.parquet")
    ym = monthly["month"].astype(str).str.split("-", expand=True).astype(int)
    return monthly.assign(month_key=ym[0] * 12 + ym[1] - 1)


def _market_alternative_krw(folder, rec_weight: float) -> float:
    """Plant output x (expected SMP + expected REC price x weight), month by month."""
    monthly = _monthly(folder)
    keys = monthly["month_key"].to_numpy()
    kpis = pd.read_parquet(folder / "kpis_generators.parquet")
    gen_mwh_by_year = kpis.groupby("year")["gen_mwh"].sum()
    # spread each year's output over its months in proportion to the RE delivered that month
    share = monthly["re_delivered_mwh"] / monthly.groupby("year")["re_delivered_mwh"].transform("sum")
    gen_mwh = share.to_numpy() * gen_mwh_by_year.reindex(monthly["year"]).to_numpy()
    krw_per_mwh = smp_level_krw_per_kwh(keys, SmpParams()) * 1000.0 + rec_level_krw_per_rec(keys, RecParams()) * rec_weight
    return float(np.sum(gen_mwh * krw_per_mwh))


def run(spec: dict, *, fast: bool = False) -> Outcome:
    inp = spec["inputs"]
    seeds = list(inp["fast_seeds"] if fast else inp["seeds"])
    data = yaml.safe_load(bundled_scenarios()[inp["scenario"]].read_text(encoding="utf-8"))
    prices = {c["price"]["price_krw_per_kwh"] for c in data["contracts"]}
    (price,) = prices  # one price for the four PPAs
    per_seed, brokers, revenue, alternative = [], [], [], []
    for seed in seeds:
        with scenario_run(inp["scenario"], seed, {"years": int(inp["term_years"])}) as folder:
            t = _tenant_term(folder, price).assign(seed=seed)
            per_seed.append(t.reset_index())
            yearly = pd.read_parquet(folder / "timeseries_yearly.parquet")
            brokers.append(float(yearly["broker_margin_krw"].sum()))
            revenue.append(float(yearly["generator_revenue_krw"].sum()))
            alternative.append(_market_alternative_krw(folder, inp["rec_weight"]))
    tenants = pd.concat(per_seed, ignore_index=True)
    after_years = int(inp["fast_after_years"] if fast else inp["after_years"])
    with scenario_run(inp["scenario"], seeds[0], {"years": after_years}) as folder:
        monthly = _monthly(folder)
    start = pd.Timestamp(str(data["start_date"]))
    term_end = start.year * 12 + start.month - 1 + 12 * int(inp["term_years"])  # month key of the first month after
    after = monthly[monthly["month_key"] >= term_end]

    values: dict[str, float] = {"ppa_price": float(price)}
    for name, g in tenants.groupby("agent"):
        key = name.replace("-", "_")
        values[f"saving_share_{key}"] = float(g["saving_share"].mean())
        values[f"break_even_{key}"] = float(g["break_even_krw_per_kwh"].min())
    values["tenants_saving_share_of_runs"] = float(np.mean(tenants["savings_ex_vat_krw"] > 0))
    values["broker_margin_krw"] = float(np.mean(brokers))
    values["plant_revenue_krw"] = float(np.mean(revenue))
    values["plant_market_alternative_krw"] = float(np.mean(alternative))
    values["plant_revenue_to_market"] = float(np.mean(revenue) / np.mean(alternative))
    values["complex_saving_after_term_krw_per_yr"] = float(after["savings_ex_vat_krw"].sum() / (len(after) / 12.0))

    def figure(fig) -> None:
        ax1, ax2 = fig.subplots(1, 2)
        names = sorted(tenants["agent"].unique())
        be = [tenants.loc[tenants["agent"] == n, "break_even_krw_per_kwh"].to_numpy() for n in names]
        ax1.boxplot(be, showfliers=True)
        ax1.set_xticks(range(1, len(names) + 1), names, rotation=20, fontsize=7)
        ax1.axhline(price, color="crimson", linestyle="--", label=f"scenario PPA price {price:g} KRW/kWh [E]")
        ax1.set_ylabel("break-even PPA price, KRW/kWh (ex VAT)")
        ax1.set_title(f"Term break-even price by tenant ({len(seeds)} seed(s))")
        ax1.legend(fontsize=7)
        m = monthly.assign(saving_mkrw=monthly["savings_ex_vat_krw"] / 1e6)
        ax2.plot(np.arange(len(m)), m["saving_mkrw"].to_numpy())
        ax2.axvline(int(np.searchsorted(m["month_key"].to_numpy(), term_end)), color="grey", linestyle=":",
                    label="end of the 10-year term")
        ax2.set_xlabel("month of the run")
        ax2.set_ylabel("tenants' saving ex VAT, million KRW per month")
        ax2.set_title("Saving during and after the term (first seed)")
        ax2.legend(fontsize=7)
        fig.tight_layout()

    return Outcome(values=values, figure=figure, seeds=tuple(seeds), inputs=(bundled_scenarios()[inp["scenario"]],),
                   extra_tables={"tenants": tenants})
