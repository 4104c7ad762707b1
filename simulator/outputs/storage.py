"""Storage outputs: what the batteries stored, delivered and lost, and what they did to peaks and bills.

Batteries are the tenants' own and the virtual batteries of cloud-ESS subscriptions (``<cloud>.<tenant>``,
docs/domain.md#shared-cloud-ess); the perfect-foresight benchmark is labelled in every table it shapes.
"""
from __future__ import annotations

import pandas as pd

from re100sim.simulator.market.monthly import CAPITAL_ITEMS, OM_ITEM
from re100sim.simulator.market.storage import CLOUD_FEE
from re100sim.simulator.outputs.ledger import month_label
from re100sim.simulator.rules.finance import crf

KWH_PER_MWH = 1000.0
FORESIGHT_NOTE = ("perfect-foresight benchmark: peak_shaving targets saw each month's actual load and output; "
                  "a bound on what the batteries could save, not a realistic result")


def dispatch_label(model) -> str:
    return "perfect_foresight" if model.batteries.foresight else "causal"


def battery_table(model) -> pd.DataFrame:
    """Per battery and month: kWh charged, delivered, lost, state of charge (ledger.battery_energy), with the
    owner (the subscriber for a cloud-ESS share), the cloud ESS it is a share of ("" for an own battery), the
    dispatch mode and the month label."""
    df = model.ledger.battery_energy()
    owner = {b.name: b.owner for b in model.batteries.specs}
    cloud = {v.name: c.name for c in model.batteries.clouds for v in c.virtual_batteries()}
    return df.assign(owner=df["agent"].map(owner), cloud_ess=df["agent"].map(lambda a: cloud.get(a, "")),
                     dispatch=dispatch_label(model), month=df["month"].map(month_label))


def owner_demand_table(model) -> pd.DataFrame:
    """Per battery owner (or subscriber) and month: billed peak with and without its batteries, billing demand
    with and without them, and the basic-charge saving (market.storage.BatteryFleet.book_demand)."""
    cols = ["month", "tenant", "peak_kw", "peak_without_kw", "billing_without_kw", "billing_kw",
            "basic_charge_saving_krw"]
    df = pd.DataFrame(model.batteries.demand_rows, columns=cols)
    names = [t.name for t in model.tenants]
    return df.assign(tenant=df["tenant"].map(lambda t: names[t]), month=df["month"].map(month_label))


def _fees(invoices: pd.DataFrame) -> pd.DataFrame:
    return invoices[invoices["item"] == CLOUD_FEE]


def add_storage_kpis(kpis: pd.DataFrame, model, invoices: pd.DataFrame) -> pd.DataFrame:
    """With batteries: the tenants' kpis (one row per year and tenant) get their batteries' (own and cloud
    shares) stored (charged), delivered and lost MWh, the mean monthly billed-peak and billing-demand
    reductions (kW), the basic-charge saving (KRW before fund and VAT) and the cloud-ESS fees paid (KRW, ex VAT);
    0 for tenants without a battery. Without batteries the kpis are unchanged."""
    if not model.batteries.n:
        return kpis
    b = battery_table(model)
    b = b.assign(year=b["month"].str.slice(0, 4).astype(int), agent=b["owner"])
    energy = b.groupby(["year", "agent"])[["charged_kwh", "discharged_kwh", "loss_kwh"]].sum() / KWH_PER_MWH
    energy.columns = ["battery_stored_mwh", "battery_discharged_mwh", "battery_lost_mwh"]
    d = owner_demand_table(model)
    d = d.assign(year=d["month"].str.slice(0, 4).astype(int), agent=d["tenant"],
                 reduction=d["billing_without_kw"] - d["billing_kw"], peak_reduction=d["peak_without_kw"] - d["peak_kw"])
    demand = d.groupby(["year", "agent"]).agg(battery_peak_reduction_kw=("peak_reduction", "mean"),
                                               battery_billing_demand_reduction_kw=("reduction", "mean"),
                                               battery_basic_charge_saving_krw=("basic_charge_saving_krw", "sum"))
    f = _fees(invoices)
    fees = (f.assign(year=f["month"].astype(str).str.slice(0, 4).astype(int), agent=f["payer"].astype(str))
            .groupby(["year", "agent"])["krw"].sum().rename("cloud_ess_fee_krw").astype(float))
    add = energy.join(demand, how="outer").join(fees, how="outer").reset_index()
    out = kpis.merge(add, on=["year", "agent"], how="left")
    cols = list(add.columns.drop(["year", "agent"]))
    out[cols] = out[cols].fillna(0.0)
    return out


SERIES_SUMS = {"battery_stored_mwh": "charged_kwh", "battery_discharged_mwh": "discharged_kwh",
               "battery_lost_mwh": "loss_kwh"}


