"""The complex's batteries between months: kernel inputs, state carried on, peak targets learned.

The kernel dispatches each battery hour by hour within a month (docs/settlement-kernel.md step 4b);
this fleet carries each battery's state of charge (by source) and cycle count from one month's
block to the next, and gives each ``peak_shaving`` battery the month's target from what its owner
has seen on past bills: no foresight of the month's load (unless the scenario asks for the
perfect-foresight benchmark, :func:`foresight_targets_kw`). A shared cloud ESS enters as one virtual
battery per subscription (docs/domain.md#shared-cloud-ess); its owner carries its cost and invoices the fees.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from re100sim.simulator.market.monthly import CAPITAL, OM_CONTRACTOR, OM_ITEM, capital_cost_krw, vat_line
from re100sim.simulator.rules.billing import BillingDemand, round_won
from re100sim.simulator.rules.finance import crf
from re100sim.simulator.rules.kernel import settle_block
from re100sim.simulator.rules.settlement_reference import N_SRC, STRATEGY, BlockInputs, BlockResult
from re100sim.simulator.scenario.storage import Battery, CloudEss, split_round_trip_efficiency

__all__ = ["BatteryFleet", "PEAK_HISTORY_MONTHS", "CLOUD_FEE", "cloud_fee_krw_per_kwh_month", "foresight_targets_kw"]

#: Invoice item of a cloud-ESS subscription fee (subscriber -> the cloud ESS's account), and its VAT line.
CLOUD_FEE = "cloud_ess_fee"

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
    first_month_key: int | None = None  # in service from the first settled month
    clouds: list[CloudEss] = field(default_factory=list)
    # (T,) tenants whose billed peak ignores their batteries: subscribers of a cloud ESS the meter does not net
    demand_unnetted: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    foresight: bool = False  # perfect-foresight benchmark: peak_shaving targets from the month's actual load
    in_service: list[int | None] = field(default_factory=list)  # (B,) month key each battery entered service

    def __post_init__(self):
        self.in_service = self.in_service or [None] * len(self.specs)

    @classmethod
    def build(cls, specs: list[Battery], tenant_names: list[str], clouds: list[CloudEss] = (),
              foresight: bool = False) -> "BatteryFleet":
        """The fleet at the start: each battery (own, then each cloud ESS's subscriptions as virtual batteries)
        at ``initial_soc_pct`` of nameplate, counted as grid energy."""
        specs = list(specs) + [v for c in clouds for v in c.virtual_batteries()]
        index = {n: i for i, n in enumerate(tenant_names)}
        soc = np.zeros((len(specs), N_SRC))
        soc[:, 0] = [b.energy_kwh * b.initial_soc_pct / 100.0 for b in specs]
        unnetted = np.zeros(len(tenant_names), bool)
        unnetted[[index[s.tenant] for c in clouds if not c.bill_sees_peak for s in c.subscriptions]] = True
        return cls(specs, np.array([index[b.owner] for b in specs], np.int32), soc, np.zeros(len(specs)),
                   demand_without=BillingDemand(len(tenant_names)), clouds=list(clouds), demand_unnetted=unnetted,
                   foresight=foresight)

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

    def kernel_arrays(self, month_key: int, contract_kw: np.ndarray, floor_kw: np.ndarray) -> dict[str, np.ndarray]:
        """The ``b_*`` inputs of :class:`BlockInputs` for the month (docs/settlement-kernel.md "Inputs"). The target
        is the peak_shaving target, and for ``re_matching`` the peak under which the owner's billed peak raises no
        billing demand (``floor_kw``, (T,), BillingDemand.free_peak_kw: known at the month start): PPA surplus may
        charge in billed hours up to it or the month's load peak so far."""
        s = self.specs
        eta = np.array([split_round_trip_efficiency(b.round_trip_efficiency_pct) for b in s]).reshape(-1, 2)
        re_matching = np.array([b.strategy == "re_matching" for b in s])
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
            "b_target_kw": np.where(re_matching, np.asarray(floor_kw, float)[self.owner],
                                    self.peak_target_kw(month_key, contract_kw)),
        }

    def month_inputs(self, inputs: BlockInputs, month_key: int, contract_kw: np.ndarray,
                     floor_kw: np.ndarray) -> BlockInputs:
        """The month's kernel inputs with the batteries (:meth:`kernel_arrays`); in the perfect-foresight
        benchmark, with the peak_shaving targets :func:`foresight_targets_kw` finds on the month's actual flows."""
        inputs = dataclasses.replace(inputs, **self.kernel_arrays(month_key, contract_kw, floor_kw))
        if self.foresight:
            inputs = dataclasses.replace(inputs, b_target_kw=foresight_targets_kw(inputs))
        return inputs

    def book_costs(self, ledger, month_key: int) -> None:
        """Each battery's capital cost and O&M for the month, on its own account (consolidated into its
        owner's cost like a tenant-owned plant's, re100sim.simulator.outputs.results), booked as plants'
        are (market.monthly.capital_cost_krw), from the month each entered service (a battery a tenant chose
        during the run: from its first month); a cloud ESS's on the cloud ESS's account (its owner's books; its
        virtual batteries cost nothing of their own)."""
        if self.first_month_key is None:
            self.first_month_key = month_key
        for i, b in enumerate(self.specs):
            if self.in_service[i] is None:
                self.in_service[i] = month_key
            self._book_cost(ledger, month_key, b, self.in_service[i])
        for c in self.clouds:
            self._book_cost(ledger, month_key, c, self.first_month_key)

    def _book_cost(self, ledger, month_key: int, b: Battery | CloudEss, start_month_key: int) -> None:
        item, krw = capital_cost_krw(b.capex_krw, b.hurdle_rate_pct, b.lifetime_years, b.capital_cost,
                                     month_key - start_month_key)
        if krw:
            ledger.add(month_key, b.name, CAPITAL, item, b.energy_kwh, "kWh", krw)
        om = round_won(b.om_krw_per_year / 12.0)
        if om:
            ledger.add(month_key, b.name, OM_CONTRACTOR, OM_ITEM, b.energy_kwh, "kWh", om)

    def book_fees(self, ledger, month_key: int, vat_rate: float, vat_due: dict[str, int]) -> None:
        """Each cloud-ESS subscriber pays the month's fee (subscribed kWh x KRW per kWh-month) to the cloud ESS's
        account, with VAT on its own line (a taxable lease of capacity; the cloud ESS remits it, ``vat_due``)."""
        for c in self.clouds:
            for sub in c.subscriptions:
                krw = round_won(sub.energy_kwh * cloud_fee_krw_per_kwh_month(c, sub))
                v = vat_line(krw, vat_rate)
                ledger.add(month_key, sub.tenant, c.name, CLOUD_FEE, sub.energy_kwh, "kWh", krw)
                if v:
                    ledger.add(month_key, sub.tenant, c.name, f"{CLOUD_FEE}_vat", krw, "KRW", v)
                    vat_due[c.name] = vat_due.get(c.name, 0) + v

    def advance(self, month_key: int, r: BlockResult) -> None:
        """After a one-month block: carry the end state on and remember the owners' pre-battery peaks."""
        if not self.n:
            return
        # the proportional split of a discharge over the sources can leave a drained source at -1e-323 kWh
        # (rounding): carried on as 0, so the next block's inputs stay valid
        self.soc_kwh = np.maximum(r.battery_soc_end_kwh_by_source[-1], 0.0)
        self.cycles = r.battery_cycles_end[-1].copy()
        self.peak_history[month_key] = r.tenant_prebattery_peak_kw[-1].copy()
        for k in [k for k in self.peak_history if k <= month_key - PEAK_HISTORY_MONTHS]:
            del self.peak_history[k]

    def book_demand(self, month_key: int, peak_kw: np.ndarray, peak_without_kw: np.ndarray, billing_kw: np.ndarray,
                    contract_kw: np.ndarray, basic_krw_per_kw_month: np.ndarray) -> None:
        """Record what the batteries did to the owners' bills this month: the billed peak without them
        (``peak_without_kw``, all tenants) goes through a ratchet of its own (docs/domain.md#bill-structure),
        so a peak shaved in a ratchet month lowers the billing demand of the months it carries into.
        ``peak_kw`` is the billed peak with them and ``billing_kw`` the actual billing demand; the saving is the
        basic charge on the difference (before the fund and VAT)."""
        if not self.n:
            return
        without = self.demand_without.billing_kw(month_key, peak_without_kw, contract_kw)
        for t in np.unique(self.owner):
            self.demand_rows.append({
                "month": month_key, "tenant": int(t), "peak_kw": float(peak_kw[t]),
                "peak_without_kw": float(peak_without_kw[t]),
                "billing_without_kw": float(without[t]), "billing_kw": float(billing_kw[t]),
                "basic_charge_saving_krw": float((without[t] - billing_kw[t]) * basic_krw_per_kw_month[t]),
            })


