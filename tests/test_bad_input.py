"""Bad input, faults and interrupts (issue 9): one ``error:`` line and exit 2, nothing left behind,
and every results folder re-runnable.

The property test mutates the bundled scenarios (tests/scenario_mutations.py); the tests below it
pin each class of failure the issue found. Set ``RE100SIM_SWEEP=N`` to run the long sweep of N cases.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from scenario_mutations import cases, check_case
from test_cli import BASE, mutate, run_cli, write

from re100sim.simulator.folders import write_json
from re100sim.simulator.scenario.config import RESERVED_PARTY_NAMES, load_scenario

# --- the property ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_mutated_scenarios_validate_and_run_alike(case):
    """Each mutated bundled scenario either validates and runs to the end (residuals ~0, strict JSON),
    or fails validate and run alike: one error line, exit 2, no traceback, nothing left."""
    _, text = case
    with tempfile.TemporaryDirectory() as folder:
        check_case(Path(folder), text)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("RE100SIM_SWEEP"), reason="long sweep: set RE100SIM_SWEEP=N")
def test_mutated_scenarios_long_sweep():
    n = int(os.environ.get("RE100SIM_SWEEP", "0"))

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases())
    def sweep(case):
        with tempfile.TemporaryDirectory() as folder:
            check_case(Path(folder), case[1])

    sweep()


# --- helpers ----------------------------------------------------------------------------------


def one_error_line(result, path, field: str, *words: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    prefix = f"error: {path}: {field}: " if field else f"error: {path}: "
    assert lines[0].startswith(prefix), lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def rejected_alike(tmp_path, data, field, *words):
    """validate and run print the same one line; run leaves no folder."""
    path = write(tmp_path, data)
    first = one_error_line(run_cli("validate", path), path, field, *words)
    second = one_error_line(run_cli("run", path, "--out", tmp_path / "out"), path, field, *words)
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    return first


# --- non-finite and absurd numbers --------------------------------------------------------------


@pytest.mark.parametrize("changes, field, words", [
    ({"generators__0__capacity_kw": float("inf")}, "generators[0].capacity_kw", "finite"),
    ({"tenants__0__annual_use_mwh": float("nan")}, "tenants[0].annual_use_mwh", "finite"),
    ({"emission_factor_t_per_mwh": float("inf")}, "emission_factor_t_per_mwh", "finite"),
    # 1e308 kW is a finite float but no plant: kW are bounded at 10 GW (1e7 kW)
    ({"generators__0__capacity_kw": 1e308}, "generators[0].capacity_kw", "<= 1e+07 kW"),
    ({"emission_factor_t_per_mwh": 5.0}, "emission_factor_t_per_mwh", "<= 2 tCO2/MWh"),
    ({"markets": {"smp": {"level_override_krw_per_kwh": 1e308}}}, "markets.smp.level_override_krw_per_kwh",
     "<= 2,000 KRW/kWh"),
    ({"tenants__0__load": {"monthly_factor": [1.0] * 11 + [float("inf")]}}, "tenants[0].load.monthly_factor[11]",
     "finite"),
    ({"tenants__0__behaviour": {"re_target_pct": {2030: float("nan")}}}, "tenants[0].behaviour.re_target_pct[2030]",
     "finite"),
], ids=["inf_capacity", "nan_use", "inf_emission", "huge_capacity", "emission_above_coal", "huge_smp",
        "inf_monthly_factor", "nan_target"])
def test_non_finite_and_absurd_numbers(tmp_path, changes, field, words):
    rejected_alike(tmp_path, mutate(**changes), field, words)


def test_tariff_step_that_makes_prices_negative(tmp_path):
    # The bundled industrial energy prices are far below 500 KRW/kWh, so a -500 step drives them below 0.
    data = mutate(tariff_path={"increases": [{"date": "2026-07-01", "energy_krw_per_kwh": -500}]})
    rejected_alike(tmp_path, data, "tariff_path", "2026-07-01", "above 0")


def test_tariff_growth_that_explodes(tmp_path):
    # 150 %/yr compounded for 10 years multiplies prices by 2.5^10 = 9,537: far above 2,000 KRW/kWh.
    data = mutate(years=10, tariff_path={"yearly_pct": 150, "yearly_from": "2026-01-01"})
    rejected_alike(tmp_path, data, "tariff_path", "at most 2,000 KRW/kWh")


def test_smp_indexed_price_with_negative_adder_needs_a_floor(tmp_path):
    data = mutate(contracts=[{"name": "c", "generator": "pv", "tenant": "a", "volume": {"kind": "share", "share": 0.5},
                              "price": {"kind": "smp_indexed", "adder_krw_per_kwh": -20}}])
    rejected_alike(tmp_path, data, "contracts[0].price.adder_krw_per_kwh", "-20", "floor_krw_per_kwh >= 0")


def test_json_is_strict(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"x": float("inf")})
    assert not (tmp_path / "x.json").exists()


# --- checks only run made -----------------------------------------------------------------------


def test_peak_below_the_average_load(tmp_path):
    # 3,000 MWh/yr is an average of 3,000,000 / 8,760 = 342 kW; a 100 kW peak is impossible.
    rejected_alike(tmp_path, mutate(tenants__0__peak_kw=100), "tenants[0].peak_kw", "cannot reach")


def test_impossible_date(tmp_path):
    rejected_alike(tmp_path, mutate(start_date="2025-02-30"), "start_date", "2025-02-30")


@pytest.mark.parametrize("content, words", [
    (None, "not found"),
    ("period,value\n2024-01,1\n", "missing columns"),
    ("period,smp_krw_per_kwh,kind,in_path,source\n2024-01,abc,monthly,1,x\n", "abc"),
], ids=["missing", "wrong_columns", "non_numeric"])
def test_history_csv_checked_by_validate(tmp_path, content, words):
    if content is not None:
        (tmp_path / "smp.csv").write_text(content, encoding="utf-8")
    field = "markets.smp.history_csv"
    path = write(tmp_path, mutate(markets={"smp": {"history_csv": "smp.csv"}}))
    for cmd in (["validate", path], ["run", path, "--out", tmp_path / "out"]):
        one_error_line(run_cli(*cmd), path, field, words)
    assert not (tmp_path / "out").exists()


def test_paths_resolve_from_the_scenario_folder(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "smp.csv").write_text(
        "period,smp_krw_per_kwh,kind,in_path,source\n2025-01,150,monthly,1,test\n", encoding="utf-8")
    path = write(tmp_path, mutate(markets={"smp": {"history_csv": "data/smp.csv"}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run_cli("validate", path).exit_code == 0
    assert load_scenario(path).markets.smp.history_csv == tmp_path / "data" / "smp.csv"


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, field, words", [
    ({"tenants__0__name": "KEPCO"}, "tenants[0].name", "ledger's own party KEPCO"),
    ({"tenants__0__name": "kepco"}, "tenants[0].name", "ledger's own party KEPCO"),
    ({"generators__0__name": "market"}, "generators[0].name", "ledger's own party market"),
    ({"tenants__0__name": "KT", "broker": {"name": "KT"}}, "broker.name", "tenants[0].name"),
    ({"generators__0__name": "a"}, "generators[0].name", "already used by tenants[0].name"),
    ({"tenants__1__name": "a-002", "tenants__0__count": 3}, "tenants[1].name", "tenants[0].name"),
    ({"generators__0__name": "complex-pv-2030"}, "generators[0].name", "complex-pv-"),
    ({"generators__0__name": "b-rooftop"}, "generators[0].name", "rooftop plant b may build"),
], ids=["kepco", "kepco_case", "market", "broker_like_tenant", "plant_like_tenant", "group_expansion",
        "generated_plant", "tenant_rooftop"])
def test_party_names_are_unique(tmp_path, changes, field, words):
    rejected_alike(tmp_path, mutate(**changes), field, words)


@pytest.mark.parametrize("name", [" ", "", "a/b", "..", "x y", "_x", "a\tb"])  # letters of any script are fine (Hangul names)
def test_unsafe_names(tmp_path, name):
    line = rejected_alike(tmp_path, mutate(tenants__0__name=name), "tenants[0].name", "not an allowed name")
    assert "^[^\\W_][\\w.\\-]{0,63}$" in line  # the pattern as it is, not lower-cased


def test_reserved_names_cover_the_ledger_parties():
    from re100sim.agents.utility import Utility
    from re100sim.simulator.engine import KEA, MARKET
    from re100sim.simulator.rules.certification import EXTERNAL_REC_SOURCE, RPS_MARKET

    assert {Utility.name, MARKET, KEA, RPS_MARKET, EXTERNAL_REC_SOURCE} <= set(RESERVED_PARTY_NAMES)


# --- YAML surprises ----------------------------------------------------------------------------


def test_duplicate_key(tmp_path):
    text = yaml.safe_dump(BASE, sort_keys=False) + "years: 3\n"
    line = rejected_alike(tmp_path, text, "years", "duplicate key")
    assert "first given at line 3" in line  # name, start_date, years


def test_nested_duplicate_key(tmp_path):
    text = yaml.safe_dump(BASE, sort_keys=False).replace("  capacity_kw: 500\n", "  capacity_kw: 500\n  capacity_kw: 9\n")
    rejected_alike(tmp_path, text, "generators[0].capacity_kw", "duplicate key")


@pytest.mark.parametrize("changes, field", [
    ({"years": True}, "years"),
    ({"generators__0__capacity_kw": False}, "generators[0].capacity_kw"),
    ({"tenants__0__annual_use_mwh": True}, "tenants[0].annual_use_mwh"),
])
def test_booleans_where_numbers_belong(tmp_path, changes, field):
    rejected_alike(tmp_path, mutate(**changes), field, "boolean")


# --- contracts that can never apply ----------------------------------------------------------


def test_ppa_starting_after_the_run(tmp_path):
    data = mutate(contracts=[{"name": "late", "generator": "pv", "tenant": "a", "start_date": "2030-01-01",
                              "volume": {"kind": "share", "share": 0.5},
                              "price": {"kind": "fixed", "price_krw_per_kwh": 100}}])
    rejected_alike(tmp_path, data, "contracts[0].start_date", "2030-01-01", "2027-01-01")


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, field, words", [
    ({"distribution": "lognormal", "mean": 3000, "cv": 0}, "tenants[0].annual_use_mwh.cv", "greater than 0"),
    ({"distribution": "gamma", "mean": 3000}, "tenants[0].annual_use_mwh", "'gamma'"),
    ({"distribution": "uniform", "low": 3000, "high": 2000}, "tenants[0].annual_use_mwh", "high 2000.0 is below low"),
])
def test_distribution_messages(tmp_path, amount, field, words):
    data = mutate(tenants__0__annual_use_mwh=amount)
    del data["tenants"][0]["peak_kw"]
    rejected_alike(tmp_path, data, field, words)


def test_duplicate_contract_names_are_named(tmp_path):
    c = {"name": "ppa-x", "generator": "pv", "tenant": "a", "volume": {"kind": "share", "share": 0.3},
         "price": {"kind": "fixed", "price_krw_per_kwh": 100}}
    rejected_alike(tmp_path, mutate(contracts=[c, {**c, "tenant": "b"}]), "contracts[1].name", "'ppa-x'",
                   "contracts[0]")


def test_ppa_with_the_buyers_own_plant_is_refused(tmp_path):
    # A tenant-owned plant behind a's meter is a's self-generation: a PPA from it to a would pay a and move
    # its certificates from a to a. Another tenant may buy from it.
    c = {"name": "self", "generator": "pv", "tenant": "a", "volume": {"kind": "share", "share": 0.3},
         "price": {"kind": "fixed", "price_krw_per_kwh": 100}}
    data = mutate(generators__0__owner="tenant", generators__0__host_tenant="a", contracts=[c])
    rejected_alike(tmp_path, data, "contracts[0].tenant", "'a' owns 'pv'")
    other_buyer = mutate(generators__0__owner="tenant", generators__0__host_tenant="a",
                                contracts=[{**c, "tenant": "b"}])
    assert run_cli("validate", write(tmp_path, other_buyer, "ok.yaml")).exit_code == 0


def test_output_dir_problems_name_output_dir(tmp_path):
    (tmp_path / "a-file").write_text("x")
    path = write(tmp_path, mutate(output={"dir": "a-file/out"}))
    for cmd in (["validate", path], ["run", path]):
        one_error_line(run_cli(*cmd), path, "output.dir", "a-file", "not a folder")


# --- full-horizon metering files ------------------------------------------------------------


def test_full_horizon_load_file(tmp_path):
    # 2026-01-01 + 2 years: 2026 and 2027 have 8,760 hours each, so the horizon has 17,520 hours.
    kw = np.r_[np.full(8760, 300.0), np.full(8760, 600.0)]
    pd.DataFrame({"kw": kw}).to_csv(tmp_path / "meter.csv", index=False)
    data = mutate(years=2, tenants__0__load_file="meter.csv")
    del data["tenants"][0]["annual_use_mwh"], data["tenants"][0]["peak_kw"]
    path = write(tmp_path, data)
    assert run_cli("run", path, "--out", tmp_path / "o").exit_code == 0
    k = pd.read_parquet(tmp_path / "o" / "kpis_tenants.parquet")
    a = k[k.agent == "a"].set_index("year")["load_mwh"]
    assert a.loc[2026] == pytest.approx(8760 * 300 / 1000)  # 2,628 MWh
    assert a.loc[2027] == pytest.approx(8760 * 600 / 1000)  # 5,256 MWh
    pd.DataFrame({"kw": np.r_[kw, 1.0]}).to_csv(tmp_path / "meter.csv", index=False)
    one_error_line(run_cli("validate", path), path, "tenants[0].load_file", "17520 rows for the horizon")


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["run", "--seed", "abc"], "--seed"),
    (["run", "--seed", "1.5"], "--seed"),
    (["run", "--seed", "-1"], "--seed"),
    (["run", "--bogus"], "--bogus"),
    (["validate", "a.yaml", "extra"], "extra"),
    (["validate"], "Missing argument"),
    (["frobnicate"], "frobnicate"),
], ids=["seed_text", "seed_float", "seed_negative", "unknown_option", "extra_argument", "no_file", "unknown_command"])
def test_command_line_mistakes_one_line(args, words):
    proc = subprocess.run([sys.executable, "-m", "re100sim.simulator.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], proc.stderr
    assert "╭" not in proc.stderr and "Traceback" not in proc.stderr


def test_out_under_a_file(tmp_path):
    path = write(tmp_path, BASE)
    (tmp_path / "f").write_text("x")
    one_error_line(run_cli("run", path, "--out", tmp_path / "f" / "out"), tmp_path / "f" / "out", "--out",
                   "not a folder")


def test_out_in_an_unwritable_place(tmp_path):
    path = write(tmp_path, BASE)
    if os.geteuid() == 0:  # root writes anywhere a mode allows; /sys refuses new folders
        if not Path("/sys").is_dir():
            pytest.skip("no /sys")
        out = Path("/sys/re100sim-test/out")
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        out = tmp_path / "ro" / "sub" / "out"
    one_error_line(run_cli("run", path, "--out", out), out, "--out", "cannot create folder")


def test_late_failure_leaves_no_parent_folders(tmp_path, monkeypatch):
    from re100sim.simulator import run as run_module
    from re100sim.simulator.errors import InputError

    def fail(*args):
        raise InputError("late", "", "failed while writing (test)")

    monkeypatch.setattr(run_module, "copy_inputs", fail)
    path = write(tmp_path, BASE)
    result = run_cli("run", path, "--out", tmp_path / "new" / "deeper" / "out")
    assert result.exit_code == 2 and result.stderr.startswith("error: late: failed while writing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scn.yaml"]


def _as_from_a_shell() -> None:
    """In the child before exec: nothing blocked, default SIGINT and SIGTERM, as an interactive shell starts a
    command. A child inherits ignored signals: a test suite started in the background by a non-interactive
    shell (``.ci/run &``) runs with SIGINT ignored (POSIX), so the run ignored the test's SIGINT and exited 0."""
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "re100sim.simulator.cli", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_shell)


