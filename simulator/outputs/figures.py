"""Figures of a run, of a Monte Carlo / sweep set and of a comparison (seaborn / matplotlib, Agg backend).

Every figure function takes the tables it draws (pandas frames read from a results folder) and
returns a :class:`Figure` or None when the run has nothing to show (e.g. no policy rule, so no
compliance chart). Figures are SVG with glyphs drawn as paths, so the page needs no font; Korean
text is set in NanumGothic, shipped by the ``koreanize-matplotlib`` wheel (a declared dependency).
Bytes are deterministic: ``svg.hashsalt`` fixed and no creation date in the metadata.

matplotlib and seaborn are imported lazily (``re100sim --help`` stays light).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

KRW_PER_MILLION = 1e6
# Invoice items -> the cost groups a tenant's bill is stacked by; first match wins, the rest is "other".
# Own-plant lines and separate VAT lines are matched by name so that new items land in the right group.
ITEM_GROUPS: tuple[tuple[str, str], ...] = (
    (r"vat", "VAT"),
    (r"^energy_(light|mid|peak)$", "grid energy"),
    (r"^basic_charge$", "basic charge"),
    (r"^(climate_environment|fuel_cost_adjustment)$", "climate & fuel charges"),
    (r"^power_industry_fund$", "power industry fund"),
    (r"^(ppa_energy|curtailment_compensation)", "PPA energy"),
    (r"^network_fee", "network fee"),
    (r"^broker_fee", "broker fee"),
    (r"^green_(tariff|premium)", "green tariff / premium"),
    (r"rec_(purchase|buy)", "REC purchases"),
    (r"(capex|capital|annuity|loan|o_and_m|own_plant|maintenance)", "own plant capital & O&M"),
)
GROUP_ORDER = [g for _, g in ITEM_GROUPS if g != "VAT"] + ["other", "VAT"]
OPTION_LABELS = {
    "grid": "grid only", "green_premium": "green premium", "green_tariff": "green tariff",
    "direct_ppa": "direct PPA", "rec": "REC purchase", "self_generation": "self-generation",
}


@dataclass(frozen=True)
class Figure:
    """One figure: stable file name (no extension), title, one "how to read this" line, the image bytes."""

    name: str
    title: str
    how_to_read: str
    data: bytes
    fmt: str = "svg"  # or "png" for figures with thousands of shapes (an SVG would be megabytes)

    @property
    def mime(self) -> str:
        return "image/svg+xml" if self.fmt == "svg" else "image/png"


def item_group(item: str) -> str:
    """Cost group of an invoice item (:data:`ITEM_GROUPS`; unknown items are "other")."""
    for pattern, group in ITEM_GROUPS:
        if re.search(pattern, item):
            return group
    return "other"


@lru_cache(maxsize=1)
def _mpl():
    """matplotlib (Agg) and seaborn, configured once: Hangul font, deterministic SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib import font_manager

    font_manager.fontManager.addfont(hangul_font_path())
    sns.set_theme(style="whitegrid", context="paper")
    matplotlib.rcParams.update({
        "font.family": ["NanumGothic", "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.hashsalt": "re100sim",
        "svg.fonttype": "path",
        "figure.dpi": 100,
        "savefig.bbox": "tight",
    })
    return plt, sns


def hangul_font_path() -> str:
    """Path of NanumGothic.ttf in the koreanize-matplotlib wheel, found without importing that package
    (its import would change matplotlib's global settings)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("koreanize_matplotlib")
    return str(Path(spec.submodule_search_locations[0]) / "fonts" / "NanumGothic.ttf")


def _svg(fig) -> bytes:
    return _render(fig, "svg")


def _render(fig, fmt: str) -> bytes:
    """Image bytes with no date or version in the metadata (same inputs, same bytes)."""
    plt, _ = _mpl()
    buf = io.BytesIO()
    meta = {"Date": None, "Creator": "re100sim"} if fmt == "svg" else {"Software": None}
    fig.savefig(buf, format=fmt, metadata=meta, dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _month_index(months: pd.Series) -> pd.DatetimeIndex:
    return pd.to_datetime(months.astype(str) + "-01")


def display_scale(key: str) -> tuple[float, str]:
    """(factor, unit) to draw a KPI with: KRW in millions, shares in %, the rest as named."""
    leaf = key.rsplit(".", 1)[-1]
    if leaf.endswith("_krw"):
        return 1 / KRW_PER_MILLION, "KRW million"
    if "share" in leaf:
        return 100.0, "%"
    return 1.0, ""


def _year_axis(ax, years) -> None:
    """Integer year ticks; a short series gets one tick per year and half a year of margin."""
    years = list(years)
    if len(years) <= 12:
        ax.set_xticks(years)
        ax.set_xlim(min(years) - 0.5, max(years) + 0.5)
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)


def _mkrw(ax, label: str = "KRW million") -> None:
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")


# --- single run ---------------------------------------------------------------------------------


def tenant_cost_by_group(invoices: pd.DataFrame, tenants: list[str]) -> pd.DataFrame:
    """KRW paid per (month, tenant, cost group) (rows: month x tenant; columns: groups present)."""
    paid = invoices[invoices["payer"].astype(str).isin(tenants)]
    frame = pd.DataFrame({
        "month": paid["month"].astype(str).to_numpy(), "tenant": paid["payer"].astype(str).to_numpy(),
        "group": paid["item"].astype(str).map(item_group).to_numpy(), "krw": paid["krw"].to_numpy(),
    })
    wide = frame.pivot_table(index=["month", "tenant"], columns="group", values="krw", aggfunc="sum", fill_value=0)
    return wide[[g for g in GROUP_ORDER if g in wide.columns]]


def savings_window(months: list[str], savings_krw: np.ndarray, n: int) -> list[str]:
    """The ``n`` consecutive months with the largest total savings (the first such window on ties)."""
    if len(months) <= n:
        return list(months)
    run = np.convolve(np.asarray(savings_krw, float), np.ones(n), mode="valid")
    start = int(np.argmax(run))
    return list(months[start:start + n])


def monthly_cost_figure(invoices: pd.DataFrame, baseline: pd.DataFrame, tenants: list[str],
                        max_panels: int = 6, window_months: int = 36) -> Figure:
    """Stacked monthly cost by item group for the complex and its largest tenants, with the grid-only line,
    over the ``window_months`` months in which the complex saved most (a 20-year month axis is unreadable)."""
    plt, sns = _mpl()
    import matplotlib.dates as mdates

    cost = tenant_cost_by_group(invoices, tenants)
    months = sorted(cost.index.get_level_values("month").unique())
    base_m = baseline.assign(month=baseline["month"].astype(str)).groupby("month")["baseline_krw"].sum()
    sav = base_m.reindex(months, fill_value=0).to_numpy() - cost.sum(axis=1).groupby(level="month").sum().reindex(months).to_numpy()
    window = savings_window(months, sav, window_months)
    cost = cost[cost.index.get_level_values("month").isin(window)]
    cost = cost.loc[:, (cost != 0).any()]  # e.g. net-metering credit lines (kWh, 0 KRW) draw nothing
    base = baseline.assign(month=baseline["month"].astype(str)).set_index(["month", "agent"])["baseline_krw"]
    total = cost.sum(axis=1).groupby(level="tenant").sum().sort_values(ascending=False)
    shown = list(total.index[: max_panels - 1])
    net = (baseline.assign(month=baseline["month"].astype(str)).set_index(["month", "agent"])["cost_krw"]
           if "cost_krw" in baseline else None)
    panels = [("complex (all tenants)", cost.groupby(level="month").sum(), base.groupby(level="month").sum(),
               None if net is None else net.groupby(level="month").sum())]
    panels += [(t, cost.xs(t, level="tenant"), base.xs(t, level="agent"),
                None if net is None else net.xs(t, level="agent")) for t in shown]
    palette = dict(zip(GROUP_ORDER, sns.color_palette("tab20", len(GROUP_ORDER))))
    ncol = 2 if len(panels) > 1 else 1
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 2.6 * nrow + 0.6), squeeze=False, sharex=True)
    for ax, (label, c, b, n) in zip(axes.flat, panels):
        x = _month_index(pd.Series(c.index))
        bottom = np.zeros(len(c))
        for g in c.columns:
            v = c[g].to_numpy() / KRW_PER_MILLION
            ax.bar(x, v, bottom=bottom, width=24, color=palette[g], label=g, linewidth=0)
            bottom += v
        bb = b.reindex(c.index).to_numpy() / KRW_PER_MILLION
        ax.step(x, bb, where="mid", color="black", linewidth=1.0, label="grid-only baseline")
        if n is not None:
            ax.step(x, n.reindex(c.index).to_numpy() / KRW_PER_MILLION, where="mid", color="#c00000",
                    linewidth=1.0, linestyle="--", label="net cost (own plants and receipts included)")
        ax.set_title(label, fontsize=9)
        _mkrw(ax)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        ax.tick_params(axis="x", labelbottom=True, labelrotation=45, labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    note = f"; the complex and its {len(shown)} largest tenants" if len(total) > len(shown) else ""
    return Figure("cost_monthly_by_item",
                  f"Monthly cost by item vs grid-only baseline, {window[0]} to {window[-1]}{note}",
                  "Each month's bills (KRW million, VAT included) stacked by item; the black line is what the same load "
                  "would have cost on the KEPCO tariff alone; the dashed red line is the net cost (own plants' capital and O&M in, "
                  "sales and receipts out). Below the black line is a saving. The months shown are the "
                  f"{len(window)} in a row in which the complex saved most.", _render(fig, "png"), "png")


def cumulative_savings_figure(invoices: pd.DataFrame, baseline: pd.DataFrame, tenants: list[str],
                              max_labels: int = 8) -> Figure:
    """Cumulative (baseline - cost) per tenant over the months; the net cost (``cost_krw`` of
    tenant_monthly: own plants in, receipts out) where the table has it, else the payments."""
    plt, sns = _mpl()
    tm = baseline.assign(month=baseline["month"].astype(str))
    if "cost_krw" in tm:
        cost = tm.pivot_table(index="month", columns="agent", values="cost_krw", aggfunc="sum")
    else:
        cost = tenant_cost_by_group(invoices, tenants).sum(axis=1).unstack("tenant", fill_value=0)
    base = tm.pivot_table(index="month", columns="agent", values="baseline_krw", aggfunc="sum").reindex(index=cost.index)
    sav = (base[cost.columns] - cost).cumsum() / KRW_PER_MILLION
    x = _month_index(pd.Series(sav.index))
    order = sav.iloc[-1].abs().sort_values(ascending=False).index
    labelled = list(order[:max_labels])
    fig, ax = plt.subplots(figsize=(11, 4))
    colors = dict(zip(labelled, sns.color_palette("tab10", len(labelled))))
    for t in order[::-1]:
        if t in colors:
            ax.plot(x, sav[t].to_numpy(), color=colors[t], linewidth=1.4, label=t)
        else:
            ax.plot(x, sav[t].to_numpy(), color="0.75", linewidth=0.6)
    ax.axhline(0, color="black", linewidth=0.8)
    _mkrw(ax, "cumulative savings, KRW million")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    fig.tight_layout()
    rest = f"; grey: the other {len(order) - len(labelled)} tenants" if len(order) > len(labelled) else ""
    return Figure("savings_cumulative_by_tenant", "Cumulative savings by tenant",
                  "Running total of grid-only cost minus actual cost per tenant (KRW million); above zero the tenant "
                  f"is ahead of staying on the tariff{rest}.", _svg(fig))


def coverage_heatmap_figure(hourly: pd.DataFrame) -> Figure:
    """Hour of day x day of year of RE delivered / load for the complex: first and last calendar year."""
    plt, _ = _mpl()
    h = hourly.assign(t=pd.to_datetime(hourly["hour_start"]))
    h = h.assign(year=h["t"].dt.year, doy=h["t"].dt.day_of_year, hod=h["t"].dt.hour)
    counts = h.groupby("year").size()
    full = counts[counts >= 24 * 365].index.tolist() or counts.index.tolist()
    years = sorted({full[0], full[-1]})
    fig, axes = plt.subplots(1, len(years), figsize=(5.5 * len(years), 3.4), squeeze=False)
    for ax, y in zip(axes.flat, years):
        d = h[h["year"] == y]
        cov = (d["re_delivered_kwh"] / d["load_kwh"].where(d["load_kwh"] > 0)).fillna(0.0).clip(0, 1)
        grid = np.full((24, 366), np.nan)
        grid[d["hod"].to_numpy(), d["doy"].to_numpy() - 1] = cov.to_numpy()
        im = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
                       extent=(0.5, 366.5, -0.5, 23.5), interpolation="nearest")
        ax.set_title(f"{y}", fontsize=9)
        ax.set_xlabel("day of year")
        ax.set_ylabel("hour of day")
        ax.grid(False)
    fig.colorbar(im, ax=axes.ravel().tolist(), label="RE delivered / load")
    return Figure("re_coverage_heatmap", "Hourly RE coverage of the complex (first and last year)",
                  "Each cell is one hour: the share of the complex's load met by RE delivered that hour (self-generation, "
                  "direct PPA, hourly pool); bright = covered, dark = grid. Daytime bands are solar.", _svg(fig))


def re_share_figure(yearly: pd.DataFrame) -> Figure:
    """RE share by year: annual matching (certificates retired) vs hourly matching (delivered)."""
    plt, _ = _mpl()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(yearly["year"], 100 * yearly["re_share_annual"], marker="o", label="annual match (certificates retired)")
    ax.plot(yearly["year"], 100 * yearly["re_share_hourly"], marker="s", label="hourly match (RE delivered in the hour)")
    ax.set_ylabel("% of load")
    ax.set_xlabel("year")
    _year_axis(ax, yearly["year"])
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return Figure("re_share_by_year", "RE share by year: annual vs hourly matching",
                  "Annual matching counts certificates retired against the year's load (what RE100 reports); hourly "
                  "matching counts only RE used in the same hour. The gap is RE claimed but not used when generated.",
                  _svg(fig))


def adoption_figure(monthly: pd.DataFrame) -> Figure:
    """Tenants per procurement option over time, and contracted / rooftop MW."""
    plt, sns = _mpl()
    cols = [c for c in monthly.columns if c.startswith("adopters_")]
    x = _month_index(monthly["month"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4))
    labels = [OPTION_LABELS.get(c.removeprefix("adopters_"), c.removeprefix("adopters_")) for c in cols]
    a1.stackplot(x, *[monthly[c].to_numpy() for c in cols], labels=labels,
                 colors=sns.color_palette("Set2", len(cols)))
    a1.set_ylabel("tenants")
    a1.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    for c, label in (("contracted_mw", "contracted (direct PPA)"), ("rooftop_mw", "rooftop (self-generation)")):
        if c in monthly:
            a2.plot(x, monthly[c].to_numpy(), label=label)
    a2.set_ylabel("MW")
    a2.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return Figure("adoption_over_time", "Adoption by option and capacity under contract",
                  "Left: how many tenants use each procurement option at each month end. Right: plant MW under live "
                  "direct PPAs and MW of tenants' own rooftop plants.", _svg(fig))


def certificate_flows_figure(certs: pd.DataFrame, tenants: list[str], findings: int) -> Figure | None:
    """MWh of certificates by vintage year and where they ended: retired by a tenant, sold, held."""
    if certs.empty:
        return None
    plt, sns = _mpl()
    owner, issuer = certs["owner"].astype(str), certs["issuer"].astype(str)
    retired = certs["status"].astype(str) == "retired"
    fate = np.select(
        [retired & certs["claimant"].astype(str).isin(tenants), retired, owner == "rec_market", owner != issuer],
        ["retired by a tenant", "retired by another party", "sold to the REC market", "transferred, held"],
        "held by the issuer",
    )
    year = certs["month"].astype(str).str.slice(0, 4).astype(int)
    t = pd.DataFrame({"year": year, "fate": fate, "mwh": certs["mwh"]}).pivot_table(
        index="year", columns="fate", values="mwh", aggfunc="sum", fill_value=0.0)
    order = [c for c in ("retired by a tenant", "retired by another party", "transferred, held",
                         "sold to the REC market", "held by the issuer") if c in t.columns]
    fig, ax = plt.subplots(figsize=(9, 3.4))
    bottom = np.zeros(len(t))
    for c, color in zip(order, sns.color_palette("Set2", len(order))):
        ax.bar(t.index, t[c].to_numpy(), bottom=bottom, label=c, color=color)
        bottom += t[c].to_numpy()
    ax.set_ylabel("MWh of certificates")
    ax.set_xlabel("vintage year (month generated)")
    _year_axis(ax, t.index)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.set_title(f"double-claim / over-issuance findings: {findings}", fontsize=8)
    fig.tight_layout()
    return Figure("certificate_flows", "Certificate flows: issued by vintage year and where they ended",
                  "Bar height = MWh of RECs and green certificates issued for that year's generation; colours show "
                  "their final state. Findings count double claims and over-issuance (should be 0).", _svg(fig))


def generator_broker_figure(yearly: pd.DataFrame) -> Figure:
    plt, _ = _mpl()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.2))
    a1.bar(yearly["year"], yearly["generator_revenue_krw"] / KRW_PER_MILLION, color="#4c72b0")
    a1.set_title("generator revenue (all plants)", fontsize=9)
    _mkrw(a1)
    a2.bar(yearly["year"], yearly["broker_margin_krw"] / KRW_PER_MILLION, color="#dd8452")
    a2.set_title("broker margin (fees kept)", fontsize=9)
    _mkrw(a2)
    for ax in (a1, a2):
        _year_axis(ax, yearly["year"])
    fig.tight_layout()
    return Figure("generator_revenue_broker_margin", "Generator revenue and broker margin by year",
                  "Left: everything plants received (PPA energy, SMP exports, REC sales), KRW million. Right: the broker's "
                  "own fees; energy and network fees it passes through are not margin.", _svg(fig))


def compliance_figure(compliance: pd.DataFrame) -> Figure | None:
    if compliance.empty or "required_mw" not in compliance:
        return None
    plt, _ = _mpl()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(compliance["year"], compliance["required_mw"], marker="o", color="black", label="required MW")
    ax.bar(compliance["year"], compliance["credited_mw"], color="#55a868", label="credited MW")
    if "shortfall_mw" in compliance:
        ax.bar(compliance["year"], compliance["shortfall_mw"], bottom=compliance["credited_mw"], color="#c44e52",
               alpha=0.6, label="shortfall MW")
    ax.set_ylabel("MW")
    _year_axis(ax, compliance["year"])
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return Figure("policy_compliance", "Policy compliance: required vs credited MW",
                  "Green bars: MW the rule credits to the complex each year; the black line is what it requires; red is "
                  "the shortfall.", _svg(fig))


# --- Monte Carlo / sweep sets -------------------------------------------------------------------


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q))


def kpi_distribution_figure(runs: pd.DataFrame, kpis: list[str], labels: dict[str, str]) -> Figure:
    """ECDF and histogram of each headline KPI, P10/P50/P90 marked."""
    plt, sns = _mpl()
    fig, axes = plt.subplots(len(kpis), 2, figsize=(11, 2.4 * len(kpis) + 0.3), squeeze=False)
    for (a_hist, a_ecdf), k in zip(axes, kpis):
        v = runs[k].dropna().to_numpy(dtype=float) * display_scale(k)[0]
        sns.histplot(v, ax=a_hist, bins=min(30, max(5, len(v) // 3)), color="#4c72b0")
        sns.ecdfplot(v, ax=a_ecdf, color="#4c72b0")
        for ax in (a_hist, a_ecdf):
            for q, style in ((10, ":"), (50, "-"), (90, ":")):
                ax.axvline(_pct(v, q), color="#c44e52", linestyle=style, linewidth=1)
            ax.set_xlabel(labels.get(k, k))
        title = f"P10 {_pct(v, 10):,.4g} · P50 {_pct(v, 50):,.4g} · P90 {_pct(v, 90):,.4g}"
        if "savings" in k:
            title += f" · P(>0) = {float(np.mean(v > 0)):.0%}"
        a_hist.set_title(title, fontsize=8)
        a_ecdf.set_ylabel("share of runs ≤ x")
    fig.tight_layout()
    return Figure("mc_kpi_distributions", "Distribution of the headline KPIs across runs",
                  "Left: histogram of the runs; right: the empirical CDF (read the probability of being below a value). "
                  "Red lines: P10 (dotted), P50 (solid), P90 (dotted).", _svg(fig))


def fan_chart_figure(yearly: pd.DataFrame, kpis: list[str], labels: dict[str, str]) -> Figure:
    """P5-P95 and P25-P75 bands and the median of yearly series across runs."""
    plt, _ = _mpl()
    fig, axes = plt.subplots(1, len(kpis), figsize=(5.2 * len(kpis), 3.2), squeeze=False)
    for ax, k in zip(axes.flat, kpis):
        q = yearly.groupby("year")[k].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack() * display_scale(k)[0]
        ax.fill_between(q.index, q[0.05], q[0.95], color="#4c72b0", alpha=0.2, label="P5-P95")
        ax.fill_between(q.index, q[0.25], q[0.75], color="#4c72b0", alpha=0.4, label="P25-P75")
        ax.plot(q.index, q[0.5], color="#4c72b0", marker=".", label="median")
        ax.set_title(labels.get(k, k), fontsize=9)
        _year_axis(ax, q.index)
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return Figure("mc_fan_yearly", "Yearly series across runs (fan charts)",
                  "Dark band: half the runs (P25-P75); light band: 90 % (P5-P95); line: the median run-year.", _svg(fig))


def kpi_vs_inputs_figure(runs: pd.DataFrame, inputs: list[str], kpis: list[str], labels: dict[str, str]) -> Figure:
    """Each headline KPI against each sampled / swept input (points, with the median per distinct value)."""
    plt, sns = _mpl()
    fig, axes = plt.subplots(len(kpis), len(inputs), figsize=(3.6 * len(inputs) + 0.5, 2.6 * len(kpis)),
                             squeeze=False)
    for i, k in enumerate(kpis):
        for j, p in enumerate(inputs):
            ax = axes[i, j]
            d = runs[[p, k]].dropna()
            d = d.assign(**{k: d[k] * display_scale(k)[0]})
            ax.scatter(d[p], d[k], s=8, alpha=0.6, color="#4c72b0")
            if d[p].nunique() <= min(12, len(d) // 2):  # a swept grid (values repeat): connect the medians
                med = d.groupby(p)[k].median()
                ax.plot(med.index, med.to_numpy(), color="#c44e52", marker="o", linewidth=1.2)
            ax.set_xlabel(p, fontsize=7)
            ax.set_ylabel(labels.get(k, k) if j == 0 else "", fontsize=7)
    fig.tight_layout()
    return Figure("mc_kpi_vs_inputs", "Headline KPIs against each sampled or swept input",
                  "One dot per run; for a swept parameter (few distinct values) the red line joins the medians.",
                  _svg(fig))


def term_grid_figure(terms: pd.DataFrame) -> Figure | None:
    """Heat maps of the stress test's term grid: the two first term columns as axes, each metric as a panel."""
    num = terms.select_dtypes("number")
    metrics = [c for c in num.columns if re.search(r"(p_|prob|p10|npv|margin)", c)]
    axes_cols = [c for c in num.columns if c not in metrics and c not in ("point_id", "n", "runs")]
    if len(axes_cols) < 2 or not metrics:
        return None
    plt, sns = _mpl()
    a, b = axes_cols[:2]
    metrics = metrics[:4]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.6), squeeze=False)
    for ax, m in zip(axes.flat, metrics):
        factor, unit = display_scale(m)
        grid = terms.pivot_table(index=a, columns=b, values=m, aggfunc="mean") * factor
        sns.heatmap(grid, ax=ax, annot=grid.size <= 64, fmt=",.3g", cmap="RdYlGn", cbar=True)
        ax.set_title(f"{m} ({unit})" if unit else m, fontsize=9)
    fig.tight_layout()
    return Figure("mc_term_grid", "Contract stress test: term grid",
                  f"Each cell is one term set ({a} x {b}, means over the other terms); green is better for the "
                  "party the metric concerns.", _svg(fig))


