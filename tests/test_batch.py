"""Monte Carlo batches: rows, seeds, statistics, errors, resume, and Ray (local, a two-node
loopback cluster, a killed worker) giving the same runs on any number of workers."""
from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pandas as pd
import pytest
from conftest import cli, cli_popen, marked_pids
from typer.testing import CliRunner

from re100sim.simulator.batch import worker
from re100sim.simulator.batch.worker import TIMING_COLUMNS


def inproc(*args):
    """The command in this process (no interpreter start-up); returncode/stderr like ``cli``."""
    from re100sim.simulator.cli import app

    res = CliRunner().invoke(app, [str(a) for a in args])
    res.returncode = res.exit_code
    return res


def runs_of(out) -> pd.DataFrame:
    return pd.read_parquet(out / "runs.parquet").sort_values("run_id").reset_index(drop=True)


def without_timing(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])


def test_mc_in_process_rows_seeds_and_summary(namdong_mc, tmp_path):
    out = tmp_path / "mc"
    r = inproc("mc", namdong_mc, "--runs", 5, "--out", out, "--workers", 1, "--seed", 42)
    assert r.returncode == 0, r.stderr
    runs = runs_of(out)
    assert runs["run_id"].tolist() == [0, 1, 2, 3, 4]
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    # run i draws from SeedSequence(42, spawn_key=(i,)): inputs from (i, 0), the model seed from (i, 1)
    assert runs["spawn_key"].tolist() == [0, 1, 2, 3, 4] and (runs["seed_entropy"] == 42).all()
    assert runs["run_seed"][3] == int(np.random.SeedSequence(42, spawn_key=(3, 1)).generate_state(1, np.uint64)[0] >> np.uint64(1))
    u = np.random.default_rng(np.random.SeedSequence(42, spawn_key=(3, 0))).random(3)
    # the eos price is uniform on [90, 130] and uncorrelated: 90 + 40 u (the copula leaves an independent margin alone)
    assert runs["contracts[ppa-eos].price.price_krw_per_kwh"][3] == pytest.approx(90 + 40 * u[2])
    for col in ("cost.savings_krw", "re_share_hourly", "adoption.direct_ppa", "invariants.money_residual_krw"):
        assert col in runs.columns
    # conservation holds on every run
    assert runs["invariants.energy_residual_mwh"].abs().max() < 1e-6
    # summary.json statistics against pandas on runs.parquet
    s = json.loads((out / "summary.json").read_text())
    assert s["runs"] == {"total": 5, "ok": 5, "error": 0}
    k = s["kpis"]["cost.savings_krw"]
    v = runs["cost.savings_krw"]
    assert k["n"] == 5 and k["mean"] == pytest.approx(v.mean()) and k["sd"] == pytest.approx(v.std())
    assert k["p10"] == pytest.approx(v.quantile(0.10)) and k["p95"] == pytest.approx(v.quantile(0.95))
    # yearly series: 2 calendar years (Aug 2025 - Jul 2026) per run
    y = pd.read_parquet(out / "yearly.parquet")
    assert sorted(y["run_id"].unique()) == [0, 1, 2, 3, 4] and (y.groupby("run_id").size() == 2).all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["sampler"] == "mc" and m["root_seed"] == 42 and m["runs"] == 5
    assert {"ray", "SALib", "numpy"} <= set(m["package_versions"]) and "scenario_sha256" in m
    # savings in summary = sum of the yearly savings series of the same run
    assert y[y.run_id == 0]["savings_krw"].sum() == pytest.approx(runs["cost.savings_krw"][0])


