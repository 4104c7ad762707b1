"""Storage outputs: what the batteries stored, delivered and lost, and what they did to peaks and bills."""
from __future__ import annotations

import pandas as pd

from re100sim.simulator.outputs.ledger import month_label

KWH_PER_MWH = 1000.0


def battery_table(model) -> pd.DataFrame:
    """Per battery and month: kWh charged, delivered, lost, state of charge (ledger.battery_energy), with the
    owner and month label."""
    df = model.ledger.battery_energy()
    owner = {b.name: b.owner for b in model.scenario.batteries}
    return df.assign(owner=df["agent"].map(owner), month=df["month"].map(month_label))


def owner_demand_table(model) -> pd.DataFrame:
    """Per battery owner and month: billed peak without its batteries, billing demand with and without
    them, and the basic-charge saving (market.storage.BatteryFleet.book_demand)."""
    cols = ["month", "tenant", "peak_without_kw", "billing_without_kw", "billing_kw", "basic_charge_saving_krw"]
    df = pd.DataFrame(model.batteries.demand_rows, columns=cols)
    names = [t.name for t in model.tenants]
    return df.assign(tenant=df["tenant"].map(lambda t: names[t]), month=df["month"].map(month_label))


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
