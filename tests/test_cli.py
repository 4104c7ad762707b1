"""The command line: one-line errors with exit code 2, nothing destroyed, determinism."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app

runner = CliRunner()

# A small valid scenario: two tenants, one plant, one year.
BASE = {
    "name": "tiny",
    "start_date": "2026-01-01",
    "years": 1,
    "seed": 7,
    "tenants": [
        {"name": "a", "archetype": "two_shift", "annual_use_mwh": 3000, "peak_kw": 700},
        {"name": "b", "archetype": "one_shift", "annual_use_mwh": 400, "peak_kw": 150},
    ],
    "generators": [{"name": "pv", "technology": "solar_pv", "capacity_kw": 500}],
}


def write(tmp_path: Path, data, name="scn.yaml") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return p


def mutate(**changes):
    data = json.loads(json.dumps(BASE))
    for dotted, value in changes.items():
        node = data
        keys = dotted.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return data


def run_cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, path: Path, field: str, words: str):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: {field}: "), lines[0]
    assert words in lines[0], lines[0]
    assert "Traceback" not in result.output


def profile_csv(tmp_path: Path, values) -> Path:
    p = tmp_path / "meter.csv"
    p.write_text("kw\n" + "\n".join(str(v) for v in values) + "\n", encoding="utf-8")
    return p


BAD_CASES = {
    # id: (scenario data, expected field path, words in the message)
    "unknown_key": (mutate(colour="blue"), "colour", "unknown key"),
    "unknown_nested_key": (mutate(tenants__0__anual_use_mwh=5), "tenants[0].anual_use_mwh", "unknown key"),
    "wrong_type": (mutate(years="twenty"), "years", "integer"),
    "zero_capacity": (mutate(generators__0__capacity_kw=0), "generators[0].capacity_kw", "greater than 0"),
    "negative_use": (mutate(tenants__1__annual_use_mwh=-5), "tenants[1].annual_use_mwh", "greater than 0"),
    "unknown_table": (mutate(tariff={"table": "kepco_residential"}), "tariff.table", "kepco_industrial"),
    "unknown_option": (mutate(tariff={"option_large": "eul_high_z"}), "tariff", "eul_high_a_ii"),
    "unknown_tenant_option": (mutate(tenants__0__tariff_option="gap9"), "tenants[0].tariff_option", "gap9"),
    "start_too_early": (mutate(start_date="2019-01-01"), "start_date", "out of range"),
    "start_mid_month": (mutate(start_date="2026-01-15"), "start_date", "first day of a month"),
    "missing_field": ({k: v for k, v in BASE.items() if k != "seed"}, "seed", "missing"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_scenario_one_line_exit_2(tmp_path, case):
    data, field, words = BAD_CASES[case]
    path = write(tmp_path, data)
    for cmd in (["validate", path], ["run", path, "--out", tmp_path / "out"]):
        result = run_cli(*cmd)
        assert_one_line_error(result, path, field, words)
    assert not (tmp_path / "out").exists()


def test_malformed_yaml(tmp_path):
    path = write(tmp_path, "name: x\ntenants: [a, b\nseed: 1\n")
    result = run_cli("validate", path)
    assert_one_line_error(result, path, "line 3, column 5", "malformed YAML")


@pytest.mark.parametrize(
    "values, words",
    [
        (None, "missing"),
        ([100.0] * 100, "length"),
        ([100.0] * 4000 + ["nan"] + [100.0] * 4755, "NaN"),
        ([100.0] * 10 + [-1.0] + [100.0] * 8749, "negative"),
    ],
    ids=["missing", "wrong_length", "nan", "negative"],
)
def test_bad_profile_file(tmp_path, values, words):
    meter = tmp_path / "meter.csv" if values is None else profile_csv(tmp_path, values)
    data = mutate(tenants__0__load_file=str(meter))
    path = write(tmp_path, data)
    result = run_cli("run", path, "--out", tmp_path / "out")
    assert_one_line_error(result, path, "tenants[0].load_file", words)
    assert words.lower() in result.stderr.lower()
    assert not (tmp_path / "out").exists()


def test_existing_output_folder_is_not_overwritten(tmp_path):
    path = write(tmp_path, BASE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_cli("run", path, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {out}: --out: already exists")
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scn.yaml"]


def test_unknown_scenario_name():
    result = run_cli("run", "no-such-scenario")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no-such-scenario: no such file or bundled scenario")


def test_run_writes_outputs_and_same_seed_is_identical(tmp_path):
    path = write(tmp_path, BASE)
    summaries = []
    for name in ("r1", "r2"):
        result = run_cli("run", path, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        out = tmp_path / name
        assert {p.name for p in out.iterdir()} == {
            "invoices.parquet", "kpis_tenants.parquet", "kpis_generators.parquet", "kpis_parties.parquet",
            "summary.json", "manifest.json", "scenario.yaml",
            "certificates.parquet", "certificate_findings.parquet", "timeseries_monthly.parquet",
            "timeseries_yearly.parquet", "compliance.parquet", "signings.parquet", "inputs",
        }
        # the history CSVs the run read, copied so the folder re-runs anywhere
        assert {p.name for p in (out / "inputs").iterdir()} == {"smp_monthly.csv", "rec_monthly.csv"}
        summaries.append((out / "summary.json").read_bytes())
    assert summaries[0] == summaries[1]
    other = run_cli("run", path, "--out", tmp_path / "r3", "--seed", "8")
    assert other.exit_code == 0
    assert (tmp_path / "r3" / "summary.json").read_bytes() != summaries[0]


def test_summary_fields_and_invariants(tmp_path):
    import pandas as pd

    path = write(tmp_path, BASE)
    assert run_cli("run", path, "--out", tmp_path / "o").exit_code == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    for key in ("scenario", "years", "hours", "tenants", "generators", "re_share_annual", "re_share_hourly", "co2_t"):
        assert key in s
    assert s["hours"] == 8760 and s["tenants"] == 2 and s["generators"] == 1
    e, c = s["energy"], s["cost"]
    # Grid-only complex: everything is bought from KEPCO, the plant's output is all surplus.
    assert e["grid_mwh"] == pytest.approx(e["load_mwh"], rel=1e-12)
    assert e["load_mwh"] == pytest.approx(3400.0, rel=1e-6)  # 3,000 + 400 MWh, non-leap year
    assert e["re_delivered_mwh"] == 0 and c["savings_krw"] == 0
    assert c["tenant_total_krw"] == c["baseline_grid_only_krw"] > 0
    assert s["co2_t"] == pytest.approx(3400.0 * 0.4173, rel=1e-6)
    assert abs(s["invariants"]["energy_residual_mwh"]) < 1e-6
    assert abs(s["invariants"]["money_residual_krw"]) < 0.5
    inv = pd.read_parquet(tmp_path / "o" / "invoices.parquet")
    assert list(inv.columns) == ["month", "payer", "payee", "item", "quantity", "unit", "krw"]
    assert set(inv["month"]) == {f"2026-{m:02d}" for m in range(1, 13)}
    assert int(inv.loc[inv.payer.isin(["a", "b"]), "krw"].sum()) == c["tenant_total_krw"]
    tk = pd.read_parquet(tmp_path / "o" / "kpis_tenants.parquet").set_index("agent")
    assert tk.loc["a", "load_mwh"] == pytest.approx(3000.0, rel=1e-6)
    assert np.all(tk["savings_krw"] == 0)


def test_scenarios_lists_the_default():
    result = run_cli("scenarios")
    assert result.exit_code == 0
    assert "namdong (default)" in result.output


def test_console_script_one_line(tmp_path):
    """The installed entry point itself (not the test runner) prints one line and exits 2."""
    path = write(tmp_path, mutate(years=0))
    proc = subprocess.run(
        [sys.executable, "-m", "re100sim.simulator.cli", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"error: {path}: years: ")
