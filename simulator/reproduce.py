"""Reproductions: published numbers and claims re-derived by the simulator, one command each.

``re100sim reproduce NAME [--out DIR] [--fast]`` runs one experiment and writes, into ``DIR``
(default ``reproductions/NAME``, must not exist):

* ``table.csv`` and ``table.md``: one row per quantity: id, quantity, unit, value, published
  value, difference, tolerance, verdict, source, note;
* ``figure.svg``: a matplotlib figure with deterministic bytes (fixed ``svg.hashsalt``, no date
  in the metadata, text kept as text);
* ``manifest.json``: code revision, the experiment file's SHA-256 and those of every data file
  it read, seeds, package versions and the SHA-256 of ``table.csv``;
* any extra CSV the experiment produces (``data_*.csv``);
* ``report.html``: the page of the experiment (:func:`report_page`).

Running the same experiment twice (same code, same experiment file) gives byte-identical
tables: numbers are rounded to six significant digits before they are written, so last-bit
floating-point differences between machines do not show.

Where things live (and why): the framework (this module: the registry, the table, the
figure, the manifest) is part of the installed package; each experiment is a small module in
the repository's ``experiments/reproductions/`` folder with its versioned experiment file in
``experiments/reproductions/scenarios/NAME.yaml`` (inputs, seeds, published values, sources,
tolerances). pyproject.toml installs that folder as ``re100sim.reproductions`` (package data
for the YAML), so ``re100sim reproduce`` works from a fresh install while the experiments stay
beside the benchmarks, where readers look for them. :data:`EXPERIMENTS` is the one registry:
it maps a name to its module.

The report page: :func:`report_page` writes ``report.html`` (table, figure, manifest) with the
run reports' page builder (``re100sim.simulator.outputs.report.page``).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import math
import platform
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

import typer

from re100sim.simulator.errors import InputError

__all__ = [
    "EXPERIMENTS",
    "Outcome",
    "Row",
    "experiment_file",
    "load_experiment_file",
    "run_experiment",
    "report_page",
    "format_number",
    "scenario_run",
    "reproduce",
    "register",
]

#: The registry: experiment name -> module in ``re100sim.reproductions`` (experiments/reproductions/).
EXPERIMENTS: dict[str, str] = {
    "obligations-gyeonggi": "obligations_gyeonggi",
    "public-pv-yangju": "public_pv_yangju",
    "green-tariff-kiee2020": "green_tariff_kiee2020",
    "tariff-shock-2022": "tariff_shock_2022",
    "namdong-direct-ppa": "namdong_direct_ppa",
}

#: Packages whose versions go into the manifest (they can change a number).
_VERSIONED_PACKAGES = ("re100sim", "numpy", "pandas", "scipy", "pvlib", "matplotlib", "pyarrow", "pydantic", "PyYAML")

_COLUMNS = ("id", "quantity", "unit", "value", "published", "difference", "tolerance", "verdict", "source", "note")
_SIGNIFICANT_DIGITS = 6


# --- what an experiment returns ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an experiment module's ``run(spec, fast)`` returns.

    ``values``: computed value per row id of the experiment file (every id, no other);
    ``figure``: draws the figure on a matplotlib ``Figure``;
    ``seeds``: the seeds used (manifest); ``inputs``: data files read (their hashes go into
    the manifest); ``extra_tables``: name -> pandas DataFrame written as ``data_NAME.csv``.
    """

    values: dict[str, float]
    figure: Callable[[Any], None]
    seeds: tuple[int, ...] = ()
    inputs: tuple[Path, ...] = ()
    extra_tables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One line of the comparison table (already formatted)."""

    id: str
    quantity: str
    unit: str
    value: str
    published: str
    difference: str
    tolerance: str
    verdict: str
    source: str
    note: str

    def as_list(self) -> list[str]:
        return [getattr(self, c) for c in _COLUMNS]


# --- formatting and verdicts ------------------------------------------------------------------


def format_number(x: float) -> str:
    """Six significant digits in fixed notation, no trailing zeros ("6.21", "680340", "0.0312")."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    decimals = max(0, _SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(x))))
    text = f"{round(x, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _tolerance(spec: dict | None) -> tuple[str, Callable[[float, float | None], bool] | None]:
    """(label, check(value, published)) of a row's tolerance; (“”, None) for an info row."""
    if not spec:
        return "", None
    if "abs" in spec:
        a = float(spec["abs"])
        return f"±{format_number(a)}", lambda v, p: abs(v - p) <= a * (1 + 1e-12)
    if "rel" in spec:
        r = float(spec["rel"])
        return f"±{format_number(100 * r)} %", lambda v, p: abs(v - p) <= r * abs(p) * (1 + 1e-12)
    if "range" in spec:
        lo, hi = (float(b) for b in spec["range"])
        return f"[{format_number(lo)}, {format_number(hi)}]", lambda v, p: lo <= v <= hi
    raise ValueError(f"tolerance {spec!r} (expected one of abs, rel, range)")


