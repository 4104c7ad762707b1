"""A year block's inputs: calendar, tariff rates, loads, plant outputs and prices.

Built once at each year start (memory grows with one year, not with the horizon);
every random draw comes from its own seeded stream (``re100sim.simulator.rng``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from re100sim.ext._loads import rows_into_columns
from re100sim.simulator.inputs.calendar import HourlyCalendar
from re100sim.simulator.inputs.load import profile_for_block, tenant_load_kw, tenant_load_rows
from re100sim.simulator.inputs.markets import rec_price_krw_per_rec, smp_krw_per_kwh
from re100sim.simulator.inputs.solar import fuel_cell_kw, solar_ac_kw
from re100sim.simulator.inputs.tariffs import HourlyRates, hourly_rates
from re100sim.simulator.rng import StreamFamily, stream
from re100sim.simulator.scenario.config import GeneratorSpec, Scenario
from re100sim.simulator.scenario.population import TenantSpec


@dataclass
class YearInputs:
    """Everything hourly about one simulated year, before settlement."""

    index: int
    calendar: HourlyCalendar
    rates: list[HourlyRates]  # by tariff index k
    load_kw: np.ndarray  # (H, T)
    gen_kw: np.ndarray  # (H, G) available output before forced outages
    smp_krw_per_kwh: np.ndarray  # (H,)
    tariff_price: np.ndarray  # (H, K) energy price, KRW/kWh
    tariff_tou: np.ndarray  # (H, K) int8 billed TOU period
    rec_price_krw_per_rec: np.ndarray  # per billing month of the block
    hours_from_start: int  # hours from the scenario start to the block's first hour


def year_inputs(sc: Scenario, k: int, cal: HourlyCalendar, tenants: list[TenantSpec],
                plants: list[GeneratorSpec], options: list[str], table) -> YearInputs:
    rates = [cached_rates(cal, table, opt, sc.tariff_path) for opt in options]
    load = block_loads_kw(sc, tenants, k, cal, StreamFamily(sc.seed, "load", (k,)))
    gen = np.empty((cal.n_hours, len(plants)))
    for g, spec in enumerate(plants):
        gen[:, g] = plant_block_output_kw(sc, spec, g, k, cal)
    return YearInputs(
        index=k,
        calendar=cal,
        rates=rates,
        load_kw=load,
        gen_kw=gen,
        smp_krw_per_kwh=smp_krw_per_kwh(cal, sc.markets.smp, stream(sc.seed, "smp", k)),
        tariff_price=np.ascontiguousarray(np.column_stack([r.energy_krw_per_kwh for r in rates])),
        tariff_tou=np.ascontiguousarray(np.column_stack([r.tou_period for r in rates]).astype(np.int8)),
        rec_price_krw_per_rec=rec_price_krw_per_rec(cal.month_keys(), sc.markets.rec, stream(sc.seed, "rec", k)),
        hours_from_start=hours_before(sc, cal),
    )


def tenant_block_load_kw(sc: Scenario, spec: TenantSpec, t: int, k: int, cal: HourlyCalendar,
                         rng: np.random.Generator | None = None, offset_hours: int | None = None):
    """Hourly load of one tenant in year block ``k`` (kW = kWh per hour): the load model's draw
    from ``rng`` (default: the year's own stream), or a metering file's hours from ``offset_hours``
    after the scenario start (default: the block's own hours)."""
    if spec.profile_kw is not None:
        offset = hours_before(sc, cal) if offset_hours is None else offset_hours
        kw = profile_for_block(spec.profile_kw, cal, offset)
        if spec.annual_use_mwh is not None:  # scale the metered shape to the stated volume
            kw = kw * (spec.annual_use_mwh * 1000.0 / _typical_year_kwh(spec.profile_kw))
        return kw
    rng = stream(sc.seed, "load", t, k) if rng is None else rng
    return tenant_load_kw(cal, spec.archetype, spec.annual_use_mwh, spec.peak_kw, spec.load_params, rng)


@dataclass
class NoiseCache:
    """The tenants' multiplicative load noise of one block length, kept for later blocks whose generators
    draw the same numbers: the decision forecast's family has no year in its seeds
    (re100sim.simulator.market.forecast), so every forecast of a 365-day year draws the same noise. One
    (tenants, hours) array, for the first block length seen (a second length would double the memory:
    700 MB at 10,000 tenants); blocks of another length draw theirs."""

    n_hours: int | None = None
    noise: np.ndarray | None = None


def block_loads_kw(sc: Scenario, tenants: list[TenantSpec], k: int, cal: HourlyCalendar, rng_of,
                   offset_hours: int | None = None, chunk: int = 64, totals_kwh: np.ndarray | None = None,
                   noise_cache: NoiseCache | None = None) -> np.ndarray:
    """(H, T) hourly loads of all tenants in year block ``k``: column ``t`` is
    :func:`tenant_block_load_kw` with ``rng_of(t)``, number for number; modelled tenants of one
    archetype and load parameters are generated together (:func:`tenant_load_rows`), their generators
    seeded ``chunk`` at a time when ``rng_of`` is a :class:`~re100sim.simulator.rng.StreamFamily`, and
    each few tenants' rows are written into their columns while still in cache. ``totals_kwh`` ((T,),
    optional) receives each tenant's block total, ``load[:, t].sum()`` number for number (summed while
    the tenant's hours are one contiguous row, not gathered from the (H, T) array's columns later).
    With ``noise_cache`` (only for a ``rng_of`` that draws the same numbers in every block), a block of
    the cached length reads its noise from there instead of drawing it, and the first block fills it.
    The plain version is ``simulator/scenario/year_inputs_reference.py``."""
    load = _load_block(cal.n_hours, len(tenants))
    groups = metered_columns(sc, tenants, k, cal, load, offset_hours, totals_kwh)
    rngs = rng_of.batch if isinstance(rng_of, StreamFamily) else (lambda ts: [rng_of(t) for t in ts])
    cached = noise_cache is not None and noise_cache.n_hours == cal.n_hours
    fill = noise_cache is not None and noise_cache.n_hours is None
    store = np.empty((len(tenants), cal.n_hours)) if fill else noise_cache.noise if cached else None
    for (archetype, params), members in groups.items():
        for i in range(0, len(members), chunk):
            ts = np.asarray(members[i:i + chunk], dtype=np.intp)
            rows_of = slice(ts[0], ts[-1] + 1) if ts[-1] - ts[0] == len(ts) - 1 else ts  # a view when adjacent
            noise = None if store is None else store[rows_of]
            for j, rows in tenant_load_rows(cal, archetype, [tenants[t].annual_use_mwh for t in ts],
                                            [tenants[t].peak_kw for t in ts], params,
                                            None if cached else rngs(ts.tolist()), noise=noise):
                cols = ts[j:j + len(rows)]
                rows_into_columns(rows, load, cols)
                if totals_kwh is not None:
                    totals_kwh[cols] = rows.sum(axis=1)
            if fill and isinstance(rows_of, np.ndarray):  # a gathered copy: written back
                store[rows_of] = noise
    if fill:  # only once every row is in: a block stopped part-way leaves the cache empty
        noise_cache.n_hours, noise_cache.noise = cal.n_hours, store
    return load


def metered_columns(sc: Scenario, tenants: list[TenantSpec], k: int, cal: HourlyCalendar, load: np.ndarray,
                    offset_hours: int | None, totals_kwh: np.ndarray | None) -> dict[tuple, list[int]]:
    """Fill the columns of ``load`` of tenants with a metering file (and their ``totals_kwh``); return
    the other tenants grouped by (archetype, load parameters), in tenant order, for the load model."""
    groups: dict[tuple, list[int]] = {}
    for t, spec in enumerate(tenants):
        if spec.profile_kw is not None:
            load[:, t] = tenant_block_load_kw(sc, spec, t, k, cal, offset_hours=offset_hours)
            if totals_kwh is not None:
                totals_kwh[t] = load[:, t].sum()
        else:
            groups.setdefault((spec.archetype, spec.load_params), []).append(t)
    return groups


_BLOCK: list[np.ndarray] = []  # the memory of the last load block (flat), see _load_block
# An object only a list holds: what sys.getrefcount reports for it, asked the same way, is the count of a block
# nothing else refers to (2 on CPython 3.11-3.13; 3.14 may not count the call's own reference), measured
# on each call rather than assumed.
_ALONE: list[np.ndarray] = [np.empty(0)]


def _load_block(n_hours: int, n_tenants: int) -> np.ndarray:
    """An uninitialised (n_hours, n_tenants) array: on the last load block's memory when nothing refers
    to that block any more (a year's loads, then the next year's forecast, then its loads...), else new.
    At 10,000 tenants a block is 700 MB, and the kernel's zeroing of fresh pages for it took as long as
    generating the loads. Only a block whose every view is gone is reused (its reference count is the
    cache's own, as for ``_ALONE``), and one much larger than needed is let go."""
    size = n_hours * n_tenants
    alone = sys.getrefcount(_ALONE[0])
    if _BLOCK and sys.getrefcount(_BLOCK[0]) == alone and size <= _BLOCK[0].size < 2 * size:
        return _BLOCK[0][:size].reshape(n_hours, n_tenants)
    _BLOCK.clear()
    _BLOCK.append(np.empty(size))
    return _BLOCK[0].reshape(n_hours, n_tenants)


def plant_block_output_kw(sc: Scenario, spec: GeneratorSpec, g: int, k: int, cal: HourlyCalendar):
    """Hourly AC output of one plant in year block ``k``."""
    if spec.technology == "solar_pv":
        return spec.capacity_kw * solar_kw_per_kw(sc.seed, k, sc.site.latitude_deg, sc.site.longitude_deg, spec.solar, cal)
    return fuel_cell_kw(cal, spec.capacity_kw, spec.availability, stream(sc.seed, "fuel_cell", g, k))


_RATES: dict = {}


def cached_rates(cal: HourlyCalendar, table, option: str, path) -> HourlyRates:
    """:func:`hourly_rates`, cached per (block, table, option, tariff path): the same for every run
    of a Monte Carlo batch that does not vary the tariff path."""
    key = (cal.timestamps[0], cal.n_hours, table.name, option, path.model_dump_json())
    if key not in _RATES:
        if len(_RATES) > 256:
            _RATES.clear()
        _RATES[key] = hourly_rates(cal, table, option, path)
    return _RATES[key]


_UNIT_SOLAR: dict = {}


def solar_kw_per_kw(seed: int, k: int, lat: float, lon: float, params, cal: HourlyCalendar) -> np.ndarray:
    """Output per kW of capacity. One weather stream per complex and year (plants on one site
    see the same clouds) and output proportional to capacity (the inverter is sized with it,
    re100sim.simulator.inputs.solar), so every plant with the same parameters shares one profile per year."""
    key = (seed, k, lat, lon, params, cal.timestamps[0], cal.n_hours)
    if key not in _UNIT_SOLAR:
        if len(_UNIT_SOLAR) > 64:
            _UNIT_SOLAR.clear()
        _UNIT_SOLAR[key] = solar_ac_kw(cal, 1.0, lat, lon, params, stream(seed, "solar", k))
    return _UNIT_SOLAR[key]


def hours_before(sc: Scenario, cal: HourlyCalendar) -> int:
    """Hours from the scenario start to this block's first hour."""
    start = pd.Timestamp(sc.start_date).tz_localize(cal.timestamps.tz)
    return int((cal.timestamps[0] - start) / pd.Timedelta(hours=1))


def _typical_year_kwh(profile_kw: np.ndarray) -> float:
    """Annual kWh of a metering profile (a full-horizon file: its mean year)."""
    return float(profile_kw.sum()) * 8760.0 / len(profile_kw)
