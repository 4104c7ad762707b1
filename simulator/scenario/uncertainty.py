"""Uncertain inputs: the scenario's ``uncertainty:`` block (Monte Carlo, sweeps, sensitivity).

Each entry names a numeric scenario field by its path and gives a distribution::

    uncertainty:
      inputs:
        - {path: markets.smp.base_level_krw_per_kwh, distribution: lognormal, mean: 116.8, cv: 0.2}
        - {path: markets.rec.level_krw_per_rec, distribution: triangular, low: 40000, mode: 72800, high: 90000}
        - {path: contracts[ppa-eos].price.price_krw_per_kwh, distribution: uniform, low: 95, high: 115}
        - {path: tariff_path.yearly_pct, distribution: choice, values: [0, 2, 5], weights: [0.5, 0.3, 0.2]}
      correlation: [[1, 0.6, 0, 0], [0.6, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]

A path is dotted field names; ``[key]`` picks a list item by its ``name`` (or by index).
Every distribution is an inverse CDF on (0, 1), so one uniform design (plain Monte Carlo or
Latin hypercube, :mod:`scipy.stats.qmc`) serves all of them; ``correlation`` couples the
inputs through a Gaussian copula (Nelsen, *An Introduction to Copulas*, 2006, ch. 2: draw
z ~ N(0, R) and map each margin through Phi then the input's inverse CDF). Integer fields take
the sampled value rounded to the nearest integer.
"""
from __future__ import annotations

import math
import re
import types
import typing
from typing import Annotated, Literal

import annotated_types as at
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from re100sim.simulator.errors import dotted_path


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[[^\]]+\])?)*$"


class _Input(_Model):
    path: str = Field(pattern=_PATH, description="dotted path of a numeric scenario field; [name] picks a list item")

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can give (may be infinite)."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: uniforms on (0, 1) -> values."""
        raise NotImplementedError

    def open_low(self) -> bool:
        """Whether the support's lower end is never reached (a lognormal never gives 0)."""
        return False


class _Bounded(_Input):
    low: float | None = Field(None, description="truncate the distribution below this value")
    high: float | None = Field(None, description="truncate the distribution above this value")

    @model_validator(mode="after")
    def _ordered(self):
        if self.low is not None and self.high is not None and self.high <= self.low:
            raise ValueError(f"high {self.high} is not above low {self.low} (low < high)")
        return self

    def _frozen(self):
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        lo, hi = self._frozen().support()
        return max(lo, self.low if self.low is not None else -math.inf), min(hi, self.high if self.high is not None else math.inf)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        # Truncation by inverse CDF on the clipped probability range (exact for any margin).
        d = self._frozen()
        a = d.cdf(self.low) if self.low is not None else 0.0
        b = d.cdf(self.high) if self.high is not None else 1.0
        return np.clip(d.ppf(a + np.asarray(u) * (b - a)), *self.support())


class NormalInput(_Bounded):
    """Normal with mean and standard deviation, optionally truncated to [low, high]."""

    distribution: Literal["normal"]
    mean: float = Field(description="mean, in the field's unit")
    sd: float = Field(gt=0, description="standard deviation, in the field's unit")

    def _frozen(self):
        from scipy import stats

        return stats.norm(self.mean, self.sd)


class LognormalInput(_Bounded):
    """Lognormal with the given arithmetic mean and coefficient of variation (as the tenant draws)."""

    distribution: Literal["lognormal"]
    mean: float = Field(gt=0)
    cv: float = Field(gt=0, le=5, description="coefficient of variation (sd / mean)")

    def open_low(self) -> bool:
        return self.low is None

    def _frozen(self):
        from scipy import stats

        sigma2 = math.log1p(self.cv**2)
        return stats.lognorm(s=math.sqrt(sigma2), scale=self.mean * math.exp(-sigma2 / 2))


class UniformInput(_Input):
    """Uniform on [low, high]."""

    distribution: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if self.high <= self.low:
            raise ValueError(f"high {self.high} is not above low {self.low} (low < high)")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        return self.low + np.asarray(u) * (self.high - self.low)


