"""One tenant's bills for one month, as a factory's accountant reads them (``re100sim invoice``).

Built from a run folder's tables only: ``invoices.parquet`` (every line, payer -> payee), ``tenant_monthly.parquet``
(metered peaks and the grid-only baseline), ``certificates.parquet`` and ``kpis_*.parquet`` (who the utility and the
broker are). Each payee the tenant paid gets its own bill (KEPCO, the broker's PPA bill, then any other payee);
lines whose item is not known are shown under their own name, so new invoice items (separate VAT lines,
own-plant capital and O&M) appear without code changes.

The billing-demand ratchet (docs/domain.md#bill-structure): the basic charge is billed on the highest of this
month's peak, the peaks of the ratchet months (Dec-Feb, Jul-Sep) of the last 11 months, and a floor share of
contract power; the month whose peak set the billed kW is named when the folder's peaks show it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from re100sim.simulator.errors import InputError
from re100sim.simulator.outputs.results import agent_roles

RATCHET_MONTHS = (12, 1, 2, 7, 8, 9)  # docs/domain.md#bill-structure
LINE_LABELS = {
    "energy_light": "energy, light-load hours (경부하)",
    "energy_mid": "energy, mid-load hours (중간부하)",
    "energy_peak": "energy, peak-load hours (최대부하)",
    "basic_charge": "basic charge on billing demand (기본요금)",
    "climate_environment": "climate & environment charge (기후환경요금)",
    "fuel_cost_adjustment": "fuel cost adjustment (연료비조정요금)",
    "green_tariff_energy": "green tariff premium (녹색프리미엄/녹색요금)",
    "power_industry_fund": "electric power industry fund (전력산업기반기금)",
    "vat": "VAT (부가가치세)",
    "ppa_energy": "PPA energy",
    "network_fee": "network (transmission & distribution) fee",
    "broker_fee": "broker fee",
    "curtailment_compensation": "curtailment compensation",
    "green_premium": "green premium",
    "net_metering_credit_kwh": "net-metering credit (kWh offset, no charge)",
}
# Lines of a bill in the order an invoice prints them; unknown items follow in booking order, VAT last.
LINE_ORDER = ("energy_light", "energy_mid", "energy_peak", "basic_charge", "climate_environment",
              "fuel_cost_adjustment", "green_tariff_energy", "net_metering_credit_kwh", "ppa_energy",
              "curtailment_compensation", "network_fee", "broker_fee", "power_industry_fund")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Bill:
    payee: str
    role: str  # "utility", "broker", or the payee's agent type
    lines: pd.DataFrame  # item, description, quantity, unit, rate_krw_per_unit, krw

    @property
    def total_krw(self) -> int:
        return int(self.lines["krw"].sum())


@dataclass
class Statement:
    folder: Path
    tenant: str
    month: str
    bills: list[Bill]
    receipts: pd.DataFrame  # lines paid to the tenant
    certificates: pd.DataFrame  # kind, source, status, mwh
    baseline_krw: int
    net_cost_krw: int  # tenant_monthly.cost_krw: payments - receipts, own plants' accounts included
    billing_note: str
    notes: list[str] = field(default_factory=list)

    @property
    def total_krw(self) -> int:
        return sum(b.total_krw for b in self.bills)

    @property
    def received_krw(self) -> int:
        return int(self.receipts["krw"].sum()) if len(self.receipts) else 0

    @property
    def own_plants_krw(self) -> int:
        """Own plants' capital, O&M and VAT net of their sales: what the net cost adds to the tenant's own account."""
        return self.net_cost_krw - (self.total_krw - self.received_krw)

    @property
    def savings_krw(self) -> int:
        return self.baseline_krw - self.net_cost_krw


def _table(folder: Path, name: str) -> pd.DataFrame:
    p = folder / f"{name}.parquet"
    if not p.exists():
        raise InputError(str(folder), name, f"no {name}.parquet (a folder written by re100sim run)")
    return pd.read_parquet(p)


def ratchet_note(peaks: pd.DataFrame, month: str, billing_kw: float) -> str:
    """Which metered peak set ``billing_kw`` in ``month``: this month's, a ratchet month's (named), or the floor.

    ``peaks``: the tenant's rows of tenant_monthly (month, load_peak_kw, grid_peak_kw)."""
    def hit(row) -> bool:
        return any(abs(row[c] - billing_kw) <= 1e-6 * max(1.0, billing_kw) for c in ("load_peak_kw", "grid_peak_kw")
                   if c in row and pd.notna(row[c]))

    p = peaks.set_index("month")
    if month in p.index and hit(p.loc[month]):
        return f"billing demand {billing_kw:,.1f} kW = this month's peak"
    y, m = int(month[:4]), int(month[5:])
    for back in range(1, 12):  # the most recent ratchet month first
        k = y * 12 + m - 1 - back
        label = f"{k // 12:04d}-{k % 12 + 1:02d}"
        if k % 12 + 1 in RATCHET_MONTHS and label in p.index and hit(p.loc[label]):
            return f"billing demand {billing_kw:,.1f} kW set by the {label} peak (ratchet month)"
    return f"billing demand {billing_kw:,.1f} kW = the floor share of contract power (no metered peak that high)"


