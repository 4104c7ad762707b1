"""Plain NumPy reference of the hourly settlement kernel (``docs/settlement-kernel.md``).

This module *is* the executable specification and the test oracle of the compiled kernel
``ext/_settle.pyx`` (called through :func:`re100sim.simulator.rules.kernel.settle_block`). It favours
clarity over speed. Every rule of the spec's "Per hour" section but the batteries (step 4b)
is independent from one hour to the next, so the reference processes **all hours of the block
at once**: each quantity below is an array over hours, and the steps run in the spec's order,
with a Python loop over plants (step 2) and over contracts in priority order (step 3), exactly as
written in the spec. Batteries carry their state of charge from hour to hour: step 4b is a plain
scalar loop, battery by battery, hour by hour (:func:`dispatch_batteries`). Hour-major arrays are
kept transposed (``(T, H)``, ``(G, H)``, ``(C, H)``) so that one tenant's, plant's or
contract's hours are contiguous.

Both the kernel and this reference take a :class:`BlockInputs` and return a
:class:`BlockResult`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["BlockInputs", "BlockResult", "settle_block_reference", "N_TOU", "N_SRC", "STRATEGY"]

N_TOU = 3  # TOU periods: 0 light, 1 mid, 2 peak

KIND_SHARE, KIND_BASELOAD, KIND_SHAPED = 0, 1, 2
PRICE_FIXED, PRICE_SMP, PRICE_TARIFF = 0, 1, 2

#: Battery dispatch strategies (spec step 4b): name -> kernel code.
STRATEGY = {"self_consumption": 0, "peak_shaving": 1, "tou_arbitrage": 2, "re_matching": 3}
SELF_CONSUMPTION, PEAK_SHAVING, TOU_ARBITRAGE, RE_MATCHING = 0, 1, 2, 3
#: Sources of stored energy (spec step 4b): 0 grid, 1 own plants' RE, 2 PPA RE.
N_SRC = 3
SRC_GRID, SRC_OWN, SRC_PPA = 0, 1, 2
#: Tolerance (kWh, relative to the battery's energy) on the initial state of charge limits.
SOC_TOL = 1e-9

#: Tolerance on the sum of share-contract fractions per plant (float sums like 0.1+0.2+0.7).
SHARE_SUM_TOL = 1e-9

# name -> (number of dimensions, dtype, shape spec). Shape letters: H T G C K P.
_SCHEMA: dict[str, tuple[str, np.dtype]] = {
    "load_kwh": ("HT", np.dtype(np.float64)),
    "gen_kwh": ("HG", np.dtype(np.float64)),
    "month_of_hour": ("H", np.dtype(np.int32)),
    "tariff_price": ("HK", np.dtype(np.float64)),
    "tariff_tou": ("HK", np.dtype(np.int8)),
    "smp": ("H", np.dtype(np.float64)),
    "tenant_tariff": ("T", np.dtype(np.int32)),
    "gen_host": ("G", np.dtype(np.int32)),
    "gen_pool": ("G", np.dtype(np.int8)),
    "gen_export_limit_kw": ("G", np.dtype(np.float64)),
    "c_gen": ("C", np.dtype(np.int32)),
    "c_tenant": ("C", np.dtype(np.int32)),
    "c_kind": ("C", np.dtype(np.int8)),
    "c_share": ("C", np.dtype(np.float64)),
    "c_block_kw": ("C", np.dtype(np.float64)),
    "c_profile": ("C", np.dtype(np.int32)),
    "profile_kwh": ("HP", np.dtype(np.float64)),
    "c_price_kind": ("C", np.dtype(np.int8)),
    "c_price": ("C", np.dtype(np.float64)),
    "c_price_floor": ("C", np.dtype(np.float64)),
    "c_price_cap": ("C", np.dtype(np.float64)),
    "sub_weight": ("T", np.dtype(np.float64)),
    "b_tenant": ("B", np.dtype(np.int32)),
    "b_strategy": ("B", np.dtype(np.int8)),
    "b_energy_kwh": ("B", np.dtype(np.float64)),
    "b_power_kw": ("B", np.dtype(np.float64)),
    "b_eta_charge": ("B", np.dtype(np.float64)),
    "b_eta_discharge": ("B", np.dtype(np.float64)),
    "b_soc_min_frac": ("B", np.dtype(np.float64)),
    "b_soc_max_frac": ("B", np.dtype(np.float64)),
    "b_soc0_kwh": ("BS", np.dtype(np.float64)),
    "b_cycles0": ("B", np.dtype(np.float64)),
    "b_fade_per_cycle": ("B", np.dtype(np.float64)),
    "b_target_kw": ("B", np.dtype(np.float64)),
}

#: Battery fields and their defaults in :meth:`BlockInputs.build` (B = 0: no batteries).
_BATTERY_FIELDS = [name for name in _SCHEMA if name.startswith("b_")]


def _empty(dtype, *shape):
    return field(default_factory=lambda: np.zeros(shape or (0,), dtype))


@dataclass
class BlockInputs:
    """All inputs of one block of hours (see the spec's "Inputs" table for meanings).

    Arrays must have exactly the dtypes below and be C-contiguous; use :meth:`build` to
    coerce arbitrary array-likes and to fill defaults for optional parts.
    """

    load_kwh: np.ndarray  # (H, T) float64
    gen_kwh: np.ndarray  # (H, G) float64
    month_of_hour: np.ndarray  # (H,) int32, non-decreasing, >= 0
    tariff_price: np.ndarray  # (H, K) float64, KRW/kWh
    tariff_tou: np.ndarray  # (H, K) int8 in {0, 1, 2}
    smp: np.ndarray  # (H,) float64, KRW/kWh
    tenant_tariff: np.ndarray  # (T,) int32 in [0, K)
    gen_host: np.ndarray  # (G,) int32 in [-1, T)
    gen_pool: np.ndarray  # (G,) int8 in {0, 1}
    gen_export_limit_kw: np.ndarray  # (G,) float64 >= 0, inf = none
    c_gen: np.ndarray  # (C,) int32 in [0, G)
    c_tenant: np.ndarray  # (C,) int32 in [0, T)
    c_kind: np.ndarray  # (C,) int8 in {0, 1, 2}
    c_share: np.ndarray  # (C,) float64 in [0, 1] (kind 0)
    c_block_kw: np.ndarray  # (C,) float64 >= 0 (kind 1)
    c_profile: np.ndarray  # (C,) int32 in [0, P) (kind 2)
    profile_kwh: np.ndarray  # (H, P) float64 >= 0
    c_price_kind: np.ndarray  # (C,) int8 in {0, 1, 2}
    c_price: np.ndarray  # (C,) float64
    c_price_floor: np.ndarray  # (C,) float64 (-inf = none)
    c_price_cap: np.ndarray  # (C,) float64 (inf = none)
    sub_weight: np.ndarray  # (T,) float64 >= 0
    pool_hourly: int = 0  # 1: green-tariff pool allocated hour by hour
    # Batteries behind tenants' meters (spec step 4b); B = 0 by default.
    b_tenant: np.ndarray = _empty(np.int32)  # (B,) int32 in [0, T): owner (meter)
    b_strategy: np.ndarray = _empty(np.int8)  # (B,) int8, STRATEGY code
    b_energy_kwh: np.ndarray = _empty(np.float64)  # (B,) nameplate energy, > 0
    b_power_kw: np.ndarray = _empty(np.float64)  # (B,) AC charge and discharge limit, >= 0
    b_eta_charge: np.ndarray = _empty(np.float64)  # (B,) in (0, 1]
    b_eta_discharge: np.ndarray = _empty(np.float64)  # (B,) in (0, 1]
    b_soc_min_frac: np.ndarray = _empty(np.float64)  # (B,) of the current capacity
    b_soc_max_frac: np.ndarray = _empty(np.float64)  # (B,) of the current capacity
    b_soc0_kwh: np.ndarray = _empty(np.float64, 0, N_SRC)  # (B, 3) stored kWh by source at block start
    b_cycles0: np.ndarray = _empty(np.float64)  # (B,) equivalent full cycles before the block
    b_fade_per_cycle: np.ndarray = _empty(np.float64)  # (B,) capacity fraction lost per cycle, [0, 1)
    b_target_kw: np.ndarray = _empty(np.float64)  # (B,) peak_shaving grid import target, >= 0

    # ------------------------------------------------------------------ sizes
    @property
    def n_hours(self) -> int:
        return int(self.load_kwh.shape[0])

    @property
    def n_tenants(self) -> int:
        return int(self.load_kwh.shape[1])

    @property
    def n_generators(self) -> int:
        return int(self.gen_kwh.shape[1])

    @property
    def n_contracts(self) -> int:
        return int(self.c_gen.shape[0])

    @property
    def n_tariffs(self) -> int:
        return int(self.tariff_price.shape[1])

    @property
    def n_profiles(self) -> int:
        return int(self.profile_kwh.shape[1])

    @property
    def n_batteries(self) -> int:
        return int(self.b_tenant.shape[0])

    @property
    def n_months(self) -> int:
        """M = month_of_hour[H-1] + 1 (0 for an empty block)."""
        return int(self.month_of_hour[-1]) + 1 if self.n_hours else 0

    # ------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        load_kwh,
        month_of_hour,
        tariff_price,
        tariff_tou,
        smp,
        tenant_tariff,
        gen_kwh=None,
        gen_host=None,
        gen_pool=None,
        gen_export_limit_kw=None,
        c_gen=None,
        c_tenant=None,
        c_kind=None,
        c_share=None,
        c_block_kw=None,
        c_profile=None,
        profile_kwh=None,
        c_price_kind=None,
        c_price=None,
        c_price_floor=None,
        c_price_cap=None,
        sub_weight=None,
        pool_hourly: int = 0,
        **battery,
    ) -> "BlockInputs":
        """Coerce array-likes to the required dtypes/contiguity and fill defaults.

        Defaults: no generators; generators without host, not in the pool, without export
        limit; no contracts; contract fields not given are 0 (profile 0, floor -inf, cap inf);
        no profiles; nobody subscribed to the green tariff; no batteries. Battery fields
        (``b_*``, keyword arguments) not given, when ``b_tenant`` is: efficiencies 1, SOC
        limits [0, 1], empty at the start (``b_soc0_kwh`` may be given as (B,): grid-charged
        kWh), no cycles, no fade, target 0.
        """

        def arr(x, dt, ndim):
            a = np.ascontiguousarray(x, dtype=dt)
            if a.ndim != ndim:
                raise ValueError(f"expected {ndim}-d array, got shape {a.shape}")
            return a

        load = arr(load_kwh, np.float64, 2)
        H, T = load.shape
        gen = arr(np.zeros((H, 0)) if gen_kwh is None else gen_kwh, np.float64, 2)
        G = gen.shape[1]
        C = 0 if c_gen is None else len(np.atleast_1d(c_gen))

        def cvec(x, dt, fill):
            return arr(np.full(C, fill) if x is None else np.atleast_1d(x), dt, 1)

        def gvec(x, dt, fill):
            return arr(np.full(G, fill) if x is None else np.atleast_1d(x), dt, 1)

        return cls(
            load_kwh=load,
            gen_kwh=gen,
            month_of_hour=arr(month_of_hour, np.int32, 1),
            tariff_price=arr(tariff_price, np.float64, 2),
            tariff_tou=arr(tariff_tou, np.int8, 2),
            smp=arr(smp, np.float64, 1),
            tenant_tariff=arr(np.atleast_1d(tenant_tariff), np.int32, 1),
            gen_host=gvec(gen_host, np.int32, -1),
            gen_pool=gvec(gen_pool, np.int8, 0),
            gen_export_limit_kw=gvec(gen_export_limit_kw, np.float64, np.inf),
            c_gen=cvec(c_gen, np.int32, 0),
            c_tenant=cvec(c_tenant, np.int32, 0),
            c_kind=cvec(c_kind, np.int8, 0),
            c_share=cvec(c_share, np.float64, 0.0),
            c_block_kw=cvec(c_block_kw, np.float64, 0.0),
            c_profile=cvec(c_profile, np.int32, 0),
            profile_kwh=arr(np.zeros((H, 0)) if profile_kwh is None else profile_kwh, np.float64, 2),
            c_price_kind=cvec(c_price_kind, np.int8, 0),
            c_price=cvec(c_price, np.float64, 0.0),
            c_price_floor=cvec(c_price_floor, np.float64, -np.inf),
            c_price_cap=cvec(c_price_cap, np.float64, np.inf),
            sub_weight=arr(np.zeros(T) if sub_weight is None else np.atleast_1d(sub_weight), np.float64, 1),
            pool_hourly=int(pool_hourly),
            **_battery_arrays(battery),
        )

    # ----------------------------------------------------------- validation
    def validate(self, full: bool = True) -> None:
        """Raise ``ValueError`` (with a clear message) if the block breaks the spec's rules.

        Checks shapes, dtypes and C-contiguity; index ranges (tenant tariff, plant host,
        contract plant/tenant/profile, TOU codes, kinds); ``month_of_hour`` non-decreasing and
        >= 0; share sums <= 1 per plant; pool plants without host and without contracts;
        non-negative finite outputs/volumes/weights, finite prices, floor <= cap, export limits
        >= 0. ``full=False`` skips only the O(H*T) / O(H*G) scans of ``load_kwh`` and
        ``gen_kwh`` for negative or non-finite values: the compiled kernel does those checks in
        its own pass over the data (everything the kernel's memory safety relies on is always
        checked here).
        """
        sizes: dict[str, int] = {"S": N_SRC}
        for f in fields(self):
            if f.name == "pool_hourly":
                continue
            spec, dt = _SCHEMA[f.name]
            a = getattr(self, f.name)
            if not isinstance(a, np.ndarray):
                raise ValueError(f"{f.name}: expected a numpy array, got {type(a).__name__}")
            if a.dtype != dt:
                raise ValueError(f"{f.name}: dtype must be {dt}, got {a.dtype}")
            if a.ndim != len(spec):
                raise ValueError(
                    f"{f.name}: expected shape ({', '.join(spec)}) ({len(spec)}-d), got {a.shape}"
                )
            if not a.flags.c_contiguous:
                raise ValueError(f"{f.name}: array must be C-contiguous")
            for letter, n in zip(spec, a.shape):
                if letter in sizes and sizes[letter] != n:
                    raise ValueError(
                        f"{f.name}: size of axis {letter} is {n}, but another input has "
                        f"{letter} = {sizes[letter]} (shape {a.shape}, expected ({', '.join(spec)}))"
                    )
                sizes.setdefault(letter, n)
        if self.pool_hourly not in (0, 1):
            raise ValueError(f"pool_hourly must be 0 or 1, got {self.pool_hourly!r}")
        T, G, K, P = sizes["T"], sizes["G"], sizes["K"], sizes["P"]

        moh = self.month_of_hour
        if moh.size:
            if moh[0] < 0:
                raise ValueError(f"month_of_hour must be >= 0, got {moh[0]} at hour 0")
            d = np.diff(moh)
            if (d < 0).any():
                h = int(np.flatnonzero(d < 0)[0]) + 1
                raise ValueError(
                    f"month_of_hour must be non-decreasing: decreases at hour {h} "
                    f"({moh[h - 1]} -> {moh[h]})"
                )
        _check_range("tenant_tariff", self.tenant_tariff, 0, K)
        _check_range("tariff_tou", self.tariff_tou, 0, N_TOU)
        _check_range("gen_host", self.gen_host, -1, T)
        _check_range("gen_pool", self.gen_pool, 0, 2)
        _check_range("c_gen", self.c_gen, 0, G)
        _check_range("c_tenant", self.c_tenant, 0, T)
        _check_range("c_kind", self.c_kind, 0, 3)
        _check_range("c_price_kind", self.c_price_kind, 0, 3)
        shaped = self.c_kind == KIND_SHAPED
        _check_range("c_profile (of shaped contracts, kind 2)", self.c_profile[shaped], 0, P)

        _check_finite("tariff_price", self.tariff_price)
        _check_finite("smp", self.smp)
        _check_finite_nonneg("profile_kwh", self.profile_kwh)
        _check_finite_nonneg("sub_weight", self.sub_weight)
        share = self.c_kind == KIND_SHARE
        _check_finite_nonneg("c_share (of share contracts, kind 0)", self.c_share[share])
        if (self.c_share[share] > 1.0).any():
            raise ValueError("c_share must be <= 1 for share contracts")
        base = self.c_kind == KIND_BASELOAD
        _check_finite_nonneg("c_block_kw (of baseload contracts, kind 1)", self.c_block_kw[base])
        _check_finite("c_price", self.c_price)
        lim = self.gen_export_limit_kw
        if np.isnan(lim).any() or (lim < 0).any():
            raise ValueError("gen_export_limit_kw must be >= 0 (inf = no limit), no NaN")
        lo, hi = self.c_price_floor, self.c_price_cap
        if np.isnan(lo).any() or np.isnan(hi).any() or (lo == np.inf).any() or (hi == -np.inf).any():
            raise ValueError("c_price_floor/c_price_cap must not be NaN (use -inf / inf for none)")
        if (lo > hi).any():
            c = int(np.flatnonzero(lo > hi)[0])
            raise ValueError(f"contract {c}: c_price_floor {lo[c]} > c_price_cap {hi[c]}")

        if share.any():
            sums = np.zeros(G)
            np.add.at(sums, self.c_gen[share], self.c_share[share])
            if (sums > 1.0 + SHARE_SUM_TOL).any():
                g = int(np.flatnonzero(sums > 1.0 + SHARE_SUM_TOL)[0])
                raise ValueError(f"share contracts on plant {g} have shares summing to {sums[g]} > 1")
        pool = self.gen_pool == 1
        if (pool & (self.gen_host >= 0)).any():
            g = int(np.flatnonzero(pool & (self.gen_host >= 0))[0])
            raise ValueError(f"pool plant {g} has a host tenant (pool plants must have gen_host = -1)")
        if self.c_gen.size and pool[self.c_gen].any():
            c = int(np.flatnonzero(pool[self.c_gen])[0])
            raise ValueError(f"contract {c} is on pool plant {self.c_gen[c]} (pool plants have no PPA contracts)")
        self._validate_batteries(T)
        if full:
            _check_finite_nonneg("load_kwh", self.load_kwh)
            _check_finite_nonneg("gen_kwh", self.gen_kwh)

    def _validate_batteries(self, T: int) -> None:
        """The spec's battery input rules (step 4b)."""
        if not self.n_batteries:
            return
        _check_range("b_tenant", self.b_tenant, 0, T)
        _check_range("b_strategy", self.b_strategy, 0, len(STRATEGY))
        for name in ("b_power_kw", "b_soc0_kwh", "b_cycles0", "b_target_kw", "b_fade_per_cycle"):
            _check_finite_nonneg(name, getattr(self, name))
        e = self.b_energy_kwh
        _check_finite("b_energy_kwh", e)
        if (e <= 0).any():
            raise ValueError("b_energy_kwh must be > 0")
        for name in ("b_eta_charge", "b_eta_discharge"):
            a = getattr(self, name)
            if not ((a > 0) & (a <= 1)).all():
                raise ValueError(f"{name} must be in (0, 1]")
        lo, hi = self.b_soc_min_frac, self.b_soc_max_frac
        if not ((lo >= 0) & (lo <= hi) & (hi <= 1)).all():
            raise ValueError("battery SOC limits must satisfy 0 <= b_soc_min_frac <= b_soc_max_frac <= 1")
        if (self.b_fade_per_cycle >= 1).any():
            raise ValueError("b_fade_per_cycle must be < 1")
        cap0 = battery_capacity_kwh(e, self.b_fade_per_cycle, self.b_cycles0)
        soc0 = self.b_soc0_kwh.sum(axis=1)
        bad = (soc0 < lo * cap0 - SOC_TOL * e) | (soc0 > hi * cap0 + SOC_TOL * e)
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"battery {b}: initial state of charge {soc0[b]} kWh outside its limits "
                f"[{lo[b] * cap0[b]}, {hi[b] * cap0[b]}] kWh"
            )


