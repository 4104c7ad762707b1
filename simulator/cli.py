"""The ``re100sim`` command line.

Every user error prints exactly one line ``error: FILE: path.to.field: what is
wrong (what was expected)`` on stderr and exits with code 2. One hook does this for every
command (:class:`OneLineErrors`, the app's group class): a command raises
:class:`~re100sim.simulator.errors.InputError` and the hook prints it; command-line mistakes
(unknown option or command, a value of the wrong type, a missing or extra argument) get one
``error:`` line too; an interrupted run prints ``interrupted: nothing written to DIR``.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from re100sim.simulator.batch import commands as batch_commands
from re100sim.simulator.errors import EXIT_INPUT_ERROR, InputError, RunInterrupted
from re100sim.simulator.reproduce import register as register_reproduce

try:  # typer >= 0.22 carries its own copy of click
    from typer import TyperException as CommandLineError
    from typer._click.exceptions import NoArgsIsHelpError
except ImportError:  # pragma: no cover - older typer on click
    from click import ClickException as CommandLineError
    from click.exceptions import NoArgsIsHelpError


class _FlagsShowNoType:
    """Flags (``--help``, ``--report``, ``--resume`` ...) take no value: show no ``<bool>`` type beside them."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for p in params:
            if getattr(p, "is_flag", False):
                p.metavar = ""
        return params


class OneLineErrors(_FlagsShowNoType, typer.core.TyperGroup):
    """The app's group: every error of every command as one line on stderr (no framed box, no traceback)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as e:  # bare `re100sim`: the help text
            e.show()
            code = e.exit_code
        except CommandLineError as e:
            hint = f" (see {e.ctx.command_path} --help)" if getattr(e, "ctx", None) is not None else ""
            _error_line(f"error: {' '.join(e.format_message().split())}{hint}")
            code = e.exit_code
        except InputError as e:
            _error_line(f"error: {e}")
            code = EXIT_INPUT_ERROR
        except RunInterrupted as e:
            _error_line(str(e))
            code = 128 + int(e.signum)
        except typer.Abort:  # end of input at a prompt
            _error_line("error: aborted")
            code = 1
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C before a run reserved its folder
            raise RunInterrupted(None, signal.SIGINT) from None


def _error_line(text: str) -> None:
    err_console.print(text, markup=False)



class _Command(_FlagsShowNoType, typer.core.TyperCommand):
    def collect_usage_pieces(self, ctx) -> list[str]:
        # "re100sim validate [OPTIONS] SCENARIO", not "{scenario}" (typer's mark for a required argument)
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]


def _plural(n: int, noun: str) -> str:
    """``1 generator``, ``2 generators``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"

from re100sim.simulator.reports_cli import register as register_report_commands

app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    help="re100sim: renewable-electricity procurement in Korean industrial complexes.",
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


ScenarioArg = Annotated[
    Optional[str],
    typer.Argument(
        help="scenario file, or the name of a bundled scenario (default: namdong)", show_default=False, metavar="SCENARIO"
    ),
]


@app.command(cls=_Command)
def run(
    scenario: ScenarioArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="results folder (must not exist)")] = None,
    seed: Annotated[
        Optional[int], typer.Option("--seed", min=0, max=2**63 - 1, help="override the scenario's seed")
    ] = None,
    report: Annotated[bool, typer.Option("--report", help="write DIR/report.html at the end")] = False,
) -> None:
    """Simulate a scenario hour by hour and write invoices, KPIs and a summary."""
    from re100sim.simulator.run import prepare
    from re100sim.simulator.run import run as run_scenario
    from re100sim.simulator.scenario.config import resolve_scenario_path

    path = resolve_scenario_path(scenario)
    sc, _ = prepare(path, seed)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("year" if sc.years == 1 else "years"), TimeElapsedColumn(), console=console, transient=True,
    ) as bar:
        task = bar.add_task(f"simulating {sc.name}", total=sc.years)
        result = run_scenario(path, out, seed, on_year=lambda k: bar.update(task, completed=k))
        bar.update(task, completed=sc.years)
    _print_summary(result.summary)
    console.print(f"results: {result.out_dir}")
    if report:
        from re100sim.simulator.outputs.report import build_report

        console.print(f"report: {build_report([result.out_dir])}")


