"""The scenario reference is generated from the models and must be current."""
from pathlib import Path

from re100sim.simulator.scenario.docgen import generate


def test_scenario_reference_is_current():
    doc = Path(__file__).resolve().parent.parent / "docs" / "scenario.md"
    assert doc.read_text(encoding="utf-8") == generate(), (
        "docs/scenario.md is stale: run `python -m re100sim.simulator.scenario.docgen > docs/scenario.md`"
    )