def indices_figure(indices: pd.DataFrame) -> Figure | None:
    """Sobol S1/ST or Morris mu*/sigma bars per input (tornado-style, largest first)."""
    cols = [c for c in ("ST", "S1", "mu_star", "sigma") if c in indices]
    name = next((c for c in ("input", "name", "parameter", "path") if c in indices), None)
    if not cols or name is None:
        return None
    plt, _ = _mpl()
    kpis = indices["kpi"].unique().tolist() if "kpi" in indices else [None]
    fig, axes = plt.subplots(1, len(kpis), figsize=(5 * len(kpis), 0.4 * indices[name].nunique() + 1.5), squeeze=False)
    for ax, k in zip(axes.flat, kpis):
        d = indices if k is None else indices[indices["kpi"] == k]
        d = d.sort_values(cols[0])
        y = np.arange(len(d))
        h = 0.8 / len(cols)
        for i, c in enumerate(cols):
            ax.barh(y + i * h, d[c].to_numpy(), height=h, label=c)
        ax.set_yticks(y + h * (len(cols) - 1) / 2, d[name].astype(str).tolist(), fontsize=7)
        ax.set_title(str(k or ""), fontsize=9)
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return Figure("mc_sensitivity_indices", "Sensitivity indices",
                  "Longer bars: the KPI depends more on that input (Sobol: share of variance, S1 alone, ST with "
                  "interactions; Morris: mu* mean effect, sigma non-linearity).", _svg(fig))


