"""Reports: one self-contained HTML page per run, per Monte Carlo set and per comparison, checked in a real
browser (Debian's headless Chromium driven over its DevTools protocol), and deterministic figures."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.outputs.report import fmt

runner = CliRunner()

# One year, a Korean-named tenant on a direct PPA and one on the tariff alone.
SCENARIO = {
    "name": "report-test",
    "description": "보고서 시험: two tenants, one direct PPA",
    "start_date": "2026-01-01",
    "years": 1,
    "seed": 7,
    "tenants": [
        {"name": "화신하이스틸", "archetype": "two_shift", "annual_use_mwh": 3000, "peak_kw": 700},
        {"name": "eos", "archetype": "one_shift", "annual_use_mwh": 800, "peak_kw": 350},
    ],
    "generators": [{"name": "남동-pv", "technology": "solar_pv", "capacity_kw": 900}],
    "contracts": [{
        "name": "ppa-a", "generator": "남동-pv", "tenant": "화신하이스틸", "volume": {"kind": "share", "share": 0.7},
        "price": {"kind": "fixed", "price_krw_per_kwh": 105.0}, "term_years": 10,
    }],
}


def _run(tmp: Path, folder: str, **changes) -> Path:
    data = json.loads(json.dumps(SCENARIO)) | changes
    path = tmp / f"{folder}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp / folder)])
    assert result.exit_code == 0, result.output
    return tmp / folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Three runs of the same complex: as is, a cheaper PPA, and the tariff alone."""
    tmp = tmp_path_factory.mktemp("runs")
    cheap = json.loads(json.dumps(SCENARIO["contracts"]))
    cheap[0]["price"]["price_krw_per_kwh"] = 80.0
    return {
        "base": _run(tmp, "base"),
        "cheap": _run(tmp, "cheap", contracts=cheap, name="report-test-cheap"),
        "grid": _run(tmp, "grid", contracts=[], name="report-test-grid"),
    }


def _percentiles(v: np.ndarray) -> dict:
    return {"n": int(len(v)), "mean": float(v.mean()), "sd": float(v.std(ddof=1)),
            **{f"p{q}": float(np.percentile(v, q)) for q in (5, 10, 50, 90, 95)}}


@pytest.fixture(scope="module")
def mc_set(tmp_path_factory) -> Path:
    """A small Monte Carlo folder written by ``re100sim mc`` (4 runs in process) over the test scenario,
    with the PPA price and the yearly tariff increase uncertain."""
    tmp = tmp_path_factory.mktemp("mc")
    scenario = json.loads(json.dumps(SCENARIO)) | {"uncertainty": {"inputs": [
        {"path": "contracts[ppa-a].price.price_krw_per_kwh", "distribution": "uniform", "low": 85, "high": 125},
        {"path": "tariff_path.yearly_pct", "distribution": "uniform", "low": 0, "high": 6}]}}
    path = tmp / "mc.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True), encoding="utf-8")
    out = tmp / "set"
    result = runner.invoke(app, ["mc", str(path), "--runs", "4", "--workers", "1", "--out", str(out), "--seed", "11"])
    assert result.exit_code == 0, result.output
    # A term table and sensitivity indices as `sweep` and `sensitivity` write them (those commands have their own
    # tests in test_sweeps.py), so the set page shows every figure it can.
    grid = [(p, t) for p in (90.0, 105.0, 120.0) for t in (5, 10)]
    pd.DataFrame({"point_id": range(6), "price_krw_per_kwh": [p for p, _ in grid], "term_years": [t for _, t in grid],
                  "p_all_tenants_save": [0.9, 0.95, 0.6, 0.7, 0.2, 0.3],
                  "generator_p10_revenue_krw": [8e7, 9e7, 9.5e7, 1e8, 1.1e8, 1.2e8]}).to_parquet(out / "terms.parquet")
    pd.DataFrame({"kpi": "cost.savings_krw", "input": ["contracts[ppa-a].price.price_krw_per_kwh",
                                                      "tariff_path.yearly_pct"],
                  "S1": [0.7, 0.2], "ST": [0.75, 0.25]}).to_parquet(out / "indices.parquet")
    return out