def _row(entry: dict, value: float, fast: bool) -> Row:
    """A table row; a Monte Carlo row may state a wider ``fast_tolerance`` for the fast variant's fewer seeds."""
    published = entry.get("published")
    label, check = _tolerance(entry.get("fast_tolerance", entry.get("tolerance")) if fast else entry.get("tolerance"))
    numeric = isinstance(published, (int, float)) and not isinstance(published, bool)
    if numeric:
        diff = value - float(published)
        rel = f" ({format_number(100 * diff / float(published))} %)" if float(published) != 0 else ""
        difference = format_number(diff) + rel
    else:
        difference = ""
    if check is None:
        verdict = "info"
    elif numeric:
        verdict = "pass" if check(value, float(published)) else "fail"
    else:  # a published claim checked against a range of the computed measure
        verdict = "supported" if check(value, None) else "not supported"
    return Row(
        id=entry["id"],
        quantity=str(entry["quantity"]),
        unit=str(entry.get("unit", "")),
        value=format_number(value),
        published="" if published is None else (format_number(published) if numeric else str(published)),
        difference=difference,
        tolerance=label,
        verdict=verdict,
        source=str(entry.get("source", "")),
        note=str(entry.get("note", "")).strip(),
    )


# --- experiment files -------------------------------------------------------------------------


def experiment_file(name: str) -> Path:
    """The versioned experiment file of ``name`` (package data of ``re100sim.reproductions``)."""
    return Path(str(files("re100sim.reproductions").joinpath("scenarios", f"{name}.yaml")))


def load_experiment_file(name: str) -> dict:
    """Read and check the experiment file: ``version``, ``title``, ``sources``, ``rows`` with unique ids."""
    import yaml

    path = experiment_file(name)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("version", "title", "sources", "rows"):
        if key not in spec:
            raise InputError(str(path), key, "missing (expected version, title, sources and rows)")
    ids = [r.get("id") for r in spec["rows"]]
    if len(set(ids)) != len(ids) or None in ids:
        raise InputError(str(path), "rows", "row ids missing or repeated (expected one unique id per row)")
    for i, r in enumerate(spec["rows"]):
        try:
            _tolerance(r.get("tolerance"))
            _tolerance(r.get("fast_tolerance"))
        except ValueError as e:
            raise InputError(str(path), f"rows.{i}.tolerance", str(e)) from None
    return spec