# --- comparison ---------------------------------------------------------------------------------


def comparison_yearly_figure(yearlies: dict[str, pd.DataFrame], kpis: list[str], labels: dict[str, str]) -> Figure:
    """The same yearly series of several runs, one line per run."""
    plt, _ = _mpl()
    fig, axes = plt.subplots(1, len(kpis), figsize=(5.2 * len(kpis), 3.3), squeeze=False)
    for ax, k in zip(axes.flat, kpis):
        for run, y in yearlies.items():
            if k in y:
                ax.plot(y["year"], y[k] * display_scale(k)[0], marker=".", label=run)
        ax.set_title(labels.get(k, k), fontsize=9)
        _year_axis(ax, sorted({int(v) for y in yearlies.values() for v in y["year"]}))
    axes.flat[0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return Figure("compare_yearly", "Yearly series, run by run",
                  "One line per compared run; KRW series are in KRW million.", _svg(fig))


def comparison_bars_figure(table: pd.DataFrame, labels: dict[str, str]) -> Figure:
    """Headline KPIs side by side (one panel per KPI, one bar per run)."""
    plt, sns = _mpl()
    kpis = list(table.columns)
    ncol = min(4, len(kpis))
    nrow = -(-len(kpis) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.9 * nrow), squeeze=False)
    colors = sns.color_palette("tab10", len(table))
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    for ax, k in zip(axes.flat, kpis):
        ax.bar(range(len(table)), table[k].to_numpy(dtype=float) * display_scale(k)[0], color=colors)
        ax.set_xticks(range(len(table)), table.index.tolist(), rotation=30, ha="right", fontsize=7)
        ax.set_title(labels.get(k, k), fontsize=8)
    fig.tight_layout()
    return Figure("compare_headline", "Headline KPIs side by side",
                  "One bar per run, same scale within a panel.", _svg(fig))
