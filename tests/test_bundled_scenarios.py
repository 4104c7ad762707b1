"""Every bundled scenario validates and runs, with energy, money and certificates balanced.

One simulated year each in CI (the first year of the scenario's horizon); up to five years in the
``slow`` test. The three residuals are those a run reports in summary.json ("invariants").
"""
from __future__ import annotations

import pytest

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.engine import MARKET, ComplexModel
from re100sim.simulator.outputs.results import energy_residual_mwh, money_residual_krw
from re100sim.simulator.run import prepare

SCENARIOS = bundled_scenarios()


def residuals(name: str, years: int) -> tuple[float, float, float]:
    """(energy MWh, money KRW, certificates) residuals of the scenario run for ``years`` years."""
    scenario, tenants = prepare(SCENARIOS[name])  # everything `re100sim validate` checks
    scenario = scenario.model_copy(update={"years": min(years, scenario.years)})
    model = ComplexModel(scenario, tenants)
    ledger = model.run()
    inv = ledger.invoices()
    assert len(inv) and (inv["krw"] >= 0).all()
    return (
        energy_residual_mwh(ledger.tenant_energy(), ledger.generator_energy()),
        money_residual_krw(inv, {MARKET: (), model.broker.name: ("broker_fee",)}),
        max(abs(v) for v in model.certs.check().values()),
    )


def test_all_bundled_scenarios_are_listed():
    # The files in scenarios/*.yaml: a new one is picked up by the tests below without edits here.
    assert len(SCENARIOS) >= 9 and "namdong" in SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bundled_scenario_one_year_balances(name):
    energy, money, certs = residuals(name, years=1)
    assert energy < 1e-6 and money == 0 and certs == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bundled_scenario_five_years_balance(name):
    energy, money, certs = residuals(name, years=5)
    assert energy < 1e-6 and money == 0 and certs == 0
