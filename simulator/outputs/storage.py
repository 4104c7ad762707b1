"""Storage outputs: what the batteries stored, delivered and lost, and what they did to peaks and bills."""
from __future__ import annotations

import pandas as pd

from re100sim.simulator.outputs.ledger import month_label

KWH_PER_MWH = 1000.0


def battery_table(model) -> pd.DataFrame:
    """Per battery and month: kWh charged, delivered, lost, state of charge (ledger.battery_energy), with the
    owner and month label."""
    df = model.ledger.battery_energy()
    owner = {b.name: b.owner for b in model.batteries.specs}  # with those tenants installed in the run
    return df.assign(owner=df["agent"].map(owner), month=df["month"].map(month_label))


def owner_demand_table(model) -> pd.DataFrame:
    """Per battery owner and month: billed peak without its batteries, billing demand with and without
    them, and the basic-charge saving (market.storage.BatteryFleet.book_demand)."""
    cols = ["month", "tenant", "peak_without_kw", "billing_without_kw", "billing_kw", "basic_charge_saving_krw"]
    df = pd.DataFrame(model.batteries.demand_rows, columns=cols)
    names = [t.name for t in model.tenants]
    return df.assign(tenant=df["tenant"].map(lambda t: names[t]), month=df["month"].map(month_label))


def add_storage_kpis(kpis: pd.DataFrame, model) -> pd.DataFrame:
    """With batteries: the tenants' kpis (one row per year and tenant) get their batteries' stored (charged),
    delivered and lost MWh, the mean monthly billing-demand reduction (kW) and its basic-charge saving (KRW
    before fund and VAT); 0 for tenants without a battery. Without batteries the kpis are unchanged."""
    if not model.batteries.n:
        return kpis
    b = battery_table(model)
    b = b.assign(year=b["month"].str.slice(0, 4).astype(int), agent=b["owner"])
    energy = b.groupby(["year", "agent"])[["charged_kwh", "discharged_kwh", "loss_kwh"]].sum() / KWH_PER_MWH
    energy.columns = ["battery_stored_mwh", "battery_discharged_mwh", "battery_lost_mwh"]
    d = owner_demand_table(model)
    d = d.assign(year=d["month"].str.slice(0, 4).astype(int), agent=d["tenant"],
                 reduction=d["billing_without_kw"] - d["billing_kw"])
    demand = d.groupby(["year", "agent"]).agg(battery_billing_demand_reduction_kw=("reduction", "mean"),
                                               battery_basic_charge_saving_krw=("basic_charge_saving_krw", "sum"))
    add = energy.join(demand, how="outer").reset_index()
    out = kpis.merge(add, on=["year", "agent"], how="left")
    cols = list(add.columns.drop(["year", "agent"]))
    out[cols] = out[cols].fillna(0.0)
    return out


def storage_summary(model, invoices: pd.DataFrame) -> dict:
    """Stored (charged), delivered and lost MWh; mean monthly billing-demand reduction (kW, summed over
    owners) and the basic-charge saving it brings (KRW before fund and VAT); the batteries' capital cost
    and O&M booked (KRW)."""
    b = model.ledger.battery_energy()
    d = owner_demand_table(model)
    reduction = (d["billing_without_kw"] - d["billing_kw"]).groupby(d["month"]).sum()
    return {
        "batteries": model.batteries.n,
        "stored_mwh": round(float(b["charged_kwh"].sum()) / KWH_PER_MWH, 6),
        "stored_re_mwh": round(float(b["charged_re_kwh"].sum()) / KWH_PER_MWH, 6),
        "discharged_mwh": round(float(b["discharged_kwh"].sum()) / KWH_PER_MWH, 6),
        "discharged_re_mwh": round(float(b["discharged_re_kwh"].sum()) / KWH_PER_MWH, 6),
        "lost_mwh": round(float(b["loss_kwh"].sum()) / KWH_PER_MWH, 6),
        "peak_reduction_kw_mean": round(float(reduction.mean()) if len(reduction) else 0.0, 6),
        "basic_charge_saving_krw": round(float(d["basic_charge_saving_krw"].sum())),
        "capital_and_om_krw": int(invoices.loc[invoices["payer"].isin([s.name for s in model.batteries.specs]),
                                               "krw"].sum()),
    }
