"""The complex's batteries between months: kernel inputs, state carried on, peak targets learned.

The kernel dispatches each battery hour by hour within a month (docs/settlement-kernel.md step 4b);
this fleet carries each battery's state of charge (by source) and cycle count from one month's
block to the next, and gives each ``peak_shaving`` battery the month's target from what its owner
has seen on past bills: no foresight of the month's load.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from re100sim.simulator.market.monthly import CAPITAL, OM_CONTRACTOR, OM_ITEM, capital_cost_krw
from re100sim.simulator.rules.billing import BillingDemand, round_won
from re100sim.simulator.rules.settlement_reference import N_SRC, STRATEGY, BlockResult
from re100sim.simulator.scenario.storage import Battery, split_round_trip_efficiency

__all__ = ["BatteryFleet", "PEAK_HISTORY_MONTHS"]

#: Months of pre-battery billed-hours peaks a peak_shaving target is learned from (the ratchet's
#: 12-month window, docs/domain.md#bill-structure).
PEAK_HISTORY_MONTHS = 12


@dataclass
class BatteryFleet:
    """Batteries of one run, in scenario order, and their state between months."""

    specs: list[Battery]
    owner: np.ndarray  # (B,) tenant index
    soc_kwh: np.ndarray  # (B, 3) stored kWh by source (grid, own RE, PPA RE)
    cycles: np.ndarray  # (B,) equivalent full cycles so far
    peak_history: dict[int, np.ndarray] = field(default_factory=dict)  # month key -> (T,) tenants' pre-battery peak
    # the owners' billing demand had they no battery (the same ratchet, fed the pre-battery peaks)
    demand_without: BillingDemand | None = None
    demand_rows: list[dict] = field(default_factory=list)
    in_service: list[int | None] = field(default_factory=list)  # (B,) month key each battery entered service

    def __post_init__(self):
        self.in_service = self.in_service or [None] * len(self.specs)

    @classmethod
    def build(cls, specs: list[Battery], tenant_names: list[str]) -> "BatteryFleet":
        """The fleet at the start: each battery at ``initial_soc_pct`` of nameplate, counted as grid energy."""
        index = {n: i for i, n in enumerate(tenant_names)}
        soc = np.zeros((len(specs), N_SRC))
        soc[:, 0] = [b.energy_kwh * b.initial_soc_pct / 100.0 for b in specs]
        return cls(list(specs), np.array([index[b.owner] for b in specs], np.int32), soc, np.zeros(len(specs)),
                   demand_without=BillingDemand(len(tenant_names)))

    @property
    def n(self) -> int:
        return len(self.specs)

    def add(self, spec: Battery, owner: int) -> None:
        """A battery installed during the run (a tenant's decision): at ``initial_soc_pct`` of nameplate
        (grid energy), in service from the next settled month; its peak target learns from its owner's
        pre-battery peaks already seen."""
        self.specs.append(spec)
        self.owner = np.append(self.owner, np.int32(owner)).astype(np.int32)
        soc = np.zeros((1, N_SRC))
        soc[0, 0] = spec.energy_kwh * spec.initial_soc_pct / 100.0
        self.soc_kwh = np.vstack([self.soc_kwh, soc])
        self.cycles = np.append(self.cycles, 0.0)
        self.in_service.append(None)

    def peak_target_kw(self, month_key: int, contract_kw: np.ndarray) -> np.ndarray:
        """(B,) each battery's peak_shaving target for ``month_key``: the fixed ``peak_target_kw``, or
        ``peak_target_pct`` of the highest billed-hours import before the battery in the previous
        12 billed months (known from the owner's meter readings); in the first month, of the contract demand."""
        past = [p for k, p in self.peak_history.items() if month_key - PEAK_HISTORY_MONTHS <= k < month_key]
        seen = (np.max(past, axis=0) if past else np.asarray(contract_kw, float))[self.owner]
        pct = np.array([b.peak_target_pct for b in self.specs])
        fixed = np.array([np.nan if b.peak_target_kw is None else b.peak_target_kw for b in self.specs])
        return np.where(np.isnan(fixed), seen * pct / 100.0, fixed)

    def kernel_arrays(self, month_key: int, contract_kw: np.ndarray) -> dict[str, np.ndarray]:
        """The ``b_*`` inputs of :class:`BlockInputs` for the month (docs/settlement-kernel.md "Inputs")."""
        s = self.specs
        eta = np.array([split_round_trip_efficiency(b.round_trip_efficiency_pct) for b in s]).reshape(-1, 2)
        return {
            "b_tenant": self.owner,
            "b_strategy": np.array([STRATEGY[b.strategy] for b in s], np.int8),
            "b_energy_kwh": np.array([b.energy_kwh for b in s]),
            "b_power_kw": np.array([b.power_kw for b in s]),
            "b_eta_charge": np.ascontiguousarray(eta[:, 0]),
            "b_eta_discharge": np.ascontiguousarray(eta[:, 1]),
            "b_soc_min_frac": np.array([b.soc_min_pct / 100.0 for b in s]),
            "b_soc_max_frac": np.array([b.soc_max_pct / 100.0 for b in s]),
            "b_soc0_kwh": np.ascontiguousarray(self.soc_kwh),
            "b_cycles0": np.ascontiguousarray(self.cycles),
            "b_fade_per_cycle": np.array([b.fade_pct_per_cycle / 100.0 for b in s]),
            "b_target_kw": self.peak_target_kw(month_key, contract_kw),
        }

    def book_costs(self, ledger, month_key: int) -> None:
        """Each battery's capital cost and O&M for the month, on its own account (consolidated into its
        owner's cost like a tenant-owned plant's, re100sim.simulator.outputs.results), booked as plants'
        are (market.monthly.capital_cost_krw)."""
        for i, b in enumerate(self.specs):
            if self.in_service[i] is None:
                self.in_service[i] = month_key
            item, krw = capital_cost_krw(b.capex_krw, b.hurdle_rate_pct, b.lifetime_years, b.capital_cost,
                                         month_key - self.in_service[i])
            if krw:
                ledger.add(month_key, b.name, CAPITAL, item, b.energy_kwh, "kWh", krw)
            om = round_won(b.om_krw_per_year / 12.0)
            if om:
                ledger.add(month_key, b.name, OM_CONTRACTOR, OM_ITEM, b.energy_kwh, "kWh", om)

    def advance(self, month_key: int, r: BlockResult) -> None:
        """After a one-month block: carry the end state on and remember the owners' pre-battery peaks."""
        if not self.n:
            return
        self.soc_kwh = r.battery_soc_end_kwh_by_source[-1].copy()
        self.cycles = r.battery_cycles_end[-1].copy()
        self.peak_history[month_key] = r.tenant_prebattery_peak_kw[-1].copy()
        for k in [k for k in self.peak_history if k <= month_key - PEAK_HISTORY_MONTHS]:
            del self.peak_history[k]

    def book_demand(self, month_key: int, peak_without_kw: np.ndarray, billing_kw: np.ndarray, contract_kw: np.ndarray,
                    basic_krw_per_kw_month: np.ndarray) -> None:
        """Record what the batteries did to the owners' bills this month: the billed peak without them
        (``peak_without_kw``, all tenants) goes through a ratchet of its own (docs/domain.md#bill-structure),
        so a peak shaved in a ratchet month lowers the billing demand of the months it carries into.
        ``billing_kw`` is the actual billing demand; the saving is the basic charge on the difference
        (before the fund and VAT)."""
        if not self.n:
            return
        without = self.demand_without.billing_kw(month_key, peak_without_kw, contract_kw)
        for t in np.unique(self.owner):
            self.demand_rows.append({
                "month": month_key, "tenant": int(t), "peak_without_kw": float(peak_without_kw[t]),
                "billing_without_kw": float(without[t]), "billing_kw": float(billing_kw[t]),
                "basic_charge_saving_krw": float((without[t] - billing_kw[t]) * basic_krw_per_kw_month[t]),
            })
