"""The ``mc``, ``sweep`` and ``sensitivity`` commands (registered by ``re100sim.simulator.cli``).

Only typer and rich are imported here: the simulator, pandas and Ray load when a command runs,
so ``re100sim --help`` stays light.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from re100sim.simulator.errors import InputError

console = Console()

# KPIs shown in the final table when present (summary.json keys, flattened).
HEADLINE = ["cost.savings_krw", "cost.savings_ex_vat_krw", "cost.tenant_total_krw", "energy.re_delivered_mwh",
            "re_share_annual", "re_share_hourly", "co2_t", "adoption.direct_ppa", "adoption.self_generation",
            "adoption.contracted_mw", "adoption.rooftop_mw"]

# A sensitivity design has thousands of points: per-point statistics only for sweeps of this size.
MAX_POINTS_IN_SUMMARY = 1000  # [E] a summary.json of a few MB at most

Scenario = Annotated[str, typer.Argument(help="scenario file or bundled name")]
Out = Annotated[Path, typer.Option("--out", help="results folder (new, or an interrupted one with --resume)")]
Runs = Annotated[int, typer.Option("--runs", min=1, help="Monte Carlo runs (per sweep point)")]
Workers = Annotated[Optional[int], typer.Option("--workers", min=1, help="local Ray workers (default: all cores; 1: in process)")]
Address = Annotated[Optional[str], typer.Option("--address", help="join this Ray cluster (ray start --head prints it)")]
Resume = Annotated[bool, typer.Option("--resume", help="complete an interrupted folder: run exactly the missing run ids")]
Sampler = Annotated[str, typer.Option("--sampler", help="mc (plain Monte Carlo) or lhs (Latin hypercube)")]
Seed = Annotated[Optional[int], typer.Option("--seed", min=0, help="root seed (default: the scenario's seed)")]
KeepRuns = Annotated[bool, typer.Option("--keep-runs", help="also write each run's invoices and tables (DIR/runs/)")]
Report = Annotated[bool, typer.Option("--report", help="write DIR/report.html at the end")]



def mc(scenario: Scenario, runs: Runs, out: Out, workers: Workers = None, address: Address = None,
       resume: Resume = False, sampler: Sampler = "mc", seed: Seed = None, keep_runs: KeepRuns = False,
       report: Report = False) -> None:
    """Monte Carlo: N runs with the scenario's uncertain inputs and stochastic processes drawn per run."""
    job, plan = _job("mc", scenario, [{}], [{}], runs, sampler, seed, out, keep_runs)
    summary = _execute(job, plan, out, workers, address, resume)
    _print_quantiles(summary, out)
    _report(out, report)


def sweep(scenario: Scenario, out: Out, runs: Annotated[Optional[int], typer.Option("--runs", min=1, help="runs per point (default: the spec's, else 1)")] = None,
          set_: Annotated[Optional[list[str]], typer.Option("--set", help="PATH=v1,v2,... (repeatable; the grid is their product)")] = None,
          spec: Annotated[Optional[str], typer.Option("--spec", help="sweep spec YAML, or a bundled spec name")] = None,
          workers: Workers = None, address: Address = None, resume: Resume = False, sampler: Sampler = "mc",
          seed: Seed = None, keep_runs: KeepRuns = False, report: Report = False) -> None:
    """A grid of input values times N Monte Carlo runs each (common random numbers across points)."""
    from re100sim.simulator.batch.sweeps import load_spec, parse_sets, points_of

    grid, extras, uncertainty, spec_runs = load_spec(spec) if spec else ({}, (), None, 1)
    grid |= parse_sets(set_ or [])
    if not grid:
        raise InputError("sweep", "--set", "no grid (give --set PATH=v1,v2 or --spec FILE)")
    points, labels = points_of(grid)
    job, plan = _job("sweep", scenario, points, labels, runs or spec_runs, sampler, seed, out, keep_runs,
                     extras=extras, uncertainty=uncertainty, grid=grid)
    summary = _execute(job, plan, out, workers, address, resume)
    if "ppa_terms" in extras:
        _terms(out, list(grid))
    _print_quantiles(summary, out)
    _report(out, report)


