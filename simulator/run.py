"""One simulation run: scenario file in, results folder out."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd
import yaml

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.errors import InputError, RunInterrupted, dotted_path
from re100sim.simulator.fields import input_files
from re100sim.simulator.folders import (
    OutputDirTaken,
    discard_output_dir,
    file_sha256,
    git_revision,
    package_versions,
    publish_output_dir,
    reserve_output_dir,
    write_json,
)
from re100sim.simulator.inputs.tariffs import TABLE_PACKAGE
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
    generator_kpis,
    money_residual_krw,
    net_cost_by_month,
    output_table,
    party_kpis,
    sale_limit_findings,
    tenant_kpis,
    tenant_monthly,
)
from re100sim.simulator.outputs.storage import (
    add_storage_kpis,
    add_storage_series,
    battery_table,
    owner_demand_table,
    storage_summary,
)
from re100sim.simulator.rules.certification import RPS_MARKET
from re100sim.simulator.scenario.config import Scenario, load_scenario_data
from re100sim.simulator.scenario.population import expand_tenants, prepare


@dataclass
class RunOutput:
    out_dir: Path
    summary: dict
    kpis: dict[str, pd.DataFrame]  # "tenants", "generators", "parties": the kpis_<name>.parquet tables


def default_out_dir(scenario: Scenario) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{scenario.name}-{stamp}"


def reserve(path: Path, scenario: Scenario, out_dir: Path | None) -> tuple[Path, Path]:
    """``(temporary folder, results folder)``: ``--out``, else ``output.dir``, else a new
    ``results/<scenario>-<timestamp>`` (with ``-2``, ``-3``... when runs start in the same second)."""
    if out_dir is not None:
        return reserve_output_dir(Path(out_dir)), Path(out_dir)
    if scenario.output.dir is not None:
        return reserve_output_dir(scenario.output.dir, str(path), "output.dir"), scenario.output.dir
    base = default_out_dir(scenario)
    for k in range(1, 1000):
        candidate = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            return reserve_output_dir(candidate), candidate
        except OutputDirTaken:
            continue
    raise InputError(str(base), "--out", "no free default folder name (give --out)")


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt is for SIGINT."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (delivered when it ends)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def run(
    path: Path,
    out_dir: Path | None = None,
    seed: int | None = None,
    on_year: Callable[[int], None] | None = None,
) -> RunOutput:
    """Simulate ``path`` and publish its results folder whole, or leave nothing (an error, SIGINT or
    SIGTERM removes what was written and the parent folders the run created)."""
    scenario, tenants = prepare(path, seed)
    tmp, published = None, False
    try:
        with _sigterm_raises():
            with _signals_deferred():  # a signal now would strand the folder before `tmp` is known
                tmp, out_dir = reserve(path, scenario, out_dir)
            model = ComplexModel(scenario, tenants, on_year=on_year)
            ledger = model.run()
            kpis, summary = _write(scenario, model, ledger, path, tmp)
            with _signals_deferred():
                publish_output_dir(tmp, out_dir)
                published = True
    except (KeyboardInterrupt, _Terminated) as e:
        if tmp is not None and not published:
            discard_output_dir(tmp)
        signum = signal.SIGINT if isinstance(e, KeyboardInterrupt) else signal.SIGTERM
        raise RunInterrupted(out_dir, signum, written=published) from None
    except BaseException:
        if tmp is not None:
            discard_output_dir(tmp)
        raise
    return RunOutput(out_dir, summary, kpis)


def copy_inputs(path: Path, scenario: Scenario, tmp: Path) -> list[dict]:
    """Make the results folder self-contained: ``scenario.yaml`` with the effective seed and every
    input file the run read (profiles, history CSVs) copied to ``inputs/``, their paths rewritten to
    the copies, so ``re100sim run DIR/scenario.yaml`` repeats the run anywhere. Returns the manifest
    entries (field, original path, copy, SHA-256)."""
    data = load_scenario_data(path)
    data["seed"] = scenario.seed
    if isinstance(data.get("output"), dict):
        data["output"].pop("dir", None)  # a re-run writes where it is told, not over this folder
    entries, copies = [], {}
    for loc, src in input_files(scenario):
        if src not in copies:
            name = src.name if src.name not in {c.name for c in copies.values()} else f"{len(copies)}-{src.name}"
            copies[src] = Path("inputs") / name
            (tmp / "inputs").mkdir(exist_ok=True)
            shutil.copyfile(src, tmp / copies[src])
        node = data
        for part in loc[:-1]:
            node = node[part] if isinstance(part, int) else node.setdefault(part, {})
        node[loc[-1]] = copies[src].as_posix()
        entries.append({"field": dotted_path(loc), "source": str(src), "copy": copies[src].as_posix(),
                        "sha256": file_sha256(tmp / copies[src])})
    (tmp / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return entries


def _write(scenario: Scenario, model: ComplexModel, ledger, path: Path, tmp: Path):
    ev = evaluate(scenario, model, ledger)
    write_tables(ev, tmp)
    inputs = copy_inputs(path, scenario, tmp)
    write_json(
        tmp / "manifest.json",
        {
            "scenario_file": str(path),
            "scenario_copy": "scenario.yaml",
            "scenario_sha256": file_sha256(path),
            "seed": scenario.seed,
            "inputs": inputs,
            # bundled data named, not copied: a different package version may carry another table
            "tariff_table": {"name": scenario.tariff.table, "sha256": hashlib.sha256(
                files(TABLE_PACKAGE).joinpath(f"{scenario.tariff.table}.yaml").read_bytes()).hexdigest()},
            "package_versions": package_versions(),
            "git_revision": git_revision(),
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        },
    )
    return ev.kpis, ev.summary


@dataclass
class Evaluation:
    """Everything a run reports, in memory: summary.json, per-agent yearly KPIs, series and tables."""

    summary: dict
    kpis: dict[str, pd.DataFrame]  # "tenants", "generators", "parties" (empty without tables)
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # file stem -> frame (invoices, certificates, ...; empty without tables)
    ledger: object  # the run's Ledger (monthly invoices, baseline, energy), for derived KPIs


def simulate(scenario: Scenario, tenants: list | None = None, tables: bool = False) -> Evaluation:
    """Simulate a validated scenario in memory and evaluate it, writing nothing (Monte Carlo runs).
    ``tables``: also the per-agent KPIs and the invoice/certificate tables (as ``run`` writes them)."""
    tenants = expand_tenants(scenario) if tenants is None else tenants
    model = ComplexModel(scenario, tenants)
    return evaluate(scenario, model, model.run(), tables)


def write_tables(ev: Evaluation, folder: Path) -> None:
    """A run's parquet tables and summary.json into ``folder``."""
    frames = {"timeseries_monthly": ev.monthly, "timeseries_yearly": ev.yearly, **ev.tables,
              **{f"kpis_{name}": table for name, table in ev.kpis.items()}}
    for stem, frame in frames.items():
        output_table(frame).to_parquet(folder / f"{stem}.parquet", index=False)
    write_json(folder / "summary.json", ev.summary)