def test_concurrent_runs_to_one_folder(tmp_path):
    path = write(tmp_path, BASE)
    procs = [_start(["run", path, "--out", tmp_path / "out"], tmp_path) for _ in range(2)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2], results
    loser = next(err for rc, err in results if rc == 2)
    assert len(loser.strip().splitlines()) == 1 and loser.startswith(f"error: {tmp_path / 'out'}: --out: ")
    assert "OSError" not in loser
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scn.yaml"]


def test_concurrent_runs_to_the_default_folder(tmp_path):
    path = write(tmp_path, BASE)
    procs = [_start(["run", path], tmp_path) for _ in range(2)]
    codes = [p.wait() for p in procs]
    errors = [p.stderr.read() for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert codes == [0, 0], errors
    folders = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.startswith("tiny-") for f in folders), folders  # unique names, no leftovers


# --- interrupts ---------------------------------------------------------------------------------


def _interrupted_run(tmp_path, sig):
    """Start a long run (2,000 tenants x 20 years), send ``sig`` once it is writing, return (process, out
    folder). The run must still be going when the signal lands, however late a loaded machine lets the poll
    see the staging folder: a 3-year (12-year) run of the two-tenant scenario published its folder about
    0.25 s (1 s) after reserving it, and under load the signal came after that (exit 0); this run is
    interrupted after a second or two, so its length costs nothing."""
    path = write(tmp_path, mutate(years=20, tenants__0__count=2000))
    out = tmp_path / "out"
    proc = _start(["run", path, "--out", out], tmp_path)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.partial-*")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it was interrupted"
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return proc, path, out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_leaves_nothing_and_says_so(tmp_path, sig):
    proc, path, out = _interrupted_run(tmp_path, sig)
    err = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines() == [f"interrupted: nothing written to {out}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scn.yaml"]
    assert run_cli("run", write(tmp_path, BASE), "--out", out).exit_code == 0  # the same folder name is free