def battery_capacity_kwh(energy_kwh, fade_per_cycle, cycles):
    """Usable capacity after ``cycles`` equivalent full cycles (spec step 4b, linear fade):
    ``E0 * max(0, 1 - fade * cycles)``."""
    return energy_kwh * np.maximum(0.0, 1.0 - fade_per_cycle * cycles)


_BATTERY_DEFAULTS = {"b_strategy": 0, "b_energy_kwh": 0.0, "b_power_kw": 0.0, "b_eta_charge": 1.0,
                     "b_eta_discharge": 1.0, "b_soc_min_frac": 0.0, "b_soc_max_frac": 1.0, "b_cycles0": 0.0,
                     "b_fade_per_cycle": 0.0, "b_target_kw": 0.0}


def _battery_arrays(given: dict) -> dict:
    """The ``b_*`` arrays of :meth:`BlockInputs.build` from keyword arguments (see there)."""
    unknown = set(given) - set(_BATTERY_FIELDS)
    if unknown:
        raise TypeError(f"BlockInputs.build: unknown argument(s) {sorted(unknown)}")
    if given.get("b_tenant") is None:
        return {}
    tenant = np.ascontiguousarray(np.atleast_1d(given["b_tenant"]), dtype=np.int32)
    B = tenant.shape[0]
    out = {"b_tenant": tenant}
    for name, fill in _BATTERY_DEFAULTS.items():
        dt = _SCHEMA[name][1]
        v = given.get(name)
        out[name] = np.ascontiguousarray(np.full(B, fill) if v is None else np.atleast_1d(v), dtype=dt)
    soc0 = given.get("b_soc0_kwh")
    soc0 = np.zeros((B, N_SRC)) if soc0 is None else np.asarray(soc0, dtype=np.float64)
    if soc0.ndim == 1:  # total kWh per battery, counted as grid energy
        soc0 = np.column_stack([soc0, np.zeros((soc0.shape[0], N_SRC - 1))])
    out["b_soc0_kwh"] = np.ascontiguousarray(soc0, dtype=np.float64)
    return out


