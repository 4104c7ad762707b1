"""Benchmark: a 1,000-tenant complex over 20 years, hourly, with agent decisions on, one core.

The complex is the bundled ``smart-green-complex`` with its tenant groups scaled to 1,000
tenants (same shares). As a same-run baseline (machines here are noisy) the script also
times building the inputs alone (calendars, tariff rates, 1,000 loads, plant outputs,
prices) for the same 20 years, so the ratio shows what decisions, settlement, billing,
certificates and outputs add.

Usage: ``python experiments/bench_scale.py [--tenants 1000] [--years 20] [--json PATH]``

JSON keys:
- ``seconds_1000_tenants_20y``: wall time of the complete run (validate, simulate, write), s;
- ``peak_rss_mb``: peak resident memory of the process during the run, MB;
- ``seconds_inputs_only``: the inputs-only baseline, s; ``ratio_run_to_inputs``;
- ``tenants``, ``years``, ``hours``, ``adoption`` (final-year counts), ``date``, ``machine``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import yaml
from bench_run import (
    inputs_only,  # the same inputs-only baseline (experiments/ is on sys.path)
)
from rich.console import Console
from rich.table import Table

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.run import run


def scaled_scenario(tenants: int, years: int, folder: Path) -> Path:
    data = yaml.safe_load(bundled_scenarios()["smart-green-complex"].read_text(encoding="utf-8"))
    total = sum(g["count"] for g in data["tenants"])
    counts = [round(g["count"] * tenants / total) for g in data["tenants"]]
    counts[0] += tenants - sum(counts)
    for g, n in zip(data["tenants"], counts):
        g["count"] = n
    data.update(name=f"scale-{tenants}", years=years)
    path = folder / "scale.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = scaled_scenario(args.tenants, args.years, Path(tmp))
        t0 = time.perf_counter()
        out = run(path, Path(tmp) / "out")
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        t0 = time.perf_counter()
        inputs_only(path)
        t_inputs = time.perf_counter() - t0
    s = out.summary
    result = {
        "tenants": s["tenants"], "years": s["years"], "hours": s["hours"],
        "seconds_1000_tenants_20y": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1),
        "seconds_inputs_only": round(t_inputs, 2), "ratio_run_to_inputs": round(seconds / t_inputs, 2),
        "adoption": s["adoption"], "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    table = Table(title=f"{s['tenants']} tenants x {s['years']} years, hourly, decisions on (one core)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("complete run, s", f"{seconds:.1f}")
    table.add_row("inputs-only baseline, s", f"{t_inputs:.1f}")
    table.add_row("run / inputs-only", f"{seconds / t_inputs:.2f}x")
    table.add_row("peak RSS, MB", f"{peak_mb:.0f}")
    table.add_row("final adopters (non-grid)", str(s["tenants"] - s["adoption"]["grid"]))
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