@app.command(cls=_Command)
def validate(scenario: Annotated[str, typer.Argument(help="scenario file or bundled name", metavar="SCENARIO")]) -> None:
    """Check a scenario file; print one error line and exit 2 if it is invalid."""
    from re100sim.simulator.scenario.config import resolve_scenario_path
    from re100sim.simulator.scenario.population import prepare  # not run.py: validation imports no engine

    path = resolve_scenario_path(scenario)
    sc, tenants = prepare(path)
    console.print(
        f"ok: {path}: scenario {sc.name}, {_plural(sc.years, 'year')} from {sc.start_date}, "
        f"{_plural(len(tenants), 'tenant')}, {_plural(len(sc.generators), 'generator')}"
    )


@app.command(cls=_Command)
def scenarios() -> None:
    """List the bundled scenarios."""
    import yaml

    from re100sim.scenarios import DEFAULT_SCENARIO, bundled_scenarios

    table = Table("name", "description", box=None)
    for name, path in bundled_scenarios().items():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        label = name + (" (default)" if name == DEFAULT_SCENARIO else "")
        table.add_row(label, str(data.get("description", "")).strip().splitlines()[0])
    console.print(table)


# Batches (Monte Carlo, sweeps, sensitivity): the commands live in re100sim.simulator.batch.commands.
for _command in (batch_commands.mc, batch_commands.sweep, batch_commands.sensitivity):
    app.command(cls=_Command)(_command)


def _print_summary(s: dict) -> None:
    t = Table(title=f"{s['scenario']}: {_plural(s['years'], 'year')}, {_plural(s['tenants'], 'tenant')}, "
                    f"{_plural(s['generators'], 'generator')}")
    t.add_column("result")
    t.add_column("value", justify="right")
    e, c, inv = s["energy"], s["cost"], s["invariants"]
    rows = [
        ("load, MWh", f"{e['load_mwh']:,.1f}"),
        ("bought from grid, MWh", f"{e['grid_mwh']:,.1f}"),
        ("RE delivered, MWh", f"{e['re_delivered_mwh']:,.1f}"),
        ("plant surplus (exported/curtailed), MWh", f"{e['surplus_mwh']:,.1f}"),
        ("tenant cost, KRW", f"{c['tenant_total_krw']:,}"),
        ("grid-only baseline, KRW", f"{c['baseline_grid_only_krw']:,}"),
        ("savings, KRW (incl. VAT)", f"{c['savings_krw']:,}"),
        ("savings ex VAT, KRW", f"{c['savings_ex_vat_krw']:,}"),
        ("RE share (annual match)", f"{s['re_share_annual']:.1%}"),
        ("RE share (hourly match)", f"{s['re_share_hourly']:.1%}"),
        ("CO2, t", f"{s['co2_t']:,.1f}"),
        ("certificates retired by tenants, MWh", f"{s['certificates']['retired_by_tenants_mwh']:,.1f}"),
        ("double-counting findings", f"{s['certificates']['double_counting_findings']}"),
        ("issued-twice findings", f"{s['certificates']['issued_twice_findings']}"),
        ("energy residual, MWh", f"{inv['energy_residual_mwh']:.2e}"),
        ("certificate residual", f"{inv['certificate_residual']:.2e}"),
        ("money residual, KRW", f"{inv['money_residual_krw']:.2e}"),
    ]
    for r in rows:
        t.add_row(*r)
    console.print(t)


register_report_commands(app, _Command)
# Reproductions of the source documents' numbers: the command lives in re100sim.simulator.reproduce.
register_reproduce(app, _Command)


def main() -> None:  # pragma: no cover - console entry for `python -m re100sim.simulator.cli`
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
