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
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from re100sim.simulator.cli import app
from re100sim.simulator.outputs.report import fmt

runner = CliRunner()

# Two years, a Korean-named tenant on a direct PPA and one on the tariff alone.
SCENARIO = {
    "name": "report-test",
    "description": "보고서 시험: two tenants, one direct PPA",
    "start_date": "2026-01-01",
    "years": 2,
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
    """A small Monte Carlo folder in the issue-10 schema (runs.parquet, yearly.parquet, summary.json,
    manifest.json), built from single runs with a sampled PPA price and tariff increase.
    (Switch to ``re100sim mc`` once it is merged.)"""
    tmp = tmp_path_factory.mktemp("mc")
    rng = np.random.default_rng(11)
    rows, yearly = [], []
    for i in range(4):
        price = float(rng.uniform(85, 125))
        pct = float(rng.uniform(0, 6))
        contracts = json.loads(json.dumps(SCENARIO["contracts"]))
        contracts[0]["price"]["price_krw_per_kwh"] = price
        d = _run(tmp, f"run{i}", contracts=contracts, seed=100 + i, years=1, tariff_path={"yearly_pct": pct})
        s = json.loads((d / "summary.json").read_text())
        flat = {"cost.savings_krw": s["cost"]["savings_krw"], "cost.tenant_total_krw": s["cost"]["tenant_total_krw"],
                "re_share_annual": s["re_share_annual"], "re_share_hourly": s["re_share_hourly"], "co2_t": s["co2_t"],
                "adoption.direct_ppa": s["adoption"]["direct_ppa"]}
        rows.append({"run_id": i, "point_id": 0, "status": "ok", "error": None,
                     "contracts[ppa-a].price.price_krw_per_kwh": price, "tariff_path.yearly_pct": pct} | flat)
        y = pd.read_parquet(d / "timeseries_yearly.parquet")
        yearly.append(y[["year", "savings_krw", "re_share_annual", "re_share_hourly", "contracted_mw"]].assign(run_id=i))
    out = tmp / "set"
    out.mkdir()
    runs = pd.DataFrame(rows)
    runs.to_parquet(out / "runs.parquet", index=False)
    pd.concat(yearly).to_parquet(out / "yearly.parquet", index=False)
    kpis = [c for c in runs.columns if c in ("cost.savings_krw", "cost.tenant_total_krw", "re_share_annual",
                                            "re_share_hourly", "co2_t", "adoption.direct_ppa")]
    summary = {"kpis": {k: _percentiles(runs[k].to_numpy(float)) for k in kpis}, "runs": {"ok": 4, "error": 0}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "manifest.json").write_text(json.dumps({"scenario": "report-test", "scenario_sha256": "ab" * 32,
                                                   "sampler": "mc", "root_seed": 11}))
    shutil.copyfile(tmp / "run0.yaml", out / "scenario.yaml")
    return out


def _report(*dirs: Path, out: Path | None = None) -> Path:
    args = ["report", *map(str, dirs)] + (["--out", str(out)] if out else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out or (dirs[0] / ("report.html" if len(dirs) == 1 else "comparison.html"))


# --- without a browser ---------------------------------------------------------------------------------


def test_single_run_report_is_self_contained(runs):
    page = _report(runs["base"]).read_text(encoding="utf-8")
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


def test_hangul_on_the_page_is_in_the_embedded_font(runs):
    """Every Hangul character of the page has a glyph in the embedded NanumGothic subset (no empty boxes)."""
    from fontTools.ttLib import TTFont

    page = _report(runs["base"]).read_text(encoding="utf-8")
    b64 = page.split("url(data:font/ttf;base64,")[1].split(")")[0]
    cmap = TTFont(io.BytesIO(base64.b64decode(b64))).getBestCmap()
    hangul = {c for c in page if 0xAC00 <= ord(c) <= 0xD7A3}
    assert hangul and all(ord(c) in cmap for c in hangul)


def test_figures_have_no_missing_glyphs(runs, recwarn):
    """matplotlib warns "Glyph ... missing from font" when it would draw an empty box."""
    from re100sim.simulator.outputs.report import Folder, run_figures

    run_figures(Folder(runs["base"]))
    assert not [w for w in recwarn if "missing from" in str(w.message)]


def test_figures_and_page_are_deterministic(runs, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _report(runs["base"], out=tmp_path / "a" / "r.html")
    b = _report(runs["base"], out=tmp_path / "b" / "r.html")
    assert a.read_bytes() == b.read_bytes()
    fa, fb = sorted((tmp_path / "a" / "figures").iterdir()), sorted((tmp_path / "b" / "figures").iterdir())
    assert [p.name for p in fa] == [p.name for p in fb] and len(fa) == 7
    for x, y in zip(fa, fb):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_run_with_report_flag_writes_the_page(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO | {"years": 1}, allow_unicode=True), encoding="utf-8")
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
        pytest.skip("chromium missing")  # only outside CI (needs_chromium fails the test in CI instead)
    b = Browser(tmp_path_factory.mktemp("chromium"))
    yield b
    b.close()


@needs_chromium
def test_single_run_page_in_chromium(runs, browser):
    info = _load_and_check(browser, _report(runs["base"]))
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
    assert {"mc_kpi_distributions", "mc_fan_yearly", "mc_kpi_vs_inputs"} <= names
    assert {k["key"]: k["value"] for k in info["kpis"] if not k.get("stat")}["runs.ok"] == "4"


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
