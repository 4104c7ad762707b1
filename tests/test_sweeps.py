"""Sweeps, the namdong direct-PPA stress test, and Sobol sensitivity."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import bundled_with
from typer.testing import CliRunner

from re100sim.simulator.batch.terms import PRICE_PATH, break_even
from re100sim.simulator.cli import app


def cli(*args):
    """In process (the commands' own process is tested in test_batch.py): no interpreter start-up."""
    res = CliRunner().invoke(app, [str(a) for a in args])
    res.returncode = res.exit_code
    return res


@pytest.mark.slow
def test_tariff_increase_sweep_raises_savings_and_adoption(tmp_path):
    # The bundled smart-green complex, 3 years (increases apply from 2027-01-01, the year after the
    # bundled tariff history), a fifth of its tenants to keep the test short.
    scn = bundled_with("smart-green-complex", tmp_path, years=3)
    out = tmp_path / "sweep"
    r = cli("sweep", scn, "--spec", "smart-green-tariff-increase", "--runs", 2, "--out", out, "--workers", 1,
            "--set", "tenants[sme].count=40", "--set", "tenants[mid].count=16", "--set", "tenants[supplier].count=4")
    assert r.returncode == 0, r.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "ok").all() and len(runs) == 8  # 4 increases x 2 runs
    by = runs.groupby("tariff_path.yearly_pct")
    savings = by["cost.savings_krw"].mean()
    adopters = by[["adoption.direct_ppa", "adoption.self_generation"]].mean().sum(axis=1)
    assert savings.index.tolist() == [0, 3, 6, 10]
    # decisions make single points noisy (2 runs each): the trend over the four points and its ends
    inc = np.array([0, 3, 6, 10])
    assert savings[10] > savings[0] and np.corrcoef(inc, savings.to_numpy())[0, 1] > 0.5, savings
    assert adopters[10] > adopters[0] and np.corrcoef(inc, adopters.to_numpy())[0, 1] > 0.5, adopters
    # common random numbers: replicate r of every point ran on the same seed
    assert runs.groupby("spawn_key")["run_seed"].nunique().eq(1).all()
    s = json.loads((out / "summary.json").read_text())
    assert [p["values"]["tariff_path.yearly_pct"] for p in s["points"]] == [0, 3, 6, 10]
    assert s["points"][3]["kpis"]["cost.savings_krw"]["mean"] == pytest.approx(savings[10])


def test_bad_sweep_value_is_one_error_line(tmp_path):
    out = tmp_path / "o"
    r = cli("sweep", "namdong", "--set", "contracts[*].volume.share=0.5", "--runs", 1, "--out", out, "--workers", 1)
    # four contracts of 0.5 on one plant add up to 2 (at most 1)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "add up to" in r.stderr and not out.exists()
    r = cli("sweep", "namdong", "--set", "contracts[*].nope=1", "--runs", 1, "--out", out, "--workers", 1)
    assert r.returncode == 2 and "nope: no such field" in r.stderr and not out.exists()


def test_break_even_interpolates_linearly():
    # savings +30 at 100 and -10 at 140: zero at 100 + 40 * 30 / 40 = 130
    assert break_even(pd.Series([140, 100, 120]), pd.Series([-10, 30, 10])) == pytest.approx(130)
    assert np.isnan(break_even(pd.Series([100, 120]), pd.Series([5, 1])))  # no crossing in the grid


def test_namdong_stress_test_produces_its_table(tmp_path):
    out = tmp_path / "terms"
    r = cli("sweep", "namdong", "--spec", "namdong-ppa-terms", "--runs", 3, "--out", out, "--workers", 1,
            "--set", "years=1", "--set", f"{PRICE_PATH}=80,160", "--set", "contracts[*].price.escalation_pct_per_year=0",
            "--set", "contracts[*].term_years=10", "--set", "contracts[*].settlement=pay_as_consumed",
            "--set", "broker.fee_krw_per_kwh=1")
    assert r.returncode == 0, r.stderr
    assert "break-even" in r.stdout
    t = pd.read_parquet(out / "terms.parquet")
    runs = pd.read_parquet(out / "runs.parquet")
    tenants = ["bosung-metal", "eos", "hankook-materials", "hwashin-histeel"]
    assert len(t) == 4 and set(t["share"]) == {"as_signed", "half"}  # 2 prices x 2 shares
    for name in tenants:
        p = t[f"p_save.{name}"]
        assert p.between(0, 1).all()
        # cheaper PPA power: at least as likely to save
        for share in ("as_signed", "half"):
            s = t[t["share"] == share].set_index(PRICE_PATH)
            assert s.loc[80, f"p_save.{name}"] >= s.loc[160, f"p_save.{name}"]
            # break-even from the two P50 savings: 80 + 80 * s80 / (s80 - s160) when they straddle zero
            s80, s160 = s.loc[80, f"p50_savings_krw.{name}"], s.loc[160, f"p50_savings_krw.{name}"]
            if s80 > 0 > s160:
                assert s.loc[80, f"break_even_price_krw_per_kwh.{name}"] == pytest.approx(80 + 80 * s80 / (s80 - s160))
        # P(all save) never exceeds any one tenant's
        assert (t["p_save.all_tenants"] <= p + 1e-12).all()
    # the table's probabilities are shares of the point's runs (recount from runs.parquet)
    g = runs[runs["point_id"] == 0]
    assert t.loc[t.point_id == 0, "p_save.eos"].item() == pytest.approx((g["ppa.tenant.eos.savings_krw"] > 0).mean())
    assert t.loc[t.point_id == 0, "p10_revenue_krw.namdong-public-pv"].item() == pytest.approx(
        g["ppa.generator.namdong-public-pv.revenue_krw"].quantile(0.1))
    # the swept contract price overrides nothing else: market inputs still vary per run (SMP, REC, tariff path)
    assert runs["markets.smp.base_level_krw_per_kwh"].nunique() == 3
    # all tenants' savings = sum of the four
    assert np.allclose(runs["ppa.all_tenants.savings_krw"], runs[[f"ppa.tenant.{n}.savings_krw" for n in tenants]].sum(axis=1))


