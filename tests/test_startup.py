"""`re100sim --help` and `validate` import nothing heavy; the input models import no scipy or pvlib.

Each check runs in a fresh interpreter (a module imported by another test would hide a regression).
"""
import json
import subprocess
import sys

HEAVY = ("scipy", "pvlib", "matplotlib", "seaborn", "ray", "mesa", "pandas", "pyarrow", "networkx", "SALib",
         "requests", "h5py")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_help_imports_nothing_heavy():
    code = (
        "from typer.testing import CliRunner\nfrom re100sim.simulator.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output"
    )
    assert _loaded_after(code) == []


def test_validate_imports_nothing_heavy():
    code = (
        "from typer.testing import CliRunner\nfrom re100sim.simulator.cli import app\n"
        "r = CliRunner().invoke(app, ['validate', 'namdong'])\nassert r.exit_code == 0, r.output\n"
        "assert '4 tenants, 1 generator' in r.output and '1 generators' not in r.output, r.output"
    )
    # pandas (and pyarrow, which it pulls in) is allowed here: validate checks each declared peak against
    # the tenant's load model on the holiday calendar (issue 9: validate rejects what run would).
    assert [m for m in _loaded_after(code) if m not in ("pandas", "pyarrow")] == []


def test_input_models_import_no_scipy_or_pvlib():
    """scipy (lfilter, expit) was replaced by numpy; pvlib is imported when PV output is computed."""
    code = "import re100sim.simulator.inputs.solar, re100sim.simulator.inputs.load, re100sim.simulator.inputs.markets"
    assert [m for m in _loaded_after(code) if m in ("scipy", "pvlib", "requests", "h5py")] == []


def test_help_text_shows_plain_usage():
    from typer.testing import CliRunner

    from re100sim.simulator.cli import app

    top = CliRunner().invoke(app, ["--help"]).output
    validate = CliRunner().invoke(app, ["validate", "--help"]).output
    run = CliRunner().invoke(app, ["run", "--help"]).output
    assert "<bool>" not in top + validate + run  # --help takes no value
    assert "validate [OPTIONS] SCENARIO" in validate and "{" not in validate
    assert "run [OPTIONS] [SCENARIO]" in run
