"""The scenario's uncertainty block: paths, distributions, ranges, correlation, samplers."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.batch.samplers import SAMPLERS, run_seed
from re100sim.simulator.cli import app
from re100sim.simulator.scenario.population import prepare, revalidator
from re100sim.simulator.scenario.uncertainty import (
    ChoiceInput,
    TriangularInput,
    Uncertainty,
    apply,
    expand_path,
)

runner = CliRunner()


def namdong(tmp_path, uncertainty, years=1):
    data = yaml.safe_load(bundled_scenarios()["namdong"].read_text(encoding="utf-8"))
    data["years"] = years
    data["uncertainty"] = uncertainty
    path = tmp_path / "nd.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_error(tmp_path, uncertainty, field: str, words: str):
    path = namdong(tmp_path, uncertainty)
    out = tmp_path / "out"
    result = runner.invoke(app, ["mc", str(path), "--runs", "2", "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: {field}: "), lines[0]
    assert words in lines[0], lines[0]
    assert not out.exists()  # nothing half-written
    # validate reports the same line
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 2


def test_bad_path_is_one_error_line(tmp_path):
    one_error(tmp_path, {"inputs": [{"path": "markets.smp.base_levl", "distribution": "uniform", "low": 1, "high": 2}]},
              "uncertainty.inputs[0].path", "base_levl: no such field")
    one_error(tmp_path, {"inputs": [{"path": "contracts[ppa-nope].term_years", "distribution": "choice",
                                     "values": [5, 10]}]}, "uncertainty.inputs[0].path", "no item 'ppa-nope'")
    one_error(tmp_path, {"inputs": [{"path": "contracts[ppa-eos].settlement", "distribution": "choice",
                                     "values": [1]}]}, "uncertainty.inputs[0].path", "not a number")


def test_distribution_that_can_leave_the_field_range_is_rejected(tmp_path):
    # awareness is a probability (ge=0, le=1): a normal without bounds can leave [0, 1]
    one_error(tmp_path, {"inputs": [{"path": "tenants[eos].behaviour.awareness", "distribution": "normal",
                                     "mean": 0.3, "sd": 0.1}]}, "uncertainty.inputs[0]", "can leave the range")
    # a uniform reaching 1.2 leaves it too
    one_error(tmp_path, {"inputs": [{"path": "decisions.bass_q", "distribution": "uniform", "low": 0.2, "high": 1.2}]},
              "uncertainty.inputs[0]", "<= 1")
    # tariff_path.yearly_pct has an after-validator (> -100 %): an unbounded normal can reach below it
    one_error(tmp_path, {"inputs": [{"path": "tariff_path.yearly_pct", "distribution": "normal", "mean": 3, "sd": 2}]},
              "uncertainty.inputs[0]", "rejects")


def test_non_psd_correlation_is_rejected(tmp_path):
    # pairwise 0.9, 0.9, -0.9 is not a correlation matrix: eigenvalues of [[1,.9,.9],[.9,1,-.9],[.9,-.9,1]]
    # are 1.9, 1.9, -0.8 (the last < 0)
    inputs = [{"path": p, "distribution": "uniform", "low": 50, "high": 150}
              for p in ("markets.smp.base_level_krw_per_kwh", "contracts[ppa-eos].price.price_krw_per_kwh",
                        "contracts[ppa-bosung].price.price_krw_per_kwh")]
    one_error(tmp_path, {"inputs": inputs, "correlation": [[1, .9, .9], [.9, 1, -.9], [.9, -.9, 1]]},
              "uncertainty", "not positive semi-definite")


def test_bounded_distributions_pass_and_apply_revalidates(tmp_path):
    path = namdong(tmp_path, {"inputs": [
        {"path": "tenants[eos].behaviour.awareness", "distribution": "normal", "mean": 0.3, "sd": 0.1, "low": 0, "high": 1},
        {"path": "contracts[*].term_years", "distribution": "choice", "values": [10, 15]},
        {"path": "markets.smp.base_level_krw_per_kwh", "distribution": "lognormal", "mean": 116.8, "cv": 0.2,
         "high": 1000.0}]})
    sc, _ = prepare(path)
    assert expand_path(sc, "contracts[*].term_years") == [f"contracts[{c.name}].term_years" for c in sc.contracts]
    new = apply(sc, {"contracts[*].term_years": 14.6, "markets.smp.base_level_krw_per_kwh": 90.0}, revalidator(path))
    assert [c.term_years for c in new.contracts] == [15] * 4  # integer field: rounded
    assert new.markets.smp.base_level_krw_per_kwh == 90.0
    assert sc.markets.smp.base_level_krw_per_kwh == 116.8  # the base scenario is untouched


def test_inverse_cdfs_match_scipy():
    u = np.array([0.1, 0.5, 0.9])
    tri = TriangularInput(path="a", distribution="triangular", low=0, mode=1, high=4)
    # triangular CDF below the mode: (x - a)^2 / ((b - a)(c - a)) = 0.1 -> x = sqrt(0.4) = 0.632
    assert tri.ppf(u)[0] == pytest.approx(np.sqrt(0.1 * 4 * 1))
    ch = ChoiceInput(path="a", distribution="choice", values=[0, 3, 6], weights=[0.5, 0.3, 0.2])
    # cumulative weights 0.5, 0.8, 1.0: u=0.1 -> 0, 0.5 -> 3 (0.5 is past the first edge), 0.9 -> 6
    assert ch.ppf(u).tolist() == [0, 3, 6]
    unc = Uncertainty(inputs=[{"path": "a", "distribution": "normal", "mean": 10, "sd": 2, "low": 8}])
    # truncated below at 8 (one sd): values never go under it; median of the truncation = ppf(0.5) of truncnorm
    v = unc.values(u[:, None])[:, 0]
    assert v.min() >= 8
    assert v[1] == pytest.approx(stats.truncnorm(-1, np.inf, loc=10, scale=2).ppf(0.5))


def test_gaussian_copula_gives_the_declared_rank_correlation():
    unc = Uncertainty(inputs=[{"path": "a", "distribution": "uniform", "low": 0, "high": 1},
                              {"path": "b", "distribution": "lognormal", "mean": 1, "cv": 0.5}],
                      correlation=[[1, 0.6], [0.6, 1]])
    u = np.random.default_rng(0).random((20000, 2))
    v = unc.values(u)
    # Spearman rho of a Gaussian copula with r = 0.6: (6/pi) asin(r/2) = 0.5857
    assert stats.spearmanr(v[:, 0], v[:, 1]).statistic == pytest.approx(6 / np.pi * np.arcsin(0.3), abs=0.02)


def test_latin_hypercube_uses_every_stratum_once_and_mc_rows_do_not_depend_on_n():
    design = SAMPLERS["lhs"](11, 50, 3)
    u = np.array([design(r) for r in range(50)])
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int).tolist()) == list(range(50))
    assert np.array_equal(SAMPLERS["mc"](11, 10, 3)(7), SAMPLERS["mc"](11, 1000, 3)(7))
    # run seeds: the child SeedSequence(root, spawn_key=(i, 1)), independent of anything else
    assert run_seed(11, 7) == int(np.random.SeedSequence(11, spawn_key=(7, 1)).generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert len({run_seed(11, i) for i in range(1000)}) == 1000