def sensitivity(scenario: Scenario, out: Out,
                method: Annotated[str, typer.Option("--method", help="sobol or morris")] = "sobol",
                samples: Annotated[int, typer.Option("--samples", min=2, help="N: base samples (sobol) or trajectories (morris)")] = 64,
                workers: Workers = None, address: Address = None, resume: Resume = False, seed: Seed = None) -> None:
    """Global sensitivity (SALib) of the KPIs to the scenario's uncertain inputs -> DIR/indices.parquet."""
    from re100sim.simulator.batch.sensitivity import METHODS, design_points, indices

    if method not in METHODS:
        raise InputError("sensitivity", "--method", f"unknown method '{method}' (one of: {', '.join(METHODS)})")
    sc, path = _prepared(scenario)
    if sc.uncertainty is None:
        raise InputError(str(path), "uncertainty", "missing (sensitivity needs declared uncertain inputs)")
    root = sc.seed if seed is None else seed
    u, points = design_points(sc.uncertainty, method, samples, root)
    job, plan = _job("sensitivity", scenario, points, [], 1, method, seed, out, False,
                     plan_extra={"method": method, "samples": samples})
    _execute(job, plan, out, workers, address, resume)
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    kpis = [k for k in HEADLINE if k in runs.columns]
    table = indices(method, sc.uncertainty.paths, u, runs, kpis, root)
    table.to_parquet(out / "indices.parquet", index=False)
    _print_indices(table, method)
    console.print(f"results: {out}")


# --- shared ------------------------------------------------------------------------------------


def _prepared(scenario: str):
    from re100sim.simulator.scenario.config import resolve_scenario_path
    from re100sim.simulator.scenario.population import prepare

    path = resolve_scenario_path(scenario)
    return prepare(path)[0], path


def _job(command, scenario, points, labels, runs, sampler, seed, out, keep_runs, extras=(), uncertainty=None,
         grid=None, plan_extra=None):
    """Validate everything (one error line, nothing written) and build the job and its manifest plan."""
    from re100sim.simulator.batch.samplers import SAMPLERS
    from re100sim.simulator.batch.store import sha256_json
    from re100sim.simulator.batch.worker import Job
    from re100sim.simulator.scenario.config import validation_to_input_error
    from re100sim.simulator.scenario.population import revalidator
    from re100sim.simulator.scenario.uncertainty import apply, check_inputs, expand_path

    if sampler not in SAMPLERS and command != "sensitivity":
        raise InputError(command, "--sampler", f"unknown sampler '{sampler}' (one of: {', '.join(SAMPLERS)})")
    sc, path = _prepared(scenario)
    revalidate = revalidator(path)
    if uncertainty is not None:  # a sweep spec's uncertainty block replaces the scenario's
        sc = revalidate(sc.model_dump() | {"uncertainty": uncertainty})
        for field, problem in check_inputs(sc, revalidate):
            raise InputError(str(path), field, problem)
    if command == "sweep":
        from pydantic import ValidationError

        for p in points:
            try:
                apply(sc, p, revalidate)
            except ValidationError as e:
                raise validation_to_input_error(str(path), e) from None
            except ValueError as e:
                raise InputError(str(path), "--set", str(e)) from None
    # a path a point sets (also through [*]) is not drawn: the sweep's value holds
    set_paths = {c for p in points for k in p for c in expand_path(sc, k)}
    sampled = [p for p in (sc.uncertainty.paths if sc.uncertainty else [])
               if not set_paths & set(expand_path(sc, p))]
    root = sc.seed if seed is None else seed
    scenario_sha = sha256_json(sc.model_dump(mode="json"))
    plan = {"command": command, "scenario_file": str(path), "scenario_sha256": scenario_sha,
            "sampler": sampler, "root_seed": root, "runs": len(points) * runs, "runs_per_point": runs,
            "inputs": sampled, "extras": list(extras)} | (plan_extra or {})
    if grid is not None:
        plan["grid"] = grid
    # everything that decides the runs' inputs and seeds (also the workers' cache key)
    plan["plan_sha256"] = sha256_json({"points": points, "labels": labels, "sampled": sampled, "extras": list(extras),
                                       "sampler": sampler, "root_seed": root, "runs_per_point": runs})
    job = Job(key=plan["plan_sha256"] + scenario_sha, scenario=sc, scenario_path=str(path), points=points,
              runs_per_point=runs, sampler=sampler if command != "sensitivity" else "mc", root_seed=root,
              sampled=sampled, labels=labels if any(labels) else [], extras=tuple(extras),
              keep_runs_dir=str(out / "runs") if keep_runs else None)
    return job, plan