def _lines(rows: pd.DataFrame) -> pd.DataFrame:
    rank = {item: i for i, item in enumerate(LINE_ORDER)}
    items = rows["item"].astype(str)
    order = items.map(lambda it: len(LINE_ORDER) + 1 if "vat" in it else rank.get(it, len(LINE_ORDER)))
    d = pd.DataFrame({
        "item": items.to_numpy(), "description": items.map(lambda it: LINE_LABELS.get(it, it.replace("_", " "))).to_numpy(),
        "quantity": rows["quantity"].to_numpy(), "unit": rows["unit"].astype(str).to_numpy(),
        "krw": rows["krw"].to_numpy().astype("int64"), "order": order.to_numpy(),
    })
    d = d.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)
    q = d["quantity"]
    d["rate_krw_per_unit"] = (d["krw"] / q.where(q > 0)).round(6)  # a charge on KRW (fund, VAT): a fraction
    return d


def rate_text(unit: str, rate: float) -> str:
    """The rate column: KRW per kWh / kW, or a percentage for a charge levied on KRW (fund, VAT)."""
    if pd.isna(rate):
        return ""
    return f"{rate:.2%}" if unit == "KRW" else f"{rate:,.2f}"


def monthly_statement(folder: Path, tenant: str, month: str) -> Statement:
    folder = Path(folder)
    if not (folder / "invoices.parquet").exists():
        raise InputError(str(folder), "", "not a run folder (expected invoices.parquet from re100sim run)")
    role = agent_roles(folder)
    tenants = sorted(a for a, kind in role.items() if kind == "tenant")
    if tenant not in tenants:
        shown = ", ".join(tenants[:8]) + (", ..." if len(tenants) > 8 else "")
        raise InputError(str(folder), "--tenant", f"no tenant '{tenant}' in this run (expected one of: {shown})")
    inv = _table(folder, "invoices")
    months = sorted(inv["month"].astype(str).unique())
    if not MONTH.match(month) or month not in months:
        raise InputError(str(folder), "--month", f"'{month}' is not a billed month (expected YYYY-MM from {months[0]} "
                                                 f"to {months[-1]})")
    mine = inv[(inv["month"].astype(str) == month)]
    paid = mine[mine["payer"].astype(str) == tenant]
    rank = {"utility": 0, "broker": 1}
    payees = sorted(paid["payee"].astype(str).unique(), key=lambda p: (rank.get(role.get(p, ""), 2), p))
    bills = [Bill(p, role.get(p, "other"), _lines(paid[paid["payee"].astype(str) == p])) for p in payees]
    got = mine[mine["payee"].astype(str) == tenant]
    receipts = _lines(got).assign(payer=got["payer"].astype(str).to_numpy()) if len(got) else _lines(got)
    tm = _table(folder, "tenant_monthly")
    tm = tm[tm["agent"].astype(str) == tenant]
    row = tm[tm["month"].astype(str) == month]
    paid_net = int(paid["krw"].sum()) - int(got["krw"].sum())
    net = int(row["cost_krw"].sum()) if "cost_krw" in row else paid_net
    basic = next((b.lines for b in bills if "basic_charge" in set(b.lines["item"])), None)
    note = ""
    if basic is not None:
        kw = float(basic.loc[basic["item"] == "basic_charge", "quantity"].iloc[0])
        note = ratchet_note(tm.assign(month=tm["month"].astype(str)), month, kw)
    certs = _table(folder, "certificates")
    own = certs[(certs["month"].astype(str) == month)
                & ((certs["owner"].astype(str) == tenant) | (certs["claimant"].astype(str) == tenant))]
    cert = (own.groupby([own["kind"].astype(str), own["source"].astype(str), own["status"].astype(str)])["mwh"].sum()
            .rename_axis(["kind", "source", "status"]).reset_index())
    return Statement(folder, tenant, month, bills, receipts, cert, int(row["baseline_krw"].sum()), net, note)


# --- presentation ------------------------------------------------------------------------------------------


def _net_rows(st: Statement) -> list[tuple[str, int]]:
    """From the bills paid to the net cost and the saving (docs/outputs.md, tenant_monthly.cost_krw)."""
    rows = []
    if st.received_krw:
        rows.append(("received by the tenant (deducted)", -st.received_krw))
    if st.own_plants_krw:
        rows.append(("own plants: capital, O&M and VAT net of their sales", st.own_plants_krw))
    return rows + [("net cost", st.net_cost_krw), ("grid-only KEPCO bill for the same load", st.baseline_krw),
                   ("savings (grid-only - net cost)", st.savings_krw)]


