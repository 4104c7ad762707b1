"""A run's results, evaluated calendar year by calendar year while the run proceeds (issue 12).

The engine closes the books at each calendar year's end (re100sim.simulator.engine: after the year's REC
purchases, sales and compliance assessment); :meth:`RunResults.add` takes what the ledger booked since the
last close (:meth:`Ledger.drain`), writes its rows to the long tables (``invoices``, ``tenant_monthly``,
``hourly_complex``) through a sink and keeps only per-year results: the KPI rows of that year, the monthly
series and running totals for summary.json. Memory then holds one year of books, not the horizon.

Every result needs only the rows of its own month or calendar year (KPIs per (year, agent), series per
month), so the tables are the concatenation of the years' tables, equal to those of one evaluation of the
whole run; only the horizon totals of summary.json are sums of yearly sums (floating-point equal to ~1e-15
relative). What needs the certificates (claims, findings) is added at the end, when retirements are final.

Sinks: :class:`MemorySink` keeps the tables (Monte Carlo runs that keep their tables, tests);
:class:`ParquetSink` appends each year as row groups to ``<stem>.parquet`` in the run's staging folder
(re100sim.simulator.folders), with a schema fixed by the first year written.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from re100sim.simulator.market.monthly import CAPITAL, CAPITAL_ITEMS, KEA, MARKET, NTS, OM_CONTRACTOR, OM_ITEM
from re100sim.simulator.market.round import signed_price_summary, signings_frame
from re100sim.simulator.market.storage import CLOUD_FEE
from re100sim.simulator.outputs.ledger import LedgerChunk
from re100sim.simulator.outputs.reporting import (
    adoption_summary,
    compliance_summary,
    compliance_table,
    counterparty_risk,
    finish_timeseries,
    monthly_flows,
)
from re100sim.simulator.outputs.results import (
    KWH_PER_MWH,
    claims_by_tenant,
    energy_residual_kwh,
    generator_kpis,
    money_residual_krw,
    net_cost_by_month,
    output_table,
    party_kpis,
    sale_limit_findings,
    tenant_monthly,
    tenant_year_kpis,
    with_claims,
)
from re100sim.simulator.outputs.storage import (
    add_storage_kpis,
    add_storage_series,
    battery_table,
    owner_demand_table,
    storage_summary,
)
from re100sim.simulator.rules.certification import RPS_MARKET


@dataclass
class Evaluation:
    """Everything a run reports: summary.json, per-agent yearly KPIs, series and tables."""

    summary: dict
    kpis: dict[str, pd.DataFrame]  # "tenants", "generators", "parties" (empty without tables)
    monthly: pd.DataFrame
    yearly: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # file stem -> frame (invoices, certificates, ...; those a ParquetSink wrote are absent)
    ledger: object  # the run's Ledger (what it still holds: everything unless the run streamed), for derived KPIs


def owned_plants(model) -> dict[str, str]:
    """Plant -> the tenant that owns it (tenant-owned plants behind a tenant's meter, and batteries)."""
    return {g.name: g.spec.host_tenant for g in model.generators if g.spec.owner == "tenant" and g.spec.host_tenant} \
        | {b.name: b.owner for b in model.batteries.specs}


def concat_tables(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Years' tables as one; categorical columns get the sorted union of their categories (as one
    ``pd.Categorical`` of the whole column would)."""
    if len(frames) == 1:
        return frames[0]
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    cats = [c for c in frames[0].columns if isinstance(frames[0][c].dtype, pd.CategoricalDtype)]
    out = pd.concat(frames, ignore_index=True)
    for c in cats:
        out[c] = pd.api.types.union_categoricals([f[c] for f in frames], sort_categories=True)
    return out


class MemorySink:
    """Keeps the years' tables; :meth:`close` gives each as one frame."""

    def __init__(self):
        self.parts: dict[str, list[pd.DataFrame]] = defaultdict(list)

    def write(self, stem: str, frame: pd.DataFrame) -> None:
        self.parts[stem].append(frame)

    def close(self) -> dict[str, pd.DataFrame]:
        return {stem: concat_tables(parts) for stem, parts in self.parts.items()}


class ParquetSink:
    """Appends the years' tables to ``folder/<stem>.parquet``, one row group (or more) per write.

    The arrow schema is fixed by the first non-empty year (``output_table`` as :func:`write_tables` writes
    it) and later years are cast to it. Categorical columns go to a hidden staging file, each year with its own
    dictionary, and at :meth:`close` are re-encoded one row group at a time with the sorted union of their
    categories (the dictionary one ``to_parquet`` of the whole table writes), so a reader gets the same
    categories."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.writers: dict = {}
        self.first: dict[str, pd.DataFrame] = {}  # stem -> first frame (0 rows kept: schema and categories)
        self.categories: dict[str, dict[str, set]] = {}

    def _path(self, stem: str) -> Path:
        return self.folder / (f".{stem}.stream.arrows" if self.categories.get(stem) else f"{stem}.parquet")

    def write(self, stem: str, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        df = output_table(frame)
        if stem not in self.writers and (len(df) or stem not in self.first):
            self.first[stem] = df.iloc[:0]
            self.categories[stem] = {c: set() for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
        if not len(df):
            return
        for c, seen in self.categories[stem].items():
            seen.update(df[c].cat.categories)
        table = pa.Table.from_pandas(df, preserve_index=False, nthreads=1)  # one core: no thread pool
        for c in self.categories[stem]:  # each year its own dictionary, under one index type
            i = table.schema.get_field_index(c)
            table = table.set_column(i, c, table.column(c).cast(pa.dictionary(pa.int32(), pa.string())))
        if stem not in self.writers:
            self.writers[stem] = (_Staging(self._path(stem), table.schema) if self.categories[stem]
                                  else pq.ParquetWriter(self._path(stem), table.schema))
        w = self.writers[stem]
        w.write_table(table.cast(w.schema))

    def close(self) -> dict[str, pd.DataFrame]:
        """Finish every file (a table that never had a row is written empty, as ``to_parquet`` would)."""

        for stem in list(self.first):
            w = self.writers.pop(stem, None)
            if w is None:
                self.first[stem].to_parquet(self.folder / f"{stem}.parquet", index=False)
                continue
            w.close()
            if self.categories[stem]:
                _encode_categories(self._path(stem), self.folder / f"{stem}.parquet", self.first[stem],
                                   {c: sorted(v) for c, v in self.categories[stem].items()})
                self._path(stem).unlink()
        self.first.clear()
        return {}

    def abort(self) -> None:
        """Close open files (the staging folder is then discarded whole)."""
        for w in self.writers.values():
            w.close()
        self.writers.clear()


class _Staging:
    """The hidden staging file of a table with categorical columns: an arrow IPC stream, one record batch (with its
    own dictionaries) per write, read back once by :func:`_encode_categories` (no parquet encoding and compression
    of a file nobody keeps)."""

    def __init__(self, path: Path, schema):
        import pyarrow as pa

        self.schema = schema
        self.file = pa.OSFile(str(path), "wb")
        self.writer = pa.ipc.new_stream(self.file, schema)

    def write_table(self, table) -> None:
        self.writer.write_batch(table.combine_chunks().to_batches()[0])  # one write, one batch: one year

    def close(self) -> None:
        self.writer.close()
        self.file.close()


def _encode_categories(src: Path, dst: Path, empty: pd.DataFrame, categories: dict[str, list]) -> None:
    """Copy the staging stream ``src`` to ``dst`` one write (year) at a time, written as ``write_table`` writes it
    (row groups of at most its default length), its dictionary columns ``categories`` re-encoded with those
    (sorted) values: the schema ``to_parquet`` gives a frame with those categoricals."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(empty.assign(**{
        c: pd.Categorical([], categories=pd.Index(v, dtype=object)) for c, v in categories.items()}), preserve_index=False)
    values = {c: pa.array(v, pa.string()) for c, v in categories.items()}
    with pa.OSFile(str(src)) as f, pq.ParquetWriter(dst, schema) as w:
        for batch in pa.ipc.open_stream(f):
            t = pa.Table.from_batches([batch])
            for c, dictionary in values.items():
                index_type = schema.field(c).type.index_type
                chunks = [pa.DictionaryArray.from_arrays(  # this year's codes -> the sorted union's
                    pc.index_in(a.dictionary, value_set=dictionary).take(a.indices).cast(index_type), dictionary)
                    for a in t.column(c).chunks]
                t = t.set_column(t.schema.get_field_index(c), schema.field(c),
                                 pa.chunked_array(chunks, schema.field(c).type))
            w.write_table(pa.Table.from_arrays(t.columns, schema=schema))