# --- running ----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _code_revision() -> dict:
    """Git commit of the source tree (and whether it had uncommitted changes), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, check=True)
        return {"git_commit": rev.stdout.strip(), "uncommitted_changes": bool(dirty.stdout.strip())}
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": None, "uncommitted_changes": None}


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _markdown(spec: dict, rows: list[Row], fast: bool) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {spec['title']}", "", "Sources: " + "; ".join(spec["sources"]) + ".", ""]
    if fast:
        lines += ["Fast variant (fewer seeds): for tests; the reference result is the full run.", ""]
    lines += ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in r.as_list()) + " |" for r in rows]
    lines += ["", "![figure](figure.svg)", ""]
    return "\n".join(lines)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _save_figure(draw: Callable[[Any], None], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"svg.hashsalt": "re100sim", "svg.fonttype": "none", "font.size": 9}):
        fig = plt.figure(figsize=(9, 5.5))
        try:
            draw(fig)
            fig.savefig(path, format="svg", metadata={"Date": None, "Creator": "re100sim"})
        finally:
            plt.close(fig)


def report_page(out_dir: Path) -> Path:
    """The experiment folder's HTML page, ``report.html``: title, sources, the table, the figure, the manifest.

    Self-contained like the run reports (``re100sim.simulator.outputs.report.page``: inline styles,
    the figure as a data URI, the Hangul glyphs it uses embedded).
    """
    import base64
    import csv
    import html

    from re100sim.simulator.outputs.report import page

    def esc(x) -> str:
        return html.escape(str(x), quote=True)

    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    spec = load_experiment_file(manifest["experiment"])
    with (out_dir / "table.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = "".join(f"<th>{esc(c)}</th>" for c in rows[0])
    body_rows = "".join(
        f'<tr data-verdict="{esc(r[_COLUMNS.index("verdict")])}">' + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
        for r in rows[1:]
    )
    svg = base64.b64encode((out_dir / "figure.svg").read_bytes()).decode("ascii")
    facts = {k: manifest[k] for k in ("fast", "seeds", "verdicts", "code", "packages")}
    body = (
        f"<h1>{esc(spec['title'])}</h1>"
        f"<p>Sources: {esc('; '.join(spec['sources']))}.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>"
        f'<figure><img alt="figure" src="data:image/svg+xml;base64,{svg}"></figure>'
        f"<h2>Manifest</h2><pre>{esc(json.dumps(facts, indent=1, ensure_ascii=False))}</pre>"
    )
    path = out_dir / "report.html"
    path.write_text(page(spec["title"], body), encoding="utf-8")
    return path


def _frame_rows(df) -> list[list[str]]:
    return [[format_number(v) if isinstance(v, float) else str(v) for v in rec] for rec in df.itertuples(index=False)]


def run_experiment(name: str, out: Path | None = None, *, fast: bool = False) -> Path:
    """Run experiment ``name``; write table, figure, data tables and manifest into ``out`` (must not exist).

    Everything is first written to a temporary folder beside ``out`` and moved into place at
    the end, so a failed run leaves no half-written folder.
    """
    if name not in EXPERIMENTS:
        raise InputError(name, "", f"no such experiment (expected one of: {', '.join(EXPERIMENTS)})")
    out = Path(out) if out is not None else Path("reproductions") / name
    if out.exists():
        raise InputError(str(out), "", "already exists (expected a new folder for the results)")
    spec = load_experiment_file(name)
    module = importlib.import_module(f"re100sim.reproductions.{EXPERIMENTS[name]}")
    outcome: Outcome = module.run(spec, fast=fast)
    ids = [r["id"] for r in spec["rows"]]
    if set(outcome.values) != set(ids):
        missing, extra = sorted(set(ids) - set(outcome.values)), sorted(set(outcome.values) - set(ids))
        raise RuntimeError(f"experiment {name}: values missing for {missing}, unknown ids {extra}")
    rows = [_row(entry, float(outcome.values[entry["id"]]), fast) for entry in spec["rows"]]

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write_csv(tmp / "table.csv", list(_COLUMNS), [r.as_list() for r in rows])
        (tmp / "table.md").write_text(_markdown(spec, rows, fast), encoding="utf-8")
        for tname, df in sorted(outcome.extra_tables.items()):
            _write_csv(tmp / f"data_{tname}.csv", [str(c) for c in df.columns], _frame_rows(df))
        _save_figure(outcome.figure, tmp / "figure.svg")
        manifest = {
            "experiment": name,
            "title": spec["title"],
            "experiment_file": {"name": f"{name}.yaml", "version": spec["version"],
                                "sha256": _sha256(experiment_file(name))},
            "fast": fast,
            "seeds": list(outcome.seeds),
            "inputs": {p.name: _sha256(p) for p in sorted(outcome.inputs)},
            "code": _code_revision(),
            "packages": _versions(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "table_csv_sha256": _sha256(tmp / "table.csv"),
            "verdicts": {v: sum(r.verdict == v for r in rows) for v in sorted({r.verdict for r in rows})},
            "report_page": "report.html",
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        report_page(tmp)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# --- helpers for experiments that run whole scenarios ----------------------------------------


@contextmanager
def scenario_run(scenario: str, seed: int, overrides: dict[str, Any]) -> Iterator[Path]:
    """Run bundled ``scenario`` with ``seed`` in a temporary folder; yield the results folder.

    The scenario file is copied with its top-level keys replaced by ``overrides`` (e.g. ``{"years": 3}``);
    the copy is validated like any scenario file, and the folder is deleted on exit.
    """
    import yaml

    from re100sim.scenarios import bundled_scenarios
    from re100sim.simulator.run import run

    data = yaml.safe_load(bundled_scenarios()[scenario].read_text(encoding="utf-8"))
    data.update(overrides)
    with tempfile.TemporaryDirectory(prefix="re100sim-reproduce-") as tmp:
        path = Path(tmp) / f"{scenario}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        yield run(path, Path(tmp) / "run", seed).out_dir


# --- the command ------------------------------------------------------------------------------


def reproduce(
    name: Annotated[Optional[str], typer.Argument(help="experiment name (see --list)", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="results folder (must not exist; "
                                                "default reproductions/NAME)")] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the experiments")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="fewer seeds (the test variant)")] = False,
) -> None:
    """Re-derive a source document's published numbers: table (CSV, markdown), figure and manifest."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if list_ or name is None:
        table = Table("name", "title", box=None)
        for n in EXPERIMENTS:
            table.add_row(n, load_experiment_file(n)["title"])
        console.print(table)
        return
    folder = run_experiment(name, out, fast=fast)  # an InputError: the app's group prints one line, exit 2
    import csv

    with (folder / "table.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    table = Table("id", "value", "published", "verdict", title=load_experiment_file(name)["title"])
    for r in rows:
        table.add_row(r["id"], r["value"], r["published"], r["verdict"])
    console.print(table)
    console.print(f"results: {folder} (table.csv, table.md, figure.svg, manifest.json)")


def register(app: typer.Typer, command_cls=None) -> None:
    """Add ``reproduce`` to the app (``command_cls``: the app's command class, for uniform help)."""
    app.command(cls=command_cls)(reproduce)
