"""Global sensitivity of the KPIs to the declared uncertain inputs, with SALib.

- ``sobol``: Saltelli's design (SALib ``sample.sobol``, N x (D + 2) runs without second order)
  and Sobol first- and total-order indices with bootstrap confidence intervals (Saltelli et al.
  2010, "Variance based sensitivity analysis of model output", Comput. Phys. Commun. 181);
- ``morris``: elementary effects on N trajectories (N x (D + 1) runs), mu* and sigma
  (Campolongo, Cariboni and Saltelli 2007, Environ. Model. Softw. 22).

Designs are drawn on the unit cube and mapped through each input's inverse CDF, clipped to the
(``EPS``, 1 - ``EPS``) quantiles so unbounded margins stay finite; the indices assume independent
inputs, so a declared correlation is not applied here. Every design row runs with the same
model seed (replicate 0), so the indices measure the declared inputs, not the run-to-run noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-4  # [E] the 0.01 % and 99.99 % quantiles bound an unbounded margin
MORRIS_LEVELS = 4  # [E] p = 4 levels, as Campolongo, Cariboni and Saltelli (2007) recommend


def _problem(paths: list[str]) -> dict:
    return {"num_vars": len(paths), "names": list(paths), "bounds": [[0.0, 1.0]] * len(paths)}


def sobol_design(paths, n, seed):
    from SALib.sample import sobol

    return sobol.sample(_problem(paths), n, calc_second_order=False, seed=seed)


def morris_design(paths, n, seed):
    from SALib.sample import morris

    return morris.sample(_problem(paths), n, num_levels=MORRIS_LEVELS, seed=seed)


def sobol_indices(paths, u, y, seed) -> pd.DataFrame:
    from SALib.analyze import sobol

    r = sobol.analyze(_problem(paths), y, calc_second_order=False, conf_level=0.95, seed=seed)
    return pd.DataFrame({"input": paths, "S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"], "ST_conf": r["ST_conf"]})


def morris_indices(paths, u, y, seed) -> pd.DataFrame:
    from SALib.analyze import morris

    r = morris.analyze(_problem(paths), u, y, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed)
    return pd.DataFrame({"input": paths, "mu": r["mu"], "mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"],
                         "sigma": r["sigma"]})


# method -> (design(paths, n, seed) -> unit-cube rows, indices(paths, u, y, seed) -> frame, ranking column)
METHODS = {"sobol": (sobol_design, sobol_indices, "ST"), "morris": (morris_design, morris_indices, "mu_star")}


def design_points(uncertainty, method: str, n: int, seed: int) -> tuple[np.ndarray, list[dict]]:
    """Unit-cube design and one point (path -> value) per row."""
    u = METHODS[method][0](uncertainty.paths, n, seed % 2**32)
    values = uncertainty.values(np.clip(u, EPS, 1 - EPS), copula=False)
    return u, [dict(zip(uncertainty.paths, row)) for row in values.tolist()]


def indices(method: str, paths: list[str], u: np.ndarray, runs: pd.DataFrame, kpis: list[str], seed: int) -> pd.DataFrame:
    """Indices per KPI (rows: kpi x input), ranked within each KPI (1 = most influential)."""
    analyse, rank_by = METHODS[method][1], METHODS[method][2]
    frames = []
    ordered = runs.sort_values("point_id")
    for kpi in kpis:
        y = ordered[kpi].to_numpy(float)
        if np.isnan(y).any() or np.ptp(y) == 0:  # failed runs or a KPI the inputs do not move
            continue
        f = analyse(paths, u, y, seed % 2**32)
        f.insert(0, "kpi", kpi)
        f.insert(1, "method", method)
        f["rank"] = f[rank_by].rank(ascending=False, method="first").astype(int)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["kpi", "method", "input", "rank"])
