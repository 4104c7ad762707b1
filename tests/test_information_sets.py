"""Decisions use only what is known at their time (docs/decisions.md#information-set).

Each test changes one input dated after a decision time and checks that every decision and
every invoice line dated before the change is identical, and that the change does matter later.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

import re100sim.simulator.scenario.year_inputs as year_inputs_module
from re100sim.simulator.engine import ComplexModel
from re100sim.simulator.inputs.calendar import build_calendar
from re100sim.simulator.inputs.tariffs import (
    TariffIncrease,
    TariffPath,
    hourly_rates,
    known_path,
    known_table,
    load_table,
)
from re100sim.simulator.market.forecast import trailing_mean
from re100sim.simulator.run import prepare

# A small complex where every tenant is aware, so decisions happen every year.
COMPLEX = {
    "name": "info", "start_date": "2022-01-01", "years": 3, "seed": 11,
    "tenants": [{"name": "f", "count": 8, "archetype": "two_shift",
                 "annual_use_mwh": {"distribution": "uniform", "low": 2000, "high": 6000},
                 "contract_kw": {"distribution": "uniform", "low": 400, "high": 1500},
                 "behaviour": {"roof_area_m2": {"distribution": "uniform", "low": 300, "high": 3000},
                               "awareness": 1.0}}],
    "generators": [{"name": "pv", "capacity_kw": 4000, "owner": "public"},
                   {"name": "pv2", "capacity_kw": 3000, "owner": "private"}],
    "decisions": {"enabled": True},
}


def run_model(tmp_path, data: dict, tag: str):
    """Run ``data``; return (decisions by year start, invoices, model). A decision snapshot is
    each tenant's option and every contract / plant in place after the round."""
    path = tmp_path / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    sc, tenants = prepare(path)
    decisions = {}

    def snapshot(k):
        start = model.blocks[k][0]
        decisions[start] = (
            [t.option for t in model.tenants],
            sorted(c.model_dump_json() for c in model.contracts),
            sorted(g.spec.model_dump_json() for g in model.generators),
            sorted(p.model_dump_json() for p in model.premiums + model.rec_targets),
            dict(model.subscriptions),
        )

    model = ComplexModel(sc, tenants, on_year=snapshot)
    model.run()
    return decisions, model.ledger.invoices(), model


