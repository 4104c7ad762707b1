"""Seeded random streams.

All randomness comes from one root ``numpy.random.SeedSequence(seed)``. Each
(stream, entity, year block) gets its own child via ``spawn_key``, so a number
drawn for tenant 7 in year 3 does not depend on how many other tenants, years
or workers there are: the same scenario and seed give identical outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
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
    x = np.zeros(e.shape[:-1] + (ar1_padded_length(n, block),))
    x[..., :n] = e
    return ar1_filter_padded(x, phi, size)[..., :n]


def ar1_padded_length(n: int, block: int = 32) -> int:
    """Length of the zero-padded series that :func:`ar1_filter_padded` filters for ``n`` steps."""
    size = min(block, n)
    return -(-n // size) * size


def ar1_filter_padded(x: np.ndarray, phi: float, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`ar1_filter` of series already zero-padded to a multiple of ``size`` = ``min(block, n)``
    steps (``x`` of shape (..., :func:`ar1_padded_length`)), into ``out`` (same shape, not ``x``)
    or a new array; the first ``n`` steps are ``ar1_filter(x[..., :n], phi, block)`` number for number.
    Lets a caller draw its innovations straight into a reused padded buffer."""
    y, carried, powers = ar1_block_parts(x, phi, size, out)
    if carried.shape[-1]:
        y[..., 1:, :] += carried[..., :-1, None] * powers
    return y.reshape(x.shape)


def ar1_block_parts(x: np.ndarray, phi: float, size: int, out: np.ndarray | None = None):
    """The two parts of :func:`ar1_filter_padded`'s path: ``(y, carried, powers)``, the zero-state
    response of each block of ``size`` steps (shape (..., nb, size), in ``out`` when given), the
    state at the end of each block (shape (..., nb); (..., 0) for a single block, which carries
    nothing) and ``phi**(1..size)``; the path is ``y[..., b, i] + carried[..., b - 1] * powers[i]``
    for blocks ``b >= 1`` (one product, then one addition) and ``y[..., 0, i]`` for the first."""
    rows, nb = x.shape[:-1], x.shape[-1] // size
    response_t, powers = _ar1_block(float(phi), size)
    # a stack of (nb, size) products, one per row: numpy multiplies each with the BLAS call a 1-d
    # series gets, so a row's result does not depend on the rows beside it
    y = np.matmul(x.reshape(rows + (nb, size)), response_t,
                  out=None if out is None else out.reshape(rows + (nb, size)))
    if nb == 1:
        return y, np.zeros(rows + (0,)), powers
    return y, ar1_filter(y[..., -1], phi**size, size), powers  # carried: the same recursion, phi**size


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


# PCG64 streams in bulk. ``stream`` costs a SeedSequence and a PCG64 per call (tens of us); a
# complex draws four per tenant and year. ``StreamFamily.batch`` computes the same generator
# states for many ids at once: numpy's SeedSequence algorithm ([C] numpy/random/bit_generator.pyx:
# hashmix / mix over a 4-word pool, then generate_state) vectorised over the ids, and PCG64's
# seeding (pcg64_set_seed: inc = 2 * seq + 1, two steps of the 128-bit LCG around adding the
# initial state). tests/test_rng.py checks it state for state against numpy.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_MASK128 = (1 << 128) - 1


def _words(n: int) -> list[int]:
    """An int as SeedSequence reads it: 32-bit words, least significant first ([0] for 0)."""
    out = [n & _MASK32] if n == 0 else []
    while n > 0:
        out.append(n & _MASK32)
        n >>= 32
    return out


def _hashmix(value, h: int):
    """SeedSequence's hashmix of ``value`` (an int or a uint32 array): (mixed, next hash constant)."""
    h_next = (h * _MULT_A) & _MASK32
    if isinstance(value, int):
        value = (((value ^ h) & _MASK32) * h_next) & _MASK32
    else:
        value = (value ^ np.uint32(h)) * np.uint32(h_next)
    return value ^ (value >> 16), h_next


