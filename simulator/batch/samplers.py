"""Seeds and uniform designs for batches of runs.

Run ``i`` draws from the child ``numpy.random.SeedSequence(root, spawn_key=(i,))``: its
uncertain inputs (plain Monte Carlo) from the grandchild ``(i, 0)`` and its model seed (every
stochastic process of the run: SMP, REC, solar, loads, outages, decisions) from ``(i, 1)``.
Nothing depends on the number of workers or on the order in which runs finish
(NumPy, "Parallel random number generation": spawn keys give independent streams).

A sampler maps ``(root, n, d)`` to a function ``replicate -> d uniforms on (0, 1)``; the
uncertain inputs' inverse CDFs (``re100sim.simulator.scenario.uncertainty``) turn them into values.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import qmc

Design = Callable[[int], np.ndarray]


def run_seed(root: int, replicate: int) -> int:
    """The model seed of run ``replicate``: the top 63 bits of one word of ``SeedSequence(root,
    spawn_key=(replicate, 1))`` (63: it fits a signed 64-bit parquet column)."""
    return int(np.random.SeedSequence(root, spawn_key=(replicate, 1)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def monte_carlo(root: int, n: int, d: int) -> Design:
    """Independent uniforms per run from ``SeedSequence(root, spawn_key=(replicate, 0))``."""
    return lambda r: np.random.default_rng(np.random.SeedSequence(root, spawn_key=(r, 0))).random(d)


def latin_hypercube(root: int, n: int, d: int) -> Design:
    """One Latin hypercube of ``n`` points (McKay, Beckman and Conover 1979; scipy.stats.qmc),
    seeded by ``SeedSequence(root, spawn_key=(n, 2))``: each input's range is cut into ``n``
    equal-probability strata and every stratum is used once."""
    if d == 0:
        return lambda r: np.empty(0)
    u = qmc.LatinHypercube(d=d, rng=np.random.default_rng(np.random.SeedSequence(root, spawn_key=(n, 2)))).random(n)
    return lambda r: u[r]


SAMPLERS: dict[str, Callable[[int, int, int], Design]] = {"mc": monte_carlo, "lhs": latin_hypercube}
