"""One run of a batch, in memory: inputs applied, simulated, flattened into one row.

A :class:`Job` is what every run of a batch shares; it is sent once to each worker. Run
``run_id`` belongs to sweep point ``run_id // runs_per_point`` and replicate
``run_id % runs_per_point``; replicate ``r`` draws its inputs and its model seed from
``SeedSequence(root, spawn_key=(r,))`` (:mod:`.samplers`), so every point of a sweep sees the
same random numbers (common random numbers: differences between points are the terms', not noise).

Run-independent inputs (calendars, tariff tables, clear-sky geometry, the uniform design)
are cached per worker process by the modules that build them (``functools.lru_cache``) and
by :data:`_DESIGNS` here, so a long-lived Ray worker builds them once.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from re100sim.simulator.batch.samplers import SAMPLERS, Design, run_seed
from re100sim.simulator.batch.terms import ppa_terms_kpis
from re100sim.simulator.errors import InputError
from re100sim.simulator.run import simulate, write_tables
from re100sim.simulator.scenario.config import Scenario, validation_to_input_error
from re100sim.simulator.scenario.population import revalidator
from re100sim.simulator.scenario.uncertainty import apply

# summary.json keys that describe the run rather than measure it (not KPI columns).
SUMMARY_METADATA = {"scenario", "start_date", "years", "hours", "seed", "tenants", "generators"}

# Derived KPI sets a job may ask for: name -> function(scenario, evaluation) -> {column: value}.
EXTRA_KPIS: dict[str, Callable] = {"ppa_terms": ppa_terms_kpis}

# Columns that measure the execution, not the result (ignored when comparing batches).
TIMING_COLUMNS = ("duration_s", "worker", "node")


@dataclass(frozen=True)
class Job:
    """What every run of a batch shares."""

    key: str  # hash of everything below (cache key in workers)
    scenario: Scenario
    scenario_path: str
    points: list[dict]  # point_id -> {path: value}
    runs_per_point: int
    sampler: str
    root_seed: int
    sampled: list[str] = field(default_factory=list)  # uncertain paths drawn per run (not set by points)
    labels: list[dict] = field(default_factory=list)  # point_id -> {term name: label} (named term sets)
    extras: tuple[str, ...] = ()
    keep_runs_dir: str | None = None  # write each run's full results into this folder

    @property
    def total_runs(self) -> int:
        return len(self.points) * self.runs_per_point


_DESIGNS: dict[str, Design] = {}


def _design(job: Job) -> Design:
    if job.key not in _DESIGNS:
        _DESIGNS.clear()
        _DESIGNS[job.key] = SAMPLERS[job.sampler](job.root_seed, job.runs_per_point, len(job.sampled))
    return _DESIGNS[job.key]


def run_inputs(job: Job, run_id: int) -> dict:
    """The values run ``run_id`` sets: its sweep point's, then its sampled uncertain inputs."""
    point_id, rep = divmod(run_id, job.runs_per_point)
    values = dict(job.points[point_id])
    if job.sampled:
        unc = job.scenario.uncertainty
        order = [unc.paths.index(p) for p in job.sampled]
        sub = unc.model_copy(update={
            "inputs": [unc.inputs[j] for j in order],
            "correlation": None if unc.correlation is None else
            [[unc.correlation[a][b] for b in order] for a in order],
        })
        values |= dict(zip(job.sampled, sub.values(_design(job)(rep))[0].tolist()))
    return values


def run_one(job: Job, run_id: int) -> tuple[dict, pd.DataFrame | None]:
    """Row of run ``run_id`` (status ``ok`` or ``error`` with the message) and its yearly series."""
    point_id, rep = divmod(run_id, job.runs_per_point)
    seed = run_seed(job.root_seed, rep)
    row = {"run_id": run_id, "point_id": point_id, "seed_entropy": job.root_seed, "spawn_key": rep,
           "run_seed": seed, "status": "ok", "error": None}
    t0 = time.perf_counter()
    yearly = None
    try:
        values = run_inputs(job, run_id)
        row |= values | (job.labels[point_id] if job.labels else {})
        scenario = apply(job.scenario, values | {"seed": seed}, revalidator(Path(job.scenario_path)))
        ev = simulate(scenario, tables=bool(job.keep_runs_dir))
        row |= flatten(ev.summary)
        for name in job.extras:
            row |= EXTRA_KPIS[name](scenario, ev)
        yearly = ev.yearly.assign(run_id=run_id)
        if job.keep_runs_dir:
            folder = Path(job.keep_runs_dir) / f"run-{run_id:06d}"
            folder.mkdir(parents=True, exist_ok=True)
            write_tables(ev, folder)
    except InputError as e:
        row |= {"status": "error", "error": str(e)}
    except ValidationError as e:  # a sampled or swept value the scenario rejects
        row |= {"status": "error", "error": str(validation_to_input_error(job.scenario_path, e))}
    except Exception as e:  # a run that raises is a row, never a dead batch
        row |= {"status": "error", "error": f"{type(e).__name__}: {e}"}
    row |= {"duration_s": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}",
            "node": _node_id()}
    return row, yearly


def run_many(job: Job, run_ids: list[int]) -> list[tuple[dict, pd.DataFrame | None]]:
    return [run_one(job, i) for i in run_ids]


def flatten(summary: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of summary.json as ``{"cost.savings_krw": ..., "adoption.direct_ppa": ...}`` (floats)."""
    out = {}
    for k, v in summary.items():
        if not prefix and k in SUMMARY_METADATA:
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flatten(v, name + ".")
        elif isinstance(v, (bool, int, float, np.integer, np.floating)):
            out[name] = float(v)
    return out


def _node_id() -> str:
    import sys

    if "ray" not in sys.modules:
        return "local"
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
