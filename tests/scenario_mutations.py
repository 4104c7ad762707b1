"""Mutated scenarios for the bad-input property tests (tests/test_bad_input.py).

A case is a bundled scenario, shortened to one year and at most three tenants per group (so a
run takes about a second), with one mutation: a value replaced by a wrong type, a non-finite or
extreme number, a boolean, an impossible date, an unsafe, blank, duplicated or reserved name, a
missing reference, a missing, malformed or full-horizon file, a removed or unknown key, or a key
given twice. :func:`check_case` runs ``validate`` and ``run`` on it and asserts the promise of
issue 9: either both succeed (run to the end, residuals ~0, strict JSON), or both print exactly one
``error:`` line, exit 2, no traceback and no folder.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import yaml
from hypothesis import strategies as st
from typer.testing import CliRunner

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.cli import app
from re100sim.simulator.scenario.config import load_scenario_data

RUNNER = CliRunner()
HOURS_2026 = 8760

NUMBERS = [float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 1e30, 0, -1, -500, 0.5, 1e9, 10**30, 2]
OTHER_VALUES = [True, False, "abc", "", None, [], {}, {"distribution": "lognormal", "mean": 1000, "cv": 0},
                {"distribution": "gamma", "mean": 1}, {"distribution": "uniform", "low": 5, "high": 1}]
DATES = ["2025-02-30", "2025-13-01", "2019-01-01", "2070-01-01", "2026-01-15", "2040-01-01", "2026-02-01"]
NAMES = ["KEPCO", "market", "korea_energy_agency", "KT", "broker", " ", "", "a/b", "..", "x y", "complex-pv-2030",
         "nobody", "ÄÖ"]
FILES = ["missing.csv", "bad.csv", "short.csv", "horizon.csv", "folder", "history_bad.csv", "history_ok.csv"]


def bundled_cases() -> dict[str, dict]:
    """Each bundled scenario as data, shortened (1 year, at most 3 tenants per group)."""
    out = {}
    for name, path in bundled_scenarios().items():
        data = load_scenario_data(path)
        data["years"] = 1
        for t in data["tenants"]:
            if t.get("count", 1) > 3:
                t["count"] = 3
        out[name] = data
    return out


BASES = bundled_cases()


def leaves(node, loc=()) -> list[tuple]:
    """Every location in a YAML tree (mappings, lists and scalars)."""
    out = [loc] if loc else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += leaves(v, (*loc, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += leaves(v, (*loc, i))
    return out


def _set(data, loc, value):
    node = data
    for part in loc[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[loc[-1]]
    else:
        node[loc[-1]] = value


_DELETE = object()


def write_files(folder: Path, years: int = 1) -> None:
    """The files a mutation may point at (relative to the scenario file)."""
    (folder / "bad.csv").write_text("kw\n1\nabc\n", encoding="utf-8")
    (folder / "short.csv").write_text("kw\n" + "100\n" * 100, encoding="utf-8")
    (folder / "horizon.csv").write_text("kw\n" + "250\n" * (HOURS_2026 * years), encoding="utf-8")
    (folder / "folder").mkdir(exist_ok=True)
    (folder / "history_bad.csv").write_text("period,value\n2024-01,x\n", encoding="utf-8")
    (folder / "history_ok.csv").write_text(
        "period,smp_krw_per_kwh,rec_krw_per_rec,kind,in_path,source\n"
        "2024-01,130,60000,monthly,1,test\n2025-01,120,70000,monthly,1,test\n", encoding="utf-8")


@st.composite
def cases(draw) -> tuple[str, str]:
    """``(description, YAML text)`` of one mutated scenario."""
    base = draw(st.sampled_from(sorted(BASES)))
    data = json.loads(json.dumps(BASES[base]))
    kind = draw(st.sampled_from(["value", "value", "value", "scale", "scale", "name", "date", "file", "delete",
                                 "unknown_key", "duplicate_key", "duplicate_item", "reference"]))
    locs = leaves(data)
    if kind == "duplicate_key":
        key = draw(st.sampled_from(["years", "seed", "name", "start_date"]))
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True) + f"{key}: {json.dumps(data[key])}\n"
        return f"{base}: {key} twice", text
    if kind == "value":
        loc = draw(st.sampled_from(locs))
        value = draw(st.sampled_from(NUMBERS + OTHER_VALUES))
    elif kind == "scale":  # a number made extreme but often still in range: runs must survive it
        numeric = [x for x in locs if type(_get(data, x)) in (int, float)]
        loc = draw(st.sampled_from(numeric or locs))
        factor = draw(st.sampled_from([1e-3, 0.1, 10, 1e3, 1e6]))
        value = _get(data, loc) * factor if numeric else None
    elif kind == "name":
        loc = draw(st.sampled_from([x for x in locs if x[-1] == "name"] or locs))
        value = draw(st.sampled_from(NAMES + _names(data)))
    elif kind == "reference":
        loc = draw(st.sampled_from([x for x in locs if x[-1] in ("tenant", "generator", "host_tenant")] or locs))
        value = draw(st.sampled_from(["nobody", *_names(data)]))
    elif kind == "date":
        loc = draw(st.sampled_from([("start_date",), ("contracts", 0, "start_date"), ("tariff_path", "yearly_from"),
                                    ("policy", "plan_year")]))
        value = draw(st.sampled_from(DATES + [2026, 1990]))
    elif kind == "file":
        loc = draw(st.sampled_from([("tenants", 0, "load_file"), ("markets", "smp", "history_csv"),
                                    ("markets", "rec", "history_csv")]))
        value = draw(st.sampled_from(FILES))
    elif kind == "delete":
        loc = draw(st.sampled_from(locs))
        value = _DELETE
    elif kind == "unknown_key":
        loc = (*draw(st.sampled_from([x for x in locs if isinstance(_get(data, x), dict)] or [()])), "colour")
        value = "blue"
    else:  # duplicate_item: a list entry twice (duplicate names, shares over 1...)
        loc = draw(st.sampled_from([x for x in locs if isinstance(_get(data, x), list) and _get(data, x)] or locs))
        value = [*_get(data, loc), _get(data, loc)[0]] if isinstance(_get(data, loc), list) else None
    try:
        _ensure(data, loc)
        _set(data, loc, value)
    except (KeyError, IndexError, TypeError):
        pass
    shown = "delete" if value is _DELETE else repr(value)[:60]
    return f"{base}: {'.'.join(map(str, loc))} = {shown}", yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _get(data, loc):
    for part in loc:
        data = data[part]
    return data


def _ensure(data, loc):
    """Create the mappings on the way to ``loc`` (a mutation may add a key to an absent section)."""
    node = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part not in node:
            node[part] = {}
        node = node[part]


def _names(data) -> list[str]:
    return [x["name"] for section in ("tenants", "generators", "contracts") for x in data.get(section, [])
            if isinstance(x, dict) and "name" in x]


def _strict_json(path: Path):
    def reject(token):
        raise AssertionError(f"{path}: non-standard JSON constant {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def check_case(folder: Path, text: str) -> str:
    """Validate and run one scenario text in ``folder``; assert the promise; return "ok" or "rejected"."""
    write_files(folder)
    scenario = folder / "scenario.yaml"
    scenario.write_text(text, encoding="utf-8")
    before = sorted(p.name for p in folder.iterdir())
    checked = RUNNER.invoke(app, ["validate", str(scenario)])
    ran = RUNNER.invoke(app, ["run", str(scenario), "--out", str(folder / "out" / "run")])
    for result in (checked, ran):
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"uncaught {result.exception!r}\n{result.output}")
        assert "Traceback" not in result.output
    if checked.exit_code == 0:
        assert ran.exit_code == 0, f"validate ok but run failed:\n{ran.output}"
        summary = _strict_json(folder / "out" / "run" / "summary.json")
        _strict_json(folder / "out" / "run" / "manifest.json")
        inv = summary["invariants"]
        load = summary["energy"]["load_mwh"]
        assert abs(inv["energy_residual_mwh"]) <= 1e-6 + 1e-9 * load, inv
        assert abs(inv["certificate_residual"]) <= 1e-6 + 1e-9 * load, inv
        assert abs(inv["money_residual_krw"]) <= 1.0, inv
        assert all(math.isfinite(v) for v in summary["energy"].values())
        return "ok"
    for result in (checked, ran):
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {scenario}: "), result.stderr
    assert checked.stderr == ran.stderr, (checked.stderr, ran.stderr)
    assert sorted(p.name for p in folder.iterdir()) == before, "run left something behind"
    return "rejected"
