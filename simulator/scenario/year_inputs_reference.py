"""Plain NumPy reference of a year block's loads (:func:`~re100sim.simulator.scenario.year_inputs.block_loads_kw`).

The fast version writes each few tenants' rows into the (hours, tenants) block while they are in cache,
on reused memory, and can read the forecast's noise from a cache; this is the version it replaced, on the
plain load model (:func:`~re100sim.simulator.inputs.load_reference.reference_tenants_load_kw`): its
specification and test oracle (bit for bit, tests/test_load.py) and the baseline of
``experiments/bench_loads.py``.
"""
from __future__ import annotations

import numpy as np

from re100sim.simulator.inputs.load_reference import reference_tenants_load_kw
from re100sim.simulator.scenario.year_inputs import metered_columns


def reference_block_loads_kw(sc, tenants, k, cal, rng_of, offset_hours=None, chunk=64, totals_kwh=None) -> np.ndarray:
    """:func:`~re100sim.simulator.scenario.year_inputs.block_loads_kw` in plain NumPy: modelled tenants
    grouped by archetype and load parameters, ``chunk`` at a time through
    :func:`reference_tenants_load_kw` (each tenant's generator ``rng_of(t)``), each chunk's rows
    written into a new (H, T) array with one transposed assignment, totals summed on the rows;
    metering-file tenants from their files (the fast version's own code)."""
    load = np.empty((cal.n_hours, len(tenants)))
    groups = metered_columns(sc, tenants, k, cal, load, offset_hours, totals_kwh)
    for (archetype, params), members in groups.items():
        for i in range(0, len(members), chunk):
            ts = members[i:i + chunk]
            rows = reference_tenants_load_kw(cal, archetype, [tenants[t].annual_use_mwh for t in ts],
                                             [tenants[t].peak_kw for t in ts], params, [rng_of(t) for t in ts])
            load[:, ts] = rows.T
            if totals_kwh is not None:
                totals_kwh[ts] = rows.sum(axis=1)
    return load