def lines_before(inv: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Invoice lines of months that end before ``day`` (booking order kept)."""
    months = pd.PeriodIndex(inv["month"].astype(str), freq="M")
    keep = months.end_time.date < day
    return inv[keep].reset_index(drop=True).astype({c: str for c in ("payer", "payee", "item", "month")})


def assert_same_before(a, b, change: dt.date):
    (dec_a, inv_a, _), (dec_b, inv_b, _) = a, b
    before = [d for d in dec_a if d <= change]
    assert before, "no decision before the change: the test would prove nothing"
    for d in before:
        assert dec_a[d] == dec_b[d], f"decision at {d} saw an input dated {change}"
    pd.testing.assert_frame_equal(lines_before(inv_a, change), lines_before(inv_b, change))
    assert len(lines_before(inv_a, change)) > 0
    # ... and the change does matter afterwards (else the test could not fail).
    assert len(inv_a) != len(inv_b) or not np.array_equal(inv_a["krw"].to_numpy(), inv_b["krw"].to_numpy())


def test_unannounced_tariff_step_is_not_seen_before_its_date(tmp_path):
    # +25 % on 2023-06-01, announced on that day (default): the 2022-01-01 and 2023-01-01 rounds
    # and every invoice of Jan 2022 - May 2023 must be identical to a run without it.
    base = run_model(tmp_path, COMPLEX, "base")
    data = dict(COMPLEX, tariff_path={"increases": [{"date": "2023-06-01", "pct": 25.0}]})
    shock = run_model(tmp_path, data, "shock")
    assert_same_before(base, shock, dt.date(2023, 6, 1))
    # The 2024-01-01 round knows the step: the observed 2023 average price is higher.
    assert shock[2].history.tariff_krw_per_kwh[1][0] > base[2].history.tariff_krw_per_kwh[1][0]


def test_smp_level_from_a_later_date_is_not_seen(tmp_path):
    # The SMP drift applies only after the last history point (2026-06): months from 2026-07 differ.
    data = dict(COMPLEX, start_date="2025-01-01", years=2)
    base = run_model(tmp_path, data, "base")
    moved = json_copy(data)
    moved["markets"] = {"smp": {"yearly_drift_pct": 40.0}}
    other = run_model(tmp_path, moved, "moved")
    assert_same_before(base, other, dt.date(2026, 7, 1))


def test_other_realised_solar_draw_for_later_years_is_not_seen(tmp_path, monkeypatch):
    # Same solar model, another weather stream from the second year on: the rounds at 2022-01-01
    # and 2023-01-01 (before any 2023 weather) and every 2022 invoice line are identical.
    base = run_model(tmp_path, COMPLEX, "base")
    original = year_inputs_module.solar_kw_per_kw

    def other_weather(seed, k, *args):
        return original(seed + 1000 if k >= 1 else seed, k, *args)

    monkeypatch.setattr(year_inputs_module, "solar_kw_per_kw", other_weather)
    other = run_model(tmp_path, COMPLEX, "other")
    assert_same_before(base, other, dt.date(2023, 1, 1))
    assert base[0][dt.date(2023, 1, 1)] == other[0][dt.date(2023, 1, 1)]


def json_copy(d):
    return yaml.safe_load(yaml.safe_dump(d))


# --- the information set's parts, hand-worked ----------------------------------------------


def test_known_table_holds_versions_until_announced():
    """산업용(을) 고압A 선택Ⅱ, June 2023, summer light hour (02:00 on a weekday). Realised: the
    2023-05-16 version. Known on 2023-01-01 (the 2023-01-01 step announced 2022-12-30, the
    2023-05-16 step not yet): 8.0 KRW/kWh less (docs/domain.md#tariff-increases row 2023-05-16)."""
    table = load_table("kepco_industrial")
    cal = build_calendar(dt.date(2023, 6, 1), dt.date(2023, 6, 2))
    realised = hourly_rates(cal, table, "eul_high_a_ii").energy_krw_per_kwh[2]
    known = hourly_rates(cal, known_table(table, dt.date(2023, 1, 1)), "eul_high_a_ii").energy_krw_per_kwh[2]
    # 2024-10-24 light 110.9 - 16.9 - 6.7 = 87.3 realised in June 2023 (domain.md#tariff-tables); known 87.3 - 8.0.
    assert realised == pytest.approx(87.3) and known == pytest.approx(79.3)
    # On 2022-12-31 the 2023-01-01 step (announced 2022-12-30) is already known: 79.3 in June.
    known_eve = hourly_rates(cal, known_table(table, dt.date(2022, 12, 31)), "eul_high_a_ii").energy_krw_per_kwh[2]
    assert known_eve == pytest.approx(79.3)
    # On 2022-12-29 it is not: 79.3 - 11.4 = 67.9.
    known_before = hourly_rates(cal, known_table(table, dt.date(2022, 12, 29)), "eul_high_a_ii").energy_krw_per_kwh[2]
    assert known_before == pytest.approx(67.9)


def test_known_path_counts_steps_from_their_announcement():
    path = TariffPath(increases=[TariffIncrease(date=dt.date(2025, 7, 1), pct=10.0, announced=dt.date(2025, 3, 1)),
                                 TariffIncrease(date=dt.date(2025, 9, 1), energy_krw_per_kwh=5.0)],
                      yearly_pct=2.0, yearly_from=dt.date(2025, 1, 1))
    on = known_path(path, dt.date(2025, 4, 1), dt.date(2027, 1, 1))
    # Known: the 2025-01-01 yearly step (applied) and the July step (announced in March); not
    # the September step (announced on its date) nor the 2026-01-01 yearly step (a projection).
    assert [(i.date, i.pct, i.energy_krw_per_kwh) for i in on.increases] == [
        (dt.date(2025, 1, 1), 2.0, None), (dt.date(2025, 7, 1), 10.0, None)]
    assert on.yearly_pct == 0.0
    with pytest.raises(ValueError, match="announced"):
        TariffIncrease(date=dt.date(2025, 7, 1), pct=1.0, announced=dt.date(2025, 8, 1))


def test_trailing_mean_uses_observed_months_then_the_prior_path():
    # Decision in month key 100: months 88..99. Observed: 95..99 at 200; the rest from the prior at 100.
    # (7 x 100 + 5 x 200) / 12 = 141.67
    got = trailing_mean(list(range(95, 100)), [200.0] * 5, 100, lambda keys: np.full(len(keys), 100.0))
    assert got == pytest.approx(1700 / 12)


def test_table_versions_cannot_be_announced_after_they_apply():
    from importlib.resources import files

    from re100sim.simulator.inputs.tariffs import parse_table

    raw = yaml.safe_load(files("re100sim.scenarios.tariffs").joinpath("kepco_industrial.yaml").read_text(encoding="utf-8"))
    assert load_table("kepco_industrial").announced_dates[3] == dt.date(2022, 12, 30)  # the 2023-01-01 version
    raw["versions"][3]["announced"] = dt.date(2023, 1, 2)
    with pytest.raises(ValueError, match="announced 2023-01-02 is after its effective date 2023-01-01"):
        parse_table(raw)
