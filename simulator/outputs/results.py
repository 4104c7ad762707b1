"""Run outputs: KPIs, summary, manifest, and the results folder.

A results folder is written into a temporary sibling and renamed into place
only when complete, so a failed run leaves nothing half-written and an
existing run is never overwritten.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from re100sim.simulator.errors import InputError

KWH_PER_MWH = 1000.0
# Residuals below these are floating-point noise (reported, never hidden).
ENERGY_TOLERANCE_MWH = 1e-6
MONEY_TOLERANCE_KRW = 0.5


def _year(month: pd.Series) -> pd.Series:
    return month.str.slice(0, 4).astype(int)


def tenant_kpis(invoices: pd.DataFrame, baseline: pd.DataFrame, energy: pd.DataFrame, tenants: list[str],
                emission_factor_t_per_mwh: float, claimed_mwh: pd.Series) -> pd.DataFrame:
    """Per tenant and calendar year: energy, cost vs grid-only baseline, RE shares, CO2.

    - ``re_share_hourly`` = sum over hours of min(load, RE delivered) / load (the 24/7 measure);
      RE delivered (self + PPA + pool applied) never exceeds the hour's load, so it is their sum.
    - ``re_share_annual`` = RE claimed (certificates retired, MWh, from the certificate ledger;
      ``claimed_mwh`` indexed by (year, agent)) / use.
    - CO2: location-based = (load - self-generation) x grid factor; market-based = (load - RE
      claimed) x grid factor (docs/domain.md#emissions).
    """
    e = energy.assign(year=energy["month"] // 12)
    g = e.groupby(["year", "agent"], sort=True)[["load_kwh", "grid_kwh", "self_kwh", "ppa_kwh", "pool_kwh"]].sum()
    paid = invoices[invoices["payer"].isin(tenants)]
    cost = paid.assign(year=_year(paid["month"])).groupby(["year", "payer"])["krw"].sum()
    cost.index.names = ["year", "agent"]
    base = baseline.assign(year=baseline["month"] // 12).groupby(["year", "agent"])["baseline_krw"].sum()
    out = pd.DataFrame(index=g.index)
    out["load_mwh"] = g["load_kwh"] / KWH_PER_MWH
    out["grid_mwh"] = g["grid_kwh"] / KWH_PER_MWH
    out["re_delivered_mwh"] = (g["self_kwh"] + g["ppa_kwh"] + g["pool_kwh"]) / KWH_PER_MWH
    out["re_claimed_mwh"] = claimed_mwh.reindex(out.index, fill_value=0.0).astype(float)
    out["cost_krw"] = cost.reindex(out.index, fill_value=0).astype(np.int64)
    out["baseline_krw"] = base.reindex(out.index, fill_value=0).astype(np.int64)
    out["savings_krw"] = out["baseline_krw"] - out["cost_krw"]
    out["re_share_annual"] = _ratio(out["re_claimed_mwh"], out["load_mwh"])
    out["re_share_hourly"] = _ratio(out["re_delivered_mwh"], out["load_mwh"])
    out["co2_location_t"] = (out["load_mwh"] - g["self_kwh"] / KWH_PER_MWH) * emission_factor_t_per_mwh
    out["co2_market_t"] = (out["load_mwh"] - out["re_claimed_mwh"]) * emission_factor_t_per_mwh
    return out.reset_index().assign(agent_type="tenant")


def generator_kpis(invoices: pd.DataFrame, energy: pd.DataFrame, generators: list[str]) -> pd.DataFrame:
    if energy.empty:
        return pd.DataFrame(columns=["year", "agent", "agent_type"])
    e = energy.assign(year=energy["month"] // 12)
    g = e.groupby(["year", "agent"], sort=True)[["gen_kwh", "export_kwh", "curtailed_kwh"]].sum() / KWH_PER_MWH
    g.columns = ["gen_mwh", "export_mwh", "curtailed_mwh"]
    got = invoices[invoices["payee"].isin(generators)]
    rev = got.assign(year=_year(got["month"])).groupby(["year", "payee"])["krw"].sum()
    rev.index.names = ["year", "agent"]
    g["revenue_krw"] = rev.reindex(g.index, fill_value=0).astype(np.int64)
    return g.reset_index().assign(agent_type="generator")


def sale_limit_findings(generator_energy: pd.DataFrame, specs) -> list[dict]:
    """Self-use plants that sold more than their limit of a year's output (docs/domain.md#procurement-routes
    "Self-use plants"; docs/domain.md#self-generation: 50 % in the KIEE 2020 green-tariff paper, 100 % for solar since 2016)."""
    hosted = {g.name: g for g in specs if g.host_tenant is not None}
    if generator_energy.empty or not hosted:
        return []
    e = generator_energy[generator_energy["agent"].isin(hosted)].assign(year=lambda d: d["month"] // 12)
    y = e.groupby(["agent", "year"])[["gen_kwh", "export_kwh", "ppa_surplus_export_kwh", "ppa_kwh"]].sum()
    out = []
    for (plant, year), row in y.iterrows():
        sold = row["export_kwh"] + row["ppa_surplus_export_kwh"] + row["ppa_kwh"]
        share = sold / row["gen_kwh"] if row["gen_kwh"] > 0 else 0.0
        limit = hosted[plant].sale_limit_pct() / 100.0
        if share > limit + 1e-12:
            out.append({"plant": plant, "year": int(year), "sold_share": round(float(share), 6), "limit": limit,
                        "message": f"self-use plant {plant} sold {share:.1%} of its {year} output (limit {limit:.0%})"})
    return out


def party_kpis(invoices: pd.DataFrame, parties: list[str], agent_type: str) -> pd.DataFrame:
    """Revenue (receipts) and payments per year for a non-physical party (utility, market)."""
    inv = invoices.assign(year=_year(invoices["month"]))
    rows = []
    for p in parties:
        rec = inv[inv["payee"] == p].groupby("year")["krw"].sum()
        pay = inv[inv["payer"] == p].groupby("year")["krw"].sum()
        years = sorted(set(rec.index) | set(pay.index))
        for y in years:
            rows.append({"year": y, "agent": p, "receipts_krw": int(rec.get(y, 0)),
                         "payments_krw": int(pay.get(y, 0))})
    df = pd.DataFrame(rows, columns=["year", "agent", "receipts_krw", "payments_krw"])
    df["net_krw"] = df["receipts_krw"] - df["payments_krw"]
    return df.assign(agent_type=agent_type)


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).fillna(0.0)


def money_residual_krw(invoices: pd.DataFrame, pass_through: dict[str, tuple[str, ...]]) -> float:
    """KRW that did not balance, summed over months.

    Every line moves money from a payer to a payee, so the sum over all agents of
    (receipts - payments) is zero by construction (checked too). The test that can
    fail is that pass-through parties end each month even, apart from their own revenue
    items: the power market pays plants what KEPCO pays it; the broker passes PPA energy
    and network fees through and keeps only its fees (the Namdong direct-PPA proposal).
    """
    res = 0.0
    for party, own_items in pass_through.items():
        inn = invoices[(invoices["payee"] == party) & ~invoices["item"].isin(own_items)].groupby("month")["krw"].sum()
        out = invoices[invoices["payer"] == party].groupby("month")["krw"].sum()
        res += float((inn.sub(out, fill_value=0)).abs().sum())
    flows = invoices.groupby("payee")["krw"].sum().sub(invoices.groupby("payer")["krw"].sum(), fill_value=0)
    return res + abs(float(flows.sum()))


def energy_residual_mwh(tenant_energy: pd.DataFrame, generator_energy: pd.DataFrame,
                        battery_energy: pd.DataFrame | None = None) -> float:
    """Sum of |imbalance| of every tenant-month, plant-month and battery-month balance, MWh.

    Tenant: load + grid bought to charge batteries = self + PPA + pool + battery delivered + grid.
    Plant: generation = self + PPA applied + PPA surplus exported + pool applied + exported +
    curtailed + stored. Battery: charged - delivered - losses = change of its state of charge
    (docs/settlement-kernel.md "Invariants").
    """
    t = tenant_energy
    r = (t["load_kwh"] + t["battery_grid_charge_kwh"] - t["self_kwh"] - t["ppa_kwh"] - t["pool_kwh"]
         - t["battery_discharged_kwh"] - t["grid_kwh"]).abs().sum()
    if not generator_energy.empty:
        g = generator_energy
        r += (g["gen_kwh"] - g["self_kwh"] - g["ppa_kwh"] - g["ppa_surplus_export_kwh"]
              - g["pool_applied_kwh"] - g["export_kwh"] - g["curtailed_kwh"] - g["stored_kwh"]).abs().sum()
    if battery_energy is not None and not battery_energy.empty:
        b = battery_energy
        r += (b["charged_kwh"] - b["discharged_kwh"] - b["loss_kwh"] - b["soc_end_kwh"] + b["soc_start_kwh"]).abs().sum()
    return float(r) / KWH_PER_MWH


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    names = ["re100sim", "numpy", "pandas", "pyarrow", "mesa", "simpy", "pvlib", "holidays", "pydantic", "Cython"]
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_revision() -> str | None:
    here = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() or None if rev.returncode == 0 else None


def reserve_output_dir(out_dir: Path) -> Path:
    """Check the destination is new; return the temporary folder to write into."""
    if out_dir.exists():
        raise InputError(str(out_dir), "--out", "already exists (a new folder: runs are never overwritten)")
    tmp = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish_output_dir(tmp: Path, out_dir: Path) -> None:
    os.rename(tmp, out_dir)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