def _mix(x, y):
    r = (_MIX_L * x - _MIX_R * y) & _MASK32 if isinstance(x, int) else np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
    return r ^ (r >> 16)


def pcg64_states(seed: int, keys: np.ndarray) -> list[tuple[int, int]]:
    """``(state, inc)`` of ``PCG64(SeedSequence(seed, spawn_key=tuple(keys[i])))`` for each row of
    ``keys`` ((N, m) integers in [0, 2**32)), as :func:`stream` would seed it."""
    keys = np.asarray(keys)
    if keys.ndim != 2 or (keys.size and (keys.min() < 0 or keys.max() > _MASK32)):
        raise ValueError(f"keys of shape {keys.shape} (expected (N, m) integers in [0, 2**32))")
    keys = keys.astype(np.uint32)
    run = _words(int(seed))
    run += [0] * (4 - len(run))  # SeedSequence pads the run entropy to the pool size before a spawn key
    h, pool = _INIT_A, []
    for i in range(4):  # the pool after the seed's first four words: the same for every id
        v, h = _hashmix(run[i], h)
        pool.append(v)
    for s in range(4):
        for d in range(4):
            if s != d:
                v, h = _hashmix(pool[s], h)
                pool[d] = _mix(pool[d], v)
    pool = [np.full(len(keys), p, np.uint32) for p in pool]
    with np.errstate(over="ignore"):
        for src in [np.full(len(keys), w, np.uint32) for w in run[4:]] + list(keys.T):
            for d in range(4):
                v, h = _hashmix(src, h)
                pool[d] = _mix(pool[d], v)
        h, words = _INIT_B, []
        for i in range(8):  # generate_state(4, uint64): eight uint32 words from the cycled pool
            h_next = (h * _MULT_B) & _MASK32
            v = (pool[i % 4] ^ np.uint32(h)) * np.uint32(h_next)
            words.append((v ^ (v >> 16)).astype(np.uint64))
            h = h_next
    out = []
    for w in np.stack(words, axis=1).tolist():
        u = [w[j] | (w[j + 1] << 32) for j in (0, 2, 4, 6)]  # little-endian uint32 pairs -> uint64
        initstate, initseq = (u[0] << 64) | u[1], (u[2] << 64) | u[3]
        inc = ((initseq << 1) | 1) & _MASK128
        state = (((inc + initstate) & _MASK128) * _PCG_MULT + inc) & _MASK128
        out.append((state, inc))
    return out


@dataclass(frozen=True)
class StreamFamily:
    """The streams ``stream(seed, name, i, *suffix)`` of entities ``i``: ``family(i)`` is one
    generator; ``family.batch(ids)`` gives the same generators for many ids, seeded at once."""

    seed: int
    name: str
    suffix: tuple[int, ...] = ()

    def __call__(self, i: int) -> np.random.Generator:
        return stream(self.seed, self.name, i, *self.suffix)

    def batch(self, ids) -> "StreamBatch":
        keys = np.array([(STREAMS[self.name], int(i), *self.suffix) for i in ids], dtype=np.int64)
        return StreamBatch(pcg64_states(self.seed, keys.reshape(len(ids), 2 + len(self.suffix))))


class StreamBatch:
    """Generators for a sequence of streams, to be used one after another: item ``j`` is one
    generator (shared by all items) set to the start of stream ``j``, valid until the next item
    is taken; iterate, or index in order, and draw from each before taking the next."""

    def __init__(self, states: list[tuple[int, int]]):
        self._states = states
        self._bits = np.random.PCG64(0)
        self._gen = np.random.Generator(self._bits)

    def __len__(self) -> int:
        return len(self._states)

    def __getitem__(self, j: int) -> np.random.Generator:
        state, inc = self._states[j]
        self._bits.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                            "has_uint32": 0, "uinteger": 0}
        return self._gen

    def __iter__(self):
        return (self[j] for j in range(len(self)))
