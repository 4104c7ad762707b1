"""Run outputs: KPIs, summary, manifest, and the results folder.

A results folder is written into a temporary sibling and renamed into place
only when complete, so a failed run leaves nothing half-written and an
existing run is never overwritten.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from re100sim.simulator.market.monthly import CAPITAL_ITEMS, OM_ITEM, VAT_REMITTANCE
from re100sim.simulator.outputs.ledger import month_label

KWH_PER_MWH = 1000.0
# Residuals below these are floating-point noise (reported, never hidden).
ENERGY_TOLERANCE_MWH = 1e-6
MONEY_TOLERANCE_KRW = 0.5


def text_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column (categorical, as the ledger's invoice columns, or not) as integer codes and the text of each
    code: the vectorised form of row-by-row string compares (a year of invoices is ~10^5 lines a 1,000 tenants)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        codes, names = pd.factorize(column.to_numpy(dtype=object))
        return codes.astype(np.int64), np.asarray(names, dtype=object)
    return column.cat.codes.to_numpy(np.int64), column.cat.categories.astype(str).to_numpy(dtype=object)


def month_keys(month: pd.Series) -> np.ndarray:
    """``YYYY-MM`` labels -> ``year*12 + month-1`` (:func:`re100sim.simulator.outputs.ledger.month_label`'s inverse)."""
    codes, labels = text_codes(month)
    keys = np.array([int(m[:4]) * 12 + int(m[5:]) - 1 for m in labels], dtype=np.int64)
    return keys[codes]


def code_flags(labels: np.ndarray, wanted) -> np.ndarray:
    """Bool per code: its text is in ``wanted`` (a set, or a predicate on the text)."""
    test = wanted if callable(wanted) else wanted.__contains__
    return np.array([bool(test(x)) for x in labels], dtype=bool)


def sum_by(keys: np.ndarray, krw: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact integer sums of ``krw`` per key in ``range(n)``, and which keys have any line."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, keys, krw)
    return out, np.bincount(keys, minlength=n) > 0


def sums_on(index: pd.MultiIndex, year: np.ndarray, agent: tuple[np.ndarray, np.ndarray], krw: np.ndarray) -> np.ndarray:
    """Exact sums of ``krw`` per (year, agent) at each (year, agent) of ``index`` (0 where no line): a groupby
    sum reindexed on ``index``. ``agent``: (codes, names) of each line's agent (:func:`text_codes`)."""
    if not len(index):
        return np.zeros(0, np.int64)
    years = index.get_level_values(0).to_numpy(np.int64)
    agents = pd.Index(index.get_level_values(1).unique())
    codes, names = agent
    a = agents.get_indexer(pd.Index(names, dtype=object))[codes] if len(names) else np.zeros(len(codes), np.int64)
    y0, ny, na = int(years.min()), int(years.max() - years.min()) + 1, len(agents)
    lines = (a >= 0) & (year >= y0) & (year < y0 + ny)
    sums = sum_by((year[lines] - y0) * na + a[lines], krw[lines], ny * na)[0]
    return sums[(years - y0) * na + agents.get_indexer(index.get_level_values(1))]


def sums_on_months(keys: np.ndarray, month: np.ndarray, krw: np.ndarray) -> np.ndarray:
    """Exact sums of ``krw`` per month key (``month``) at each of ``keys`` (0 where no line)."""
    if not len(keys):
        return np.zeros(0, np.int64)
    k0, n = int(keys.min()), int(keys.max() - keys.min()) + 1
    lines = (month >= k0) & (month < k0 + n)
    return sum_by(month[lines] - k0, krw[lines], n)[0][keys - k0]


def is_vat_item(item) -> bool:
    """VAT lines (``vat`` on KEPCO bills, ``<item>_vat`` on PPA, network and broker invoices) and remittances."""
    item = str(item)
    return item == "vat" or item.endswith("_vat") or item == VAT_REMITTANCE


def vat_lines(invoices: pd.DataFrame) -> np.ndarray:
    """Bool per invoice line: a VAT line (:func:`is_vat_item`)."""
    codes, items = text_codes(invoices["item"])
    return code_flags(items, is_vat_item)[codes]


def vat_mask(invoices: pd.DataFrame) -> pd.Series:
    return pd.Series(vat_lines(invoices), index=invoices.index, name="item")


def net_cost_by_month(invoices: pd.DataFrame, accounts: dict[str, str]) -> pd.DataFrame:
    """Per (month, owner): what the owner paid less what it received, over its own account and those of the
    plants it owns (``accounts``: party -> owner), with VAT (``cost_krw``) and without (``cost_ex_vat_krw``).
    Rows sorted by month and owner; only (month, owner) pairs with a line."""
    months, labels = text_codes(invoices["month"])
    order = np.argsort(labels, kind="stable")  # months by label, owners by name: the sorted groups
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    owners = np.array(sorted(set(accounts.values())), dtype=object)
    owner_no = {o: i for i, o in enumerate(owners)}
    krw = invoices["krw"].to_numpy(np.int64)
    vat = vat_lines(invoices)
    n = len(labels) * len(owners)
    cost, ex_vat, seen = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool)
    for col, sign in (("payer", 1), ("payee", -1)):
        codes, names = text_codes(invoices[col])
        owner = np.array([owner_no.get(accounts.get(x), -1) for x in names], dtype=np.int64)[codes]
        mine = owner >= 0
        key = rank[months[mine]] * len(owners) + owner[mine]
        signed = sign * krw[mine]
        c, any_line = sum_by(key, signed, n)
        cost += c
        ex_vat += sum_by(key, np.where(vat[mine], 0, signed), n)[0]
        seen |= any_line
    key = np.flatnonzero(seen)
    index = pd.MultiIndex.from_arrays([pd.Index(labels[order][key // len(owners)], dtype=str),
                                       pd.Index(owners[key % len(owners)], dtype=str)], names=["month", "agent"])
    return pd.DataFrame({"cost_krw": cost[key], "cost_ex_vat_krw": ex_vat[key]}, index=index)


def tenant_kpis(invoices: pd.DataFrame, baseline: pd.DataFrame, energy: pd.DataFrame, tenants: list[str],
                emission_factor_t_per_mwh: float, claimed: pd.DataFrame, owned_plants: dict[str, str]) -> pd.DataFrame:
    """Per tenant and calendar year: :func:`tenant_year_kpis` completed by :func:`with_claims`."""
    return with_claims(tenant_year_kpis(invoices, baseline, energy, tenants, emission_factor_t_per_mwh, owned_plants),
                       claimed, emission_factor_t_per_mwh)


def tenant_year_kpis(invoices: pd.DataFrame, baseline: pd.DataFrame, energy: pd.DataFrame, tenants: list[str],
                     emission_factor_t_per_mwh: float, owned_plants: dict[str, str],
                     net_cost: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per tenant and calendar year: energy, cost vs grid-only baseline, RE shares, CO2.

    - cost: what the tenant paid less what it received, its own plants' accounts included
      (``owned_plants``: plant -> owning tenant), so a plant's capital cost and O&M and any SMP or REC
      revenue count; ``cost_krw`` with VAT, ``cost_ex_vat_krw`` without. Savings = baseline - cost; the
      ex-VAT figure is the economic one (factories reclaim input VAT).
    - ``re_share_hourly`` = sum over hours of min(load, RE delivered) / load (the 24/7 measure);
      RE delivered (self + PPA + pool applied) never exceeds the hour's load, so it is their sum.
    - ``re_share_annual`` = RE claimed (certificates retired, MWh, less MWh claimed twice or whose
      certificate was issued twice) / use; ``claimed`` indexed by (year, agent) with columns ``mwh``
      (all retirements), ``counted_mwh`` (after the exclusions) and ``co2_mwh`` (what counts for GHG).
    - CO2: location-based = (load - self-generation) x grid factor; market-based = (load - RE that counts
      toward GHG reduction) x grid factor (docs/domain.md#emissions, docs/domain.md#procurement-routes).

    ``net_cost``: :func:`net_cost_by_month` of these invoices for the tenants and their plants, when the
    caller has it. The claim columns (``re_claimed_mwh``, ``re_claimed_twice_mwh``, ``re_share_annual``, ``co2_market_t``)
    are left at 0 for :func:`with_claims`: certificates are retired after the energy is settled, so a run that
    streams its outputs knows them only at its end. Each (year, tenant) row needs only that year's rows, so
    the table of a whole run is the concatenation of its calendar years' tables.
    """
    e = energy.assign(year=energy["month"] // 12)
    g = e.groupby(["year", "agent"], sort=True)[["load_kwh", "grid_kwh", "self_kwh", "ppa_kwh", "pool_kwh",
                                                 "battery_re_kwh"]].sum()
    accounts = {t: t for t in tenants} | owned_plants
    net = net_cost_by_month(invoices, accounts) if net_cost is None else net_cost
    net_year = month_keys(pd.Series(net.index.get_level_values("month"))) // 12
    net_agent = text_codes(pd.Series(net.index.get_level_values("agent")))
    base_agent = text_codes(baseline["agent"])
    base_year = baseline["month"].to_numpy(np.int64) // 12
    year = month_keys(invoices["month"]) // 12
    payer, payers = text_codes(invoices["payer"])
    owner = (np.array([owned_plants.get(p, "") for p in payers], dtype=object), payer)  # "" : not a plant's payment
    item, items = text_codes(invoices["item"])
    krw = invoices["krw"].to_numpy(np.int64)
    out = {"load_mwh": g["load_kwh"].to_numpy() / KWH_PER_MWH, "grid_mwh": g["grid_kwh"].to_numpy() / KWH_PER_MWH,
           "re_delivered_mwh": (g["self_kwh"] + g["ppa_kwh"] + g["pool_kwh"] + g["battery_re_kwh"]).to_numpy()
           / KWH_PER_MWH,
           "re_claimed_mwh": np.zeros(len(g)), "re_claimed_twice_mwh": np.zeros(len(g))}
    for c in ("cost_krw", "cost_ex_vat_krw"):
        out[c] = sums_on(g.index, net_year, net_agent, net[c].to_numpy(np.int64))
    for c in ("baseline_krw", "baseline_ex_vat_krw"):
        out[c] = sums_on(g.index, base_year, base_agent, baseline[c].to_numpy(np.int64))
    out["savings_krw"] = out["baseline_krw"] - out["cost_krw"]
    out["savings_ex_vat_krw"] = out["baseline_ex_vat_krw"] - out["cost_ex_vat_krw"]
    for col, paid in (("own_plant_capital_krw", CAPITAL_ITEMS), ("own_plant_om_krw", (OM_ITEM,))):
        lines = code_flags(items, set(paid))[item]
        out[col] = sums_on(g.index, year[lines], (owner[1][lines], owner[0]), krw[lines])
    out["re_share_annual"] = np.zeros(len(g))
    out["re_share_hourly"] = _ratio(pd.Series(out["re_delivered_mwh"]), pd.Series(out["load_mwh"])).to_numpy()
    out["co2_location_t"] = (out["load_mwh"] - g["self_kwh"].to_numpy() / KWH_PER_MWH) * emission_factor_t_per_mwh
    out["co2_market_t"] = np.zeros(len(g))
    return pd.DataFrame(out, index=g.index).reset_index()  # one frame of the columns, not one insert each


def with_claims(kpis: pd.DataFrame, claimed: pd.DataFrame, emission_factor_t_per_mwh: float) -> pd.DataFrame:
    """:func:`tenant_year_kpis` rows with their claim columns from ``claimed`` (:func:`claims_by_tenant`):
    RE claimed (counted, and claimed twice), ``re_share_annual`` = counted / load and the market-based CO2."""
    out = kpis.set_index(["year", "agent"])
    cl = claimed.reindex(out.index, fill_value=0.0).astype(float)
    out["re_claimed_mwh"] = cl["counted_mwh"]
    out["re_claimed_twice_mwh"] = cl["mwh"] - cl["counted_mwh"]
    out["re_share_annual"] = _ratio(out["re_claimed_mwh"], out["load_mwh"])
    out["co2_market_t"] = (out["load_mwh"] - cl["co2_mwh"]) * emission_factor_t_per_mwh
    return out.reset_index()


# Certificate kinds whose retirement counts toward GHG reduction (market-based CO2): RECs (bought, bundled
# with a PPA or from an own plant; a REC purchase "also counts as GHG reduction", docs/domain.md#procurement-routes)
# and green-tariff certificates, plant-specific like a REC [E: the green tariff is a proposal]. Green-premium
# certificates count toward an RE claim but not toward GHG reduction (docs/domain.md#procurement-routes).
GHG_KINDS = ("rec", "green")
# Findings whose excess MWh are not counted in RE shares: claimed twice, or claimed while the REC was sold.
EXCLUDING_FINDINGS = {"double_claim": None, "issued_twice": "green"}


def claims_by_tenant(certs: pd.DataFrame, findings: pd.DataFrame, tenants: list[str],
                     by: tuple[str, ...] = ("year", "agent")) -> pd.DataFrame:
    """Per (year, tenant) (or per ``by``: e.g. ``("month_key",)``, the certificates' month): MWh retired
    for tenants' claims (``mwh``), the part that counts (``counted_mwh``: less its pro-rata share of the
    excess of each ``double_claim`` and ``issued_twice`` finding on the same source-month) and the part that
    counts toward GHG reduction (``co2_mwh``: counted, of :data:`GHG_KINDS`)."""
    ret = certs[(certs["status"] == "retired") & certs["claimant"].isin(tenants)]
    ret = ret.assign(year=ret["retired_year"].astype(int), agent=ret["claimant"], excluded=0.0)
    if len(findings):
        for problem, kind in EXCLUDING_FINDINGS.items():
            for f in findings[findings["problem"] == problem].itertuples():
                on = (ret["source"] == f.source) & (ret["month_key"] == f.month_key)
                if kind is not None:
                    on &= ret["kind"] == kind
                total = float(ret.loc[on, "mwh"].sum())
                if total > 0:
                    ret.loc[on, "excluded"] += ret.loc[on, "mwh"] * min(1.0, f.excess_mwh / total)
    ret = ret.assign(counted_mwh=ret["mwh"] - ret["excluded"])
    ret = ret.assign(co2_mwh=ret["counted_mwh"].where(ret["kind"].isin(GHG_KINDS), 0.0))
    out = ret.groupby(list(by))[["mwh", "counted_mwh", "co2_mwh"]].sum()
    return out if len(out) else pd.DataFrame(columns=["mwh", "counted_mwh", "co2_mwh"],
                                             index=pd.MultiIndex.from_tuples([], names=list(by)))


def generator_kpis(invoices: pd.DataFrame, energy: pd.DataFrame, generators: list[str]) -> pd.DataFrame:
    """Per plant and year: energy, and its account ex VAT (VAT collected is the state's): ``revenue_krw``
    (energy, pool, SMP and REC sales), ``capital_krw`` and ``om_krw`` (its owner's capital cost and O&M,
    re100sim.simulator.market.monthly), ``cost_krw`` (all it paid) and ``net_revenue_krw`` = revenue - cost,
    the yearly cash flow a lender discounts (bankability)."""
    if energy.empty:
        return pd.DataFrame({"year": pd.Series(dtype=np.int64), "agent": pd.Series(dtype=str)}
                            | {c: pd.Series(dtype=float) for c in ("gen_mwh", "export_mwh", "curtailed_mwh")}
                            | {c: pd.Series(dtype=np.int64)
                               for c in ("revenue_krw", "capital_krw", "om_krw", "cost_krw", "net_revenue_krw")})
    e = energy.assign(year=energy["month"] // 12)
    g = e.groupby(["year", "agent"], sort=True)[["gen_kwh", "export_kwh", "curtailed_kwh"]].sum() / KWH_PER_MWH
    g.columns = ["gen_mwh", "export_mwh", "curtailed_mwh"]
    year = month_keys(invoices["month"]) // 12
    ex_vat = ~vat_lines(invoices)
    item, items = text_codes(invoices["item"])
    krw = invoices["krw"].to_numpy(np.int64)

    def by(col, paid=None):
        codes, names = text_codes(invoices[col])
        lines = ex_vat & code_flags(names, set(generators))[codes]
        if paid is not None:
            lines &= code_flags(items, set(paid))[item]
        return sums_on(g.index, year[lines], (codes[lines], names), krw[lines])

    out = {c: g[c].to_numpy() for c in g.columns}
    out |= {"revenue_krw": by("payee"), "capital_krw": by("payer", CAPITAL_ITEMS), "om_krw": by("payer", (OM_ITEM,)),
            "cost_krw": by("payer")}
    out["net_revenue_krw"] = out["revenue_krw"] - out["cost_krw"]
    return pd.DataFrame(out, index=g.index).reset_index()


def sale_limit_findings(generator_energy: pd.DataFrame, specs) -> list[dict]:
    """Self-use plants that sold more than their limit of a year's output (docs/domain.md#procurement-routes
    "Self-use plants"; docs/domain.md#self-generation: 50 % in the KIEE 2020 green-tariff paper, 100 % for solar since 2016)."""
    hosted = {g.name: g for g in specs if g.host_tenant is not None}
    if generator_energy.empty or not hosted:
        return []
    e = generator_energy[generator_energy["agent"].isin(hosted)].assign(year=lambda d: d["month"] // 12)
    y = e.groupby(["agent", "year"])[["gen_kwh", "export_kwh", "ppa_surplus_export_kwh", "ppa_kwh"]].sum()
    sold = (y["export_kwh"] + y["ppa_surplus_export_kwh"] + y["ppa_kwh"]).to_numpy()
    gen = y["gen_kwh"].to_numpy()
    share = np.where(gen > 0, sold / np.where(gen > 0, gen, 1.0), 0.0)
    plants, years = y.index.get_level_values(0), y.index.get_level_values(1).to_numpy()
    limits = {p: hosted[p].sale_limit_pct() / 100.0 for p in set(plants)}
    out = []
    for i in np.flatnonzero(share > np.array([limits[p] for p in plants]) + 1e-12):
        plant, year, limit = plants[i], years[i], limits[plants[i]]
        out.append({"plant": plant, "year": int(year), "sold_share": round(float(share[i]), 6), "limit": limit,
                    "message": f"self-use plant {plant} sold {share[i]:.1%} of its {year} output (limit {limit:.0%})"})
    return out


def party_kpis(invoices: pd.DataFrame, parties: list[str], agent_type: str) -> pd.DataFrame:
    """Revenue (receipts) and payments per year for a non-physical party (utility, market)."""
    year = month_keys(invoices["month"]) // 12
    y0 = int(year.min()) if len(year) else 0
    n = int(year.max()) - y0 + 1 if len(year) else 0
    krw = invoices["krw"].to_numpy(np.int64)
    sums = {}
    for col in ("payee", "payer"):
        codes, names = text_codes(invoices[col])
        sums[col] = {p: sum_by(year[codes == i] - y0, krw[codes == i], n)
                     for i, p in enumerate(names) if p in parties}
    none = (np.zeros(n, np.int64), np.zeros(n, bool))
    rows = []
    for p in parties:
        (rec, got), (pay, paid) = sums["payee"].get(p, none), sums["payer"].get(p, none)
        for i in np.flatnonzero(got | paid):
            rows.append({"year": y0 + int(i), "agent": p, "receipts_krw": int(rec[i]), "payments_krw": int(pay[i])})
    if rows:  # one frame of the columns (a column inserted at a time costs more)
        cols = {c: [r[c] for r in rows] for c in ("year", "agent")} | {
            c: np.array([r[c] for r in rows], dtype=np.int64) for c in ("receipts_krw", "payments_krw")}
        cols["net_krw"] = cols["receipts_krw"] - cols["payments_krw"]
        return pd.DataFrame(cols | {"agent_type": [agent_type] * len(rows)})
    df = pd.DataFrame(rows, columns=["year", "agent", "receipts_krw", "payments_krw"])
    df["net_krw"] = df["receipts_krw"] - df["payments_krw"]
    return df.assign(agent_type=agent_type)


def tenant_monthly(energy: pd.DataFrame, baseline: pd.DataFrame, net_cost: pd.DataFrame) -> pd.DataFrame:
    """Per tenant and month: energy (kWh), metered peaks (kW), the grid-only baseline bill and the net cost
    (KRW, :func:`net_cost_by_month`: own plants included, receipts deducted), with and without VAT."""
    out = energy.merge(baseline, on=["month", "agent"], how="left")
    keys, months = np.unique(out["month"].to_numpy(), return_inverse=True)  # a label per month, not per row
    out["month"] = pd.Series(np.array([month_label(int(k)) for k in keys], dtype=object)[months], index=out.index,
                             dtype=str)
    out = out.merge(net_cost.reset_index(), on=["month", "agent"], how="left")
    krw = ["baseline_krw", "baseline_ex_vat_krw", "cost_krw", "cost_ex_vat_krw"]
    return out.assign(**{c: out[c].fillna(0).astype(np.int64) for c in krw if c in out})


def output_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table as written: months only as ``YYYY-MM`` (internal ``month_key`` dropped), KRW columns as
    integers (nullable where a column does not apply to every row)."""
    df = df.drop(columns=[c for c in df.columns if c == "month_key"])
    krw = {c: (np.int64 if df[c].notna().all() else "Int64") for c in df.columns
           if c.endswith("_krw") and pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != np.int64}
    return df.assign(**{c: df[c].round().astype(t) for c, t in krw.items()})


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).fillna(0.0)


def money_residual_krw(invoices: pd.DataFrame, pass_through: dict[str, tuple[str, ...]]) -> float:
    """KRW that did not balance, summed over months.

    Every line moves money from a payer to a payee, so the sum over all agents of
    (receipts - payments) is zero by construction (not recounted). The tests that can
    fail: pass-through parties end each month even, apart from their own revenue
    items (the power market pays plants what KEPCO pays it; the broker passes PPA energy
    and network fees through and keeps only its fees, the Namdong direct-PPA proposal); and every party
    that collects VAT remits, each month, exactly the VAT it received less the VAT it passed on.
    """
    month, labels = text_codes(invoices["month"])
    n = len(labels)
    krw = invoices["krw"].to_numpy(np.int64)
    payer, payer_names = text_codes(invoices["payer"])
    payee, payee_names = text_codes(invoices["payee"])
    item, items = text_codes(invoices["item"])
    vat = code_flags(items, is_vat_item)[item]
    remit = code_flags(items, {VAT_REMITTANCE})[item]

    def by_month(lines: np.ndarray) -> np.ndarray:
        return sum_by(month[lines], krw[lines], n)[0]

    def is_(codes: np.ndarray, names: np.ndarray, party: str) -> np.ndarray:
        return codes == (list(names).index(party) if party in names else -1)

    res = 0.0
    for party, own_items in pass_through.items():
        inn = by_month(is_(payee, payee_names, party) & ~code_flags(items, set(own_items))[item])
        res += float(np.abs(inn - by_month(is_(payer, payer_names, party))).sum())
    for party in set(payee_names[np.unique(payee[vat & ~remit])]):
        got = by_month(vat & ~remit & is_(payee, payee_names, party))
        passed = by_month(vat & is_(payer, payer_names, party))  # passed on or remitted
        res += float(np.abs(got - passed).sum())
    return res


def energy_residual_mwh(tenant_energy: pd.DataFrame, generator_energy: pd.DataFrame,
                        battery_energy: pd.DataFrame | None = None) -> float:
    """:func:`energy_residual_kwh` in MWh."""
    return energy_residual_kwh(tenant_energy, generator_energy, battery_energy) / KWH_PER_MWH


def energy_residual_kwh(tenant_energy: pd.DataFrame | None, generator_energy: pd.DataFrame | None,
                        battery_energy: pd.DataFrame | None = None) -> float:
    """Sum of |imbalance| of every tenant-month, plant-month and battery-month balance, kWh (a table
    that is None or empty adds nothing, so the sum can be run over a run's years).

    Tenant: load + grid bought to charge batteries = self + PPA + pool + battery delivered + grid.
    Plant: generation = self + PPA applied + PPA surplus exported + pool applied + exported +
    curtailed + stored. Battery: charged - delivered - losses = change of its state of charge
    (docs/settlement-kernel.md "Invariants").
    """
    r = 0.0
    if tenant_energy is not None and not tenant_energy.empty:
        t = tenant_energy
        r += (t["load_kwh"] + t["battery_grid_charge_kwh"] - t["self_kwh"] - t["ppa_kwh"] - t["pool_kwh"]
              - t["battery_discharged_kwh"] - t["grid_kwh"]).abs().sum()
    if generator_energy is not None and not generator_energy.empty:
        g = generator_energy
        r += (g["gen_kwh"] - g["self_kwh"] - g["ppa_kwh"] - g["ppa_surplus_export_kwh"]
              - g["pool_applied_kwh"] - g["export_kwh"] - g["curtailed_kwh"] - g["stored_kwh"]).abs().sum()
    if battery_energy is not None and not battery_energy.empty:
        b = battery_energy
        r += (b["charged_kwh"] - b["discharged_kwh"] - b["loss_kwh"] - b["soc_end_kwh"] + b["soc_start_kwh"]).abs().sum()
    return float(r)


KPI_TABLES = {"tenants": "tenant", "generators": "generator"}  # kpis_<name>.parquet -> agent type


def agent_roles(folder) -> dict[str, str]:
    """``{agent: type}`` of a run folder from its ``kpis_*.parquet`` tables (tenant, generator, utility,
    market, broker); empty when the folder has none."""
    from pathlib import Path

    folder = Path(folder)
    roles: dict[str, str] = {}
    for name, kind in KPI_TABLES.items():
        p = folder / f"kpis_{name}.parquet"
        if p.exists():
            roles |= {str(a): kind for a in pd.read_parquet(p, columns=["agent"])["agent"].unique()}
    p = folder / "kpis_parties.parquet"
    if p.exists():
        parties = pd.read_parquet(p, columns=["agent", "agent_type"])
        roles |= dict(zip(parties["agent"].astype(str), parties["agent_type"].astype(str)))
    return roles

