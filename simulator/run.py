"""One simulation run: scenario file in, results folder out."""
from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.market.monthly import CAPITAL, CAPITAL_ITEMS, KEA, MARKET, NTS, OM_CONTRACTOR, OM_ITEM
from re100sim.simulator.market.round import signed_price_summary, signings_frame
from re100sim.simulator.outputs.reporting import (
    adoption_summary,
    compliance_summary,
    compliance_table,
    counterparty_risk,
    timeseries,
)
from re100sim.simulator.outputs.results import (
    KWH_PER_MWH,
    claims_by_tenant,
    energy_residual_mwh,
    file_sha256,
    generator_kpis,
    git_revision,
    money_residual_krw,
    net_cost_by_month,
    package_versions,
    party_kpis,
    publish_output_dir,
    reserve_output_dir,
    sale_limit_findings,
    tenant_kpis,
    write_json,
)
from re100sim.simulator.outputs.storage import (
    add_storage_kpis,
    battery_table,
    owner_demand_table,
    storage_summary,
)
from re100sim.simulator.rules.certification import RPS_MARKET
from re100sim.simulator.scenario.config import Scenario
from re100sim.simulator.scenario.population import prepare


@dataclass
class RunOutput:
    out_dir: Path
    summary: dict
    kpis: dict[str, pd.DataFrame]  # "tenants", "generators", "parties": the kpis_<name>.parquet tables


def default_out_dir(scenario: Scenario) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario.name}-{stamp}"


def run(
    path: Path,
    out_dir: Path | None = None,
    seed: int | None = None,
    on_year: Callable[[int], None] | None = None,
) -> RunOutput:
    scenario, tenants = prepare(path, seed)
    out_dir = Path(out_dir or scenario.output.dir or default_out_dir(scenario))
    tmp = reserve_output_dir(out_dir)
    try:
        model = ComplexModel(scenario, tenants, on_year=on_year)
        ledger = model.run()
        kpis, summary = _write(scenario, model, ledger, path, tmp)
        publish_output_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunOutput(out_dir, summary, kpis)


def _write(scenario: Scenario, model: ComplexModel, ledger, path: Path, tmp: Path):
    invoices = ledger.invoices()
    baseline = ledger.baseline()
    t_energy = ledger.tenant_energy()
    g_energy = ledger.generator_energy()
    tenants = ledger.tenants
    generators = [g.name for g in model.generators]
    certs = model.certs.batches_frame()
    findings = model.certs.findings_frame()
    claimed = claims_by_tenant(certs, findings, tenants)
    # one table per agent type, each with only the columns that apply to it (no NaN padding)
    kpis = {
        "tenants": tenant_kpis(invoices, baseline, t_energy, tenants, scenario.emission_factor_t_per_mwh, claimed,
                               owned_plants(model)),
        "generators": generator_kpis(invoices, g_energy, generators),
        "parties": pd.concat(
            [
                party_kpis(invoices, [model.utility.name], "utility"),
                party_kpis(invoices, [MARKET, KEA, RPS_MARKET], "market"),
                party_kpis(invoices, [model.broker.name], "broker"),
                party_kpis(invoices, [NTS], "tax_authority"),
                party_kpis(invoices, [CAPITAL, OM_CONTRACTOR], "plant_supplier"),
            ],
            ignore_index=True,
        ),
    }
    kpis["tenants"] = add_storage_kpis(kpis["tenants"], model)
    adoption = model.datacollector.get_model_vars_dataframe()
    monthly, yearly = timeseries(invoices, baseline, t_energy, claims_by_tenant(certs, findings, tenants, ("month_key",)),
                                 adoption, {t: t for t in tenants} | owned_plants(model), generators,
                                 model.utility.name, model.broker.name, scenario.emission_factor_t_per_mwh)
    monthly.to_parquet(tmp / "timeseries_monthly.parquet", index=False)
    yearly.to_parquet(tmp / "timeseries_yearly.parquet", index=False)
    compliance_table(model).to_parquet(tmp / "compliance.parquet", index=False)
    invoices.to_parquet(tmp / "invoices.parquet", index=False)
    for name, table in kpis.items():
        table.to_parquet(tmp / f"kpis_{name}.parquet", index=False)
    certs.to_parquet(tmp / "certificates.parquet", index=False)
    findings.to_parquet(tmp / "certificate_findings.parquet", index=False)
    if model.batteries.n:
        battery_table(model).to_parquet(tmp / "batteries.parquet", index=False)
        owner_demand_table(model).to_parquet(tmp / "battery_demand.parquet", index=False)
    summary = build_summary(scenario, model, invoices, baseline, t_energy, g_energy, claimed, findings)
    signings_frame(model.signings).to_parquet(tmp / "signings.parquet", index=False)  # docs/decisions.md#prices
    summary["ppa_prices_signed_krw_per_kwh"] = signed_price_summary(model.signings)
    write_json(tmp / "summary.json", summary)
    shutil.copyfile(path, tmp / "scenario.yaml")
    write_json(
        tmp / "manifest.json",
        {
            "scenario_file": str(path),
            "scenario_copy": "scenario.yaml",
            "scenario_sha256": file_sha256(path),
            "seed": scenario.seed,
            "package_versions": package_versions(),
            "git_revision": git_revision(),
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        },
    )
    return kpis, summary


