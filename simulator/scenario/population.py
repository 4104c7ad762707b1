"""Expand a validated scenario into concrete tenants (groups -> individuals).

Group draws use the ``population`` stream, one child per group, so adding a
group never changes the tenants drawn for another.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from re100sim.simulator.errors import InputError
from re100sim.simulator.folders import check_output_dir
from re100sim.simulator.inputs.load import LoadParams, check_peak, read_profile_file
from re100sim.simulator.inputs.tariffs import load_table
from re100sim.simulator.rng import stream
from re100sim.simulator.scenario.config import (
    Scenario,
    TenantBehaviour,
    TenantGroup,
    draw,
    load_scenario,
)

# docs/domain.md#bill-structure "Contract classes": 산업용(갑) < 300 kW <= 산업용(을).
LARGE_CONTRACT_KW = 300.0


@dataclass(frozen=True)
class TenantSpec:
    """One tenant's fixed attributes, units in the names."""

    name: str
    group_index: int  # index in scenario.tenants, for error messages
    archetype: str
    annual_use_mwh: float | None  # None: the metering file's own volume
    peak_kw: float | None  # None: the archetype's natural load factor
    contract_kw: float
    tariff_option: str
    load_params: LoadParams
    profile_kw: np.ndarray | None  # metering file (typical year or full horizon), kW
    behaviour: TenantBehaviour
    roof_area_m2: float  # 0: no roof for PV


def expand_tenants(scenario: Scenario) -> list[TenantSpec]:
    out: list[TenantSpec] = []
    for gi, group in enumerate(scenario.tenants):
        out.extend(_expand_group(scenario, gi, group))
    return out


def _expand_group(scenario: Scenario, gi: int, g: TenantGroup) -> list[TenantSpec]:
    rng = stream(scenario.seed, "population", gi)
    n = g.count
    use = draw(g.annual_use_mwh, rng, n)
    peak = draw(g.peak_kw, rng, n)
    contract = draw(g.contract_kw, rng, n)
    roof = draw(g.behaviour.roof_area_m2, rng, n)
    profile = read_profile_file(g.load_file, scenario.horizon_hours) if g.load_file is not None else None
    specs = []
    for i in range(n):
        peak_i = None if peak is None else float(peak[i])
        contract_i = float(contract[i]) if contract is not None else _default_contract_kw(
            peak_i, None if use is None else float(use[i]), profile, g.archetype
        )
        specs.append(
            TenantSpec(
                name=g.name if n == 1 else f"{g.name}-{i + 1:03d}",
                group_index=gi,
                archetype=g.archetype,
                annual_use_mwh=None if use is None else float(use[i]),
                peak_kw=peak_i,
                contract_kw=contract_i,
                tariff_option=g.tariff_option or _default_option(scenario, contract_i),
                load_params=g.load,
                profile_kw=profile,
                behaviour=g.behaviour,
                roof_area_m2=0.0 if roof is None else float(roof[i]),
            )
        )
    return specs


def _default_contract_kw(peak_kw, annual_use_mwh, profile_kw, archetype) -> float:
    """Contract power when the scenario gives none: the expected annual peak [E]."""
    from re100sim.simulator.inputs.load import natural_load_factor

    if peak_kw is not None:
        return peak_kw
    if profile_kw is not None and annual_use_mwh is None:
        return float(profile_kw.max())
    return annual_use_mwh * 1000.0 / (8760.0 * natural_load_factor(archetype))


def _default_option(scenario: Scenario, contract_kw: float) -> str:
    t = scenario.tariff
    return t.option_large if contract_kw >= LARGE_CONTRACT_KW else t.option_small


def check_tariff_classes(specs: list[TenantSpec], table_name: str, source: str) -> None:
    """The option's contract class must match the contract power (docs/domain.md#bill-structure)."""
    table = load_table(table_name)
    for s in specs:
        large = table.contract_class(s.tariff_option) == "eul"
        if large != (s.contract_kw >= LARGE_CONTRACT_KW):
            need = "산업용(을), >= 300 kW" if s.contract_kw >= LARGE_CONTRACT_KW else "산업용(갑), < 300 kW"
            raise InputError(
                source,
                f"tenants[{s.group_index}].tariff_option",
                f"{s.tariff_option} does not fit {s.name}'s contract power {s.contract_kw:.0f} kW"
                f" (an option of class {need})",
            )


def prepare(path: Path, seed: int | None = None) -> tuple[Scenario, list[TenantSpec]]:
    """Validate a scenario file completely (what ``re100sim validate`` checks): everything ``run``
    would reject is rejected here, before anything is simulated or written."""
    scenario = load_scenario(path)
    if seed is not None:
        scenario = scenario.model_copy(update={"seed": seed})
    tenants = expand_tenants(scenario)
    check_tariff_classes(tenants, scenario.tariff.table, str(path))
    if scenario.output.dir is not None:
        check_output_dir(scenario.output.dir, str(path), "output.dir")
    for spec in tenants:
        if spec.profile_kw is None and spec.peak_kw is not None:
            try:
                check_peak(spec.archetype, spec.annual_use_mwh, spec.peak_kw, spec.load_params)
            except ValueError as e:
                raise InputError(str(path), f"tenants[{spec.group_index}].peak_kw", f"{spec.name}: {e}") from None
    return scenario, tenants