class TriangularInput(_Input):
    """Triangular on [low, high] with its peak at ``mode``."""

    distribution: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(f"need low <= mode <= high and low < high (got {self.low}, {self.mode}, {self.high})")
        return self

    def support(self):
        return self.low, self.high

    def ppf(self, u):
        from scipy import stats

        c = (self.mode - self.low) / (self.high - self.low)
        return stats.triang(c, loc=self.low, scale=self.high - self.low).ppf(u)


class ChoiceInput(_Input):
    """Discrete values with weights (default: equally likely)."""

    distribution: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = Field(None, description="relative weights, one per value (>= 0)")

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values (one weight per value)")
            if min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def support(self):
        return min(self.values), max(self.values)

    def ppf(self, u):
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.values), dtype=float)
        edges = np.cumsum(w) / w.sum()
        idx = np.minimum(np.searchsorted(edges, np.asarray(u), side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=float)[idx]


UncertainInput = Annotated[
    NormalInput | LognormalInput | UniformInput | TriangularInput | ChoiceInput, Field(discriminator="distribution")
]


class Uncertainty(_Model):
    """Uncertain inputs of a scenario and, optionally, their correlation (Gaussian copula)."""

    inputs: list[UncertainInput] = Field(
        min_length=1,
        description="uncertain inputs, one per field path; distribution: normal (mean, sd), lognormal (mean, cv),"
        " uniform (low, high), triangular (low, mode, high) or choice (values, weights); normal and lognormal"
        " take low/high truncation bounds (README: Monte Carlo, sweeps and sensitivity on Ray)",
    )
    correlation: list[list[float]] | None = Field(
        None, description="correlation matrix between the inputs, in their order (symmetric, unit diagonal, PSD)"
    )

    @model_validator(mode="after")
    def _check(self):
        paths = [i.path for i in self.inputs]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"inputs: path {dup[0]} is listed twice (one entry per field)")
        if self.correlation is not None:
            check_correlation(self.correlation, len(self.inputs))
        return self

    @property
    def paths(self) -> list[str]:
        return [i.path for i in self.inputs]

    def values(self, u: np.ndarray, copula: bool = True) -> np.ndarray:
        """Uniform design ``u`` (n, d) -> input values (n, d), through the copula when correlated
        (``copula=False``: each margin alone, for variance-based sensitivity, which assumes independence)."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if copula and self.correlation is not None:
            u = gaussian_copula(u, np.asarray(self.correlation, dtype=float))
        return np.column_stack([inp.ppf(u[:, j]) for j, inp in enumerate(self.inputs)])


def check_correlation(matrix: list[list[float]], n: int) -> None:
    """A correlation matrix: n x n, symmetric, unit diagonal, entries in [-1, 1], positive semi-definite."""
    r = np.asarray(matrix, dtype=float)
    if r.shape != (n, n):
        raise ValueError(f"correlation: a {n} x {n} matrix for {n} inputs (got shape {'x'.join(map(str, r.shape))})")
    if not np.allclose(r, r.T, atol=1e-12):
        raise ValueError("correlation: the matrix is not symmetric (r[i][j] == r[j][i])")
    if not np.allclose(np.diag(r), 1.0):
        raise ValueError("correlation: the diagonal must be 1")
    if np.abs(r).max() > 1:
        raise ValueError("correlation: entries must lie in [-1, 1]")
    smallest = float(np.linalg.eigvalsh(r).min())
    if smallest < -1e-10:
        raise ValueError(
            f"correlation: the matrix is not positive semi-definite (smallest eigenvalue {smallest:.4g}; >= 0)"
        )


def gaussian_copula(u: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Independent uniforms -> uniforms with Gaussian-copula dependence ``corr``.

    z = Phi^-1(u) L^T with L L^T = corr (symmetric square root, so PSD matrices work), then Phi(z)."""
    from scipy import stats

    w, v = np.linalg.eigh(corr)
    root = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    eps = np.finfo(float).eps
    z = stats.norm.ppf(np.clip(u, eps, 1 - eps)) @ root.T
    return stats.norm.cdf(z)


# --- paths into a validated scenario ------------------------------------------------------------

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]+)\])?")


