"""Benchmark: a whole ``re100sim run`` of a bundled scenario (default: namdong, 20 years hourly).

Machines here are noisy, so the run is compared with a baseline measured in the
same process: generating the same inputs only (calendars, tariff rates, loads,
plant outputs, SMP for every year block) without settling, billing or writing.
The ratio says what settlement, billing and output cost on top of the inputs.

Usage: ``python experiments/bench_run.py [SCENARIO] [--repeats N] [--json PATH]``

JSON keys:
- ``scenario``: the scenario name;
- ``years``, ``hours``, ``tenants``, ``generators``: its size;
- ``seconds_run``: best wall time of a complete run (validation, simulation, outputs), s;
- ``seconds_inputs_only``: best wall time of the inputs-only baseline, s;
- ``ratio_run_to_inputs``: seconds_run / seconds_inputs_only;
- ``peak_rss_mb``: peak resident memory of the process, MB;
- ``date``, ``machine``: when and where it was measured.
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

from rich.console import Console
from rich.table import Table

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.run import prepare, run
from re100sim.simulator.scenario.config import resolve_scenario_path
from re100sim.simulator.scenario.year_inputs import year_inputs


def inputs_only(path: Path) -> None:
    scenario, tenants = prepare(path)
    model = ComplexModel(scenario, tenants)
    for k, (a, b) in enumerate(model.blocks):
        year_inputs(scenario, k, build_calendar(a, b), [t.spec for t in model.tenants],
                    [g.spec for g in model.generators], model.options, model.table)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    path = resolve_scenario_path(args.scenario)
    scenario, tenants = prepare(path)

    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**6))
        summary = {}

        def one_run():
            summary.update(run(path, Path(tmp) / f"r{next(counter)}").summary)

        t_run = best_of(one_run, args.repeats)
    t_inputs = best_of(lambda: inputs_only(path), args.repeats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {
        "scenario": scenario.name,
        "years": scenario.years,
        "hours": summary["hours"],
        "tenants": len(tenants),
        "generators": len(scenario.generators),
        "seconds_run": round(t_run, 3),
        "seconds_inputs_only": round(t_inputs, 3),
        "ratio_run_to_inputs": round(t_run / t_inputs, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or ''} {platform.python_version()}".strip(),
    }
    table = Table(title=f"re100sim run {scenario.name}: {scenario.years} y x {len(tenants)} tenants, hourly")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("complete run (best of %d), s" % args.repeats, f"{t_run:.2f}")
    table.add_row("inputs only (baseline), s", f"{t_inputs:.2f}")
    table.add_row("run / inputs-only", f"{t_run / t_inputs:.2f}x")
    table.add_row("simulated hours", f"{summary['hours']:,}")
    table.add_row("peak RSS, MB", f"{peak_mb:.0f}")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