def test_a_run_that_raises_is_an_error_row(namdong_mc, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from re100sim.simulator.cli import app

    real = worker.simulate

    def flaky(scenario, tenants=None, tables=False):
        if scenario.contracts[3].price.price_krw_per_kwh > 120:
            raise RuntimeError("solver diverged")
        return real(scenario, tenants, tables)

    monkeypatch.setattr(worker, "simulate", flaky)
    out = tmp_path / "mc"
    res = CliRunner().invoke(app, ["mc", str(namdong_mc), "--runs", "6", "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    runs = runs_of(out)
    bad = runs["contracts[ppa-eos].price.price_krw_per_kwh"] > 120
    assert bad.any() and (~bad).any()
    assert (runs.loc[bad, "status"] == "error").all() and (runs.loc[~bad, "status"] == "ok").all()
    assert runs.loc[bad, "error"].str.contains("RuntimeError: solver diverged").all()
    assert runs.loc[bad, "run_seed"].notna().all()
    s = json.loads((out / "summary.json").read_text())
    assert s["runs"]["error"] == int(bad.sum()) and s["kpis"]["cost.savings_krw"]["n"] == int((~bad).sum())


def test_driver_sigkill_then_resume_completes_exactly_once(namdong_mc, tmp_path):
    N = 60  # parts are flushed every 2 s: enough runs (about 0.1 s each) that the driver is killed mid-set
    full = tmp_path / "full"
    assert inproc("mc", namdong_mc, "--runs", N, "--out", full, "--workers", 1).returncode == 0
    out = tmp_path / "killed"
    proc = cli_popen("mc", namdong_mc, "--runs", N, "--out", out, "--workers", 1)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not list((out / "parts").glob("runs-*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "runs.parquet").exists()  # killed before the end
    partial = pd.concat([pd.read_parquet(f) for f in (out / "parts").glob("runs-*.parquet")])
    assert 0 < len(partial) < N
    # a different sampler is refused: one line, exit 2, nothing touched
    r = inproc("mc", namdong_mc, "--runs", N, "--out", out, "--workers", 1, "--resume", "--sampler", "lhs")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "sampler" in r.stderr, r.stderr
    r = inproc("mc", namdong_mc, "--runs", N, "--out", out, "--workers", 1, "--resume")
    assert r.returncode == 0, r.stderr
    resumed, whole = runs_of(out), runs_of(full)
    assert resumed["run_id"].tolist() == list(range(N))  # no duplicate, none missing
    pd.testing.assert_frame_equal(without_timing(resumed), without_timing(whole))
    assert len(pd.read_parquet(out / "yearly.parquet")) == len(pd.read_parquet(full / "yearly.parquet"))
    # the resumed session ran only the missing ids
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert sessions[-1]["runs_todo"] == N - len(partial)


def test_existing_out_without_resume_is_refused(namdong_mc, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    r = inproc("mc", namdong_mc, "--runs", 2, "--out", out, "--workers", 1)
    assert r.returncode == 2 and r.stderr.strip().startswith(f"error: {out}: --out: already exists"), r.stderr


@pytest.mark.slow
def test_one_and_two_local_ray_workers_give_identical_runs(namdong_mc, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert inproc("mc", namdong_mc, "--runs", 6, "--out", one, "--workers", 1, "--sampler", "lhs").returncode == 0
    r = cli("mc", namdong_mc, "--runs", 6, "--out", two, "--workers", 2, "--sampler", "lhs")
    assert r.returncode == 0, r.stderr
    a, b = runs_of(one), runs_of(two)
    assert b["worker"].nunique() == 2  # both Ray workers ran
    pd.testing.assert_frame_equal(without_timing(a), without_timing(b))
    m = json.loads((two / "manifest.json").read_text())
    assert m["cluster"]["cpus"] == 2 and m["ray_version"]


@pytest.mark.slow
def test_cluster_on_two_nodes_with_a_killed_worker(namdong_mc, tmp_path, ray_cluster):
    address, env, marker = ray_cluster
    out = tmp_path / "cluster"
    proc = cli_popen("mc", namdong_mc, "--runs", 12, "--out", out, "--address", address, env=env)
    killed, deadline = None, time.time() + 180
    while killed is None and time.time() < deadline and proc.poll() is None:
        busy = marked_pids(marker, title="ray::run_many")
        if busy:
            os.kill(busy[0], signal.SIGKILL)  # a Ray worker process dies mid-run
            killed = busy[0]
        time.sleep(0.05)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert killed is not None
    runs = runs_of(out)
    assert runs["run_id"].tolist() == list(range(12))  # every run id once
    assert (runs["status"] == "ok").all()  # the killed worker's task was retried by Ray
    assert runs["node"].nunique() == 2  # runs on both nodes
    m = json.loads((out / "manifest.json").read_text())
    assert m["cluster"] == {"mode": "address", "nodes": 2, "cpus": 2}
    # same runs as in process
    ref = tmp_path / "ref"
    assert inproc("mc", namdong_mc, "--runs", 12, "--out", ref, "--workers", 1).returncode == 0
    pd.testing.assert_frame_equal(without_timing(runs), without_timing(runs_of(ref)))


def test_root_seed_and_keep_runs(namdong_mc, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert inproc("mc", namdong_mc, "--runs", 1, "--out", a, "--workers", 1, "--seed", 1, "--keep-runs").returncode == 0
    assert inproc("mc", namdong_mc, "--runs", 1, "--out", b, "--workers", 1, "--seed", 2).returncode == 0
    # another root seed in the same worker process: other inputs and another model seed (no stale cache)
    ra, rb = runs_of(a), runs_of(b)
    assert ra["markets.smp.base_level_krw_per_kwh"][0] != rb["markets.smp.base_level_krw_per_kwh"][0]
    assert ra["run_seed"][0] != rb["run_seed"][0]
    kept = a / "runs" / "run-000000"
    inv = pd.read_parquet(kept / "invoices.parquet")
    # the kept invoices are the run's: tenants' payments add up to its cost in runs.parquet
    tenants = {"hwashin-histeel", "bosung-metal", "hankook-materials", "eos"}
    assert inv.loc[inv["payer"].isin(tenants), "krw"].sum() == ra["cost.tenant_total_krw"][0]
    assert json.loads((kept / "summary.json").read_text())["cost"]["tenant_total_krw"] == ra["cost.tenant_total_krw"][0]
    assert not (b / "runs").exists()


def _fake_rows(writer, ids):
    for i in ids:
        writer.add({"run_id": i, "point_id": 0, "status": "ok", "error": None, "cost.savings_krw": float(10 * i)},
                   pd.DataFrame({"run_id": [i, i], "year": [2025, 2026], "savings_krw": [1.0, 2.0]}))
    writer.flush()


def test_resume_after_a_cut_short_compaction_or_an_orphan_yearly_part(tmp_path):
    from re100sim.simulator.batch.store import PartWriter, compact, open_dir

    plan = {"command": "mc", "scenario_sha256": "x", "sampler": "mc", "root_seed": 1, "runs": 6, "plan_sha256": "y"}
    out = tmp_path / "b"
    assert open_dir(out, plan, resume=False) == set()
    _fake_rows(PartWriter(out), [0, 1, 2])
    # a compaction cut short: runs.parquet written, the parts not yet deleted
    compact(out)
    (out / "parts").mkdir()
    _fake_rows(PartWriter(out), [0, 1, 2])
    # an orphan yearly part (driver killed between a part's two files): its runs are not done
    w = PartWriter(out)
    pd.DataFrame({"run_id": [3], "year": [2025], "savings_krw": [9.0]}).to_parquet(out / "parts" / f"yearly-{w.tag}-000000.parquet")
    assert open_dir(out, plan, resume=True) == {0, 1, 2}
    assert not (out / "runs.parquet").exists() and not (out / "parts" / f"yearly-{w.tag}-000000.parquet").exists()
    _fake_rows(PartWriter(out), [3, 4, 5])
    compact(out)
    runs, yearly = pd.read_parquet(out / "runs.parquet"), pd.read_parquet(out / "yearly.parquet")
    assert runs["run_id"].tolist() == [0, 1, 2, 3, 4, 5]
    assert yearly["run_id"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # a finished folder resumed again: its compacted files are the parts, nothing to run
    assert open_dir(out, plan, resume=True) == set(range(6))
    compact(out)
    assert pd.read_parquet(out / "runs.parquet")["run_id"].tolist() == list(range(6))


def test_mc_report_flag_writes_the_set_page(namdong_mc, tmp_path):
    out = tmp_path / "set"
    r = inproc("mc", namdong_mc, "--runs", 2, "--out", out, "--workers", 1, "--report")
    assert r.returncode == 0, r.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "runs.ok" in page and (out / "figures" / "mc_kpi_distributions.svg").exists()
