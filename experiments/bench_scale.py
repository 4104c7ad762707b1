"""Benchmark: whole complexes (1,000 to 10,000 tenants) over 20 years, hourly, decisions on, one core.

The complex is the bundled ``smart-green-complex`` with its tenant groups scaled to N tenants
(same shares). Each size runs in a fresh subprocess, so its peak RSS is its own. As a
same-run baseline (machines here are noisy) each subprocess also times building the inputs
alone (calendars, tariff rates, N loads, plant outputs, prices) for the same years, so the
ratio shows what decisions, settlement, billing, certificates and outputs add. The time
exponent is the least-squares slope of log(run seconds) on log(tenants) over the sizes run.
The memory check (a run holds one calendar year of books, not the horizon: simulator/outputs/stream.py)
runs ``--rss-tenants`` tenants (default: the smallest size) again over ``--short-years`` (default 5)
years and compares the peak RSS of the two horizons.

Usage: ``python experiments/bench_scale.py [--tenants 1000 3000 10000] [--years 20]
[--short-years 5] [--rss-tenants N] [--no-inputs] [--json PATH]``

JSON keys (``<N>`` is each tenant count, ``<Y>`` is ``--years``):
- ``seconds_<N>_tenants_<Y>y``: wall time of the complete run (validate, simulate, write), s;
- ``cpu_seconds_<N>_tenants_<Y>y``: CPU time (user + system) of that run, s: on a shared machine
  wall time includes waiting for a core, CPU time much less so;
- ``peak_rss_mb_<N>``: peak resident memory of that run's process, MB;
- ``seconds_inputs_only_<N>``: the inputs-only baseline for that size, s (absent with ``--no-inputs``);
- ``ratio_run_to_inputs_<N>``: seconds_<N>_tenants_<Y>y / seconds_inputs_only_<N>;
- ``time_exponent``: fitted exponent b in seconds ~ tenants^b (target: at most 1.05), and
  ``cpu_time_exponent``: the same fitted on CPU seconds;
- ``peak_rss_mb_<M>_<S>y``: peak RSS of M = ``--rss-tenants`` tenants over ``--short-years`` S years,
  ``rss_ratio_<Y>y_to_<S>y``: peak_rss_mb_<M> / peak_rss_mb_<M>_<S>y (target: at most 1.5), and
  ``rss_tenants``: M;
- ``adoption_<N>``: final-year option counts; ``years``, ``date``, ``machine``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

from re100sim.scenarios import bundled_scenarios


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one_size(tenants: int, years: int, mode: str) -> dict:
    """Run (``mode='run'``) or build the inputs only (``mode='inputs'``) in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = scaled_scenario(tenants, years, Path(tmp))
        t0, c0 = time.perf_counter(), cpu_seconds()
        if mode == "run":
            from re100sim.simulator.run import run
            summary = run(path, Path(tmp) / "out").summary
            out = {"adoption": summary["adoption"]}
        else:
            from bench_run import inputs_only  # the same inputs-only baseline (experiments/ is on sys.path)
            inputs_only(path)
            out = {}
        out.update(seconds=time.perf_counter() - t0, cpu_seconds=cpu_seconds() - c0, peak_rss_mb=peak_rss_mb())
    return out


def in_subprocess(tenants: int, years: int, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--tenants", str(tenants), "--years", str(years)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_exponent(tenants: list[int], seconds: list[float]) -> float:
    """Slope of log(seconds) on log(tenants), least squares (NaN with fewer than two sizes)."""
    if len(tenants) < 2:
        return float("nan")
    return float(np.polyfit(np.log(tenants), np.log(seconds), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, nargs="+", default=[1000, 3000, 10000])
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--short-years", type=int, default=5)
    ap.add_argument("--rss-tenants", type=int, default=None,
                    help="tenant count of the years comparison of peak RSS (one of --tenants; default the smallest)")
    ap.add_argument("--no-inputs", action="store_true", help="skip the inputs-only baseline")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", choices=["run", "inputs"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_size(args.tenants[0], args.years, args.child)))
        return

    y, sizes = args.years, sorted(args.tenants)
    rss_n = args.rss_tenants or sizes[0]
    if rss_n not in sizes:
        ap.error(f"--rss-tenants {rss_n} is not one of --tenants {sizes}")
    result: dict = {"years": y}
    table = Table(title=f"scaled smart-green-complex x {y} years, hourly, decisions on (one core)")
    for col in ("tenants", "run s", "run CPU s", "inputs-only s", "run / inputs", "peak RSS MB"):
        table.add_column(col, justify="right")
    for n in sizes:
        r = in_subprocess(n, y, "run")
        result[f"seconds_{n}_tenants_{y}y"] = round(r["seconds"], 2)
        result[f"cpu_seconds_{n}_tenants_{y}y"] = round(r["cpu_seconds"], 2)
        result[f"peak_rss_mb_{n}"] = round(r["peak_rss_mb"], 1)
        result[f"adoption_{n}"] = r["adoption"]
        row = [f"{n:,}", f"{r['seconds']:.1f}", f"{r['cpu_seconds']:.1f}", "-", "-", f"{r['peak_rss_mb']:,.0f}"]
        if not args.no_inputs:
            i = in_subprocess(n, y, "inputs")
            result[f"seconds_inputs_only_{n}"] = round(i["seconds"], 2)
            result[f"ratio_run_to_inputs_{n}"] = round(r["seconds"] / i["seconds"], 2)
            row[3:5] = f"{i['seconds']:.1f}", f"{r['seconds'] / i['seconds']:.2f}x"
        table.add_row(*row)
        print(json.dumps({k: v for k, v in result.items() if str(n) in k}), file=sys.stderr, flush=True)
    s = args.short_years
    r = in_subprocess(rss_n, s, "run")
    result["rss_tenants"] = rss_n
    result[f"peak_rss_mb_{rss_n}_{s}y"] = round(r["peak_rss_mb"], 1)
    result[f"rss_ratio_{y}y_to_{s}y"] = round(result[f"peak_rss_mb_{rss_n}"] / r["peak_rss_mb"], 2)
    table.add_row(f"{rss_n:,} x {s} y", f"{r['seconds']:.1f}", f"{r['cpu_seconds']:.1f}", "-", "-", f"{r['peak_rss_mb']:,.0f}")
    for key, prefix in (("time_exponent", "seconds"), ("cpu_time_exponent", "cpu_seconds")):
        result[key] = round(time_exponent(sizes, [result[f"{prefix}_{n}_tenants_{y}y"] for n in sizes]), 3)
    result.update(date=dt.date.today().isoformat(), machine=f"{platform.machine()} {platform.python_version()}")
    Console().print(table)
    Console().print(f"time exponent ({sizes[0]:,} -> {sizes[-1]:,} tenants): {result['time_exponent']:.3f} wall, "
                    f"{result['cpu_time_exponent']:.3f} CPU (target <= 1.05); "
                    f"peak RSS {y} y / {s} y at {rss_n:,} tenants: {result[f'rss_ratio_{y}y_to_{s}y']:.2f}x (target <= 1.5)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
