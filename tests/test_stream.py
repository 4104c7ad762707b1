"""Outputs streamed a calendar year at a time (issue 12): the same tables as one evaluation of the whole
run, a ledger that holds one year, parquet files that concatenate, and the results-folder guarantees.

Namdong starts on 2025-08-01, so its simulated years straddle calendar years: the books are closed at each
December, in the middle of a simulated year.
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import bundled_with

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.outputs.stream import MemorySink, ParquetSink, RunResults
from re100sim.simulator.run import prepare, run, simulate, write_tables


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[prefix + k] = v
    return out


def _assert_same_summary(a: dict, b: dict) -> None:
    """Equal, floats to 1e-12 relative: horizon totals are sums of yearly sums when streamed."""
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys()
    for k, v in fa.items():
        if isinstance(v, float):
            assert math.isclose(v, fb[k], rel_tol=1e-12, abs_tol=1e-9), k
        else:
            assert v == fb[k], k


@pytest.fixture(scope="module")
def namdong_6y(tmp_path_factory):
    """Namdong over 6 simulated years (2025-08 to 2031-07: 7 calendar years, the first and last partial)."""
    return bundled_with("namdong", tmp_path_factory.mktemp("scn"), years=6)


def _streamed_in_memory(path):
    """The scenario run with its books closed (and drained) each December, tables kept in memory;
    also the months each close saw."""
    scenario, tenants = prepare(path, None)
    model = ComplexModel(scenario, tenants)
    results = RunResults(scenario, model, MemorySink())
    closes = []

    def close(m):
        closes.append(sorted(set(m.ledger.tenant_energy()["month"])))
        results.close_year(m)
        # drained: the ledger holds nothing of the year it just closed
        assert m.ledger.invoices().empty and m.ledger.tenant_energy().empty and m.ledger.hourly().empty

    model.on_books_closed = close
    model.run()
    return results.finish(), closes


def test_streamed_tables_equal_one_evaluation_of_the_whole_run(namdong_6y):
    scenario, _ = prepare(namdong_6y, None)
    whole = simulate(scenario, tables=True)  # the ledger kept whole, evaluated once at the end
    streamed, closes = _streamed_in_memory(namdong_6y)
    # closed at each December: 2025-08..12, then 2026..2030 whole; 2031-01..07 is evaluated at the end
    assert [(c[0] // 12, c[0] % 12 + 1, c[-1] % 12 + 1, len(c)) for c in closes] == \
        [(2025, 8, 12, 5)] + [(y, 1, 12, 12) for y in range(2026, 2031)]
    assert set(streamed.tables) == set(whole.tables)
    for stem, frame in whole.tables.items():
        pd.testing.assert_frame_equal(streamed.tables[stem], frame, check_exact=True, obj=stem)
    for name, frame in whole.kpis.items():
        pd.testing.assert_frame_equal(streamed.kpis[name], frame, check_exact=True, obj=name)
    pd.testing.assert_frame_equal(streamed.monthly, whole.monthly, check_exact=True)
    pd.testing.assert_frame_equal(streamed.yearly, whole.yearly, check_exact=True)
    _assert_same_summary(streamed.summary, whole.summary)
    # the whole run's invoices: 72 months, every line once (one evaluation's count)
    assert whole.tables["invoices"]["month"].nunique() == 72
    assert len(streamed.tables["invoices"]) == len(whole.ledger.invoices())
    # the balances hold on the streamed run too
    inv = streamed.summary["invariants"]
    assert inv["money_residual_krw"] == 0.0 and inv["certificate_residual"] == 0.0
    assert inv["energy_residual_mwh"] < 1e-6


def test_run_folder_streams_row_groups_equal_to_the_in_memory_tables(namdong_6y, tmp_path):
    out = tmp_path / "run"
    run(namdong_6y, out)
    scenario, _ = prepare(namdong_6y, None)
    ref = tmp_path / "ref"
    ref.mkdir()
    write_tables(simulate(scenario, tables=True), ref)  # every table written whole by to_parquet
    written = sorted(p.name for p in out.glob("*.parquet"))
    assert written == sorted(p.name for p in ref.glob("*.parquet"))
    assert not list(out.glob(".*")), "no staging file left in the published folder"
    for name in written:
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(ref / name), check_exact=True,
                                      obj=name)
        # same arrow schema and pandas metadata: a reader cannot tell them apart
        assert pq.read_schema(out / name).equals(pq.read_schema(ref / name), check_metadata=True), name
    # one row group per calendar year for the streamed tables (2025 to 2031)
    for stem in ("invoices", "tenant_monthly", "hourly_complex"):
        assert pq.ParquetFile(out / f"{stem}.parquet").metadata.num_row_groups == 7, stem
    # the summary of the streamed run is the in-memory one
    _assert_same_summary(json.loads((out / "summary.json").read_text(encoding="utf-8")),
                         json.loads((ref / "summary.json").read_text(encoding="utf-8")))


def test_parquet_sink_fixes_the_schema_and_unions_categories(tmp_path):
    """Years with different categories and a year with no rows concatenate to the table ``to_parquet``
    writes of the whole; a table with no rows at all is written empty."""
    years = [
        pd.DataFrame({"month": pd.Categorical(["2026-01", "2026-01"]), "payer": pd.Categorical(["t2", "t1"]),
                      "quantity": [1.5, 2.0], "krw": [10, -3]}),
        pd.DataFrame({"month": pd.Categorical([]), "payer": pd.Categorical([]),
                      "quantity": pd.Series([], dtype=float), "krw": pd.Series([], dtype="int64")}),
        pd.DataFrame({"month": pd.Categorical(["2027-01"]), "payer": pd.Categorical(["a0"]),
                      "quantity": [0.25], "krw": [7]}),
    ]
    sink = ParquetSink(tmp_path)
    for frame in years:
        sink.write("lines", frame)
    sink.write("none", years[1])
    assert sink.close() == {}
    got = pd.read_parquet(tmp_path / "lines.parquet")
    whole = pd.DataFrame({"month": pd.Categorical(["2026-01", "2026-01", "2027-01"]),
                          "payer": pd.Categorical(["t2", "t1", "a0"]), "quantity": [1.5, 2.0, 0.25],
                          "krw": [10, -3, 7]})
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "whole.parquet"), check_exact=True)
    assert list(got["payer"].cat.categories) == ["a0", "t1", "t2"]  # sorted, as one pd.Categorical
    assert pq.ParquetFile(tmp_path / "lines.parquet").metadata.num_row_groups == 2  # the empty year adds none
    assert pd.read_parquet(tmp_path / "none.parquet").empty
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.parquet", "none.parquet", "whole.parquet"]
    # the in-memory sink gives the same table
    mem = MemorySink()
    for frame in years:
        mem.write("lines", frame)
    pd.testing.assert_frame_equal(mem.close()["lines"], whole, check_exact=True)


def test_failure_mid_run_leaves_no_folder_and_no_staging(tmp_path):
    """Streamed row groups go to the staging folder: a run that fails after some years leaves nothing."""
    path = bundled_with("namdong", tmp_path, years=3)

    def fail(k):
        if k == 1:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run(path, tmp_path / "out" / "run", on_year=fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["namdong.yaml"]


def test_bundled_scenarios_close_a_year_without_rows_cleanly():
    """A horizon ending in December: the last close drains everything, the end adds nothing."""
    scenario, tenants = prepare(bundled_scenarios()["tariff-flat"], None)
    assert scenario.start_date.month == 1
    model = ComplexModel(scenario, tenants)
    results = RunResults(scenario, model, MemorySink())
    model.on_books_closed = results.close_year
    model.run()
    assert model.ledger.chunk().empty
    ev = results.finish()
    assert ev.tables["invoices"]["month"].nunique() == 12 * scenario.years