def test_sigkill_then_next_run_cleans_up(tmp_path):
    proc, path, out = _interrupted_run(tmp_path, signal.SIGKILL)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert list(tmp_path.glob(".out.partial-*"))  # a killed process cannot clean up
    result = run_cli("run", write(tmp_path, BASE), "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scn.yaml"]


# --- self-contained results ----------------------------------------------------------------------


def test_results_folder_reruns_byte_identical_elsewhere(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"kw": np.full(8760, 400.0)}).to_csv(src / "meter.csv", index=False)
    (src / "smp.csv").write_text(
        "period,smp_krw_per_kwh,kind,in_path,source\n2025-01,150,monthly,1,test\n", encoding="utf-8")
    data = mutate(tenants__0__load_file="meter.csv", markets={"smp": {"history_csv": "smp.csv"}})
    path = write(src, data)
    first = tmp_path / "first"
    assert run_cli("run", path, "--out", first, "--seed", "99").exit_code == 0
    copy = yaml.safe_load((first / "scenario.yaml").read_text())
    assert copy["seed"] == 99  # the effective seed, not the file's 7
    manifest = json.loads((first / "manifest.json").read_text())
    got = {e["field"]: e for e in manifest["inputs"]}
    assert set(got) == {"tenants[0].load_file", "markets.smp.history_csv", "markets.rec.history_csv"}
    for e in got.values():
        assert (first / e["copy"]).is_file() and len(e["sha256"]) == 64
    # "Another machine": the original inputs are gone and we run from elsewhere.
    for f in src.iterdir():
        f.unlink()
    monkeypatch.chdir(tmp_path)
    assert run_cli("validate", first / "scenario.yaml").exit_code == 0
    assert run_cli("run", first / "scenario.yaml", "--out", tmp_path / "again").exit_code == 0
    data_files = [p.relative_to(first) for p in first.rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert len(data_files) >= 12
    for rel in data_files:
        assert (first / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


def test_reference_documents_every_kind_and_range():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "scenario.md").read_text(encoding="utf-8")
    for kind in ("kind: share", "kind: baseload", "kind: shaped", "kind: fixed", "kind: smp_indexed",
                 "kind: tariff_indexed"):
        assert f"`{kind}`" in doc, kind
    assert "`{distribution: lognormal, ...}`" in doc and "`{distribution: uniform, ...}`" in doc
    assert "| `contracts[i].volume.block_kw` | float | kW | > 0 and <= 1e+07 kW |" in doc
    assert "one row per simulated hour (8,760 x years, plus 24 per 29 February)" in doc  # rows a load_file needs