def parse_path(path: str) -> list[str | int | tuple[str]]:
    """``contracts[ppa-eos].price.price_krw_per_kwh`` -> ['contracts', ('ppa-eos',), 'price', 'price_krw_per_kwh']
    (a tuple is a list item selected by name or index)."""
    out: list = []
    for seg in path.split("."):
        m = _SEGMENT.fullmatch(seg)
        if m is None:
            raise ValueError(f"malformed path segment '{seg}' (name or name[item])")
        out.append(m.group(1))
        if m.group(2) is not None:
            out.append((m.group(2),))
    return out


def _pick(items: list, key: str, where: str):
    names = [getattr(x, "name", None) for x in items]
    if key in names:
        return names.index(key)
    if key.lstrip("-").isdigit() and -len(items) <= int(key) < len(items):
        return int(key) % len(items)
    shown = ", ".join(str(n) for n in names if n is not None) or f"indices 0-{len(items) - 1}"
    raise ValueError(f"{where}: no item '{key}' (one of: {shown})")


def resolve(model: BaseModel, path: str) -> tuple[BaseModel, str, list]:
    """The model that owns the field at ``path``, the field name, and the key path into the model's dump."""
    obj, keys, where = model, [], ""
    parts = parse_path(path)
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if isinstance(part, tuple):
            if not isinstance(obj, list):
                raise ValueError(f"{where} is not a list (a [item] selector needs one)")
            i = _pick(obj, part[0], where)
            obj, where = obj[i], f"{where}[{part[0]}]"
            keys.append(i)
            continue
        if not isinstance(obj, BaseModel) or part not in type(obj).model_fields:
            known = ", ".join(type(obj).model_fields) if isinstance(obj, BaseModel) else "none"
            raise ValueError(f"{(where + '.') if where else ''}{part}: no such field (one of: {known})")
        if last:
            return obj, part, keys + [part]
        obj, where = getattr(obj, part), f"{where}.{part}" if where else part
        keys.append(part)
    raise ValueError(f"{path}: the path ends at a list item, not a field (a numeric field)")


def _members(owner: BaseModel, name: str) -> tuple:
    ann = type(owner).model_fields[name].annotation
    union = typing.get_origin(ann) in (typing.Union, types.UnionType)
    return typing.get_args(ann) if union else (ann,)


def numeric_field(owner: BaseModel, name: str) -> bool:
    """Whether the field takes a number (int or float, possibly constrained, optional or in a union)."""
    bases = [typing.get_args(m)[0] if typing.get_origin(m) is Annotated else m for m in _members(owner, name)]
    return any(b in (int, float) for b in bases)


def field_bounds(owner: BaseModel, name: str) -> tuple[float, bool, float, bool, bool]:
    """``(low, low_inclusive, high, high_inclusive, is_int)`` from the pydantic field's constraints
    (``gt``/``ge``/``lt``/``le``, also inside an ``Annotated`` member of a union)."""
    metas = list(type(owner).model_fields[name].metadata)
    is_int = False
    for m in _members(owner, name):
        if typing.get_origin(m) is Annotated:
            base, *extra = typing.get_args(m)
            if base in (int, float):
                metas += [x for e in extra for x in getattr(e, "metadata", [e])]
                is_int |= base is int
        is_int |= m is int
    lo, lo_inc, hi, hi_inc = -math.inf, True, math.inf, True
    for c in metas:
        if isinstance(c, at.Gt) and c.gt >= lo:
            lo, lo_inc = float(c.gt), False
        elif isinstance(c, at.Ge) and c.ge > lo:
            lo, lo_inc = float(c.ge), True
        elif isinstance(c, at.Lt) and c.lt <= hi:
            hi, hi_inc = float(c.lt), False
        elif isinstance(c, at.Le) and c.le < hi:
            hi, hi_inc = float(c.le), True
    return lo, lo_inc, hi, hi_inc, is_int


def _range_text(lo, lo_inc, hi, hi_inc) -> str:
    parts = []
    if lo > -math.inf:
        parts.append(f"{'>=' if lo_inc else '>'} {lo:g}")
    if hi < math.inf:
        parts.append(f"{'<=' if hi_inc else '<'} {hi:g}")
    return " and ".join(parts) or "any number"