def _report(*dirs: Path, out: Path | None = None) -> Path:
    args = ["report", *map(str, dirs)] + (["--out", str(out)] if out else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out or (dirs[0] / ("report.html" if len(dirs) == 1 else "comparison.html"))


# --- without a browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_page(runs) -> Path:
    return _report(runs["base"])


def test_single_run_report_is_self_contained(runs, base_page):
    page = base_page.read_text(encoding="utf-8")
    # Nothing to fetch: every src/href is a data URI, and the CSP forbids anything else.
    assert "http://" not in page.replace("http-equiv", "") and "https://" not in page
    for attr in ('src="', "url("):
        for chunk in page.split(attr)[1:]:
            assert chunk.startswith("data:"), chunk[:40]
    names = {p.name for p in (runs["base"] / "figures").iterdir()}
    assert names == {"cost_monthly_by_item.png", "savings_cumulative_by_tenant.svg", "re_coverage_heatmap.svg",
                     "re_share_by_year.svg", "adoption_over_time.svg", "certificate_flows.svg",
                     "generator_revenue_broker_margin.svg"}
    assert page.count("How to read this:") == len(names)
    s = json.loads((runs["base"] / "summary.json").read_text())
    assert "보고서 시험" in page and "화신하이스틸" in page
    manifest = json.loads((runs["base"] / "manifest.json").read_text())
    assert manifest["scenario_sha256"] in page and f"<code>{s['seed']}</code>" in page


def test_hangul_on_the_page_is_in_the_embedded_font(base_page):
    """Every Hangul character of the page has a glyph in the embedded NanumGothic subset (no empty boxes)."""
    from fontTools.ttLib import TTFont

    page = base_page.read_text(encoding="utf-8")
    b64 = page.split("url(data:font/ttf;base64,")[1].split(")")[0]
    cmap = TTFont(io.BytesIO(base64.b64decode(b64))).getBestCmap()
    hangul = {c for c in page if 0xAC00 <= ord(c) <= 0xD7A3}
    assert hangul and all(ord(c) in cmap for c in hangul)


def test_figures_and_page_are_deterministic_with_no_missing_glyph(runs, base_page, tmp_path):
    """A second render gives the same bytes; matplotlib warns "Glyph ... missing from font" when it would
    draw an empty box, and it does not."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = _report(runs["base"], out=tmp_path / "r.html")
    assert not [w for w in caught if "missing from" in str(w.message)]
    assert again.read_bytes() == base_page.read_bytes()
    fa, fb = sorted((runs["base"] / "figures").iterdir()), sorted((tmp_path / "figures").iterdir())
    assert [p.name for p in fa] == [p.name for p in fb] and len(fa) == 7
    for x, y in zip(fa, fb):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_run_with_report_flag_writes_the_page(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o"), "--report"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "report.html").stat().st_size > 10_000


@pytest.mark.parametrize("arg, words", [("nowhere", "no such results folder"), (".", "not a results folder")])
def test_report_of_a_bad_folder_is_one_error_line(tmp_path, arg, words):
    result = runner.invoke(app, ["report", str(tmp_path / arg)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr


# --- in a real browser -------------------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_chromium = pytest.mark.skipif(
    _chromium() is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (apt-get install chromium); CI installs it",
)


class Browser:
    """Headless Chromium over the DevTools protocol (websocket-client), on a loopback port."""

    def __init__(self, tmp: Path):
        import urllib.request

        import websocket

        exe = _chromium()
        assert exe, "chromium is required in CI"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio",
             f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t["type"] == "page"]
                if targets:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.2)
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg["result"]
            self.events.append(msg)

    def wait_for(self, method: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(e.get("method") == method for e in self.events):
            assert time.monotonic() < deadline, f"no {method}"
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _load_and_check(browser: Browser, page: Path) -> dict:
    """Open ``page``; assert no console error and no request but the page itself; return what the page shows."""
    browser.events.clear()
    for domain in ("Page", "Runtime", "Network", "Log"):
        browser.call(f"{domain}.enable")
    url = page.resolve().as_uri()
    browser.call("Page.navigate", url=url)
    browser.wait_for("Page.loadEventFired")
    metrics = browser.call("Page.getLayoutMetrics")["cssContentSize"]
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=int(metrics["height"]) + 10,
                 deviceScaleFactor=1, mobile=False)
    info = browser.call("Runtime.evaluate", returnByValue=True, expression="""(() => ({
        figures: [...document.querySelectorAll('figure img')].map(i => {const r = i.getBoundingClientRect();
            return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height, nw: i.naturalWidth,
                    name: i.closest('figure').dataset.figure, done: i.complete};}),
        kpis: [...document.querySelectorAll('[data-kpi]')].map(e => ({key: e.dataset.kpi, run: e.dataset.run,
            stat: e.dataset.stat, value: e.dataset.value, text: e.textContent.trim()})),
    }))()""")["result"]["value"]
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert not errors, errors
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert [u for u in requests if not u.startswith("data:") and u != url] == [], requests
    assert info["figures"], "no figure on the page"
    for fig in info["figures"]:
        assert fig["done"] and fig["nw"] > 0 and fig["w"] > 50 and fig["h"] > 50, fig
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": fig["x"], "y": fig["y"], "width": fig["w"], "height": fig["h"], "scale": 1})
        import matplotlib.image as mpimg

        px = mpimg.imread(io.BytesIO(base64.b64decode(shot["data"])), format="png")
        rgb = px[..., :3].reshape(-1, 3)
        # Non-blank: more than a background: at least 2 % of pixels differ from white, in several colours.
        assert (rgb.min(axis=1) < 0.9).mean() > 0.02, fig["name"]
        assert len(np.unique((rgb * 15).round(), axis=0)) > 4, fig["name"]
    return info


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if _chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    b = Browser(tmp_path_factory.mktemp("chromium"))
    yield b
    b.close()


@needs_chromium
def test_single_run_page_in_chromium(runs, base_page, browser):
    info = _load_and_check(browser, base_page)
    s = json.loads((runs["base"] / "summary.json").read_text())
    shown = {k["key"]: k for k in info["kpis"]}
    for path in ("cost.savings_krw", "cost.tenant_total_krw", "cost.baseline_grid_only_krw", "re_share_annual",
                 "re_share_hourly", "co2_t", "energy.load_mwh"):
        node = s
        for part in path.split("."):
            node = node[part]
        assert json.loads(shown[path]["value"]) == node, path
        assert shown[path]["text"] == fmt(path, node), path
    assert len(info["figures"]) == 7


@needs_chromium
def test_mc_set_page_in_chromium(mc_set, browser):
    info = _load_and_check(browser, _report(mc_set))
    s = json.loads((mc_set / "summary.json").read_text())
    cells = {(k["key"], k["stat"]): k for k in info["kpis"] if k.get("stat")}
    for kpi, stats in s["kpis"].items():
        for stat in ("n", "mean", "p10", "p50", "p90"):
            assert json.loads(cells[(kpi, stat)]["value"]) == stats[stat], (kpi, stat)
            assert cells[(kpi, stat)]["text"] == (str(stats[stat]) if stat == "n" else fmt(kpi, stats[stat]))
    names = {f["name"] for f in info["figures"]}
    assert names == {"mc_kpi_distributions", "mc_fan_yearly", "mc_kpi_vs_inputs", "mc_term_grid",
                     "mc_sensitivity_indices"}
    plain = {k["key"]: k for k in info["kpis"] if not k.get("stat")}
    assert plain["runs.ok"]["value"] == "4"
    runs = pd.read_parquet(mc_set / "runs.parquet")
    p = float((runs["cost.savings_krw"] > 0).mean())
    assert json.loads(plain["P(cost.savings_krw>0)"]["value"]) == p


@needs_chromium
def test_three_run_comparison_in_chromium(runs, browser, tmp_path):
    out = _report(runs["base"], runs["cheap"], runs["grid"], out=tmp_path / "cmp.html")
    info = _load_and_check(browser, out)
    cells = {(k["key"], k["run"]): k for k in info["kpis"] if k.get("run") is not None}
    for i, name in enumerate(("base", "cheap", "grid")):
        s = json.loads((runs[name] / "summary.json").read_text())
        assert json.loads(cells[("cost.savings_krw", str(i))]["value"]) == s["cost"]["savings_krw"]
        assert cells[("cost.savings_krw", str(i))]["text"] == fmt("cost.savings_krw", s["cost"]["savings_krw"])
    names = [f["name"] for f in info["figures"]]
    assert "compare_headline" in names and "compare_yearly" in names
    assert names.count("cost_monthly_by_item") == 3  # the same figure for each run, side by side
    # The cheaper PPA saves more than the base one; the tariff alone saves nothing.
    sav = [json.loads(cells[("cost.savings_krw", str(i))]["value"]) for i in range(3)]
    assert sav[1] > sav[0] > 0 and sav[2] == 0


# --- invoices, export, data dictionary ------------------------------------------------------------------


def test_invoice_bills_add_up_to_the_yearly_kpis(runs):
    """The monthly statements of a year sum to kpis_tenants.parquet's cost and baseline (computed independently from
    the invoice lines and the baseline ledger), and each KEPCO bill holds exactly that month's KEPCO lines."""
    from re100sim.simulator.outputs.invoice import monthly_statement

    d, tenant = runs["base"], "화신하이스틸"
    kpis = pd.read_parquet(d / "kpis_tenants.parquet")
    row = kpis[(kpis["agent"] == tenant) & (kpis["year"] == 2026)].iloc[0]
    inv = pd.read_parquet(d / "invoices.parquet")
    total = base = 0
    for m in range(1, 13):
        st = monthly_statement(d, tenant, f"2026-{m:02d}")
        total += st.net_cost_krw
        base += st.baseline_krw
        assert st.net_cost_krw == st.total_krw - st.received_krw + st.own_plants_krw
        kepco = inv[(inv["month"] == f"2026-{m:02d}") & (inv["payer"] == tenant) & (inv["payee"] == "KEPCO")]
        assert st.bills[0].payee == "KEPCO" and len(st.bills[0].lines) == len(kepco)
        assert st.bills[0].total_krw == int(kepco["krw"].sum())
        assert st.bills[-1].role == "broker" and set(st.bills[-1].lines["item"]) >= {"ppa_energy", "network_fee"}
    assert total == row["cost_krw"] and base == row["baseline_krw"]