def _execute(job, plan, out: Path, workers, address, resume) -> dict:
    """Run the job's missing runs, streaming parts; compact; write summary.json."""
    from re100sim.simulator.batch.executor import executor
    from re100sim.simulator.batch.store import PartWriter, compact, open_dir, record_session, write_summary

    done = open_dir(out, plan, resume)
    todo = [i for i in range(job.total_runs) if i not in done] if done else range(job.total_runs)
    if len(todo):
        ex = executor(workers, address)
        writer = PartWriter(out)
        try:
            record_session(out, ex.info | {"ray_init_s": round(ex.init_s, 3), "runs_todo": len(todo)})
            _stream(ex.map(job, todo), writer, len(todo), plan["command"])
        finally:
            writer.flush()
            ex.close()
    compact(out)
    set_paths = list(dict.fromkeys(k for p in job.points for k in p))
    return write_summary(out, job.sampled + set_paths, job.points if len(job.points) <= MAX_POINTS_IN_SUMMARY else [{}])


def _stream(results, writer, total: int, what: str) -> None:
    failed, t0 = 0, time.perf_counter()
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[failed]} failed"), TextColumn("{task.fields[rate]}"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"{what} runs", total=total, failed=0, rate="")
        for n, (row, yearly) in enumerate(results, start=1):
            writer.add(row, yearly)
            failed += row["status"] != "ok"
            rate = n / max(time.perf_counter() - t0, 1e-9) * 60.0
            bar.update(task, advance=1, failed=failed, rate=f"{rate:,.0f} runs/min")


def _report(out: Path, wanted: bool) -> None:
    """The set's HTML page (``re100sim report DIR``) when ``--report`` asked for it."""
    if wanted:
        from re100sim.simulator.outputs.report import build_report

        console.print(f"report: {build_report([out])}")


def _print_quantiles(summary: dict, out: Path) -> None:
    t = Table(title=f"KPI quantiles over {summary['runs']['ok']} runs ({summary['runs']['error']} failed)")
    for c in ("KPI", "mean", "P10", "P50", "P90"):
        t.add_column(c, justify="left" if c == "KPI" else "right", no_wrap=True)
    for k in [k for k in HEADLINE if k in summary["kpis"]]:
        s = summary["kpis"][k]
        if s.get("n"):
            t.add_row(k, *(f"{s[q]:,.4g}" if abs(s[q]) < 1e4 else f"{s[q]:,.0f}" for q in ("mean", "p10", "p50", "p90")))
    console.print(t)
    console.print(f"results: {out}")


def _print_indices(table, method: str) -> None:
    cols = ["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol" else ["mu_star", "mu_star_conf", "sigma"]
    t = Table(title=f"{method} sensitivity indices (rank 1 = most influential)")
    for c in ["KPI", "rank", "input", *cols]:
        t.add_column(c, justify="left" if c in ("KPI", "input") else "right", no_wrap=c in ("KPI", "input"))
    for _, r in table.sort_values(["kpi", "rank"]).iterrows():
        t.add_row(r["kpi"], str(r["rank"]), r["input"], *(f"{r[c]:.3g}" for c in cols))
    console.print(t)


def _terms(out: Path, term_columns: list[str]) -> None:
    import pandas as pd

    from re100sim.simulator.batch.terms import terms_table

    table = terms_table(pd.read_parquet(out / "runs.parquet"), term_columns)
    table.to_parquet(out / "terms.parquet", index=False)
    t = Table(title="direct-PPA terms: P(pays less than grid-only over the contract); money in million KRW",
              caption="full table: terms.parquet")
    short = {c: c.removeprefix("contracts[*].").split(".")[-1].removesuffix("_krw_per_kwh") for c in term_columns}
    metrics = [(c, c.replace("p_save.", "P ").replace("p10_revenue_krw.", "P10 rev ").replace("p50_npv_krw.", "P50 NPV ")
                .replace("p50_broker_margin_krw", "broker P50").replace("break_even_price_krw_per_kwh.", "break-even "))
               for c in table.columns if c.startswith(("p_save.", "p10_revenue", "p50_npv", "p50_broker", "break_even"))]
    for label in ["point", *short.values(), *(m for _, m in metrics)]:
        t.add_column(label, justify="right")
    for _, r in table.iterrows():
        cells = [f"{r[c]:.2f}" if c.startswith("p_save") else f"{r[c]:.1f}" if c.startswith("break_even")
                 else f"{r[c] / 1e6:,.1f}" for c, _ in metrics]
        t.add_row(str(r["point_id"]), *(str(r[c]) for c in term_columns), *cells)
    Console(width=max(console.width, 40 + 11 * (len(term_columns) + len(metrics)))).print(t)
