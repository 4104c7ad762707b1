"""Seeded random streams.

All randomness comes from one root ``numpy.random.SeedSequence(seed)``. Each
(stream, entity, year block) gets its own child via ``spawn_key``, so a number
drawn for tenant 7 in year 3 does not depend on how many other tenants, years
or workers there are: the same scenario and seed give identical outputs.
"""
from __future__ import annotations

import numpy as np

# Stream ids are part of the reproducibility contract: never renumber them.
STREAMS = {"population": 0, "load": 1, "solar": 2, "fuel_cell": 3, "smp": 4, "rec": 5, "outage": 6,
           "decision": 7, "awareness": 8, "awareness0": 9,
           "forecast_solar": 10, "forecast_load": 11, "roof": 12}


def stream(seed: int, name: str, *ids: int) -> np.random.Generator:
    """Generator for stream ``name`` and entity/block ids ``ids``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAMS[name], *ids)))
