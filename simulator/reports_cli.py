"""Commands that read a results folder: ``report``, ``invoice`` and ``export`` (registered by cli.py).

Heavy modules (pandas, matplotlib) are imported inside the commands, so ``re100sim --help`` stays light.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from re100sim.simulator.errors import InputError

console = Console()



def report(
    dirs: Annotated[list[Path], typer.Argument(help="a run folder, an mc/sweep folder, or several to compare")],
    out: Annotated[Optional[Path], typer.Option("--out", help="HTML file (default DIR/report.html; "
                                                "DIR1/comparison.html for several)")] = None,
) -> None:
    """Write one self-contained HTML page: a run, a Monte Carlo / sweep set, or a side-by-side comparison."""
    from re100sim.simulator.outputs.report import build_report

    path = build_report(dirs, out)
    console.print(f"report: {path}")


def invoice(
    folder: Annotated[Path, typer.Argument(help="run folder")],
    tenant: Annotated[str, typer.Option("--tenant", help="tenant name")],
    month: Annotated[str, typer.Option("--month", help="billing month, YYYY-MM")],
    html_out: Annotated[Optional[Path], typer.Option("--html", help="also write the bills as an HTML page")] = None,
) -> None:
    """Print one tenant's bills for one month as an accountant reads them (KEPCO, PPA, certificates)."""
    from re100sim.simulator.outputs.invoice import monthly_statement, statement_html, statement_tables

    st = monthly_statement(folder, tenant, month)
    for table in statement_tables(st):
        console.print(table)
    if html_out is not None:
        html_out.write_text(statement_html(st), encoding="utf-8")
        console.print(f"html: {html_out}")


def export(
    folder: Annotated[Path, typer.Argument(help="results folder")],
    csv: Annotated[bool, typer.Option("--csv", help="write every table as CSV")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="folder for the CSV files (default DIR/csv)")] = None,
) -> None:
    """Write every table of a results folder as CSV (UTF-8 with BOM, for spreadsheets)."""
    from re100sim.simulator.outputs.report import export_csv

    if not csv:
        raise InputError(str(folder), "--csv", "no format chosen (expected --csv)")
    written = export_csv(folder, out)
    console.print(f"{len(written)} CSV files in {written[0].parent if written else out}")


def register(app: typer.Typer, command_cls=None) -> None:
    """Add these commands to the app (``command_cls``: the app's command class, for uniform help)."""
    for command in (report, invoice, export):
        app.command(cls=command_cls)(command)
