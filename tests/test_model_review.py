"""docs/model-review.md is current, and its measures and verdicts follow the published ranges.

The quick test regenerates the section of the shortest bundled scenario; regenerating the whole
page (every bundled scenario, full horizons: about 1.5 min) is marked slow and runs in CI.
"""
import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("model_review", ROOT / "experiments" / "model_review.py")
mr = importlib.util.module_from_spec(_spec)
sys.modules["model_review"] = mr  # dataclasses look their module up there
_spec.loader.exec_module(mr)


def _section(page: str, name: str) -> str:
    start = page.index(f"\n## {name}\n")
    end = page.find("\n## ", start + 1)
    return page[start:end if end > 0 else None]


def test_review_section_is_current(tmp_path):
    """The page's mixed-complex section (5 years, 5 tenants) equals a fresh run's."""
    fresh = mr.generate(mr.run_all(["mixed-complex"], tmp_path, reuse=False))
    committed = (ROOT / "docs" / "model-review.md").read_text(encoding="utf-8")
    assert _section(committed, "mixed-complex") == _section(fresh, "mixed-complex"), (
        "docs/model-review.md is stale: run `python experiments/model_review.py`"
    )


@pytest.mark.slow
def test_whole_review_page_is_current(tmp_path):
    from re100sim.scenarios import bundled_scenarios

    fresh = mr.generate(mr.run_all(sorted(bundled_scenarios()), tmp_path, reuse=False))
    assert (ROOT / "docs" / "model-review.md").read_text(encoding="utf-8") == fresh


def _outputs(ppa_price: float, rooftop_share_year5: float, from_file: bool = False) -> "mr.Outputs":
    """A hand-made run: tenant t buys 1,000 kWh of PPA energy a month for 2022 at ``ppa_price`` plus a
    40 KRW/kWh network fee, and 9,000 kWh a month from KEPCO at 150 KRW/kWh (energy_mid, no other lines)."""
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    rows = []
    for m in months:
        rows += [(m, "t", "broker", "ppa_energy", 1000.0, "kWh", int(1000 * ppa_price)),
                 (m, "t", "grid", "network_fee", 1000.0, "kWh", 40_000),
                 (m, "t", "kepco", "energy_mid", 9000.0, "kWh", 1_350_000)]
    inv = pd.DataFrame(rows, columns=["month", "payer", "payee", "item", "quantity", "unit", "krw"])
    inv["year"] = 2022
    n = 10
    yearly = pd.DataFrame({"year": range(2022, 2027), "adopters_grid": [n] * 5,
                           "adopters_self_generation": [0, 0, 0, 0, round(rooftop_share_year5 * n)],
                           "contracted_mw": [1.0] * 5, "rooftop_mw": [0.0] * 5})
    tenants = pd.DataFrame({"year": [2022], "agent": ["t"], "savings_krw": [-12_000 * 45]})
    scenario = {"name": "hand", "description": "hand-made", "decisions": {"enabled": True},
                "contracts": [{"tenant": "t"}] if from_file else []}
    summary = {"years": 5, "start_date": "2022-01-01", "tenants": n, "generators": 1, "re_share_annual": 0.1,
               "re_share_hourly": 0.1, "invariants": {"energy_residual_mwh": 0.0}, "adoption": {}}
    return mr.Outputs("hand", summary, scenario, inv, tenants, pd.DataFrame(), yearly, pd.DataFrame())


def _check(review, metric_start):
    return next(c for c in review.checks if c.metric.startswith(metric_start))


def test_ppa_price_and_delivered_cost_are_measured_from_invoices():
    r = mr.review(_outputs(ppa_price=170.0, rooftop_share_year5=0.3))
    price = _check(r, "PPA price signed")
    assert price.model.startswith("170.0 ") and price.verdict == "in range"  # 170 inside 135-185
    delivered = _check(r, "delivered PPA cost")
    # delivered 170 + 40 = 210 vs grid 1,350,000 / 9,000 = 150 KRW/kWh: premium 60 (within 0-70)
    assert delivered.model == "210.0 vs 150.0 (premium 60.0)" and delivered.verdict.startswith("in range")
    # savings -540,000 KRW over 12,000 PPA kWh = -45 KRW/kWh, inside -70..+20
    assert _check(r, "savings per PPA kWh").model == "-45.0"


def test_review_flags_prices_far_outside_and_rooftop_adoption_above_half():
    r = mr.review(_outputs(ppa_price=262.8, rooftop_share_year5=0.6))
    assert _check(r, "PPA price signed").verdict.startswith("FLAG")  # 262.8 > 1.2 x 185
    assert _check(r, "tenants with rooftop PV after 5 years").verdict.startswith("FLAG")  # 60 % > 50 %
    assert "tariff" not in _check(r, "PPA price signed").verdict
    calm = mr.review(_outputs(ppa_price=105.0, rooftop_share_year5=0.4, from_file=True))
    assert _check(calm, "PPA price signed").verdict.startswith("explained by the scenario file")
    assert _check(calm, "tenants with rooftop PV after 5 years").verdict.startswith("plausible")
