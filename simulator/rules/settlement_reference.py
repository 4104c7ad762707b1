"""Plain NumPy reference of the hourly settlement kernel (``docs/settlement-kernel.md``).

This module *is* the executable specification and the test oracle of the compiled kernel
``ext/_settle.pyx`` (called through :func:`re100sim.simulator.rules.kernel.settle_block`). It favours
clarity over speed. Every rule of the spec's "Per hour" section is independent from one hour
to the next (no state is carried across hours; only the monthly sums are), so the
reference processes **all hours of the block at once**: each quantity below is an array over
hours, and the steps run in the spec's order, with a Python loop over plants (step 2) and over
contracts in priority order (step 3), exactly as written in the spec. Hour-major arrays are
kept transposed (``(T, H)``, ``(G, H)``, ``(C, H)``) so that one tenant's, plant's or
contract's hours are contiguous.

Both the kernel and this reference take a :class:`BlockInputs` and return a
:class:`BlockResult`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["BlockInputs", "BlockResult", "settle_block_reference", "N_TOU"]

N_TOU = 3  # TOU periods: 0 light, 1 mid, 2 peak

KIND_SHARE, KIND_BASELOAD, KIND_SHAPED = 0, 1, 2
PRICE_FIXED, PRICE_SMP, PRICE_TARIFF = 0, 1, 2

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
}


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
    ) -> "BlockInputs":
        """Coerce array-likes to the required dtypes/contiguity and fill defaults.

        Defaults: no generators; generators without host, not in the pool, without export
        limit; no contracts; contract fields not given are 0 (profile 0, floor -inf, cap inf);
        no profiles; nobody subscribed to the green tariff.
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
        sizes: dict[str, int] = {}
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
        if full:
            _check_finite_nonneg("load_kwh", self.load_kwh)
            _check_finite_nonneg("gen_kwh", self.gen_kwh)


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
    # Generator (M, G)
    gen_kwh: np.ndarray
    gen_self_kwh: np.ndarray
    gen_ppa_kwh: np.ndarray
    gen_ppa_surplus_export_kwh: np.ndarray
    gen_pool_kwh: np.ndarray
    gen_pool_applied_kwh: np.ndarray
    gen_export_kwh: np.ndarray
    gen_curtailed_kwh: np.ndarray
    gen_export_smp_krw: np.ndarray
    gen_smp_krw: np.ndarray
    # Contract (M, C)
    contract_contracted_kwh: np.ndarray
    contract_applied_kwh: np.ndarray
    contract_surplus_export_kwh: np.ndarray
    contract_surplus_curtailed_kwh: np.ndarray
    contract_undelivered_kwh: np.ndarray
    contract_contracted_krw: np.ndarray
    contract_applied_krw: np.ndarray
    contract_surplus_smp_krw: np.ndarray
    contract_avoided_tariff_krw: np.ndarray
    # Pool (M,)
    pool_kwh: np.ndarray
    pool_applied_kwh: np.ndarray
    pool_smp_krw: np.ndarray
    # Optional hourly allocations
    hourly_grid_kwh: np.ndarray | None = None  # (H, T)
    hourly_contract_applied_kwh: np.ndarray | None = None  # (H, C)

    @classmethod
    def aggregate_names(cls) -> list[str]:
        """Names of the per-month aggregate fields (everything but ``hourly_*``)."""
        return [f.name for f in fields(cls) if not f.name.startswith("hourly_")]

    @property
    def n_months(self) -> int:
        return int(self.pool_kwh.shape[0])


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

    # Step 6. Grid backup supply.
    grid = resid  # (T, H)

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
        gen_kwh=msum(x.gen_kwh.T),
        gen_self_kwh=msum(self_g),
        gen_ppa_kwh=msum(ppa_g),
        gen_ppa_surplus_export_kwh=msum(sx_g),
        gen_pool_kwh=msum(pool_contrib),
        gen_pool_applied_kwh=msum(pool_applied_g),
        gen_export_kwh=msum(export_g),
        gen_curtailed_kwh=msum(curt_g),
        gen_export_smp_krw=msum(export_g * smp),
        gen_smp_krw=msum(x.gen_kwh.T * smp),
        contract_contracted_kwh=msum(e_c),
        contract_applied_kwh=msum(applied_c),
        contract_surplus_export_kwh=msum(surplus_export_c),
        contract_surplus_curtailed_kwh=msum(surplus_curt_c),
        contract_undelivered_kwh=msum(undeliv_c),
        contract_contracted_krw=msum(e_c * price_c),
        contract_applied_krw=msum(applied_c * price_c),
        contract_surplus_smp_krw=msum(surplus_export_c * smp),
        contract_avoided_tariff_krw=msum(applied_c * contract_tenant_price),
        pool_kwh=msum1(pool),
        pool_applied_kwh=msum1(pool_applied),
        pool_smp_krw=msum1(pool * smp),
    )
    if hourly:
        res.hourly_grid_kwh = np.ascontiguousarray(grid.T)
        res.hourly_contract_applied_kwh = np.ascontiguousarray(applied_c.T)
    return res