def _check_range(name: str, a: np.ndarray, lo: int, hi: int) -> None:
    if a.size and ((a < lo).any() or (a >= hi).any()):
        bad = a[(a < lo) | (a >= hi)][0]
        raise ValueError(f"{name}: value {bad} out of range [{lo}, {hi - 1}]")


def _check_finite(name: str, a: np.ndarray) -> None:
    if a.size and not np.isfinite(a).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")


def _check_finite_nonneg(name: str, a: np.ndarray) -> None:
    _check_finite(name, a)
    if a.size and (a < 0).any():
        idx = np.unravel_index(int(np.argmax(a < 0)), a.shape)
        raise ValueError(f"{name} contains negative values (first at index {tuple(int(i) for i in idx)}: {a[idx]})")


@dataclass
class BlockResult:
    """Per-month aggregates of one block (spec, "Outputs"): field = ``<group>_<name>``.

    The group prefix is not repeated: the generator's ``gen_kwh`` is ``gen_kwh`` and the
    pool's ``pool_kwh`` is ``pool_kwh``. ``hourly_*`` are only filled when asked for.
    """

    # Tenant (M, T) [and (M, T, 3) by TOU]
    tenant_load_kwh: np.ndarray
    tenant_grid_kwh: np.ndarray
    tenant_self_kwh: np.ndarray
    tenant_ppa_kwh: np.ndarray
    tenant_pool_kwh: np.ndarray
    tenant_grid_kwh_by_tou: np.ndarray
    tenant_load_kwh_by_tou: np.ndarray
    tenant_grid_energy_krw_by_tou: np.ndarray  # (M, T, 3) sum of grid kWh x tariff price, by TOU period
    tenant_load_energy_krw_by_tou: np.ndarray  # (M, T, 3) the same for the load (grid-only baseline)
    tenant_grid_peak_kw: np.ndarray
    tenant_load_peak_kw: np.ndarray
    tenant_prebattery_peak_kw: np.ndarray  # peak of the import before batteries (= grid peak without)
    tenant_battery_discharged_kwh: np.ndarray  # delivered by the tenant's batteries to its load
    tenant_battery_grid_charge_kwh: np.ndarray  # bought from the grid to charge them (in grid_kwh)
    tenant_battery_re_kwh: np.ndarray  # the RE part (own plants' and PPA) of battery_discharged_kwh
    tenant_site_peak_kw: np.ndarray  # peak of load + battery charging from outside the meter - delivery
    # Generator (M, G)
    gen_kwh: np.ndarray
    gen_self_kwh: np.ndarray
    gen_ppa_kwh: np.ndarray
    gen_ppa_surplus_export_kwh: np.ndarray
    gen_pool_kwh: np.ndarray
    gen_pool_applied_kwh: np.ndarray
    gen_export_kwh: np.ndarray
    gen_curtailed_kwh: np.ndarray
    gen_stored_kwh: np.ndarray  # into batteries (from the host's remainder or contract surplus)
    gen_export_smp_krw: np.ndarray
    gen_smp_krw: np.ndarray
    # Contract (M, C)
    contract_contracted_kwh: np.ndarray
    contract_applied_kwh: np.ndarray
    contract_surplus_export_kwh: np.ndarray
    contract_surplus_curtailed_kwh: np.ndarray
    contract_stored_kwh: np.ndarray  # surplus stored in the off-taker's batteries
    contract_undelivered_kwh: np.ndarray
    contract_contracted_krw: np.ndarray
    contract_applied_krw: np.ndarray
    contract_surplus_smp_krw: np.ndarray
    contract_avoided_tariff_krw: np.ndarray
    # Pool (M,)
    pool_kwh: np.ndarray
    pool_applied_kwh: np.ndarray
    pool_smp_krw: np.ndarray
    # Battery (M, B, 3) by source (0 grid, 1 own RE, 2 PPA RE) and (M, B)
    battery_charged_kwh_by_source: np.ndarray
    battery_discharged_kwh_by_source: np.ndarray
    battery_loss_kwh_by_source: np.ndarray
    battery_soc_start_kwh_by_source: np.ndarray
    battery_soc_end_kwh_by_source: np.ndarray
    battery_cycles_end: np.ndarray
    battery_capacity_end_kwh: np.ndarray
    # Optional hourly allocations
    hourly_grid_kwh: np.ndarray | None = None  # (H, T)
    hourly_contract_applied_kwh: np.ndarray | None = None  # (H, C)
    hourly_battery_soc_kwh: np.ndarray | None = None  # (H, B) state of charge at the end of the hour

    @classmethod
    def aggregate_names(cls) -> list[str]:
        """Names of the per-month aggregate fields (everything but ``hourly_*``)."""
        return [f.name for f in fields(cls) if not f.name.startswith("hourly_")]

    @property
    def n_months(self) -> int:
        return int(self.pool_kwh.shape[0])