def test_ratchet_month_is_named():
    """Hand-made peaks: August's 900 kW carries into November (a ratchet month within 11 months); October's own
    500 kW peak sets October; 450 kW matches no peak (the contract-power floor)."""
    from re100sim.simulator.outputs.invoice import ratchet_note

    peaks = pd.DataFrame({"month": ["2026-08", "2026-10", "2026-11"], "load_peak_kw": [900.0, 500.0, 480.0],
                          "grid_peak_kw": [850.0, 450.5, 470.0]})
    assert "set by the 2026-08 peak" in ratchet_note(peaks, "2026-11", 900.0)
    assert "this month's peak" in ratchet_note(peaks, "2026-10", 500.0)
    assert "floor" in ratchet_note(peaks, "2026-10", 450.0)
    assert "floor" in ratchet_note(peaks, "2027-08", 900.0)  # 12 months back: outside the window


def test_invoice_names_the_ratchet_month_of_a_run(runs):
    """In the run, October 2026's basic charge is billed on July's higher peak (July is a ratchet month)."""
    from re100sim.simulator.outputs.invoice import monthly_statement

    d, tenant = runs["base"], "화신하이스틸"
    tm = pd.read_parquet(d / "tenant_monthly.parquet").set_index(["agent", "month"])
    st = monthly_statement(d, tenant, "2026-10")
    lines = st.bills[0].lines
    kw = float(lines.loc[lines["item"] == "basic_charge", "quantity"].iloc[0])
    summer = max(tm.loc[(tenant, m), "load_peak_kw"] for m in ("2026-07", "2026-08", "2026-09"))
    assert kw == pytest.approx(summer, rel=1e-9) and kw > tm.loc[(tenant, "2026-10"), "load_peak_kw"]
    ratchet = next(m for m in ("2026-09", "2026-08", "2026-07") if tm.loc[(tenant, m), "load_peak_kw"] == summer)
    assert f"set by the {ratchet} peak" in st.billing_note
    # The accountant's check of the same bill: fund and VAT are levied on the electricity charge
    # (energy + basic + climate + fuel lines; 2026-10 in this run: 7,755,520 + 6,701,243 + 8,130,006 + 5,679,565
    # + 1,540,197 + 855,665 = 30,662,196 KRW), VAT at 10 % (3,066,220 KRW, won-rounded).
    by = lines.set_index("item")
    charge = int(by.loc[["energy_light", "energy_mid", "energy_peak", "basic_charge", "climate_environment",
                         "fuel_cost_adjustment"], "krw"].sum())
    assert by.loc["vat", "quantity"] == by.loc["power_industry_fund", "quantity"] == charge
    assert abs(by.loc["vat", "krw"] - 0.10 * charge) <= 1 and by.loc["vat", "rate_krw_per_unit"] == pytest.approx(0.1, abs=1e-7)


