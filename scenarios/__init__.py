"""Bundled scenarios (YAML, package data) and tariff tables (``re100sim.scenarios.tariffs``)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEFAULT_SCENARIO = "namdong"


def bundled_scenarios() -> dict[str, Path]:
    """Map of bundled scenario name -> file path, sorted by name."""
    root = files(__name__)
    found = {p.name.removesuffix(".yaml"): Path(str(p)) for p in root.iterdir() if p.name.endswith(".yaml")}
    return dict(sorted(found.items()))
