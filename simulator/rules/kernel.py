"""Python entry point of the compiled hourly settlement kernel (``ext/_settle.pyx``).

The semantics are ``docs/settlement-kernel.md``; :mod:`re100sim.simulator.rules.settlement_reference` is the
plain NumPy reference the kernel is tested against. There is deliberately **no fallback** to
the reference: if the extension is not built, :func:`settle_block` raises ``ImportError``.

``setup.py`` compiles the same source into several modules (``KERNEL_VARIANTS``: the portable
baseline and, on x86-64, AVX2 and AVX-512 builds); the widest one the CPU supports is used. They
give the same results bit for bit (docs/settlement-kernel.md#build-and-variants).
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from re100sim.simulator.rules.settlement_reference import BlockInputs, BlockResult

__all__ = ["settle_block", "settle_block_with", "settle_columns", "kernel_modules", "BlockInputs", "BlockResult",
           "KERNEL_VARIANTS", "MISSING_EXTENSION_MESSAGE"]

# Compiled variants, widest first: (module, NumPy CPU feature the running CPU must have, or None).
KERNEL_VARIANTS = (
    ("re100sim.ext._settle_x86_64_v4", "X86_V4"),
    ("re100sim.ext._settle_x86_64_v3", "X86_V3"),
    ("re100sim.ext._settle", None),
)

MISSING_EXTENSION_MESSAGE = (
    "The compiled settlement kernel `ext._settle` is missing (Cython extension not built). "
    "Build it from the repository root with `pip install -e .` or "
    "`python setup.py build_ext --inplace`. "
    "(The NumPy reference re100sim.simulator.rules.settlement_reference.settle_block_reference is a test "
    "oracle, not a fallback.)"
)

_EXT: ModuleType | None = None


def _cpu_has(feature: str) -> bool:
    # NumPy's CPU-feature table is private: if a NumPy release moves it, use the portable baseline.
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        return False
    return bool(__cpu_features__.get(feature, False))


def kernel_modules() -> list[ModuleType]:
    """The compiled kernel modules that are built and that this CPU can run, widest first."""
    mods = []
    for name, feature in KERNEL_VARIANTS:
        if feature is not None and not _cpu_has(feature):
            continue
        try:
            mods.append(importlib.import_module(name))
        except ImportError:
            continue
    return mods


def _ext() -> ModuleType:
    global _EXT
    if _EXT is None:
        mods = kernel_modules()
        if not mods:
            raise ImportError(f"{MISSING_EXTENSION_MESSAGE} (none of {', '.join(n for n, _ in KERNEL_VARIANTS)} "
                              "imports on this machine)")
        _EXT = mods[0]
    return _EXT


def settle_block(inputs: BlockInputs, hourly: bool = False) -> BlockResult:
    """Settle one block of hours with the compiled kernel.

    ``inputs`` is validated first (``ValueError`` on any breach of the spec's input rules; the
    scans of ``load_kwh`` / ``gen_kwh`` for negative or non-finite values happen inside the
    kernel's single pass). With ``hourly=True`` the result also carries
    ``hourly_grid_kwh`` (H, T) and ``hourly_contract_applied_kwh`` (H, C).
    """
    return settle_block_with(_ext(), inputs, hourly)


def settle_block_with(ext: ModuleType, inputs: BlockInputs, hourly: bool = False) -> BlockResult:
    """:func:`settle_block` with a given compiled module (one of :func:`kernel_modules`)."""
    inputs.validate(full=False)
    x = inputs
    out = ext.settle_block(
        x.load_kwh,
        x.gen_kwh,
        x.month_of_hour,
        x.tariff_price,
        x.tariff_tou,
        x.smp,
        x.tenant_tariff,
        x.gen_host,
        x.gen_pool,
        x.gen_export_limit_kw,
        x.c_gen,
        x.c_tenant,
        x.c_kind,
        x.c_share,
        x.c_block_kw,
        x.c_profile,
        x.profile_kwh,
        x.c_price_kind,
        x.c_price,
        x.c_price_floor,
        x.c_price_cap,
        x.sub_weight,
        int(x.pool_hourly),
        x.b_tenant,
        x.b_strategy,
        x.b_energy_kwh,
        x.b_power_kw,
        x.b_eta_charge,
        x.b_eta_discharge,
        x.b_soc_min_frac,
        x.b_soc_max_frac,
        x.b_soc0_kwh,
        x.b_cycles0,
        x.b_fade_per_cycle,
        x.b_target_kw,
        bool(hourly),
    )
    return BlockResult(**out)


def settle_columns(inputs_of: Callable[[slice], Iterable[BlockInputs]], n_tenants: int,
                   chunk: int) -> list[BlockResult]:
    """Settle blocks whose tenants are independent columns ``chunk`` at a time, each as one result.

    Columns are independent when every generator, contract and battery serves one tenant only (no
    green pool, no plant shared between tenants): a tenant's numbers then do not depend on which
    others are settled with it, so ``inputs_of(cols)`` gives, for each block, the block of tenants
    ``cols`` alone, with their generators, contracts and batteries in the whole block's order (each
    is settled before the next is taken, so they may share buffers). Each block's results are joined
    along the tenant, generator, contract and battery axis (the second of every aggregate and hourly
    output); the pool's (M,) totals, 0 for such blocks, are added.
    """
    parts = [[settle_block(x) for x in inputs_of(slice(c0, min(c0 + chunk, n_tenants)))]
             for c0 in range(0, max(n_tenants, 1), chunk)]
    return [_join(list(block)) for block in zip(*parts)]


def _join(parts: list[BlockResult]) -> BlockResult:
    if len(parts) == 1:
        return parts[0]
    joined = {}
    for f in dataclasses.fields(BlockResult):
        arrays = [getattr(p, f.name) for p in parts]
        if arrays[0] is None:
            joined[f.name] = None
        elif arrays[0].ndim == 1:
            joined[f.name] = np.sum(arrays, axis=0)
        else:
            joined[f.name] = np.concatenate(arrays, axis=1)
    return BlockResult(**joined)