class RunResults:
    """What a run reports, accumulated from its books one calendar year (or more) at a time.

    ``sink``: where the long tables go (None: no tables, the summary and series only, as Monte Carlo runs)."""

    def __init__(self, scenario, model, sink: MemorySink | ParquetSink | None = None):
        self.scenario, self.model, self.sink = scenario, model, sink
        self.tables = sink is not None
        self.parties = [([model.utility.name], "utility"), ([MARKET, KEA, RPS_MARKET], "market"),
                        ([model.broker.name], "broker"), ([NTS], "tax_authority"),
                        ([CAPITAL, OM_CONTRACTOR], "plant_supplier"),
                        ([c.name for c in model.batteries.clouds], "cloud_ess")]
        self.parts: dict[object, list[pd.DataFrame]] = defaultdict(list)
        self.totals: dict[str, float] = defaultdict(int)
        self.sale_limit: list[dict] = []
        self.recent_g_energy: list[pd.DataFrame] = []  # the last two years' (the last 12 months: counterparty risk)

    def close_year(self, model) -> None:
        """The engine's hook at each calendar year's end: evaluate and forget the year's books."""
        self.add(model.ledger.drain())

    def add(self, chunk: LedgerChunk) -> None:
        """Evaluate whole months of books (write their long tables, keep their KPI rows and totals)."""
        if chunk.empty:
            return
        model, sc = self.model, self.scenario
        inv, base, te, ge = chunk.invoices, chunk.baseline, chunk.tenant_energy, chunk.generator_energy
        tenants = model.ledger.tenants
        owned = owned_plants(model)
        accounts = {t: t for t in tenants} | owned
        generators = [g.name for g in model.generators]
        net = net_cost_by_month(inv, accounts)
        if self.tables:
            ef = sc.emission_factor_t_per_mwh
            self.parts["tenants"].append(tenant_year_kpis(inv, base, te, tenants, ef, owned, net))
            self.parts["generators"].append(generator_kpis(inv, ge, generators))
            for k, (parties, kind) in enumerate(self.parties):
                self.parts["parties", k].append(party_kpis(inv, parties, kind))
            self.sink.write("invoices", inv)
            self.sink.write("tenant_monthly", tenant_monthly(te, base, net))
            self.sink.write("hourly_complex", chunk.hourly)
        self.parts["flows"].append(monthly_flows(inv, base, te, accounts, generators, model.utility.name,
                                                 model.broker.name, net))
        # the storage outputs' invoice lines: what batteries (those in service now: tenants adopt some in decision
        # rounds) and cloud ESSs pay and are paid, and the cloud fees
        storage = [s.name for s in model.batteries.specs] + [c.name for c in model.batteries.clouds]
        self.parts["storage_lines"].append(inv[inv["payer"].isin(storage) | inv["payee"].isin(storage)
                                               | (inv["item"] == CLOUD_FEE)])
        self._add_totals(inv, base, te, ge, net, owned)
        self.sale_limit += sale_limit_findings(ge, [g.spec for g in model.generators])
        self.recent_g_energy = [*self.recent_g_energy[-1:], ge]

    def _add_totals(self, inv, base, te, ge, net, owned) -> None:
        """Running totals for summary.json (:meth:`summary`)."""
        t = self.totals
        t["load_kwh"] += te["load_kwh"].sum()
        t["grid_kwh"] += te["grid_kwh"].sum()
        t["self_kwh"] += te["self_kwh"].sum()
        t["re_delivered_kwh"] += (te["self_kwh"] + te["ppa_kwh"] + te["pool_kwh"] + te["battery_re_kwh"]).sum()
        if not ge.empty:
            t["surplus_kwh"] += (ge["export_kwh"] + ge["ppa_surplus_export_kwh"] + ge["curtailed_kwh"]).sum()
        cost = net.sum()
        t["cost_krw"] += int(cost["cost_krw"])
        t["cost_ex_vat_krw"] += int(cost["cost_ex_vat_krw"])
        b = base[["baseline_krw", "baseline_ex_vat_krw"]].sum()
        t["baseline_krw"] += int(b["baseline_krw"])
        t["baseline_ex_vat_krw"] += int(b["baseline_ex_vat_krw"])
        own = inv[inv["payer"].isin(list(owned))]
        t["own_plant_capital_krw"] += int(own.loc[own["item"].isin(CAPITAL_ITEMS), "krw"].sum())
        t["own_plant_om_krw"] += int(own.loc[own["item"] == OM_ITEM, "krw"].sum())
        t["energy_residual_kwh"] += energy_residual_kwh(te, ge)
        t["money_residual_krw"] += money_residual_krw(inv, {MARKET: (), self.model.broker.name: ("broker_fee",)})

    def finish(self, drain: bool = True) -> Evaluation:
        """Evaluate what the ledger still holds (``drain``: and forget it; else keep it for derived KPIs),
        then what needs the whole run: claims, findings, KPI tables and the summary."""
        model, sc = self.model, self.scenario
        self.add(model.ledger.drain() if drain else model.ledger.chunk())
        tenants = model.ledger.tenants
        certs = model.certs.batches_frame()
        findings = model.certs.findings_frame()
        claimed = claims_by_tenant(certs, findings, tenants)
        ef = sc.emission_factor_t_per_mwh
        storage_lines = concat_tables(self.parts["storage_lines"])
        kpis = {}
        if self.tables:
            kpis = {
                "tenants": add_storage_kpis(with_claims(concat_tables(self.parts["tenants"]), claimed, ef), model,
                                            storage_lines),
                "generators": concat_tables(self.parts["generators"]),
                "parties": pd.concat([_party_rows(self.parts["parties", k], parties)
                                      for k, (parties, _) in enumerate(self.parties)], ignore_index=True),
            }
        adoption = model.datacollector.get_model_vars_dataframe()
        monthly, yearly = finish_timeseries(pd.concat(self.parts["flows"]) if len(self.parts["flows"]) > 1
                                            else self.parts["flows"][0],
                                            claims_by_tenant(certs, findings, tenants, ("month_key",)), adoption, ef)
        monthly, yearly = add_storage_series(monthly, yearly, model)
        summary = self.summary(claimed, findings, storage_lines)
        summary["ppa_prices_signed_krw_per_kwh"] = signed_price_summary(model.signings)
        frames = {}
        if self.tables:
            frames = {"compliance": compliance_table(model), "certificates": certs, "certificate_findings": findings,
                      "signings": signings_frame(model.signings)}  # docs/decisions.md#prices
            if model.batteries.n:
                frames |= {"batteries": battery_table(model), "battery_demand": owner_demand_table(model)}
            frames = self.sink.close() | frames
        return Evaluation(summary, kpis, monthly, yearly, frames, model.ledger)

    def summary(self, claimed: pd.DataFrame, findings: pd.DataFrame, storage_lines: pd.DataFrame) -> dict:
        """summary.json from the running totals, the claims, the storage accounts' invoice lines and the
        model's final state."""
        model, scenario, t = self.model, self.scenario, self.totals
        re_claimed = float(claimed["counted_mwh"].sum())
        load = t["load_kwh"] / KWH_PER_MWH
        re_delivered = t["re_delivered_kwh"] / KWH_PER_MWH
        surplus = t["surplus_kwh"] / KWH_PER_MWH
        grid = t["grid_kwh"] / KWH_PER_MWH
        ef = scenario.emission_factor_t_per_mwh
        g_recent = pd.concat(self.recent_g_energy, ignore_index=True) if self.recent_g_energy else pd.DataFrame()
        twice = findings["problem"] == "issued_twice" if len(findings) else None
        return {
            "scenario": scenario.name,
            "start_date": scenario.start_date.isoformat(),
            "years": scenario.years,
            "hours": sum((b - a).days * 24 for a, b in model.blocks),
            "seed": scenario.seed,
            "tenants": len(model.tenants),
            "generators": len(model.generators),
            "energy": {
                "load_mwh": round(load, 6),
                "grid_mwh": round(grid, 6),
                "re_delivered_mwh": round(re_delivered, 6),
                "surplus_mwh": round(surplus, 6),
            },
            # Tenants' net cost (paid less received, own plants' capital cost and O&M included), with and
            # without VAT; ex VAT is the economic figure (factories reclaim input VAT).
            "cost": {
                "tenant_total_krw": int(t["cost_krw"]),
                "baseline_grid_only_krw": int(t["baseline_krw"]),
                "savings_krw": int(t["baseline_krw"] - t["cost_krw"]),
                "tenant_total_ex_vat_krw": int(t["cost_ex_vat_krw"]),
                "baseline_grid_only_ex_vat_krw": int(t["baseline_ex_vat_krw"]),
                "savings_ex_vat_krw": int(t["baseline_ex_vat_krw"] - t["cost_ex_vat_krw"]),
                "own_plant_capital_krw": int(t["own_plant_capital_krw"]),
                "own_plant_om_krw": int(t["own_plant_om_krw"]),
            },
            "re_share_annual": round(re_claimed / load, 9) if load else 0.0,
            "re_claimed_mwh": round(re_claimed, 6),
            "re_share_hourly": round(re_delivered / load, 9) if load else 0.0,
            # market-based: only RE that counts toward GHG reduction is zero-emission (docs/domain.md#procurement-routes)
            "co2_t": round((load - float(claimed["co2_mwh"].sum())) * ef, 6),
            "co2_location_t": round((load - t["self_kwh"] / KWH_PER_MWH) * ef, 6),
            "certificates": {
                "issued_mwh": round(model.certs.issued(), 6),
                "retired_by_tenants_mwh": round(float(claimed["mwh"].sum()), 6),
                "double_counting_findings": int((findings["problem"] == "double_claim").sum()) if len(findings) else 0,
                "over_issuance_findings": int((findings["problem"] == "over_issuance").sum()) if len(findings) else 0,
                "issued_twice_findings": int(twice.sum()) if len(findings) else 0,
                "issued_twice_mwh": round(float(findings.loc[twice, "excess_mwh"].sum()), 6) if len(findings) else 0.0,
            },
            "storage": storage_summary(model, storage_lines),
            "adoption": adoption_summary(model),
            "compliance": compliance_summary(model),
            "broker_counterparty_risk": counterparty_risk(model, g_recent),
            "findings": {"self_use_sale_limit": sorted(self.sale_limit, key=lambda f: (f["plant"], f["year"]))},
            "invariants": {
                "energy_residual_mwh": (t["energy_residual_kwh"]
                                        + energy_residual_kwh(None, None, model.ledger.battery_energy())) / KWH_PER_MWH,
                # max |residual| of the ledger's recount: MWh and certificates issued - held - retired,
                # index drift, batches retired twice or without an owner (all 0 when consistent)
                "certificate_residual": max(abs(v) for v in model.certs.check().values()),
                "money_residual_krw": float(t["money_residual_krw"]),
            },
        }


def _party_rows(frames: list[pd.DataFrame], parties: list[str]) -> pd.DataFrame:
    """One :func:`party_kpis` call's years as one table, party by party and year by year (its order)."""
    df = concat_tables(frames)
    if len(frames) == 1 or not len(df):
        return df
    order = df["agent"].map({p: i for i, p in enumerate(parties)})
    return df.iloc[np.lexsort((df["year"].to_numpy(), order.to_numpy()))].reset_index(drop=True)
