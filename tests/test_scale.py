"""Whole national complexes (issue 12): a 10,000-tenant complex validates and runs, and balances.

Speed and memory are measured by experiments/bench_scale.py, never asserted here.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.run import run

REPO = Path(__file__).resolve().parent.parent


def scaled_scenario(tenants: int, years: int, folder: Path) -> Path:
    """The benchmark's scaled smart-green-complex (experiments/bench_scale.py), so the test runs what it measures."""
    spec = importlib.util.spec_from_file_location("bench_scale", REPO / "experiments" / "bench_scale.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.scaled_scenario(tenants, years, folder)


@pytest.mark.slow
def test_ten_thousand_tenants_validate_and_run(tmp_path):
    path = scaled_scenario(10_000, 1, tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    summary = run(path, out).summary
    assert summary["tenants"] == 10_000 and summary["years"] == 1
    # every tenant gets its 12 monthly basic charges from the utility; energy, money and certificates balance
    invoices = pd.read_parquet(out / "invoices.parquet")
    basic = invoices[(invoices["item"] == "basic_charge") & (invoices["payee"] == "KEPCO")]
    per_tenant = basic.groupby("payer")["month"].nunique()
    assert len(per_tenant) == 10_000 and (per_tenant == 12).all()
    inv = summary["invariants"]
    assert abs(inv["energy_residual_mwh"]) < 1e-6 * summary["energy"]["load_mwh"]
    assert inv["certificate_residual"] == 0.0 and inv["money_residual_krw"] == 0.0
    e = summary["energy"]
    assert e["grid_mwh"] + e["re_delivered_mwh"] == pytest.approx(e["load_mwh"], rel=1e-9)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["tenants"] == 10_000
