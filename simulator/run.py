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
from re100sim.simulator.outputs.results import output_table
from re100sim.simulator.outputs.stream import Evaluation, MemorySink, ParquetSink, RunResults
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
            sink = ParquetSink(tmp)  # the long tables, a calendar year at a time, into the staging folder
            results = RunResults(scenario, model, sink)
            model.on_books_closed = results.close_year
            try:
                model.run()
                ev = results.finish()
            finally:
                sink.abort()
            kpis, summary = _write(ev, scenario, path, tmp)
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


def _write(ev: Evaluation, scenario: Scenario, path: Path, tmp: Path):
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


def simulate(scenario: Scenario, tenants: list | None = None, tables: bool = False) -> Evaluation:
    """Simulate a validated scenario in memory and evaluate it, writing nothing (Monte Carlo runs).
    ``tables``: also the per-agent KPIs and the invoice/certificate tables (as ``run`` writes them).
    The ledger keeps every line (``Evaluation.ledger``: the contract KPIs of re100sim.simulator.batch.terms)."""
    tenants = expand_tenants(scenario) if tenants is None else tenants
    model = ComplexModel(scenario, tenants)
    results = RunResults(scenario, model, MemorySink() if tables else None)
    model.run()
    return results.finish(drain=False)


def write_tables(ev: Evaluation, folder: Path) -> None:
    """A run's parquet tables and summary.json into ``folder``."""
    frames = {"timeseries_monthly": ev.monthly, "timeseries_yearly": ev.yearly, **ev.tables,
              **{f"kpis_{name}": table for name, table in ev.kpis.items()}}
    for stem, frame in frames.items():
        output_table(frame).to_parquet(folder / f"{stem}.parquet", index=False)
    write_json(folder / "summary.json", ev.summary)
