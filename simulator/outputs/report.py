"""Self-contained HTML reports: one run, one Monte Carlo / sweep set, or a comparison of folders.

The page is one file: figures are SVG data URIs, styles are inline, and the Hangul glyphs the page's
text needs are embedded as a subset of NanumGothic (a ``@font-face`` data URI), so it renders the
same offline, printed, or on a machine with no Korean font. Nothing is fetched from any host or file.

Folder kinds: a *run* folder has ``summary.json`` and ``invoices.parquet`` (``re100sim run``); a *set*
folder has ``runs.parquet`` (``re100sim mc / sweep / sensitivity``, docs/outputs.md). Tables are read by
the names and columns present, so new invoice items, KPIs or sampled inputs appear without code changes
(unknown invoice items are grouped as "other").
"""
from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from re100sim.simulator.errors import InputError
from re100sim.simulator.outputs import figures as F
from re100sim.simulator.outputs.results import agent_roles

# Headline KPIs of a run (flattened summary.json keys) in page order; others present are listed after them.
HEADLINE = (
    "cost.tenant_total_krw", "cost.baseline_grid_only_krw", "cost.savings_krw", "cost.tenant_total_ex_vat_krw",
    "cost.baseline_grid_only_ex_vat_krw", "cost.savings_ex_vat_krw", "cost.own_plant_capital_krw", "cost.own_plant_om_krw",
    "energy.load_mwh", "energy.grid_mwh", "energy.re_delivered_mwh", "energy.surplus_mwh",
    "re_share_annual", "re_share_hourly", "co2_t", "co2_location_t",
    "certificates.issued_mwh", "certificates.retired_by_tenants_mwh", "certificates.double_counting_findings",
    "certificates.over_issuance_findings", "adoption.contracted_mw", "adoption.rooftop_mw",
)
LABELS = {
    "cost.tenant_total_krw": "tenants' net cost", "cost.baseline_grid_only_krw": "grid-only baseline cost",
    "cost.savings_krw": "savings vs grid-only", "cost.savings_ex_vat_krw": "savings vs grid-only, ex VAT",
    "cost.tenant_total_ex_vat_krw": "tenants' total cost, ex VAT",
    "cost.baseline_grid_only_ex_vat_krw": "grid-only baseline cost, ex VAT",
    "cost.own_plant_capital_krw": "tenants' own plants: capital", "cost.own_plant_om_krw": "tenants' own plants: O&M",
    "energy.load_mwh": "load", "energy.grid_mwh": "bought from the grid", "energy.re_delivered_mwh": "RE delivered",
    "energy.surplus_mwh": "plant surplus (exported or curtailed)",
    "re_share_annual": "RE share, annual match", "re_share_hourly": "RE share, hourly match",
    "co2_t": "CO2, market-based", "co2_location_t": "CO2, location-based",
    "certificates.issued_mwh": "certificates issued", "certificates.retired_by_tenants_mwh": "certificates retired by tenants",
    "certificates.double_counting_findings": "double-counting findings",
    "certificates.over_issuance_findings": "over-issuance findings",
    "adoption.contracted_mw": "capacity under direct PPA (final)", "adoption.rooftop_mw": "tenants' rooftop capacity (final)",
    "savings_krw": "savings vs grid-only", "tenant_cost_krw": "tenants' cost", "re_share_annual_y": "RE share",
    "generator_revenue_krw": "generator revenue", "broker_margin_krw": "broker margin",
}
# The headline KPIs of a set (flattened run KPI columns of runs.parquet), first present ones are drawn.
SET_HEADLINE = ("cost.savings_krw", "cost.savings_ex_vat_krw", "re_share_annual", "re_share_hourly", "co2_t",
                "adoption.direct_ppa", "adoption.contracted_mw")
YEARLY_SERIES = ("savings_krw", "re_share_annual", "re_share_hourly", "contracted_mw", "co2_market_t")
SET_META = {"run_id", "point_id", "status", "error", "seed", "entropy", "spawn_key", "seed_entropy", "worker",
            "node", "elapsed_s", "started", "finished", "duration_s", "wall_s", "pid"}
QUANTILES = ("p5", "p10", "p50", "p90", "p95")


