"""Monte Carlo throughput on Ray: runs per minute on 1 and 2 workers, Ray overheads, driver memory.

Usage::

    python experiments/bench_mc.py [--runs 1000] [--scenario namdong] [--rss-runs 100 2000] [--json PATH]

Keys written by ``--json`` (and printed):

- ``runs_per_min_2_workers``: runs of the scenario (default: the bundled default, 20 years, hourly)
  completed per minute by a local Ray instance with 2 worker CPUs, streamed into part files as
  ``re100sim mc`` does; timed after each worker has finished one warm-up run (imports, per-worker
  caches of calendars, tariff arrays and clear-sky geometry), Ray start-up excluded.
- ``runs_per_min_1_worker``: the same runs on a local Ray instance with 1 worker CPU.
- ``parallel_efficiency_1_to_2``: ``runs_per_min_2_workers / (2 * runs_per_min_1_worker)``.
- ``ray_init_s``: seconds for ``ray.init`` of a new local 2-CPU instance.
- ``task_overhead_ms``: mean round trip of a no-op Ray task submitted and awaited one at a time
  (scheduling, serialisation, result transfer) on that instance.
- ``driver_peak_rss_mb_100`` / ``driver_peak_rss_mb_2000``: peak resident memory (VmHWM) of the
  ``re100sim mc`` driver process for N = 100 and N = 2,000 runs of the scenario shortened to
  ``--rss-years`` (1) years on 2 workers: the driver's memory should not grow with N (results
  are streamed to part files).
- ``in_process_run_s``: seconds per run in one warm process without Ray (the baseline).
- ``runs``, ``scenario``, ``years``, ``cpu_count``, ``load_average_1min`` (the machine's load when
  the benchmark started: other processes share the cores), ``date``.

Ratios (efficiency) are measured in the same run; absolute numbers depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.batch.commands import _job
from re100sim.simulator.batch.executor import RayCluster
from re100sim.simulator.batch.store import PartWriter, open_dir
from re100sim.simulator.batch.worker import run_one


def _noop():
    return None


def throughput(scenario: str, runs: int, workers: int, tmp: Path) -> tuple[float, float, float]:
    """(runs per minute, ray init s, no-op task ms) on a new local Ray instance with ``workers`` CPUs."""
    out = tmp / f"w{workers}"
    job, plan = _job("mc", scenario, [{}], [{}], runs + workers, "mc", None, out, False)
    open_dir(out, plan, resume=False)
    ex = RayCluster(workers, None)
    try:
        ray = ex.ray
        noop = ray.remote(num_cpus=1)(_noop)
        ray.get(noop.remote())
        t0 = time.perf_counter()
        for _ in range(50):
            ray.get(noop.remote())
        task_ms = (time.perf_counter() - t0) / 50 * 1000.0
        list(ex.map(job, range(runs, runs + workers)))  # warm-up: one run per worker (not timed)
        writer = PartWriter(out)
        t0 = time.perf_counter()
        for row, yearly in ex.map(job, range(runs)):
            writer.add(row, yearly)
        writer.flush()
        elapsed = time.perf_counter() - t0
    finally:
        ex.close()
    return runs / elapsed * 60.0, ex.init_s, task_ms


def in_process_run_s(scenario: str, tmp: Path, n: int = 3) -> float:
    job, _ = _job("mc", scenario, [{}], [{}], n + 1, "mc", None, tmp / "inproc", False)
    run_one(job, n)  # warm
    t0 = time.perf_counter()
    for i in range(n):
        run_one(job, i)
    return (time.perf_counter() - t0) / n


def driver_peak_rss_mb(scenario_file: Path, runs: int, tmp: Path) -> float:
    """Peak RSS (VmHWM) of a ``re100sim mc`` driver process, polled until it exits."""
    proc = subprocess.Popen([sys.executable, "-m", "re100sim.simulator.cli", "mc", str(scenario_file), "--runs",
                             str(runs), "--out", str(tmp / f"rss{runs}"), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def poll():
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 1024.0)
            except OSError:
                pass
            time.sleep(0.2)

    t = threading.Thread(target=poll)
    t.start()
    _, err = proc.communicate()
    t.join()
    if proc.returncode != 0:
        raise SystemExit(f"mc failed: {err}")
    return peak[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="timed runs per worker count")
    ap.add_argument("--scenario", default="namdong", help="bundled scenario name or file")
    ap.add_argument("--rss-runs", type=int, nargs=2, default=[100, 2000], help="N for the two driver-RSS runs")
    ap.add_argument("--rss-years", type=int, default=1, help="years of the scenario in the driver-RSS runs")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    res = {"date": dt.date.today().isoformat(), "scenario": args.scenario, "runs": args.runs,
           "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        res["in_process_run_s"] = round(in_process_run_s(args.scenario, tmp), 4)
        r1, _, _ = throughput(args.scenario, args.runs, 1, tmp)
        r2, init_s, task_ms = throughput(args.scenario, args.runs, 2, tmp)
        res |= {"runs_per_min_1_worker": round(r1, 1), "runs_per_min_2_workers": round(r2, 1),
                "parallel_efficiency_1_to_2": round(r2 / (2 * r1), 3), "ray_init_s": round(init_s, 2),
                "task_overhead_ms": round(task_ms, 2)}
        if not args.skip_rss:
            src = bundled_scenarios().get(args.scenario) or Path(args.scenario)
            data = yaml.safe_load(src.read_text(encoding="utf-8")) | {"years": args.rss_years}
            short = tmp / "short.yaml"
            short.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            for n in args.rss_runs:
                res[f"driver_peak_rss_mb_{n}"] = round(driver_peak_rss_mb(short, n, tmp), 1)
    for k, v in res.items():
        print(f"{k:32s} {v}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
