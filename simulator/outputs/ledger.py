"""The books: money (invoice lines) and energy (monthly kWh per agent), kept apart.

An invoice line moves KRW from a payer to a payee; it never stands for an
energy trade. Energy is recorded separately from the kernel's aggregates.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from re100sim.simulator.rules.settlement_reference import BlockResult

# Ledger column -> BlockResult field (docs/settlement-kernel.md "Outputs").
TENANT_ENERGY = {c: f"tenant_{c}" for c in ("load_kwh", "grid_kwh", "self_kwh", "ppa_kwh", "pool_kwh",
                                             "battery_discharged_kwh", "battery_grid_charge_kwh", "battery_re_kwh")}
GENERATOR_ENERGY = {"gen_kwh": "gen_kwh"} | {
    c: f"gen_{c}"
    for c in ("self_kwh", "ppa_kwh", "ppa_surplus_export_kwh", "pool_applied_kwh", "export_kwh", "curtailed_kwh",
              "stored_kwh")
}
#: Battery ledger column -> BlockResult field (M, B, 3), summed over the sources.
BATTERY_ENERGY = {c: f"battery_{c}_by_source" for c in ("charged_kwh", "discharged_kwh", "loss_kwh", "soc_start_kwh",
                                                       "soc_end_kwh")}


TEXT = ("payer", "payee", "item", "unit")


def month_label(month_key: int) -> str:
    """``year*12 + month-1`` -> ``"YYYY-MM"``."""
    return f"{month_key // 12:04d}-{month_key % 12 + 1:02d}"


class Ledger:
    def __init__(self, tenants: list[str], batteries: list[str] = ()):
        self.tenants = tenants
        self.batteries = list(batteries)
        self._battery_energy: list[dict] = []
        self._lines: dict[str, list] = defaultdict(list)  # one value per scalar line
        self._blocks: list[dict] = []  # vectorised lines: one dict of arrays per call
        self._seq = 0  # insertion order across both, so invoices keep the order they were booked
        # one dict of columns per month; made a table once at the end (a DataFrame a month costs seconds)
        self._baseline: list[dict] = []
        self._tenant_energy: list[dict] = []
        self._generator_energy: list[dict] = []
        self._hourly: list[pd.DataFrame] = []  # a frame a month: one row per hour of the complex

    # -- money --
    def add(self, month_key: int, payer: str, payee: str, item: str, quantity: float, unit: str, krw: int):
        cols = self._lines
        cols["seq"].append(self._seq)
        self._seq += 1
        cols["month"].append(month_key)
        cols["payer"].append(payer)
        cols["payee"].append(payee)
        cols["item"].append(item)
        cols["quantity"].append(float(quantity))
        cols["unit"].append(unit)
        cols["krw"].append(int(krw))

    def add_many(self, month_key: int, payers: np.ndarray, payee: str, item: str, quantity: np.ndarray,
                 unit: str, krw: np.ndarray) -> None:
        """One invoice line per payer (same payee, item and unit)."""
        n = len(payers)
        if n == 0:
            return
        self._blocks.append({
            "seq": np.arange(self._seq, self._seq + n), "month": np.full(n, month_key), "payer": payers,
            "payee": np.full(n, payee, dtype=object), "item": np.full(n, item, dtype=object),
            "quantity": np.asarray(quantity, float), "unit": np.full(n, unit, dtype=object),
            "krw": np.asarray(krw, np.int64),
        })
        self._seq += n

    def add_baseline_many(self, month_key: int, tenants: np.ndarray, krw: np.ndarray, vat_krw: np.ndarray) -> None:
        """Each tenant's grid-only counterfactual bill for the month (not a payment), with and without its VAT."""
        krw = np.asarray(krw, np.int64)
        self._baseline.append({"month": month_key, "agent": tenants, "baseline_krw": krw,
                               "baseline_ex_vat_krw": krw - np.asarray(vat_krw, np.int64)})

    # -- energy --
    def add_energy(self, month_key: int, r: BlockResult, m: int, green_allocated_kwh: np.ndarray,
                   generators: list[str]) -> None:
        """Record a month's energy; ``green_allocated_kwh``: green-tariff kWh allocated monthly
        (an accounting share of the tenant's grid kWh, not an hourly flow)."""
        self._tenant_energy.append(
            {"month": month_key, "agent": self.tenants}
            | {c: getattr(r, f)[m] for c, f in TENANT_ENERGY.items()}
            | {"green_allocated_kwh": green_allocated_kwh,
               "load_peak_kw": r.tenant_load_peak_kw[m], "grid_peak_kw": r.tenant_grid_peak_kw[m]}
        )
        if self.batteries:
            re = {"charged_re_kwh": r.battery_charged_kwh_by_source[m, :, 1:].sum(axis=-1),
                  "discharged_re_kwh": r.battery_discharged_kwh_by_source[m, :, 1:].sum(axis=-1)}
            self._battery_energy.append(
                {"month": month_key, "agent": list(self.batteries)}
                | {c: getattr(r, f)[m].sum(axis=-1) for c, f in BATTERY_ENERGY.items()} | re
            )
        if generators:
            self._generator_energy.append(
                {"month": month_key, "agent": generators} | {c: getattr(r, f)[m] for c, f in GENERATOR_ENERGY.items()}
            )

    def add_hourly(self, hour_start: pd.DatetimeIndex, load_kwh: np.ndarray, grid_kwh: np.ndarray,
                   gen_kwh: np.ndarray) -> None:
        """The complex's hours: load, grid and plant output (kWh, summed over tenants / plants)."""
        self._hourly.append(pd.DataFrame({
            "hour_start": hour_start, "load_kwh": load_kwh, "grid_kwh": grid_kwh,
            "re_delivered_kwh": load_kwh - grid_kwh, "gen_kwh": gen_kwh,
        }))

    # -- tables --
    def hourly(self) -> pd.DataFrame:
        """``hourly_complex.parquet``: one row per hour, local hour start (Asia/Seoul)."""
        return pd.concat(self._hourly, ignore_index=True)

    def invoices(self) -> pd.DataFrame:
        """All lines in booking order; text columns are categorical (a few names, millions of rows)."""
        cols = ["seq", "month", "payer", "payee", "item", "quantity", "unit", "krw"]
        parts = [{c: np.asarray(self._lines[c], dtype=object if c in TEXT else None) for c in cols}] if self._lines else []
        parts += self._blocks
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object if c in TEXT or c == "month" else float) for c in cols[1:]})
        order = np.argsort(np.concatenate([p["seq"] for p in parts]), kind="stable")
        out = {}
        for c in cols[1:]:
            v = np.concatenate([np.asarray(p[c]) for p in parts])[order]
            if c == "month":
                keys, codes = np.unique(v.astype(np.int64), return_inverse=True)
                v = pd.Categorical.from_codes(codes, [month_label(int(k)) for k in keys])
            elif c in TEXT:
                v = pd.Categorical(v)
            out[c] = v
        df = pd.DataFrame(out)
        return df.astype({"krw": np.int64, "quantity": np.float64})

    def baseline(self) -> pd.DataFrame:
        return _stack(self._baseline, ["month", "agent", "baseline_krw", "baseline_ex_vat_krw"])

    def tenant_energy(self) -> pd.DataFrame:
        return _stack(self._tenant_energy, ["month", "agent", *TENANT_ENERGY, "green_allocated_kwh", "load_peak_kw",
                                            "grid_peak_kw"])

    def battery_energy(self) -> pd.DataFrame:
        """Per battery and month: kWh charged, delivered, lost, state of charge at start and end (and
        the RE part of charged and delivered: own plants' and PPA energy)."""
        return _stack(self._battery_energy, ["month", "agent", *BATTERY_ENERGY, "charged_re_kwh", "discharged_re_kwh"])

    def generator_energy(self) -> pd.DataFrame:
        return _stack(self._generator_energy, ["month", "agent", *GENERATOR_ENERGY])


def _stack(parts: list[dict], cols: list[str]) -> pd.DataFrame:
    """One table from monthly dicts of columns (``month`` a scalar, the others one value per agent)."""
    if not parts:
        return pd.DataFrame(columns=cols)
    n = [len(p["agent"]) for p in parts]
    out = {"month": np.repeat([p["month"] for p in parts], n)}
    for c in cols[1:]:
        out[c] = np.concatenate([np.asarray(p[c], dtype=object if c == "agent" else None) for p in parts])
    return pd.DataFrame(out)