def evaluate(scenario: Scenario, model: ComplexModel, ledger, tables: bool = True) -> Evaluation:
    """A finished run's summary and series (and, with ``tables``, its per-agent KPIs and tables)."""
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
                party_kpis(invoices, [c.name for c in model.batteries.clouds], "cloud_ess"),
            ],
            ignore_index=True,
        ),
    } if tables else {}
    if tables:
        kpis["tenants"] = add_storage_kpis(kpis["tenants"], model, invoices)
    adoption = model.datacollector.get_model_vars_dataframe()
    monthly, yearly = timeseries(invoices, baseline, t_energy, claims_by_tenant(certs, findings, tenants, ("month_key",)),
                                 adoption, {t: t for t in tenants} | owned_plants(model), generators,
                                 model.utility.name, model.broker.name, scenario.emission_factor_t_per_mwh)
    monthly, yearly = add_storage_series(monthly, yearly, model)
    summary = build_summary(scenario, model, invoices, baseline, t_energy, g_energy, claimed, findings)
    summary["ppa_prices_signed_krw_per_kwh"] = signed_price_summary(model.signings)
    frames = {
        "compliance": compliance_table(model), "invoices": invoices,
        "tenant_monthly": tenant_monthly(
            t_energy, baseline, net_cost_by_month(invoices, {t: t for t in tenants} | owned_plants(model))),
        "hourly_complex": ledger.hourly(), "certificates": certs, "certificate_findings": findings,
        "signings": signings_frame(model.signings),  # docs/decisions.md#prices
    } if tables else {}
    if tables and model.batteries.n:
        frames |= {"batteries": battery_table(model), "battery_demand": owner_demand_table(model)}
    return Evaluation(summary, kpis, monthly, yearly, frames, ledger)


def owned_plants(model) -> dict[str, str]:
    """Plant -> the tenant that owns it (tenant-owned plants behind a tenant's meter, and batteries)."""
    return {g.name: g.spec.host_tenant for g in model.generators if g.spec.owner == "tenant" and g.spec.host_tenant} \
        | {b.name: b.owner for b in model.batteries.specs}


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