def owned_plants(model) -> dict[str, str]:
    """Plant -> the tenant that owns it (tenant-owned plants behind a tenant's meter, and batteries)."""
    return {g.name: g.spec.host_tenant for g in model.generators if g.spec.owner == "tenant" and g.spec.host_tenant} \
        | {b.name: b.owner for b in model.scenario.batteries}


def build_summary(scenario, model, invoices, baseline, t_energy, g_energy, claimed: pd.DataFrame, findings) -> dict:
    tenants = model.ledger.tenants
    re_claimed = float(claimed["counted_mwh"].sum())
    load = t_energy["load_kwh"].sum() / KWH_PER_MWH
    re_delivered = (t_energy["self_kwh"] + t_energy["ppa_kwh"] + t_energy["pool_kwh"]
                    + t_energy["battery_re_kwh"]).sum() / KWH_PER_MWH
    surplus = (
        (g_energy["export_kwh"] + g_energy["ppa_surplus_export_kwh"] + g_energy["curtailed_kwh"]).sum() / KWH_PER_MWH
        if not g_energy.empty else 0.0
    )
    cost = net_cost_by_month(invoices, {t: t for t in tenants} | owned_plants(model)).sum()
    own = invoices[invoices["payer"].isin(list(owned_plants(model)))]
    base = baseline[["baseline_krw", "baseline_ex_vat_krw"]].sum()
    grid = t_energy["grid_kwh"].sum() / KWH_PER_MWH
    ef = scenario.emission_factor_t_per_mwh
    return {
        "scenario": scenario.name,
        "start_date": scenario.start_date.isoformat(),
        "years": scenario.years,
        "hours": sum((b - a).days * 24 for a, b in model.blocks),
        "seed": scenario.seed,
        "tenants": len(model.tenants),
        "generators": len(model.generators),
        "energy": {
            "load_mwh": round(load, 6),
            "grid_mwh": round(grid, 6),
            "re_delivered_mwh": round(re_delivered, 6),
            "surplus_mwh": round(surplus, 6),
        },
        # Tenants' net cost (paid less received, own plants' capital cost and O&M included), with and
        # without VAT; ex VAT is the economic figure (factories reclaim input VAT).
        "cost": {
            "tenant_total_krw": int(cost["cost_krw"]),
            "baseline_grid_only_krw": int(base["baseline_krw"]),
            "savings_krw": int(base["baseline_krw"] - cost["cost_krw"]),
            "tenant_total_ex_vat_krw": int(cost["cost_ex_vat_krw"]),
            "baseline_grid_only_ex_vat_krw": int(base["baseline_ex_vat_krw"]),
            "savings_ex_vat_krw": int(base["baseline_ex_vat_krw"] - cost["cost_ex_vat_krw"]),
            "own_plant_capital_krw": int(own.loc[own["item"].isin(CAPITAL_ITEMS), "krw"].sum()),
            "own_plant_om_krw": int(own.loc[own["item"] == OM_ITEM, "krw"].sum()),
        },
        "re_share_annual": round(re_claimed / load, 9) if load else 0.0,
        "re_claimed_mwh": round(re_claimed, 6),
        "re_share_hourly": round(re_delivered / load, 9) if load else 0.0,
        # market-based: only RE that counts toward GHG reduction is zero-emission (docs/domain.md#procurement-routes)
        "co2_t": round((load - float(claimed["co2_mwh"].sum())) * ef, 6),
        "co2_location_t": round((load - t_energy["self_kwh"].sum() / KWH_PER_MWH) * ef, 6),
        "certificates": {
            "issued_mwh": round(model.certs.issued(), 6),
            "retired_by_tenants_mwh": round(float(claimed["mwh"].sum()), 6),
            "double_counting_findings": int((findings["problem"] == "double_claim").sum()) if len(findings) else 0,
            "over_issuance_findings": int((findings["problem"] == "over_issuance").sum()) if len(findings) else 0,
            "issued_twice_findings": int((findings["problem"] == "issued_twice").sum()) if len(findings) else 0,
            "issued_twice_mwh": round(float(findings.loc[findings["problem"] == "issued_twice", "excess_mwh"].sum()), 6)
            if len(findings) else 0.0,
        },
        "storage": storage_summary(model, invoices),
        "adoption": adoption_summary(model),
        "compliance": compliance_summary(model),
        "broker_counterparty_risk": counterparty_risk(model, g_energy),
        "findings": {"self_use_sale_limit": sale_limit_findings(g_energy, [g.spec for g in model.generators])},
        "invariants": {
            "energy_residual_mwh": energy_residual_mwh(t_energy, g_energy, model.ledger.battery_energy()),
            # max |residual| of the ledger's recount: MWh and certificates issued - held - retired,
            # index drift, batches retired twice or without an owner (all 0 when consistent)
            "certificate_residual": max(abs(v) for v in model.certs.check().values()),
            "money_residual_krw": money_residual_krw(
                invoices, {MARKET: (), model.broker.name: ("broker_fee",)}
            ),
        },
    }
