"""Outputs streamed a calendar year at a time (issue 12): the same tables as one evaluation of the whole
run, a ledger that holds one year, parquet files that concatenate, and the results-folder guarantees.

Namdong starts on 2025-08-01, so its simulated years straddle calendar years: the books are closed at each
December, in the middle of a simulated year.
"""
from __future__ import annotations

import json
import math

import numpy as np
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


def test_ledger_invoices_keep_booking_order_and_sorted_categories():
    """Scalar lines and blocks (a block's payee, item and unit one text) interleave in booking order; each text
    column is the ``pd.Categorical`` of its texts (categories sorted), whichever way the lines were booked."""
    from re100sim.simulator.outputs.ledger import Ledger

    led = Ledger(["t2", "t1"])
    led.add(2026 * 12, "t1", "broker", "ppa_energy", 10, "kWh", 900)
    led.add_many(2026 * 12, np.array(["t2", "t1"], dtype=object), "kepco", "vat", np.array([1.0, 2.0]), "KRW",
                 np.array([5, 7]))
    led.add(2026 * 12 + 1, "broker", "t1", "vat", 90, "KRW", 9)
    got = led.invoices()
    texts = {"payer": ["t1", "t2", "t1", "broker"], "payee": ["broker", "kepco", "kepco", "t1"],
             "item": ["ppa_energy", "vat", "vat", "vat"], "unit": ["kWh", "KRW", "KRW", "KRW"]}
    for c, values in texts.items():
        pd.testing.assert_series_equal(got[c], pd.Series(pd.Categorical(values), name=c), check_exact=True)
    assert list(got["month"].astype(str)) == ["2026-01", "2026-01", "2026-01", "2026-02"]
    assert got["krw"].tolist() == [900, 5, 7, 9] and got["quantity"].tolist() == [10.0, 1.0, 2.0, 90.0]


def test_net_cost_on_codes_hand_worked_and_for_plain_text_columns():
    """t1 pays KEPCO 100 + 10 VAT; its plant p1 pays O&M 20 and sells 30 to the market; t2 pays 50:
    t1's net cost = 100 + 10 + 20 - 30 = 100 KRW, ex VAT 90; t2's 50. The same from plain (non-categorical)
    text columns."""
    from re100sim.simulator.outputs.results import net_cost_by_month

    inv = pd.DataFrame({"month": ["2026-03"] * 5, "payer": ["t1", "t1", "p1", "market", "t2"],
                        "payee": ["kepco", "kepco", "om", "p1", "kepco"],
                        "item": ["energy_light", "vat", "plant_om", "energy_export_smp", "energy_light"],
                        "krw": np.array([100, 10, 20, 30, 50])})
    accounts = {"t1": "t1", "t2": "t2", "p1": "t1"}
    want = pd.DataFrame({"cost_krw": [100, 50], "cost_ex_vat_krw": [90, 50]},
                        index=pd.MultiIndex.from_arrays([pd.Index(["2026-03"] * 2, dtype=str),
                                                         pd.Index(["t1", "t2"], dtype=str)], names=["month", "agent"]))
    pd.testing.assert_frame_equal(net_cost_by_month(inv, accounts), want, check_exact=True)
    coded = inv.assign(**{c: pd.Categorical(inv[c]) for c in ("month", "payer", "payee", "item")})
    pd.testing.assert_frame_equal(net_cost_by_month(coded, accounts), want, check_exact=True)


def test_parquet_sink_writes_each_year_as_write_table_would(tmp_path):
    """The sink's file is byte for byte the one a ParquetWriter writes when given each year (its categoricals on the
    sorted union of all years' categories) with ``write_table``: a year longer than the default row group
    (1,048,576 rows) is split the same way, and the staging file is gone."""
    import pyarrow as pa

    rng = np.random.default_rng(3)
    names = [["t2", "t1"], ["a0"], ["t3", "t1"]]
    years = [pd.DataFrame({"payer": pd.Categorical(rng.choice(n, size)), "krw": rng.integers(-9, 9, size)})
             for n, size in zip(names, (1_100_000, 3, 7))]
    sink = ParquetSink(tmp_path)
    for frame in years:
        sink.write("lines", frame)
    sink.close()
    union = pd.Index(["a0", "t1", "t2", "t3"], dtype=object)
    schema = pa.Schema.from_pandas(years[0].iloc[:0].assign(payer=pd.Categorical([], categories=union)),
                                   preserve_index=False)
    with pq.ParquetWriter(tmp_path / "ref.parquet", schema) as w:
        for frame in years:
            w.write_table(pa.Table.from_pandas(frame.assign(payer=pd.Categorical(frame["payer"], categories=union)),
                                               schema=schema, preserve_index=False))
    assert pq.ParquetFile(tmp_path / "lines.parquet").metadata.num_row_groups == 4  # 1,048,576 + 51,424, 3, 7
    assert (tmp_path / "lines.parquet").read_bytes() == (tmp_path / "ref.parquet").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines.parquet", "ref.parquet"]


def test_a_settled_years_inputs_are_released_before_the_next_decision_round(monkeypatch, tmp_path):
    """Memory holds one year of hourly inputs: when the next year's decision round starts, the settled year's
    YearInputs is referenced by nothing (not the model, not the REC-trading process waiting for a month)."""
    import gc
    import weakref

    import re100sim.simulator.engine as engine

    path = bundled_with("smart-green-complex", tmp_path, years=2)
    scenario, tenants = prepare(path, None)
    assert scenario.decisions.enabled
    model = ComplexModel(scenario, tenants, on_year=lambda k: settled.append(weakref.ref(model.year)))
    settled, alive = [], []
    real = engine.decision_round

    def round_(m, fc):
        gc.collect()
        alive.append([r() is not None for r in settled])
        return real(m, fc)

    monkeypatch.setattr(engine, "decision_round", round_)
    model.run()
    assert alive == [[], [False]]
    assert model.year is not None and model.year.index == 1  # the last year is kept for the end-of-run reports
