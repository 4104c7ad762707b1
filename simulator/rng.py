"""Seeded random streams.

All randomness comes from one root ``numpy.random.SeedSequence(seed)``. Each
(stream, entity, year block) gets its own child via ``spawn_key``, so a number
drawn for tenant 7 in year 3 does not depend on how many other tenants, years
or workers there are: the same scenario and seed give identical outputs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

# Stream ids are part of the reproducibility contract: never renumber them.
STREAMS = {"population": 0, "load": 1, "solar": 2, "fuel_cell": 3, "smp": 4, "rec": 5, "outage": 6,
           "decision": 7, "awareness": 8, "awareness0": 9,
           "forecast_solar": 10, "forecast_load": 11, "roof": 12}


def stream(seed: int, name: str, *ids: int) -> np.random.Generator:
    """Generator for stream ``name`` and entity/block ids ``ids``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS[name], *ids)))


def ar1_filter(e: np.ndarray, phi: float, block: int = 32) -> np.ndarray:
    """``y[t] = phi * y[t-1] + e[t]`` with ``y[-1] = 0`` (what ``scipy.signal.lfilter([1], [1, -phi], e)``
    computes) along the last axis (each row of a 2-d ``e`` is its own series), vectorised: the zero-state
    response of each block of ``block`` steps is one matrix product, and the states carried from block
    to block follow the same recursion with ``phi**block``."""
    e = np.asarray(e, dtype=float)
    n = e.shape[-1]
    if n <= 1 or phi == 0.0:
        return e.copy()
    size = min(block, n)
    nb = -(-n // size)
    rows = e.shape[:-1]
    x = np.zeros(rows + (nb * size,))
    x[..., :n] = e
    response_t, powers = _ar1_block(float(phi), size)
    # a stack of (nb, size) products, one per row: numpy multiplies each with the BLAS call a 1-d
    # series gets, so a row's result does not depend on the rows beside it
    y = x.reshape(rows + (nb, size)) @ response_t
    if nb > 1:
        carried = ar1_filter(y[..., -1], phi**size, block)  # state at the end of each block
        y[..., 1:, :] += carried[..., :-1, None] * powers
    return y.reshape(rows + (nb * size,))[..., :n]


@lru_cache(maxsize=256)
def _ar1_block(phi: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(transposed zero-state response of one block, ``phi**(1..size)``)."""
    k = np.arange(size)
    lag = k[:, None] - k[None, :]
    response = np.where(lag >= 0, phi ** np.maximum(lag, 0), 0.0)  # response[i, j] = phi**(i-j), j <= i
    powers = phi ** (k + 1.0)
    # Drop weights below 1e-30 (no effect on a double result) so no subnormal numbers slow the product.
    response[np.abs(response) < 1e-30] = 0.0
    powers[np.abs(powers) < 1e-30] = 0.0
    return np.ascontiguousarray(response.T), powers


def ar1_stationary(n: int, phi: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) path ``x_t = phi x_{t-1} + e_t`` with stationary s.d. ``sd``, ``x_0`` drawn from the
    stationary distribution (so each call is a self-contained block)."""
    z = rng.standard_normal(n)
    if n == 0 or sd == 0.0:
        return np.zeros(n)
    return ar1_filter(ar1_innovations(z, phi, sd), phi)


def ar1_innovations(z: np.ndarray, phi: float, sd: float) -> np.ndarray:
    """Standard normal draws ``z`` (along the last axis) -> the innovations of :func:`ar1_stationary`:
    ``sd * sqrt(1 - phi**2) * z``, the first one ``sd * z`` (the stationary distribution)."""
    e = z * sd * np.sqrt(1.0 - phi * phi)
    e[..., 0] = z[..., 0] * sd
    return e