def test_invoice_cli_prints_writes_html_and_rejects_bad_input(runs, tmp_path):
    d = runs["base"]
    ok = runner.invoke(app, ["invoice", str(d), "--tenant", "화신하이스틸", "--month", "2026-10",
                             "--html", str(tmp_path / "bill.html")])
    assert ok.exit_code == 0, ok.output
    from re100sim.simulator.outputs.invoice import monthly_statement

    st = monthly_statement(d, "화신하이스틸", "2026-10")
    assert "KEPCO bill" in ok.output and "PPA energy" in ok.output and "ratchet month" in ok.output
    assert f"{st.total_krw:,}" in ok.output and f"{st.baseline_krw:,}" in ok.output
    assert "data-total" in (tmp_path / "bill.html").read_text(encoding="utf-8")
    for args, words in ((["--tenant", "nobody", "--month", "2026-10"], "--tenant: no tenant 'nobody'"),
                        (["--tenant", "eos", "--month", "2031-01"], "--month: '2031-01' is not a billed month"),
                        (["--tenant", "eos", "--month", "26-1"], "--month: '26-1'")):
        bad = runner.invoke(app, ["invoice", str(d), *args])
        assert bad.exit_code == 2
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {d}: ") and words in lines[0], bad.stderr


def test_export_csv_writes_every_table(runs, tmp_path):
    d = runs["base"]
    result = runner.invoke(app, ["export", str(d), "--csv", "--out", str(tmp_path / "csv")])
    assert result.exit_code == 0, result.output
    tables = sorted(p.stem for p in d.glob("*.parquet"))
    assert sorted(p.stem for p in (tmp_path / "csv").glob("*.csv")) == tables
    for name in tables:
        frame = pd.read_parquet(d / f"{name}.parquet")
        back = pd.read_csv(tmp_path / "csv" / f"{name}.csv", encoding="utf-8-sig")
        assert list(back.columns) == list(frame.columns) and len(back) == len(frame), name


