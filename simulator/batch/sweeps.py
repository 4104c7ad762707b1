"""Sweep grids: ``--set PATH=v1,v2`` options and sweep spec files.

A spec (YAML; bundled specs live in ``scenarios/sweeps/``)::

    runs: 8                      # Monte Carlo runs per grid point
    kpis: [ppa_terms]            # derived KPI sets (re100sim.simulator.batch.worker.EXTRA_KPIS)
    uncertainty: {...}           # replaces the scenario's uncertainty block (same schema)
    grid:                        # the points are the product of the entries, in this order
      contracts[*].price.price_krw_per_kwh: [90, 105, 120]   # one path, a list of values
      share:                                                 # named term sets: several paths each
        full: {contracts[ppa-eos].volume.share: 0.11, ...}

``[*]`` sets the value on every item of a list (every contract, every tenant group).
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from re100sim.simulator.errors import InputError, dotted_path


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    runs: int = Field(1, ge=1, description="Monte Carlo runs per grid point")
    kpis: list[str] = Field([], description="derived KPI sets: ppa_terms")
    uncertainty: dict | None = Field(None, description="uncertain inputs (replaces the scenario's block)")
    grid: dict[str, list[Any] | dict[str, dict[str, Any]]] = Field(min_length=1)


def bundled_specs() -> dict[str, Path]:
    from importlib.resources import files

    root = files("re100sim.scenarios.sweeps")
    return {p.name.removesuffix(".yaml"): Path(str(p)) for p in root.iterdir() if p.name.endswith(".yaml")}


def load_spec(name_or_path: str) -> tuple[dict, tuple[str, ...], dict | None, int]:
    """``(grid, extras, uncertainty, runs)`` of a spec file or bundled spec name."""
    from re100sim.simulator.batch.worker import EXTRA_KPIS

    path = bundled_specs().get(name_or_path) or Path(name_or_path)
    src = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(src, "", f"cannot read sweep spec: {e} (a YAML file or one of: {', '.join(bundled_specs())})")
    except yaml.YAMLError as e:
        raise InputError(src, "", f"malformed YAML: {str(e).splitlines()[0]} (valid YAML)") from None
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        raise InputError(src, dotted_path(first["loc"]), first["msg"]) from None
    for k in spec.kpis:
        if k not in EXTRA_KPIS:
            raise InputError(src, "kpis", f"unknown KPI set '{k}' (one of: {', '.join(EXTRA_KPIS)})")
    return dict(spec.grid), tuple(spec.kpis), spec.uncertainty, spec.runs


def parse_sets(options: list[str]) -> dict[str, list]:
    """``["a.b=1,2", "c=x"]`` -> ``{"a.b": [1, 2], "c": ["x"]}`` (values read as YAML scalars)."""
    grid = {}
    for opt in options:
        path, sep, values = opt.partition("=")
        if not sep or not path.strip() or not values.strip():
            raise InputError("sweep", "--set", f"'{opt}' is not PATH=v1,v2,... (a field path and values)")
        grid[path.strip()] = [yaml.safe_load(v) for v in values.split(",")]
    return grid


def points_of(grid: dict) -> tuple[list[dict], list[dict]]:
    """The grid's product: per point the values to set (path -> value) and its term-set labels."""
    axes = []
    for key, entry in grid.items():
        if isinstance(entry, dict):  # named term sets
            axes.append([(dict(paths), {key: name}) for name, paths in entry.items()])
        else:
            axes.append([({key: v}, {}) for v in entry])
    points, labels = [], []
    for combo in itertools.product(*axes):
        points.append({k: v for values, _ in combo for k, v in values.items()})
        labels.append({k: v for _, lab in combo for k, v in lab.items()})
    return points, labels