def set_value(scenario_dump: dict, keys: list, value) -> dict:
    """Set ``value`` at ``keys`` in a (nested dict/list) scenario dump, in place; return the dump."""
    obj = scenario_dump
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value
    return scenario_dump


# Probe for distributions with unbounded support: a field that rejects this magnitude
# (e.g. an after-validator "> -100 %") is one the distribution can leave.
_PROBE = 1e15  # [E] beyond any physical value of a scenario field


def check_inputs(scenario: BaseModel, revalidate) -> list[tuple[str, str]]:
    """Check every uncertain input against the scenario; return ``(field path, problem)`` pairs.

    ``revalidate(dump) -> None`` validates a changed scenario dump (raising ``ValueError``); it
    is used at the support's ends, which catches validators that are not plain bounds."""
    problems = []
    unc = scenario.uncertainty
    for j, inp in enumerate(unc.inputs):
        where = f"uncertainty.inputs[{j}].path"
        try:
            targets = [resolve(scenario, p) for p in expand_path(scenario, inp.path)]
        except ValueError as e:
            problems.append((where, f"{inp.path}: {e}"))
            continue
        for owner, name, keys in targets:
            current = getattr(owner, name)
            if not numeric_field(owner, name):
                problems.append((where, f"{inp.path} is {type(current).__name__} {current!r}, not a number (a numeric field)"))
                break
            problem = _check_range(scenario, inp, owner, name, keys, revalidate)
            if problem:
                problems.append((f"uncertainty.inputs[{j}]", problem))
                break
    return problems


def _check_range(scenario, inp, owner, name, keys, revalidate) -> str | None:
    """Why ``inp`` can leave the valid range of the field, or None."""
    lo, lo_inc, hi, hi_inc, is_int = field_bounds(owner, name)
    s_lo, s_hi = inp.support()
    if s_lo < lo or (s_lo == lo and not lo_inc and not inp.open_low()) or s_hi > hi or (s_hi == hi and not hi_inc):
        return (f"{inp.distribution} on [{s_lo:g}, {s_hi:g}] can leave the range of {inp.path}"
                f" ({_range_text(lo, lo_inc, hi, hi_inc)}; set low/high bounds inside it)")
    for end in ((s_hi,) if inp.open_low() else (s_lo, s_hi)):
        probe = math.copysign(_PROBE, end) if math.isinf(end) else end
        try:
            revalidate(set_value(scenario.model_dump(), keys, round(probe) if is_int else probe))
        except ValueError as e:
            return (f"{inp.distribution} can reach {probe:g}, which {inp.path} rejects ({_one_line(e)};"
                    " set low/high bounds inside the valid range)")
    return None


def _one_line(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors(include_url=False)[0]
        return f"{dotted_path([p for p in first['loc'] if isinstance(p, int) or p.isidentifier()])}: {first['msg']}"
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def expand_path(model: BaseModel, path: str) -> list[str]:
    """``contracts[*].term_years`` -> one concrete path per list item (by name, else index); others as given."""
    if "[*]" not in path:
        return [path]
    head, tail = path.split("[*]", 1)
    owner, name, _ = resolve(model, head)
    items = getattr(owner, name)
    if not isinstance(items, list):
        raise ValueError(f"{head} is not a list (a [*] selector needs one)")
    keys = [getattr(x, "name", None) or str(i) for i, x in enumerate(items)]
    return [p for k in keys for p in expand_path(model, f"{head}[{k}]{tail}")]


def apply(scenario: BaseModel, values: dict, revalidate) -> BaseModel:
    """A copy of ``scenario`` with each path (``[*]`` for every list item) set to its value, re-validated
    by ``revalidate(dump)``. Numbers for integer fields are rounded to the nearest integer."""
    dump = scenario.model_dump()
    for path, value in values.items():
        for concrete in expand_path(scenario, path):
            owner, name, keys = resolve(scenario, concrete)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = int(round(value)) if field_bounds(owner, name)[4] else float(value)
            set_value(dump, keys, value)
    return revalidate(dump)
