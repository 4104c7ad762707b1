"""The books: money (invoice lines) and energy (monthly kWh per agent), kept apart.

An invoice line moves KRW from a payer to a payee; it never stands for an
energy trade. Energy is recorded separately from the kernel's aggregates.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from simulator.settlement_reference import BlockResult

# Ledger column -> BlockResult field (docs/settlement-kernel.md "Outputs").
TENANT_ENERGY = {c: f"tenant_{c}" for c in ("load_kwh", "grid_kwh", "self_kwh", "ppa_kwh", "pool_kwh")}
GENERATOR_ENERGY = {"gen_kwh": "gen_kwh"} | {
    c: f"gen_{c}"
    for c in ("self_kwh", "ppa_kwh", "ppa_surplus_export_kwh", "pool_applied_kwh", "export_kwh", "curtailed_kwh")
}


def month_label(month_key: int) -> str:
    """``year*12 + month-1`` -> ``"YYYY-MM"``."""
    return f"{month_key // 12:04d}-{month_key % 12 + 1:02d}"


class Ledger:
    def __init__(self, tenants: list[str]):
        self.tenants = tenants
        self._lines: dict[str, list] = defaultdict(list)
        self._baseline: dict[str, list] = defaultdict(list)
        self._tenant_energy: list[pd.DataFrame] = []
        self._generator_energy: list[pd.DataFrame] = []

    # -- money --
    def add(self, month_key: int, payer: str, payee: str, item: str, quantity: float, unit: str, krw: int):
        cols = self._lines
        cols["month"].append(month_key)
        cols["payer"].append(payer)
        cols["payee"].append(payee)
        cols["item"].append(item)
        cols["quantity"].append(float(quantity))
        cols["unit"].append(unit)
        cols["krw"].append(int(krw))

    def add_lines(self, month_key: int, payer: str, payee: str, lines) -> None:
        for line in lines:
            self.add(month_key, payer, payee, line.item, line.quantity, line.unit, line.krw)

    def add_baseline(self, month_key: int, tenant: str, krw: int) -> None:
        """The tenant's grid-only counterfactual bill for the month (not a payment)."""
        self._baseline["month"].append(month_key)
        self._baseline["agent"].append(tenant)
        self._baseline["baseline_krw"].append(int(krw))

    # -- energy --
    def add_energy(self, month_key: int, r: BlockResult, m: int, green_allocated_kwh: np.ndarray,
                   generators: list[str]) -> None:
        """Record a month's energy; ``green_allocated_kwh``: green-tariff kWh allocated monthly
        (an accounting share of the tenant's grid kWh, not an hourly flow)."""
        self._tenant_energy.append(
            pd.DataFrame(
                {"month": month_key, "agent": self.tenants}
                | {c: getattr(r, f)[m] for c, f in TENANT_ENERGY.items()}
                | {"green_allocated_kwh": green_allocated_kwh}
            )
        )
        if generators:
            self._generator_energy.append(
                pd.DataFrame(
                    {"month": month_key, "agent": generators}
                    | {c: getattr(r, f)[m] for c, f in GENERATOR_ENERGY.items()}
                )
            )

    # -- tables --
    def invoices(self) -> pd.DataFrame:
        df = pd.DataFrame(self._lines, columns=["month", "payer", "payee", "item", "quantity", "unit", "krw"])
        df["month"] = df["month"].map(month_label)
        return df.astype({"krw": np.int64, "quantity": np.float64})

    def baseline(self) -> pd.DataFrame:
        return pd.DataFrame(self._baseline, columns=["month", "agent", "baseline_krw"])

    def tenant_energy(self) -> pd.DataFrame:
        return pd.concat(self._tenant_energy, ignore_index=True)

    def generator_energy(self) -> pd.DataFrame:
        cols = ["month", "agent", *GENERATOR_ENERGY]
        return pd.concat(self._generator_energy, ignore_index=True) if self._generator_energy else pd.DataFrame(columns=cols)