def cloud_fee_krw_per_kwh_month(cloud: CloudEss, sub) -> float:
    """The subscription's fee, KRW per subscribed kWh a month: as given, or by default the owner's cost recovery,
    the whole ESS's yearly capital cost (capex x capital recovery factor at the hurdle rate over the lifetime) plus
    O&M per nameplate kWh and month, so a fully subscribed ESS earns its owner's required return
    (docs/domain.md#shared-cloud-ess)."""
    if sub.fee_krw_per_kwh_month is not None:
        return sub.fee_krw_per_kwh_month
    yearly = cloud.capex_krw * float(crf(cloud.hurdle_rate_pct, cloud.lifetime_years)) + cloud.om_krw_per_year
    return yearly / cloud.energy_kwh / 12.0


def foresight_targets_kw(inputs: BlockInputs, iterations: int = 50) -> np.ndarray:
    """Perfect-foresight benchmark (docs/decisions.md#storage-dispatch): for each tenant with ``peak_shaving``
    batteries, the lowest target its batteries can hold through the block, found by bisection with the kernel
    on the block's actual import before batteries (one tenant, its peak_shaving batteries, their state at the
    block start). Returns ``inputs.b_target_kw`` with those batteries' targets replaced. It sees the month's
    load and output in advance: a bound on what the rule could save, never a realistic dispatch."""
    battery = [f.name for f in dataclasses.fields(BlockInputs) if f.name.startswith("b_")]
    bare = settle_block(dataclasses.replace(inputs, **{f: BlockInputs.__dataclass_fields__[f].default_factory()
                                                       for f in battery}), hourly=True)
    target = inputs.b_target_kw.copy()
    shave = inputs.b_strategy == STRATEGY["peak_shaving"]
    for t in np.unique(inputs.b_tenant[shave]):
        mine = np.flatnonzero(shave & (inputs.b_tenant == t))
        k = [inputs.tenant_tariff[t]]
        trial = BlockInputs.build(
            load_kwh=bare.hourly_grid_kwh[:, [t]], month_of_hour=inputs.month_of_hour,
            tariff_price=inputs.tariff_price[:, k], tariff_tou=inputs.tariff_tou[:, k], smp=inputs.smp,
            tenant_tariff=[0], **{f: getattr(inputs, f)[mine] for f in battery} | {"b_tenant": np.zeros(len(mine))})

        def peak_kw(level: float) -> float:
            level_kw = np.full(len(mine), level)
            return float(settle_block(dataclasses.replace(trial, b_target_kw=level_kw)).tenant_grid_peak_kw.max())

        lo, hi = 0.0, float(bare.tenant_grid_peak_kw[:, t].max())  # held without discharging
        for _ in range(iterations):  # the lowest level the batteries hold (feasibility is monotone in it)
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if peak_kw(mid) <= mid + 1e-9 else (mid, hi)
        target[mine] = hi
    return target
