"""Benchmark: a whole ``re100sim run`` of a bundled scenario (default: namdong, 20 years hourly).

Machines here are noisy, so every time is compared with a baseline measured in the same run.

In-process: the complete run against generating the same inputs only (calendars, tariff
rates, loads, plant outputs, SMP for every year block) without settling, billing or writing;
the ratio says what settlement, billing and output cost on top of the inputs.

From the shell (what a user waits for, interpreter start and imports included): the
``re100sim run`` command, its first invocation in this benchmark ("cold": an empty clear-sky
cache, so solar positions are computed; bytecode caches as installed; the OS file cache is not
dropped) and the median of warm repeats (the clear-sky cache filled by the cold run); ``re100sim --help`` and ``re100sim validate``; and two baselines run the same way:
the bare interpreter (``python -c pass``) and the import floor set by the dependencies a run
cannot avoid (numpy, pandas, pyarrow, mesa, pvlib, pydantic, typer, rich, simpy).

Usage: ``python experiments/bench_run.py [SCENARIO] [--repeats N] [--shell-repeats N] [--json PATH]``

JSON keys:
- ``scenario``: the scenario name;
- ``years``, ``hours``, ``tenants``, ``generators``: its size;
- ``seconds_run``: best wall time of a complete run (validation, simulation, outputs), s;
- ``seconds_inputs_only``: best wall time of the inputs-only baseline, s;
- ``ratio_run_to_inputs``: seconds_run / seconds_inputs_only;
- ``peak_rss_mb``: peak resident memory of the process, MB;
- ``shell``: seconds from the shell: ``run_cold`` (first invocation), ``run_warm_median`` and
  ``run_warm_min`` (the next ``--shell-repeats``), ``help_median``, ``validate_median``,
  ``python_median`` (bare interpreter) and ``import_floor_median`` (the dependencies' imports);
  ``ratio_run_to_import_floor``: run_warm_median / import_floor_median;
- ``date``, ``machine``: when and where it was measured.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.run import run
from re100sim.simulator.scenario.config import resolve_scenario_path
from re100sim.simulator.scenario.population import prepare
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


IMPORT_FLOOR = "import numpy, pandas, pyarrow, mesa, pvlib, pydantic, typer, rich, simpy"


def cli_command() -> list[str]:
    """The ``re100sim`` console script of this interpreter's environment (else ``python -m``)."""
    script = Path(sys.executable).with_name("re100sim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "re100sim.simulator.cli"]


def shell_seconds(argv: list[str], cwd: Path, env: dict | None = None) -> float:
    """Wall time of one command from the shell, s (output discarded; a failure stops the benchmark)."""
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def shell_times(path: Path, repeats: int, tmp: Path) -> dict:
    """Cold and warm shell times of ``re100sim run`` and of the light commands and baselines."""
    cli = cli_command()
    counter = iter(range(10**6))
    # an empty clear-sky cache for the cold run (re100sim.simulator.inputs.solar.clearsky_cache_dir), which fills it
    env = os.environ | {"RE100SIM_CACHE_DIR": str(tmp / "cache")}

    def run_cmd() -> float:
        return shell_seconds([*cli, "run", str(path), "--out", str(tmp / f"s{next(counter)}")], tmp, env)

    cold = run_cmd()
    warm = [run_cmd() for _ in range(repeats)]

    def median_of(argv: list[str]) -> float:
        return statistics.median(shell_seconds(argv, tmp) for _ in range(repeats))

    floor = median_of([sys.executable, "-c", IMPORT_FLOOR])
    out = {
        "run_cold": cold,
        "run_warm_median": statistics.median(warm),
        "run_warm_min": min(warm),
        "help_median": median_of([*cli, "--help"]),
        "validate_median": median_of([*cli, "validate", str(path)]),
        "python_median": median_of([sys.executable, "-c", "pass"]),
        "import_floor_median": floor,
    }
    out = {k: round(v, 3) for k, v in out.items()}
    out["ratio_run_to_import_floor"] = round(out["run_warm_median"] / floor, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shell-repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    path = resolve_scenario_path(args.scenario)
    scenario, tenants = prepare(path)

    with tempfile.TemporaryDirectory() as tmp:
        shell = shell_times(path, args.shell_repeats, Path(tmp))  # first: the cold run comes before any import here
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
        "shell": shell,
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
    table.add_row("`re100sim run` from the shell, first (cold), s", f"{shell['run_cold']:.2f}")
    table.add_row(f"`re100sim run` from the shell, warm median of {args.shell_repeats} (min), s",
                  f"{shell['run_warm_median']:.2f} ({shell['run_warm_min']:.2f})")
    table.add_row("`re100sim --help`, median, s", f"{shell['help_median']:.2f}")
    table.add_row("`re100sim validate`, median, s", f"{shell['validate_median']:.2f}")
    table.add_row("baseline: `python -c pass`, median, s", f"{shell['python_median']:.2f}")
    table.add_row("baseline: import floor of the dependencies, median, s", f"{shell['import_floor_median']:.2f}")
    table.add_row("shell run / import floor", f"{shell['ratio_run_to_import_floor']:.2f}x")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
