"""Result tables carry only columns that apply, and keep their columns when empty."""
import dataclasses

import pandas as pd
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.outputs.results import vat_mask
from re100sim.simulator.rules.policy import ComplianceRow

SCENARIO = {
    "name": "tables", "start_date": "2026-01-01", "years": 1, "seed": 3,
    "tenants": [{"name": "a", "annual_use_mwh": 3000, "peak_kw": 600}],
    "generators": [{"name": "pv", "capacity_kw": 500}],
    "contracts": [{"name": "c", "generator": "pv", "tenant": "a", "volume": {"kind": "share", "share": 1.0},
                   "price": {"kind": "fixed", "price_krw_per_kwh": 150.0}}],
}


def _run(tmp_path, data=SCENARIO):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    return tmp_path / "o"


def test_kpis_are_split_by_agent_type_without_padding(tmp_path):
    out = _run(tmp_path)
    tenants = pd.read_parquet(out / "kpis_tenants.parquet")
    generators = pd.read_parquet(out / "kpis_generators.parquet")
    parties = pd.read_parquet(out / "kpis_parties.parquet")
    assert list(tenants["agent"]) == ["a"] and list(generators["agent"]) == ["pv"]
    assert set(parties["agent_type"]) <= {"utility", "market", "broker", "tax_authority", "plant_supplier"}
    assert "KEPCO" in set(parties["agent"])
    for table in (tenants, generators, parties):
        assert not table.isna().any().any()
    assert "gen_mwh" not in tenants and "load_mwh" not in generators
    # the one tenant's cost is what it paid (it receives nothing): the sum of its invoice lines; the plant's
    # revenue is what it received, excluding the VAT it collects for the state
    inv = pd.read_parquet(out / "invoices.parquet")
    assert int(tenants["cost_krw"].sum()) == int(inv.loc[inv["payer"] == "a", "krw"].sum())
    received = inv[(inv["payee"] == "pv") & ~vat_mask(inv)]
    assert int(generators["revenue_krw"].sum()) == int(received["krw"].sum()) > 0


def test_compliance_without_a_rule_keeps_its_columns(tmp_path):
    table = pd.read_parquet(_run(tmp_path) / "compliance.parquet")
    assert len(table) == 0
    assert list(table.columns) == [f.name for f in dataclasses.fields(ComplianceRow)]
    assert table["year"].dtype == "int64" and table["compliant"].dtype == bool
