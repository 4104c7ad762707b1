"""The books: money (invoice lines) and energy (monthly kWh per agent), kept apart.

An invoice line moves KRW from a payer to a payee; it never stands for an
energy trade. Energy is recorded separately from the kernel's aggregates.
"""
from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class LedgerChunk:
    """The books of some whole months (one calendar year when a run streams its outputs): the tables
    :class:`Ledger` gives, for the months booked since the last :meth:`Ledger.drain`."""

    invoices: pd.DataFrame
    baseline: pd.DataFrame
    tenant_energy: pd.DataFrame
    generator_energy: pd.DataFrame
    hourly: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.invoices.empty and self.tenant_energy.empty


class Ledger:
    def __init__(self, tenants: list[str], batteries: list[str] = ()):
        self.tenants = tenants
        self.batteries = list(batteries)
        self._battery_energy: list[dict] = []
        self._lines: list[tuple] = []  # scalar lines, one tuple each (one append per line: ~10^4 a year)
        self._blocks: list[dict] = []  # vectorised lines: one dict of arrays per call
        self._seq = 0  # insertion order across both, so invoices keep the order they were booked
        # one dict of columns per month; made a table once at the end (a DataFrame a month costs seconds)
        self._baseline: list[dict] = []
        self._tenant_energy: list[dict] = []
        self._generator_energy: list[dict] = []
        self._hourly: list[tuple] = []  # a month's hours of the complex: (hour_start, load_kwh, grid_kwh, gen_kwh)

    # -- money --
    def add(self, month_key: int, payer: str, payee: str, item: str, quantity: float, unit: str, krw: int):
        self._lines.append((self._seq, month_key, payer, payee, item, float(quantity), unit, int(krw)))
        self._seq += 1

    def add_many(self, month_key: int, payers: np.ndarray, payee: str, item: str, quantity: np.ndarray,
                 unit: str, krw: np.ndarray) -> None:
        """One invoice line per payer (same payee, item and unit)."""
        n = len(payers)
        if n == 0:
            return
        self._blocks.append({
            "seq": np.arange(self._seq, self._seq + n), "month": np.full(n, month_key), "payer": payers,
            "payee": payee, "item": item,  # one text for the block's lines
            "quantity": np.asarray(quantity, float), "unit": unit,
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
        self._hourly.append((hour_start, load_kwh, grid_kwh, gen_kwh))  # one table at the close, not one a month

    # -- tables --
    def chunk(self) -> LedgerChunk:
        """Everything booked since the last :meth:`drain` (or the start), as tables."""
        return LedgerChunk(self.invoices(), self.baseline(), self.tenant_energy(), self.generator_energy(),
                           self.hourly())

    def drain(self) -> LedgerChunk:
        """:meth:`chunk`, then forget those months: a run that streams its outputs holds one year of books.
        The battery energy is kept whole (a few rows per battery-month; the storage outputs read it at the end)."""
        out = self.chunk()
        self._lines, self._blocks = [], []
        self._baseline, self._tenant_energy, self._generator_energy, self._hourly = [], [], [], []
        return out

    def hourly(self) -> pd.DataFrame:
        """``hourly_complex.parquet``: one row per hour, local hour start (Asia/Seoul)."""
        if not self._hourly:
            return pd.DataFrame(columns=["hour_start", "load_kwh", "grid_kwh", "re_delivered_kwh", "gen_kwh"])
        hours, load, grid, gen = zip(*self._hourly)
        load, grid = np.concatenate(load), np.concatenate(grid)
        return pd.DataFrame({"hour_start": hours[0].append(list(hours[1:])), "load_kwh": load, "grid_kwh": grid,
                             "re_delivered_kwh": load - grid, "gen_kwh": np.concatenate(gen)})

    def invoices(self) -> pd.DataFrame:
        """All lines in booking order; text columns are categorical (a few names, millions of rows)."""
        cols = ["seq", "month", "payer", "payee", "item", "quantity", "unit", "krw"]
        lines = zip(*self._lines)
        parts = [{c: np.asarray(v, dtype=object if c in TEXT else None) for c, v in zip(cols, lines)}] if self._lines else []
        parts += self._blocks
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object if c in TEXT or c == "month" else float) for c in cols[1:]})
        order = np.argsort(np.concatenate([p["seq"] for p in parts]), kind="stable")
        out = {}
        for c in cols[1:]:
            if c in TEXT:
                out[c] = text_column([p[c] for p in parts], [len(p["seq"]) for p in parts], order)
                continue
            v = np.concatenate([np.asarray(p[c]) for p in parts])[order]
            if c == "month":
                keys, codes = np.unique(v.astype(np.int64), return_inverse=True)
                v = pd.Categorical.from_codes(codes, [month_label(int(k)) for k in keys])
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


def text_column(parts: list, sizes: list[int], order: np.ndarray) -> pd.Categorical:
    """One text column of the invoices from its parts (each a text for all its ``size`` lines, or an array of
    texts), rows taken in ``order``: ``pd.Categorical`` (categories sorted) of the texts, coded part by part (a
    block's text once) and factorised on the objects (``pd.Categorical`` would copy them into arrow strings)."""
    arrays = [p for p in parts if not isinstance(p, str)]
    codes, texts = pd.factorize(np.concatenate(arrays)) if arrays else (np.zeros(0, np.int64), np.zeros(0, object))
    texts = list(texts)
    known = {t: i for i, t in enumerate(texts)}
    out, start = [], 0
    for p, n in zip(parts, sizes):
        if isinstance(p, str):
            out.append(np.full(n, known.setdefault(p, len(known)), dtype=np.int64))
        else:
            out.append(codes[start:start + n])
            start += n
    texts += list(known)[len(texts):]
    sort = np.argsort(np.array(texts, dtype=object), kind="stable")
    rank = np.empty_like(sort)
    rank[sort] = np.arange(len(sort))
    return pd.Categorical.from_codes(rank[np.concatenate(out)[order]],
                                     categories=pd.Index(np.array(texts, dtype=object)[sort], dtype=str))


def _stack(parts: list[dict], cols: list[str]) -> pd.DataFrame:
    """One table from monthly dicts of columns (``month`` a scalar, the others one value per agent)."""
    if not parts:
        return pd.DataFrame(columns=cols)
    n = [len(p["agent"]) for p in parts]
    out = {"month": np.repeat([p["month"] for p in parts], n)}
    for c in cols[1:]:
        out[c] = np.concatenate([np.asarray(p[c], dtype=object if c == "agent" else None) for p in parts])
    return pd.DataFrame(out)