def statement_tables(st: Statement) -> list:
    """rich Tables: one per bill, then receipts, certificates and the total against grid-only."""
    from rich.table import Table

    out = []
    for b in st.bills:
        who = {"utility": "KEPCO bill", "broker": "PPA bill (via the broker)"}.get(b.role, "bill")
        t = Table(title=f"{who}: {b.payee} -> {st.tenant}, {st.month}", title_justify="left")
        for c, j in (("line", "left"), ("quantity", "right"), ("unit", "left"), ("rate, KRW/unit or %", "right"),
                     ("KRW", "right")):
            t.add_column(c, justify=j)
        for r in b.lines.itertuples():
            t.add_row(r.description, f"{r.quantity:,.1f}", r.unit, rate_text(r.unit, r.rate_krw_per_unit), f"{r.krw:,}")
        t.add_row("[bold]total[/bold]", "", "", "", f"[bold]{b.total_krw:,}[/bold]")
        if b.role == "utility" and st.billing_note:
            t.caption = st.billing_note
        out.append(t)
    if len(st.receipts):
        t = Table(title="paid to the tenant", title_justify="left")
        for c in ("line", "from", "quantity", "unit", "KRW"):
            t.add_column(c)
        for r in st.receipts.itertuples():
            t.add_row(r.description, r.payer, f"{r.quantity:,.1f}", r.unit, f"{r.krw:,}")
        out.append(t)
    t = Table(title="certificates of this month's vintage (generation month) held or retired by the tenant", title_justify="left")
    for c in ("kind", "source", "status", "MWh"):
        t.add_column(c)
    for r in st.certificates.itertuples():
        t.add_row(r.kind, r.source, r.status, f"{r.mwh:,.3f}")
    if not len(st.certificates):
        t.add_row("none", "", "", "0")
    out.append(t)
    t = Table(title=f"{st.tenant}, {st.month}: total against grid-only", title_justify="left")
    t.add_column("")
    t.add_column("KRW", justify="right")
    for b in st.bills:
        t.add_row(f"{b.payee} ({b.role})", f"{b.total_krw:,}")
    t.add_row("[bold]total paid[/bold]", f"[bold]{st.total_krw:,}[/bold]")
    for label, krw in _net_rows(st):
        t.add_row(label, f"{krw:,}")
    out.append(t)
    return out


def statement_html(st: Statement) -> str:
    """The same bills as a self-contained HTML page (re100sim.simulator.outputs.report.page)."""
    from re100sim.simulator.outputs.report import _esc, page

    parts = [f"<h1>{_esc(st.tenant)}: bills for {_esc(st.month)}</h1><p class=\"meta\">run folder "
             f"<code>{_esc(st.folder.name)}</code></p>"]
    for b in st.bills:
        who = {"utility": "KEPCO bill", "broker": "PPA bill (via the broker)"}.get(b.role, "bill")
        rows = "".join(
            f"<tr><td>{_esc(r.description)}</td><td class=\"num\">{r.quantity:,.1f}</td><td>{_esc(r.unit)}</td>"
            f"<td class=\"num\">{rate_text(r.unit, r.rate_krw_per_unit)}</td>"
            f"<td class=\"num\" data-item=\"{_esc(r.item)}\">{r.krw:,}</td></tr>" for r in b.lines.itertuples())
        note = f"<p class=\"meta\">{_esc(st.billing_note)}</p>" if b.role == "utility" and st.billing_note else ""
        parts.append(f"<h2>{who}: {_esc(b.payee)}</h2><table><tr><th>line</th><th>quantity</th><th>unit</th>"
                     f"<th>rate, KRW/unit or %</th><th>KRW</th></tr>{rows}<tr><th>total</th><td></td><td></td><td></td>"
                     f"<td class=\"num\"><b>{b.total_krw:,}</b></td></tr></table>{note}")
    certs = "".join(f"<tr><td>{_esc(r.kind)}</td><td>{_esc(r.source)}</td><td>{_esc(r.status)}</td>"
                    f"<td class=\"num\">{r.mwh:,.3f}</td></tr>" for r in st.certificates.itertuples())
    parts.append("<h2>Certificates</h2><table><tr><th>kind</th><th>source</th><th>status</th><th>MWh</th></tr>"
                 + (certs or "<tr><td colspan=4>none</td></tr>") + "</table>")
    rows = "".join(f"<tr><td>{_esc(label)}</td><td class=\"num\">{krw:,}</td></tr>" for label, krw in _net_rows(st))
    parts.append(f"<h2>Total against grid-only</h2><table><tr><td>total paid</td><td class=\"num\" data-total>"
                 f"{st.total_krw:,}</td></tr>{rows}</table>")
    return page(f"{st.tenant} {st.month}", "".join(parts))