def test_sobol_ranks_the_uncertain_inputs(tmp_path):
    # Tenant savings under a fixed-price, pay-as-consumed PPA: the PPA price moves them by 60 KRW/kWh
    # over its range, the broker fee by 20 KRW/kWh over its range, and bass_q not at all (decisions off).
    scn = bundled_with("namdong", tmp_path, years=1, uncertainty={"inputs": [
        {"path": "decisions.bass_q", "distribution": "uniform", "low": 0.1, "high": 0.6},
        {"path": "broker.fee_krw_per_kwh", "distribution": "uniform", "low": 0, "high": 20},
        {"path": "contracts[*].price.price_krw_per_kwh", "distribution": "uniform", "low": 80, "high": 140}]})
    out = tmp_path / "sobol"
    r = cli("sensitivity", scn, "--method", "sobol", "--samples", 8, "--out", out, "--workers", 1)
    assert r.returncode == 0, r.stderr
    idx = pd.read_parquet(out / "indices.parquet")
    s = idx[idx["kpi"] == "cost.savings_krw"].set_index("input")
    assert s["rank"].to_dict() == {"contracts[*].price.price_krw_per_kwh": 1, "broker.fee_krw_per_kwh": 2,
                                   "decisions.bass_q": 3}
    assert s.loc["decisions.bass_q", "ST"] == pytest.approx(0, abs=1e-9)
    # savings are additive in price and fee: variance shares 60^2 : 20^2 -> ST of the price about 0.9
    assert s.loc["contracts[*].price.price_krw_per_kwh", "ST"] > 0.6
    assert {"S1", "S1_conf", "ST_conf"} <= set(s.columns)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 * (3 + 2) and runs["run_seed"].nunique() == 1  # Saltelli N(D+2); one model seed


def test_morris_screens_out_an_input_without_effect(tmp_path):
    scn = bundled_with("namdong", tmp_path, years=1, uncertainty={"inputs": [
        {"path": "decisions.bass_q", "distribution": "uniform", "low": 0.1, "high": 0.6},
        {"path": "contracts[*].price.price_krw_per_kwh", "distribution": "uniform", "low": 80, "high": 140}]})
    out = tmp_path / "morris"
    r = cli("sensitivity", scn, "--method", "morris", "--samples", 4, "--out", out, "--workers", 1)
    assert r.returncode == 0, r.stderr
    s = pd.read_parquet(out / "indices.parquet").query("kpi == 'cost.savings_krw'").set_index("input")
    assert len(pd.read_parquet(out / "runs.parquet")) == 4 * (2 + 1)  # N (D + 1) runs
    assert s.loc["decisions.bass_q", "mu_star"] == 0 and s.loc["decisions.bass_q", "sigma"] == 0
    assert s.loc["contracts[*].price.price_krw_per_kwh", "mu_star"] > 0
    assert s.loc["contracts[*].price.price_krw_per_kwh", "rank"] == 1


def test_batch_commands_keep_the_cli_light():
    import subprocess
    import sys

    code = ("import sys, re100sim.simulator.cli; "
            "print(sorted(m for m in ('pandas', 'ray', 'SALib', 'scipy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sensitivity_needs_uncertain_inputs_and_a_known_method(tmp_path):
    out = tmp_path / "s"
    r = cli("sensitivity", "namdong", "--samples", 4, "--out", out, "--workers", 1)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and ": uncertainty: missing" in r.stderr, r.stderr
    r = cli("sensitivity", "namdong", "--method", "fast", "--samples", 4, "--out", out, "--workers", 1)
    assert r.returncode == 2 and "unknown method 'fast'" in r.stderr and not out.exists()