def add_storage_series(monthly: pd.DataFrame, yearly: pd.DataFrame, model) -> tuple[pd.DataFrame, pd.DataFrame]:
    """With batteries: the complex's monthly series get the batteries' stored, delivered and lost MWh, the owners'
    billed-peak and billing-demand reductions (kW, summed over owners) and the basic-charge saving (KRW before fund
    and VAT); the yearly series the MWh and KRW summed and the kW as the mean of the year's months. Without
    batteries the series are unchanged."""
    if not model.batteries.n:
        return monthly, yearly
    b = battery_table(model).groupby("month")[list(SERIES_SUMS.values())].sum() / KWH_PER_MWH
    b.columns = list(SERIES_SUMS)
    d = owner_demand_table(model)
    d = d.assign(battery_peak_reduction_kw=d["peak_without_kw"] - d["peak_kw"],
                 battery_billing_demand_reduction_kw=d["billing_without_kw"] - d["billing_kw"],
                 battery_basic_charge_saving_krw=d["basic_charge_saving_krw"])
    kw = ["battery_peak_reduction_kw", "battery_billing_demand_reduction_kw"]
    add = b.join(d.groupby("month")[[*kw, "battery_basic_charge_saving_krw"]].sum(), how="outer").fillna(0.0)
    m = monthly.merge(add, left_on="month", right_index=True, how="left")
    m[list(add.columns)] = m[list(add.columns)].fillna(0.0)
    by_year = m.groupby("year")
    y = yearly.merge(by_year[[*SERIES_SUMS, "battery_basic_charge_saving_krw"]].sum().join(by_year[kw].mean()),
                     left_on="year", right_index=True, how="left")
    return m, y


def cloud_summary(model, invoices: pd.DataFrame, years: float) -> list[dict]:
    """Per cloud ESS: size, subscribed kWh, the energy its shares moved, the owner's fees (ex VAT), capital cost
    and O&M, net, and the simple payback of its capex on the yearly net before capital cost (fees - O&M; None
    when that is not positive)."""
    b = model.ledger.battery_energy()
    out = []
    for c in model.batteries.clouds:
        shares = b[b["agent"].isin([v.name for v in c.virtual_batteries()])]
        fees = int(_fees(invoices).loc[lambda x: x["payee"] == c.name, "krw"].sum())
        costs = invoices[(invoices["payer"] == c.name) & invoices["item"].isin([*CAPITAL_ITEMS, OM_ITEM])]
        om = int(costs.loc[costs["item"] == OM_ITEM, "krw"].sum())
        yearly = (fees - om) / years if years else 0.0
        out.append({
            "name": c.name, "owner": c.owner, "energy_kwh": c.energy_kwh, "power_kw": c.power_kw,
            "subscribed_kwh": sum(s.energy_kwh for s in c.subscriptions), "bill_sees_peak": c.bill_sees_peak,
            "stored_mwh": round(float(shares["charged_kwh"].sum()) / KWH_PER_MWH, 6),
            "discharged_mwh": round(float(shares["discharged_kwh"].sum()) / KWH_PER_MWH, 6),
            "lost_mwh": round(float(shares["loss_kwh"].sum()) / KWH_PER_MWH, 6),
            "fees_krw": fees, "capital_and_om_krw": int(costs["krw"].sum()), "owner_net_krw": fees - int(costs["krw"].sum()),
            "annuity_krw_per_year": round(c.capex_krw * float(crf(c.hurdle_rate_pct, c.lifetime_years))),
            "simple_payback_years": round(c.capex_krw / yearly, 3) if yearly > 0 else None,
        })
    return out


def storage_summary(model, invoices: pd.DataFrame) -> dict:
    """Stored (charged), delivered and lost MWh; the mean monthly billed-peak and billing-demand reductions (kW,
    summed over owners) and the basic-charge saving they bring (KRW before fund and VAT); the batteries' capital
    cost and O&M booked (KRW); the dispatch mode (with a note when it is the perfect-foresight benchmark); and
    each cloud ESS (:func:`cloud_summary`)."""
    b = model.ledger.battery_energy()
    d = owner_demand_table(model)
    reduction = (d["billing_without_kw"] - d["billing_kw"]).groupby(d["month"]).sum()
    peak_reduction = (d["peak_without_kw"] - d["peak_kw"]).groupby(d["month"]).sum()
    payers = [s.name for s in model.batteries.specs]
    out = {
        "batteries": model.batteries.n,
        "dispatch": dispatch_label(model),
        "stored_mwh": round(float(b["charged_kwh"].sum()) / KWH_PER_MWH, 6),
        "stored_re_mwh": round(float(b["charged_re_kwh"].sum()) / KWH_PER_MWH, 6),
        "discharged_mwh": round(float(b["discharged_kwh"].sum()) / KWH_PER_MWH, 6),
        "discharged_re_mwh": round(float(b["discharged_re_kwh"].sum()) / KWH_PER_MWH, 6),
        "lost_mwh": round(float(b["loss_kwh"].sum()) / KWH_PER_MWH, 6),
        "peak_reduction_kw_mean": round(float(reduction.mean()) if len(reduction) else 0.0, 6),
        "billed_peak_reduction_kw_mean": round(float(peak_reduction.mean()) if len(peak_reduction) else 0.0, 6),
        "basic_charge_saving_krw": round(float(d["basic_charge_saving_krw"].sum())),
        "capital_and_om_krw": int(invoices.loc[invoices["payer"].isin(payers), "krw"].sum()),
        "cloud_ess": cloud_summary(model, invoices, sum((e - s).days for s, e in model.blocks) / 365.0),
    }
    if model.batteries.foresight:
        out["note"] = FORESIGHT_NOTE
    return out