#: Hourly output names (``hourly=True``).
HOURLY_NAMES = ["hourly_grid_kwh", "hourly_contract_applied_kwh", "hourly_battery_soc_kwh"]


@dataclass
class _Flows:
    """Hourly battery flows of the reference, (B, 3, H) by source and (B, H)."""

    charged: np.ndarray
    discharged: np.ndarray
    loss: np.ndarray
    soc: np.ndarray  # by source, at the end of each hour
    cycles: np.ndarray
    capacity: np.ndarray


def dispatch_batteries(x: BlockInputs, resid: np.ndarray, avail: np.ndarray, surplus_c: np.ndarray,
                       tenant_tou: np.ndarray, grid_charge: np.ndarray) -> _Flows:
    """Step 4b of the spec, battery by battery, hour by hour (the state of charge is sequential).

    Updates in place: ``resid`` (T, H) net load (discharge serves it), ``avail`` (G, H) the
    hosted plants' remainder and ``surplus_c`` (C, H) contract surplus (both charge
    batteries), ``grid_charge`` (T, H) kWh bought from the grid to charge.
    """
    B, H = x.n_batteries, x.n_hours
    fl = _Flows(*(np.zeros((B, N_SRC, H)) for _ in range(4)), np.zeros((B, H)), np.zeros((B, H)))
    own = [np.flatnonzero(x.gen_host == t) for t in range(x.n_tenants)]
    ppa = [np.flatnonzero(x.c_tenant == t) for t in range(x.n_tenants)]
    # each tenant's site draw through its meter so far: load + charging from outside - delivery
    site = x.load_kwh.T + grid_charge
    for b in range(B):
        t, strat = int(x.b_tenant[b]), int(x.b_strategy[b])
        e0, p = float(x.b_energy_kwh[b]), float(x.b_power_kw[b])
        eta_c, eta_d = float(x.b_eta_charge[b]), float(x.b_eta_discharge[b])
        smin, smax, fade = float(x.b_soc_min_frac[b]), float(x.b_soc_max_frac[b]), float(x.b_fade_per_cycle[b])
        target = float(x.b_target_kw[b])
        soc = [float(v) for v in x.b_soc0_kwh[b]]
        cyc = float(x.b_cycles0[b])
        cap = e0 * max(0.0, 1.0 - fade * cyc)
        load_peak, month = 0.0, -1  # the owner's billed-hours load peak of the month up to the hour
        for h in range(H):
            if x.month_of_hour[h] != month:
                load_peak, month = 0.0, int(x.month_of_hour[h])
            s = soc[0] + soc[1] + soc[2]
            cmax = min(p, max(0.0, smax * cap - s) / eta_c)  # AC kWh it can take
            dmax = min(p, max(0.0, s - smin * cap) * eta_d)  # AC kWh it can deliver
            tou = int(tenant_tou[t, h])
            if tou != 0:
                load_peak = max(load_peak, float(x.load_kwh[h, t]))
            ch = [0.0, 0.0, 0.0]
            d = 0.0
            if strat == SELF_CONSUMPTION or strat == RE_MATCHING:
                c = 0.0
                for g in own[t]:
                    q = min(avail[g, h], cmax - c)
                    avail[g, h] -= q
                    ch[SRC_OWN] += q
                    c += q
                if strat == RE_MATCHING:
                    # in billed hours, PPA surplus comes through the meter: the site draw stays under the
                    # billing-demand floor (target) or the month's load peak so far, whichever is higher
                    room = math.inf if tou == 0 else max(0.0, max(target, load_peak) - site[t, h])
                    for cc in ppa[t]:
                        q = min(surplus_c[cc, h], cmax - c, room - ch[SRC_PPA])
                        surplus_c[cc, h] -= q
                        ch[SRC_PPA] += q
                        c += q
                    site[t, h] += ch[SRC_PPA]
                if c == 0.0:
                    d = min(dmax, resid[t, h])
            elif tou == 0:  # peak_shaving and tou_arbitrage charge from the grid in light-load hours
                ch[SRC_GRID] = cmax
                grid_charge[t, h] += cmax
                site[t, h] += cmax
            elif strat == PEAK_SHAVING:
                d = min(dmax, max(0.0, resid[t, h] - target))
            elif tou == 2:  # tou_arbitrage discharges in peak-load hours
                d = min(dmax, resid[t, h])
            for i in range(N_SRC):
                if ch[i] > 0.0:
                    soc[i] += ch[i] * eta_c
                    fl.charged[b, i, h] = ch[i]
                    fl.loss[b, i, h] = ch[i] - ch[i] * eta_c
            if d > 0.0:
                d_dc = d / eta_d
                for i in range(N_SRC):
                    w = soc[i] / s
                    fl.discharged[b, i, h] = d * w
                    fl.loss[b, i, h] += (d_dc - d) * w
                    soc[i] -= d_dc * w
                resid[t, h] -= d
                site[t, h] -= d
                cyc += d_dc / e0
                cap = e0 * max(0.0, 1.0 - fade * cyc)
            fl.soc[b, :, h] = soc
            fl.cycles[b, h] = cyc
            fl.capacity[b, h] = cap
    return fl