def test_output_tables_use_month_strings_and_integer_krw(runs):
    for p in runs["base"].glob("*.parquet"):
        frame = pd.read_parquet(p)
        assert "month_key" not in frame.columns, p.name
        if "month" in frame.columns and len(frame):
            assert frame["month"].astype(str).str.fullmatch(r"\d{4}-\d{2}").all(), p.name
        for c in frame.columns:
            if c.endswith("_krw") and len(frame):
                assert pd.api.types.is_integer_dtype(frame[c]), (p.name, c)


def _documented(doc: str, batteries: bool = False) -> dict[str, set[str]]:
    """``{file: {columns}}`` from docs/outputs.md: each ``### `file` `` heading, then its table's first column
    (rows whose meaning starts "with batteries:" only with ``batteries``)."""
    out, current = {}, None
    for line in doc.splitlines():
        if line.startswith("### `"):
            current = line.split("`")[1]
            out[current] = set()
        elif current and line.startswith("| `") and (batteries or "| with batteries:" not in line):
            out[current].add(line.split("`")[1])
    return out


def test_data_dictionary_matches_the_files_a_run_writes(runs):
    doc = _documented((Path(__file__).resolve().parents[1] / "docs" / "outputs.md").read_text(encoding="utf-8"))
    d = runs["base"]
    written = {p.name for p in d.iterdir() if p.is_file() and p.suffix in (".parquet", ".json")}
    assert written <= set(doc), written - set(doc)
    for name in sorted(written):
        if name.endswith(".parquet"):
            assert set(pd.read_parquet(d / name).columns) == doc[name], name
    def keys(node, prefix=""):
        for k, v in node.items():
            yield from keys(v, f"{prefix}{k}.") if isinstance(v, dict) and k != "package_versions" else [prefix + k]
    for name in ("summary.json", "manifest.json"):
        assert set(keys(json.loads((d / name).read_text()))) <= doc[name], name