def unit_of(key: str) -> str:
    """Unit of a KPI from its name (docs/outputs.md: the unit is in the name)."""
    leaf = key.rsplit(".", 1)[-1]
    for suffix, unit in (("_krw", "KRW"), ("_mwh", "MWh"), ("_kwh", "kWh"), ("_mw", "MW"), ("_kw", "kW"),
                         ("_t", "t CO2"), ("_pct", "%")):
        if leaf.endswith(suffix):
            return unit
    if "share" in leaf or leaf.startswith("p_") or leaf.startswith("prob"):
        return "%"
    return "count" if leaf.endswith(("findings", "contracts")) or key.startswith("adoption.") else ""


def fmt(key: str, value) -> str:
    """A KPI value as shown on the page (the test reads these strings back)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = unit_of(key)
    if unit == "%" and not key.endswith("_pct"):
        return f"{100 * float(value):,.2f} %"
    if unit == "KRW" or isinstance(value, (int, np.integer)):
        return f"{int(round(float(value))):,}"
    return f"{float(value):,.3f}"


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flatten(v, key + ".")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except json.JSONDecodeError as e:
        raise InputError(str(path), "", f"not valid JSON ({e.msg} at line {e.lineno})") from None


def _hash_of(manifest: dict) -> str:
    for k, v in manifest.items():
        if isinstance(v, str) and ("sha256" in k or "hash" in k):
            return v
    return "–"


@dataclass
class Folder:
    """A results folder, its tables read on first use."""

    path: Path
    summary: dict = field(init=False)
    manifest: dict = field(init=False)

    def __post_init__(self):
        if not self.path.is_dir():
            raise InputError(str(self.path), "", "no such results folder (a folder written by re100sim run or mc)")
        if not (self.path / "runs.parquet").exists() and not (self.path / "summary.json").exists():
            raise InputError(str(self.path), "", "not a results folder (expected summary.json or runs.parquet)")
        self.summary = _read_json(self.path / "summary.json")
        self.manifest = _read_json(self.path / "manifest.json")

    @property
    def kind(self) -> str:
        return "set" if (self.path / "runs.parquet").exists() else "run"

    def table(self, name: str) -> pd.DataFrame | None:
        p = self.path / f"{name}.parquet"
        return pd.read_parquet(p) if p.exists() else None

    @cached_property
    def scenario(self) -> dict:
        p = self.path / "scenario.yaml"
        return yaml.safe_load(p.read_text(encoding="utf-8")) if p.exists() else {}

    @property
    def name(self) -> str:
        return str(self.scenario.get("name") or self.summary.get("scenario") or self.manifest.get("scenario")
                   or self.path.name)

    @property
    def description(self) -> str:
        return " ".join(str(self.scenario.get("description", "")).split())

    @property
    def seed(self):
        for d in (self.summary, self.manifest):
            for k in ("seed", "root_seed"):
                if k in d:
                    return d[k]
        return "–"

    @cached_property
    def tenants(self) -> list[str]:
        return sorted(a for a, kind in agent_roles(self.path).items() if kind == "tenant")


# --- set (Monte Carlo / sweep) helpers ---------------------------------------------------------------


def set_kpi_stats(summary: dict) -> dict[str, dict]:
    """``{kpi: {n, mean, sd, p5..p95}}`` from an MC summary.json (under ``kpis`` or at the top level;
    quantile keys ``p50`` or ``P50``)."""
    src = summary.get("kpis", summary)
    out = {}
    for k, v in src.items():
        if isinstance(v, dict) and "mean" in v:
            out[k] = {kk.lower(): vv for kk, vv in v.items()}
    return out


def set_inputs(runs: pd.DataFrame, kpis: set[str]) -> list[str]:
    """Sampled / swept input columns: numeric, not a KPI, not bookkeeping, varying across runs."""
    return [c for c in runs.columns if c not in kpis and c not in SET_META and pd.api.types.is_numeric_dtype(runs[c])
            and not pd.api.types.is_bool_dtype(runs[c]) and runs[c].nunique() > 1]


# --- HTML ------------------------------------------------------------------------------------------------

CSS = """
body{font-family:'RE100 Hangul','NanumGothic','Noto Sans CJK KR',sans-serif;margin:24px auto;max-width:1180px;
color:#222;line-height:1.4;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px}
code{font-family:'DejaVu Sans Mono','Liberation Mono','RE100 Hangul',monospace}td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3;text-align:left}
.meta{font-size:13px;color:#444}.meta code{font-size:12px}figure{margin:16px 0;break-inside:avoid}
figure img{max-width:100%;height:auto;display:block}figcaption{font-size:12px;color:#444}
figcaption b{color:#222}.row{display:flex;gap:12px}.row>figure{flex:1;min-width:0}.neg{color:#b22}
@media print{body{max-width:none;margin:0}h2{break-after:avoid}}
"""


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def _figure_html(fig: F.Figure) -> str:
    uri = f"data:{fig.mime};base64," + base64.b64encode(fig.data).decode("ascii")
    return (f'<figure data-figure="{fig.name}"><img alt="{_esc(fig.title)}" src="{uri}">'
            f"<figcaption><b>{_esc(fig.title)}.</b> How to read this: {_esc(fig.how_to_read)}</figcaption></figure>")


def _kpi_row(key: str, value, label: str | None = None) -> str:
    cls = "num neg" if isinstance(value, (int, float)) and value < 0 and key.endswith("savings_krw") else "num"
    return (f"<tr><td>{_esc(label or LABELS.get(key, key))}</td><td><code>{_esc(key)}</code></td>"
            f'<td class="{cls}" data-kpi="{_esc(key)}" data-value="{_esc(repr(value))}">{_esc(fmt(key, value))}</td>'
            f"<td>{_esc(unit_of(key))}</td></tr>")


def _font_face(text: str) -> str:
    """A ``@font-face`` with the NanumGothic glyphs of ``text``'s Hangul (and CJK punctuation), or ''."""
    chars = sorted({c for c in text if ord(c) > 0x2E7F})
    if not chars:
        return ""
    import io
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # VTT hinting tables dropped: expected
    font = TTFont(F.hangul_font_path(), recalcTimestamp=False)
    opts = subset.Options()
    opts.name_IDs, opts.notdef_outline, opts.hinting = [], True, False
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(chars))
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return ("@font-face{font-family:'RE100 Hangul';src:url(data:font/ttf;base64," + data + ") format('truetype');}")


def page(title: str, body: str) -> str:
    """The whole HTML document; the font subset covers every Hangul character of title and body."""
    style = _font_face(title + body) + CSS
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "font-src data:; style-src 'unsafe-inline'\">"
            f"<title>{_esc(title)}</title><style>{style}</style></head><body>\n{body}\n</body></html>\n")


def _meta_html(f: Folder) -> str:
    m = f.manifest
    rows = [("scenario", f.name), ("description", f.description or "–"), ("scenario hash (SHA-256)", _hash_of(m)),
            ("seed", f.seed), ("folder", f.path.name), ("git revision", m.get("git_revision") or "–")]
    return '<table class="meta">' + "".join(f"<tr><th>{_esc(a)}</th><td><code>{_esc(b)}</code></td></tr>"
                                            for a, b in rows) + "</table>"


def _tariff_names(f: Folder) -> str:
    """Korean names of the tariff options the scenario sets (e.g. 산업용(을) 고압A 선택Ⅱ)."""
    from re100sim.simulator.inputs.tariffs import load_table

    tariff = f.scenario.get("tariff") or {}
    try:
        table = load_table(tariff.get("table", "kepco_industrial"))
    except Exception:  # noqa: BLE001 - a folder from another version: show no names rather than fail
        return ""
    names = []
    for key in ("option_large", "option_small"):
        opt = tariff.get(key)
        if opt and opt in table.options:
            names.append(f"{opt}: {table.options[opt].name_ko}")
    return "; ".join(names)


# --- single run ------------------------------------------------------------------------------------------


def run_figures(f: Folder) -> list[F.Figure]:
    """Every figure of a run folder that its tables allow, in page order."""
    inv, tm = f.table("invoices"), f.table("tenant_monthly")
    monthly, yearly = f.table("timeseries_monthly"), f.table("timeseries_yearly")
    hourly, certs, comp = f.table("hourly_complex"), f.table("certificates"), f.table("compliance")
    figs: list[F.Figure | None] = []
    if inv is not None and tm is not None:
        base = tm[[c for c in ("month", "agent", "baseline_krw", "cost_krw") if c in tm]]
        figs += [F.monthly_cost_figure(inv, base, f.tenants), F.cumulative_savings_figure(inv, base, f.tenants)]
    if hourly is not None:
        figs.append(F.coverage_heatmap_figure(hourly))
    if yearly is not None:
        figs.append(F.re_share_figure(yearly))
    if monthly is not None:
        figs.append(F.adoption_figure(monthly))
    if certs is not None:
        findings = sum(int(f.summary.get("certificates", {}).get(k, 0))
                       for k in ("double_counting_findings", "over_issuance_findings"))
        figs.append(F.certificate_flows_figure(certs, f.tenants, findings))
    if yearly is not None:
        figs.append(F.generator_broker_figure(yearly))
    if comp is not None:
        figs.append(F.compliance_figure(comp))
    return [x for x in figs if x is not None]


def _kpi_table(flat: dict) -> str:
    keys = [k for k in HEADLINE if k in flat]
    rest = [k for k in flat if k not in keys and not k.startswith(("invariants.", "years", "hours", "seed", "tenants",
                                                                    "generators"))]
    head = "<tr><th>KPI</th><th>key</th><th>value</th><th>unit</th></tr>"
    main = "<table>" + head + "".join(_kpi_row(k, flat[k]) for k in keys) + "</table>"
    more = "<h2>Other results</h2><table>" + head + "".join(_kpi_row(k, flat[k]) for k in rest) + "</table>" if rest else ""
    return main + more


def _invariants_html(flat: dict) -> str:
    keys = [k for k in flat if k.startswith("invariants.")]
    if not keys:
        return ""
    return ("<h2>Conservation checks</h2><p class=\"meta\">Residuals of the energy, certificate and money balances "
            "(0 up to rounding when the books balance).</p><table><tr><th>check</th><th>key</th><th>residual</th>"
            "<th>unit</th></tr>" + "".join(_kpi_row(k, flat[k], k.split(".", 1)[1].replace("_", " ")) for k in keys)
            + "</table>")


def run_report(f: Folder, fig_dir: Path | None) -> str:
    figs = run_figures(f)
    if fig_dir is not None:
        write_figures(figs, fig_dir)
    s = f.summary
    flat = flatten(s)
    tariffs = _tariff_names(f)
    intro = (f"<h1>re100sim run: {_esc(f.name)}</h1><p class=\"meta\">{_esc(s.get('years', '?'))} years from "
             f"{_esc(s.get('start_date', '?'))}, {_esc(s.get('tenants', '?'))} tenants, "
             f"{_esc(s.get('generators', '?'))} generators"
             + (f"; KEPCO tariff {_esc(tariffs)}" if tariffs else "") + "</p>" + _meta_html(f))
    tenants = (f"<p class=\"meta\">Tenants: {_esc(', '.join(f.tenants))}</p>" if f.tenants else "")
    body = (intro + "<h2>Headline results</h2>" + tenants + _kpi_table(flat) + "<h2>Figures</h2>"
            + "".join(_figure_html(x) for x in figs) + _invariants_html(flat))
    return page(f"re100sim: {f.name}", body)


def write_figures(figs: list[F.Figure], fig_dir: Path) -> None:
    fig_dir.mkdir(parents=True, exist_ok=True)
    for x in figs:
        (fig_dir / f"{x.name}.{x.fmt}").write_bytes(x.data)


# --- Monte Carlo / sweep set -----------------------------------------------------------------------------


def _axis_label(key: str) -> str:
    unit = F.display_scale(key)[1] or unit_of(key)
    return f"{LABELS.get(key, key)} ({unit})" if unit else LABELS.get(key, key)


def set_figures(f: Folder) -> list[F.Figure]:
    runs = f.table("runs")
    if "status" in runs:
        runs = runs[runs["status"].astype(str) == "ok"]
    stats = set_kpi_stats(f.summary)
    kpis = [k for k in SET_HEADLINE if k in runs and runs[k].notna().any()]
    kpis = kpis or [k for k in stats if k in runs][:4]
    labels = {k: _axis_label(k) for k in kpis}
    figs: list[F.Figure | None] = []
    if kpis:
        figs.append(F.kpi_distribution_figure(runs, kpis, labels))
    yearly = f.table("yearly")
    if yearly is not None:
        series = [k for k in YEARLY_SERIES if k in yearly]
        if series:
            figs.append(F.fan_chart_figure(yearly, series, {k: _axis_label(k) for k in series}))
    declared = next((f.manifest[k] for k in ("inputs", "uncertain_inputs", "swept") if isinstance(f.manifest.get(k), list)),
                    None)
    if declared is not None:  # the manifest names the sampled / swept paths: use exactly those
        inputs = [c for c in declared if isinstance(c, str) and c in runs and runs[c].nunique() > 1]
    else:
        inputs = [c for c in set_inputs(runs, set(stats)) if c not in kpis]
    varying = [k for k in kpis if runs[k].nunique() > 1]
    if inputs and varying:
        shown = [k for k in varying if "savings" in k][:1] + [k for k in varying if k.startswith("adoption.")][:1]
        figs.append(F.kpi_vs_inputs_figure(runs, inputs[:6], shown or varying[:1], labels))
    terms, indices = f.table("terms"), f.table("indices")
    if terms is not None:
        figs.append(F.term_grid_figure(terms))
    if indices is not None:
        figs.append(F.indices_figure(indices))
    return [x for x in figs if x is not None]


def set_report(f: Folder, fig_dir: Path | None) -> str:
    figs = set_figures(f)
    if fig_dir is not None:
        write_figures(figs, fig_dir)
    stats = set_kpi_stats(f.summary)
    runs = f.summary.get("runs", {})
    cols = ["n", "mean", "sd", *QUANTILES]
    head = "<tr><th>KPI</th><th>unit</th>" + "".join(f"<th>{c.upper() if c.startswith('p') else c}</th>" for c in cols) + "</tr>"
    order = [k for k in SET_HEADLINE if k in stats] + [k for k in stats if k not in SET_HEADLINE]
    rows = "".join(
        f"<tr><td>{_esc(LABELS.get(k, k))} <code>{_esc(k)}</code></td><td>{_esc(unit_of(k))}</td>"
        + "".join(f'<td class="num" data-kpi="{_esc(k)}" data-stat="{c}" data-value="{_esc(repr(stats[k].get(c)))}">'
                  f"{_esc(str(stats[k].get(c)) if c == 'n' else fmt(k, stats[k].get(c)))}</td>" for c in cols)
        + "</tr>" for k in order)
    ok_runs = f.table("runs")
    if "status" in ok_runs:
        ok_runs = ok_runs[ok_runs["status"].astype(str) == "ok"]
    p_save = "".join(
        f"<li>P({_esc(k)} &gt; 0) = <b data-kpi=\"P({_esc(k)}>0)\" data-value=\"{float((ok_runs[k] > 0).mean())!r}\">"
        f"{float((ok_runs[k] > 0).mean()):.0%}</b> of {int(ok_runs[k].notna().sum())} runs</li>"
        for k in ok_runs.columns if k.endswith("savings_krw") and ok_runs[k].notna().any())
    m = f.manifest
    extra = "".join(f"<tr><th>{_esc(k)}</th><td><code>{_esc(m[k])}</code></td></tr>"
                    for k in ("sampler", "root_seed", "runs", "points", "ray_version", "cluster_size") if k in m)
    body = (f"<h1>re100sim set: {_esc(f.name)}</h1>" + _meta_html(f)
            + (f'<table class="meta">{extra}</table>' if extra else "")
            + f"<p class=\"meta\">runs ok: <b data-kpi=\"runs.ok\" data-value=\"{_esc(repr(runs.get('ok')))}\">"
            f"{_esc(runs.get('ok', '–'))}</b>, failed: <b data-kpi=\"runs.error\" "
            f"data-value=\"{_esc(repr(runs.get('error')))}\">{_esc(runs.get('error', '–'))}</b></p>"
            + (f"<h2>Probability that tenants save</h2><ul>{p_save}</ul>" if p_save else "")
            + "<h2>KPI distributions</h2><table>" + head + rows + "</table><h2>Figures</h2>"
            + "".join(_figure_html(x) for x in figs))
    return page(f"re100sim set: {f.name}", body)


# --- comparison ------------------------------------------------------------------------------------------


def _labels(folders: list[Folder]) -> list[str]:
    names = [x.name for x in folders]
    return [n if names.count(n) == 1 else f"{n} ({x.path.name})" for n, x in zip(names, folders)]


def comparison_report(folders: list[Folder], fig_dir: Path | None) -> str:
    """Side by side: the same KPIs for each folder, differences against the first, the same figures."""
    labels = _labels(folders)
    if any(x.kind == "set" for x in folders):
        flats = [{k: v.get("p50") for k, v in set_kpi_stats(x.summary).items()} if x.kind == "set"
                 else flatten(x.summary) for x in folders]
        note = "Sets are compared by their medians (P50)."
    else:
        flats, note = [flatten(x.summary) for x in folders], ""
    keys = [k for k in HEADLINE if any(k in fl for fl in flats)]
    keys += [k for k in SET_HEADLINE if k not in keys and any(k in fl for fl in flats)]
    head = ("<tr><th>KPI</th><th>unit</th>" + "".join(f"<th>{_esc(n)}</th>" for n in labels)
            + "".join(f"<th>Δ {_esc(n)} − {_esc(labels[0])}</th>" for n in labels[1:]) + "</tr>")
    rows = []
    for k in keys:
        vals = [fl.get(k) for fl in flats]
        cells = "".join(f'<td class="num" data-run="{i}" data-kpi="{_esc(k)}" data-value="{_esc(repr(v))}">'
                        f"{_esc(fmt(k, v))}</td>" for i, v in enumerate(vals))
        diffs = "".join(f'<td class="num">{_esc(fmt(k, v - vals[0]) if v is not None and vals[0] is not None else "–")}'
                        "</td>" for v in vals[1:])
        rows.append(f"<tr><td>{_esc(LABELS.get(k, k))}</td><td>{_esc(unit_of(k))}</td>{cells}{diffs}</tr>")
    figs: list[F.Figure] = []
    table = pd.DataFrame([[fl.get(k, np.nan) for k in keys[:8]] for fl in flats], index=labels, columns=keys[:8])
    table = table.dropna(axis=1, how="all")
    if not table.empty:
        figs.append(F.comparison_bars_figure(table, {k: _axis_label(k) for k in table}))
    yearlies = {n: y for n, x in zip(labels, folders) if (y := x.table("timeseries_yearly")) is not None}
    series = [k for k in ("savings_krw", "re_share_annual", "contracted_mw") if any(k in y for y in yearlies.values())]
    if yearlies and series:
        figs.append(F.comparison_yearly_figure(yearlies, series, {k: _axis_label(k) for k in series}))
    if fig_dir is not None:
        write_figures(figs, fig_dir)
    per_run = [run_figures(x) if x.kind == "run" else set_figures(x) for x in folders]
    names = list(dict.fromkeys(fig.name for figs_i in per_run for fig in figs_i))
    side = ""
    for name in names:
        cells = []
        for lab, figs_i in zip(labels, per_run):
            hit = next((x for x in figs_i if x.name == name), None)
            cells.append(f"<div><p class=\"meta\"><b>{_esc(lab)}</b></p>{_figure_html(hit)}</div>" if hit
                         else f"<div><p class=\"meta\"><b>{_esc(lab)}</b>: not applicable</p></div>")
        side += '<div class="row">' + "".join(cells) + "</div>"
    metas = "".join(f"<h2>{_esc(lab)}</h2>{_meta_html(x)}" for lab, x in zip(labels, folders))
    body = (f"<h1>re100sim comparison: {_esc(' vs '.join(labels))}</h1>"
            + (f'<p class="meta">{_esc(note)}</p>' if note else "")
            + "<h2>Headline results</h2><table>" + head + "".join(rows) + "</table>"
            + "<h2>Figures</h2>" + "".join(_figure_html(x) for x in figs)
            + "<h2>The same figures, run by run</h2>" + side + "<h2>Scenarios</h2>" + metas)
    return page("re100sim comparison", body)


# --- entry point -----------------------------------------------------------------------------------------


def default_out(dirs: list[Path]) -> Path:
    """``DIR/report.html`` for one folder; ``DIR1/comparison.html`` for several."""
    return dirs[0] / ("report.html" if len(dirs) == 1 else "comparison.html")


def build_report(dirs: list[Path], out: Path | None = None) -> Path:
    """Write the report of one folder or the comparison of several; figures go to ``<out dir>/figures``."""
    folders = [Folder(Path(d)) for d in dirs]
    out = Path(out) if out is not None else default_out([x.path for x in folders])
    fig_dir = out.parent / "figures"
    if len(folders) == 1:
        f = folders[0]
        text = set_report(f, fig_dir) if f.kind == "set" else run_report(f, fig_dir)
    else:
        text = comparison_report(folders, fig_dir)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out



def export_csv(folder: Path, out: Path | None = None) -> list[Path]:
    """Every ``*.parquet`` table of a results folder as ``<out>/<name>.csv`` (UTF-8 with BOM so spreadsheet
    programs read Hangul; default ``out``: ``DIR/csv``). Returns the files written, sorted by name."""
    folder = Path(folder)
    tables = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not tables:
        raise InputError(str(folder), "", "no tables to export (expected a results folder with *.parquet)")
    out = Path(out) if out is not None else folder / "csv"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for p in tables:
        target = out / f"{p.stem}.csv"
        pd.read_parquet(p).to_csv(target, index=False, encoding="utf-8-sig")
        written.append(target)
    return written