def settle_block_reference(inputs: BlockInputs, hourly: bool = False) -> BlockResult:
    """Settle one block of hours with plain NumPy (the spec, executable)."""
    inputs.validate()
    x = inputs
    H, T, G, C = x.n_hours, x.n_tenants, x.n_generators, x.n_contracts
    M = x.n_months
    smp = x.smp  # (H,)

    # Step 1. Per-tenant and per-plant hour series (rows contiguous over hours).
    resid = x.load_kwh.T.copy()  # (T, H)
    avail = x.gen_kwh.T.copy()  # (G, H)
    tenant_price = x.tariff_price[:, x.tenant_tariff].T  # (T, H) tariff price of each tenant
    tenant_tou = x.tariff_tou[:, x.tenant_tariff].T  # (T, H)

    # Step 2. Self-generation, in plant order.
    self_g = np.zeros((G, H))
    for g in range(G):
        t = int(x.gen_host[g])
        if t >= 0:
            s = np.minimum(avail[g], resid[t])
            resid[t] -= s
            avail[g] -= s
            self_g[g] = s
    base = avail.copy()  # what each plant can sell

    # Step 3. Direct-PPA contracts, in priority (array) order.
    e_c = np.zeros((C, H))
    applied_c = np.zeros((C, H))
    surplus_c = np.zeros((C, H))
    undeliv_c = np.zeros((C, H))
    price_c = np.zeros((C, H))
    for c in range(C):
        g, t = int(x.c_gen[c]), int(x.c_tenant[c])
        kind = int(x.c_kind[c])
        if kind == KIND_SHARE:
            target = x.c_share[c] * base[g]
        elif kind == KIND_BASELOAD:
            target = np.full(H, x.c_block_kw[c])
        else:
            target = x.profile_kwh[:, x.c_profile[c]]
        e = np.minimum(target, avail[g])
        undeliv_c[c] = target - e
        avail[g] -= e
        applied = np.minimum(e, resid[t])
        resid[t] -= applied
        e_c[c], applied_c[c], surplus_c[c] = e, applied, e - applied
        pk = int(x.c_price_kind[c])
        if pk == PRICE_FIXED:
            base_price = np.full(H, x.c_price[c])
        elif pk == PRICE_SMP:
            base_price = smp + x.c_price[c]
        else:
            base_price = tenant_price[t] * (1.0 - x.c_price[c])
        price_c[c] = np.minimum(np.maximum(base_price, x.c_price_floor[c]), x.c_price_cap[c])

    # Step 4. Green-tariff pool.
    is_pool = x.gen_pool == 1
    pool_contrib = np.where(is_pool[:, None], avail, 0.0)  # (G, H)
    pool = pool_contrib.sum(axis=0)  # (H,)
    pool_applied_t = np.zeros((T, H))
    pool_applied_g = np.zeros((G, H))
    W = x.sub_weight.sum()
    if x.pool_hourly and W > 0:
        alloc = pool[None, :] * x.sub_weight[:, None] / W  # (T, H)
        pool_applied_t = np.minimum(alloc, resid)
        resid -= pool_applied_t
        A = pool_applied_t.sum(axis=0)  # applied pool energy per hour
        has = pool > 0
        frac = np.zeros(H)
        frac[has] = A[has] / pool[has]
        pool_applied_g = np.where(is_pool[:, None], avail * frac[None, :], 0.0)
        avail = np.where(is_pool[:, None], avail * (1.0 - frac[None, :]), avail)
    pool_applied = pool_applied_t.sum(axis=0)

    # Step 4b. Batteries behind the meter (sequential state of charge).
    prebattery = resid.copy()
    own_before, surplus_before = avail.copy(), surplus_c.copy()
    grid_charge = np.zeros((T, H))
    fl = dispatch_batteries(x, resid, avail, surplus_c, tenant_tou, grid_charge)
    stored_c = surplus_before - surplus_c
    stored_g = own_before - avail
    for c in range(C):
        stored_g[x.c_gen[c]] += stored_c[c]

    # Step 5. Export and curtailment, per plant.
    surplus_g = np.zeros((G, H))
    for c in range(C):
        surplus_g[x.c_gen[c]] += surplus_c[c]
    xg = avail + surplus_g
    curt_g = np.maximum(0.0, xg - x.gen_export_limit_kw[:, None])
    f = np.zeros((G, H))
    np.divide(curt_g, xg, out=f, where=xg > 0)
    export_g = avail * (1.0 - f)
    f_c = f[x.c_gen] if C else np.zeros((0, H))
    surplus_export_c = surplus_c * (1.0 - f_c)
    surplus_curt_c = surplus_c * f_c

    # Step 6. Grid backup supply (and grid energy bought to charge batteries).
    grid = resid + grid_charge  # (T, H)

    # ----------------------------------------------------------- monthly sums
    starts = np.searchsorted(x.month_of_hour, np.arange(M), side="left")
    ends = np.searchsorted(x.month_of_hour, np.arange(M), side="right")

    def msum(a: np.ndarray) -> np.ndarray:
        """(n, H) -> (M, n): sum over each month's hours."""
        return np.stack([a[:, s:e].sum(axis=1) for s, e in zip(starts, ends)]) if M else np.zeros((0, a.shape[0]))

    def msum1(a: np.ndarray) -> np.ndarray:
        return msum(a[None, :])[:, 0] if M else np.zeros(0)

    def by_tou(a: np.ndarray) -> np.ndarray:
        return np.stack([msum(np.where(tenant_tou == k, a, 0.0)) for k in range(N_TOU)], axis=-1)

    def peak(a: np.ndarray) -> np.ndarray:
        billed = np.where(tenant_tou != 0, a, 0.0)  # light-load hours excluded
        if not M:
            return np.zeros((0, a.shape[0]))
        return np.stack([billed[:, s:e].max(axis=1, initial=0.0) for s, e in zip(starts, ends)])

    load = x.load_kwh.T
    self_t = np.zeros((T, H))
    for g in range(G):
        if x.gen_host[g] >= 0:
            self_t[x.gen_host[g]] += self_g[g]
    ppa_t = np.zeros((T, H))
    ppa_g = np.zeros((G, H))
    sx_g = np.zeros((G, H))
    for c in range(C):
        ppa_t[x.c_tenant[c]] += applied_c[c]
        ppa_g[x.c_gen[c]] += applied_c[c]
        sx_g[x.c_gen[c]] += surplus_export_c[c]
    contract_tenant_price = tenant_price[x.c_tenant] if C else np.zeros((0, H))
    B = x.n_batteries
    bat_t, bat_re_t, bat_ppa_in = np.zeros((T, H)), np.zeros((T, H)), np.zeros((T, H))
    for b in range(B):
        bat_t[x.b_tenant[b]] += fl.discharged[b].sum(axis=0)
        bat_re_t[x.b_tenant[b]] += fl.discharged[b, SRC_OWN] + fl.discharged[b, SRC_PPA]
        bat_ppa_in[x.b_tenant[b]] += fl.charged[b, SRC_PPA]

    def msum3(a: np.ndarray) -> np.ndarray:
        """(B, 3, H) -> (M, B, 3)."""
        return msum(a.reshape(B * N_SRC, H)).reshape(M, B, N_SRC)

    def month_last(a: np.ndarray, initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, H) state at the end of each hour -> (M, n) at the start and end of each month
        (0 for a month without hours)."""
        start, end = np.zeros((M, a.shape[0])), np.zeros((M, a.shape[0]))
        prev = initial
        for m, (s, e) in enumerate(zip(starts, ends)):
            if e > s:
                start[m], end[m] = prev, a[:, e - 1]
                prev = a[:, e - 1]
        return start, end

    soc_start, soc_end = month_last(fl.soc.reshape(B * N_SRC, H), x.b_soc0_kwh.reshape(-1))
    _, cycles_end = month_last(fl.cycles, x.b_cycles0)
    cap0 = battery_capacity_kwh(x.b_energy_kwh, x.b_fade_per_cycle, x.b_cycles0)
    _, capacity_end = month_last(fl.capacity, cap0)

    res = BlockResult(
        tenant_load_kwh=msum(load),
        tenant_grid_kwh=msum(grid),
        tenant_self_kwh=msum(self_t),
        tenant_ppa_kwh=msum(ppa_t),
        tenant_pool_kwh=msum(pool_applied_t),
        tenant_grid_kwh_by_tou=by_tou(grid),
        tenant_load_kwh_by_tou=by_tou(load),
        tenant_grid_energy_krw_by_tou=by_tou(grid * tenant_price),
        tenant_load_energy_krw_by_tou=by_tou(load * tenant_price),
        tenant_grid_peak_kw=peak(grid),
        tenant_load_peak_kw=peak(load),
        tenant_prebattery_peak_kw=peak(prebattery),
        tenant_battery_discharged_kwh=msum(bat_t),
        tenant_battery_grid_charge_kwh=msum(grid_charge),
        tenant_battery_re_kwh=msum(bat_re_t),
        tenant_site_peak_kw=peak(load + grid_charge + bat_ppa_in - bat_t),
        gen_kwh=msum(x.gen_kwh.T),
        gen_self_kwh=msum(self_g),
        gen_ppa_kwh=msum(ppa_g),
        gen_ppa_surplus_export_kwh=msum(sx_g),
        gen_pool_kwh=msum(pool_contrib),
        gen_pool_applied_kwh=msum(pool_applied_g),
        gen_export_kwh=msum(export_g),
        gen_curtailed_kwh=msum(curt_g),
        gen_stored_kwh=msum(stored_g),
        gen_export_smp_krw=msum(export_g * smp),
        gen_smp_krw=msum(x.gen_kwh.T * smp),
        contract_contracted_kwh=msum(e_c),
        contract_applied_kwh=msum(applied_c),
        contract_surplus_export_kwh=msum(surplus_export_c),
        contract_surplus_curtailed_kwh=msum(surplus_curt_c),
        contract_stored_kwh=msum(stored_c),
        contract_undelivered_kwh=msum(undeliv_c),
        contract_contracted_krw=msum(e_c * price_c),
        contract_applied_krw=msum(applied_c * price_c),
        contract_surplus_smp_krw=msum(surplus_export_c * smp),
        contract_avoided_tariff_krw=msum(applied_c * contract_tenant_price),
        pool_kwh=msum1(pool),
        pool_applied_kwh=msum1(pool_applied),
        pool_smp_krw=msum1(pool * smp),
        battery_charged_kwh_by_source=msum3(fl.charged),
        battery_discharged_kwh_by_source=msum3(fl.discharged),
        battery_loss_kwh_by_source=msum3(fl.loss),
        battery_soc_start_kwh_by_source=soc_start.reshape(M, B, N_SRC),
        battery_soc_end_kwh_by_source=soc_end.reshape(M, B, N_SRC),
        battery_cycles_end=cycles_end,
        battery_capacity_end_kwh=capacity_end,
    )
    if hourly:
        res.hourly_grid_kwh = np.ascontiguousarray(grid.T)
        res.hourly_contract_applied_kwh = np.ascontiguousarray(applied_c.T)
        res.hourly_battery_soc_kwh = np.ascontiguousarray(fl.soc.sum(axis=1).T)
    return res
