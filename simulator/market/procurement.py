"""Compile the scenario's procurement arrangements into the kernel's index arrays.

The scenario names plants and tenants; the kernel wants integer indices and
flat arrays (``docs/settlement-kernel.md``). :class:`Plan` is built once per run;
:meth:`Plan.month_inputs` returns the kernel inputs for one billing month with the
contracts active in it (contracts start and end on month boundaries).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from re100sim.simulator.inputs.load import read_profile_file
from re100sim.simulator.rules.settlement_reference import BlockInputs
from re100sim.simulator.scenario.config import (
    FixedPrice,
    GeneratorSpec,
    GreenTariff,
    PpaContract,
    SmpIndexedPrice,
    TariffIndexedPrice,
)

# Kernel codes (docs/settlement-kernel.md, inputs table).
VOLUME_KIND = {"share": 0, "baseload": 1, "shaped": 2}
PRICE_KIND = {"fixed": 0, "smp_indexed": 1, "tariff_indexed": 2}


def month_key_of(d) -> int:
    return d.year * 12 + d.month - 1


def supply_months(c: PpaContract) -> tuple[int, int]:
    """(first month_key of supply, first month_key after the term): contracts start and end
    on month boundaries."""
    start = month_key_of(c.start_date)
    return start, start + 12 * c.term_years


def supplies(c: PpaContract, month_key: int) -> bool:
    """Whether the contract supplies in ``month_key``."""
    start, end = supply_months(c)
    return start <= month_key < end


@dataclass(frozen=True)
class Plan:
    contracts: list[PpaContract]  # in settlement order (priority, then file order)
    c_gen: np.ndarray
    c_tenant: np.ndarray
    c_kind: np.ndarray
    c_share: np.ndarray
    c_block_kw: np.ndarray
    c_profile: np.ndarray
    profiles_kw: list[np.ndarray]  # shaped-volume files (typical year or full horizon)
    c_start_month: np.ndarray  # first month_key of supply
    c_end_month: np.ndarray  # first month_key after the term
    gen_host: np.ndarray
    gen_pool: np.ndarray
    gen_export_limit_kw: np.ndarray
    sub_weight: np.ndarray
    pool_hourly: int

    @classmethod
    def build(cls, contracts_in: list[PpaContract], plants: list[GeneratorSpec], tenant_names: list[str],
              subscriptions: dict[str, float], green_tariff: GreenTariff | None) -> "Plan":
        """Index arrays for the procurement in force: contracts (settled in priority order,
        then in the order signed), plants (hosts, pool, export limits) and green-tariff
        subscriptions (MWh/yr by tenant)."""
        t_index = {n: i for i, n in enumerate(tenant_names)}
        g_index = {g.name: i for i, g in enumerate(plants)}
        order = sorted(range(len(contracts_in)), key=lambda i: (contracts_in[i].priority, i))
        contracts = [contracts_in[i] for i in order]
        profiles: list[np.ndarray] = []
        c_profile = []
        for c in contracts:
            if c.volume.kind == "shaped":
                profiles.append(read_profile_file(c.volume.profile_file))
                c_profile.append(len(profiles) - 1)
            else:
                c_profile.append(0)
        months = [supply_months(c) for c in contracts]
        weights = np.zeros(len(tenant_names))
        for tenant, mwh in subscriptions.items():
            weights[t_index[tenant]] += mwh
        return cls(
            contracts=contracts,
            c_gen=np.array([g_index[c.generator] for c in contracts], np.int32),
            c_tenant=np.array([t_index[c.tenant] for c in contracts], np.int32),
            c_kind=np.array([VOLUME_KIND[c.volume.kind] for c in contracts], np.int8),
            c_share=np.array([getattr(c.volume, "share", 0.0) for c in contracts], float),
            c_block_kw=np.array([getattr(c.volume, "block_kw", 0.0) for c in contracts], float),
            c_profile=np.array(c_profile, np.int32),
            profiles_kw=profiles,
            c_start_month=np.array([s for s, _ in months], np.int64),
            c_end_month=np.array([e for _, e in months], np.int64),
            gen_host=np.array([t_index[g.host_tenant] if g.host_tenant else -1 for g in plants], np.int32),
            gen_pool=np.array([g.green_pool for g in plants], np.int8),
            gen_export_limit_kw=np.array(
                [np.inf if g.export_limit_kw is None else g.export_limit_kw for g in plants], float
            ),
            sub_weight=weights,
            pool_hourly=int(green_tariff is not None and green_tariff.allocation == "hourly"),
        )

    def active(self, month_key: int) -> np.ndarray:
        """Indices (into ``contracts``) of the contracts supplying in ``month_key``, in order."""
        return np.flatnonzero((self.c_start_month <= month_key) & (month_key < self.c_end_month))

    def month_inputs(self, month_key, active, load, gen, tariff_price, tariff_tou, smp, tenant_tariff,
                     hours_from_start: int) -> BlockInputs:
        """Kernel inputs for one month (``load``, ``gen``... are that month's rows)."""
        H = load.shape[0]
        prices = [contract_price_terms(self.contracts[c], month_key - self.c_start_month[c]) for c in active]
        profile = np.zeros((H, max(len(self.profiles_kw), 1)))
        for p, kw in enumerate(self.profiles_kw):
            profile[:, p] = _profile_rows(kw, hours_from_start, H)
        return BlockInputs.build(
            load_kwh=load,
            month_of_hour=np.zeros(H, np.int32),
            tariff_price=tariff_price,
            tariff_tou=tariff_tou,
            smp=smp,
            tenant_tariff=tenant_tariff,
            gen_kwh=gen,
            gen_host=self.gen_host,
            gen_pool=self.gen_pool,
            gen_export_limit_kw=self.gen_export_limit_kw,
            c_gen=self.c_gen[active],
            c_tenant=self.c_tenant[active],
            c_kind=self.c_kind[active],
            c_share=self.c_share[active],
            c_block_kw=self.c_block_kw[active],
            c_profile=self.c_profile[active],
            profile_kwh=profile,
            c_price_kind=np.array([p[0] for p in prices], np.int8),
            c_price=np.array([p[1] for p in prices], float),
            c_price_floor=np.array([p[2] for p in prices], float),
            c_price_cap=np.array([p[3] for p in prices], float),
            sub_weight=self.sub_weight,
            pool_hourly=self.pool_hourly,
        )


def _profile_rows(kw: np.ndarray, hours_from_start: int, n: int) -> np.ndarray:
    """Rows of a shaped-volume profile for ``n`` hours from ``hours_from_start`` (typical year: repeats)."""
    if len(kw) in (8760, 8784):
        idx = (np.arange(n) + hours_from_start) % len(kw)
        return kw[idx]
    return kw[hours_from_start:hours_from_start + n]


def contract_price_terms(c: PpaContract, months_into_term: int) -> tuple[int, float, float, float]:
    """(kernel price kind, price parameter, floor, cap) for a contract month.

    Fixed prices escalate by ``escalation_pct_per_year`` at each contract anniversary;
    SMP-indexed prices are SMP + adder; tariff-indexed prices are the tenant's hourly
    energy price x (1 - discount) (docs/settlement-kernel.md step 3).
    """
    p = c.price
    floor = getattr(p, "floor_krw_per_kwh", None)
    cap = getattr(p, "cap_krw_per_kwh", None)
    floor = -np.inf if floor is None else floor
    cap = np.inf if cap is None else cap
    if isinstance(p, FixedPrice):
        year = months_into_term // 12
        return PRICE_KIND["fixed"], p.price_krw_per_kwh * (1 + p.escalation_pct_per_year / 100) ** year, floor, cap
    if isinstance(p, SmpIndexedPrice):
        return PRICE_KIND["smp_indexed"], p.adder_krw_per_kwh, floor, cap
    assert isinstance(p, TariffIndexedPrice)
    return PRICE_KIND["tariff_indexed"], p.discount_pct / 100.0, floor, cap
