"""docs/sources.md lists every default number with its source, and is current."""
from pathlib import Path

from pydantic import BaseModel, Field

from re100sim.simulator.scenario import sources

DOC = Path(__file__).resolve().parents[1] / "docs" / "sources.md"


def test_sources_page_is_current():
    assert DOC.read_text(encoding="utf-8") == sources.generate(), (
        "docs/sources.md is stale: run `python -m re100sim.simulator.scenario.sources > docs/sources.md`"
    )


def test_every_default_number_has_a_source_or_tag():
    missing = [f"{r.where}: {r.what} = {r.value}" for r in sources.unsourced()]
    assert not missing, "numbers without a source or tag (tag them [E] with a reason where they are written):\n" + \
        "\n".join(missing)


def test_the_page_covers_all_three_kinds_of_number():
    rows = sources.all_rows()
    scenario = {r.what: r for r in rows["Scenario defaults (pydantic models)"]}
    # a default of a config.py model, one of an embedded inputs model, one inside a non-default instance
    assert scenario["emission_factor_t_per_mwh"].value == "0.4173"
    assert scenario["markets.smp.base_level_krw_per_kwh"].tags == "[B]"
    assert scenario["green_tariff.price.adder_krw_per_kwh"].value == "45"  # SmpIndexedPrice(adder=45) as default
    constants = {r.what: r for r in rows["Constants in the code"]}
    assert constants["NET_METERING_LIMIT_KW"].value == "1000" and "2016-10-01" in constants["NET_METERING_LIMIT_KW"].dates
    # the comment above a block of two constants sources both
    assert constants["FUEL_CELL_MEAN_OUTAGE_DAYS_DEFAULT"].tags == "[E]"
    smp = rows["Market history `scenarios/markets/smp_monthly.csv`"]
    assert smp and all(r.tags for r in smp)
    tariff = {r.what: r for r in rows["Tariff table `scenarios/tariffs/kepco_industrial.yaml`"]}
    assert tariff["fund_rate from 2024-07-01"].value == "0.032"
    assert "16.9" in tariff["version 2024-10-24"].value


class _Unsourced(BaseModel):
    price_krw_per_kwh: float = Field(12.0, description="a price")
    # [E] a guess with a reason
    fee_krw_per_kwh: float = Field(3.0)
    cap_krw_per_kwh: float = Field(0.0, description="0 switches the cap off")


def test_a_number_without_source_is_caught():
    rows = {r.what: r for r in sources.scenario_rows(_Unsourced)}
    assert not rows["price_krw_per_kwh"].sourced
    assert rows["fee_krw_per_kwh"].sourced and rows["fee_krw_per_kwh"].tags == "[E]"
    assert rows["cap_krw_per_kwh"].sourced  # a zero default switches a term off


def test_constants_take_the_comment_above_their_block(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(
        "# [E] two guesses\nA_KW = 1.0\nB_KW = 2.0\n\nC_KW = 3.0\nD = (1, 2)  # docs/domain.md#smp\nname = 5\n"
        "\nE = np.array([0.0] * 2 + [1.0])  # [E]\nF = (1.0 / 4.0, -2)  # [D]\nG = {'a': (1, 2)}  # [E]\n"
        "H = SOMETHING * 2\n",
        encoding="utf-8",
    )
    rows = {r.what: r for r in sources.constants_in(f)}
    assert set(rows) == {"A_KW", "B_KW", "C_KW", "D", "E", "F", "G"}  # H is not a literal
    assert (rows["E"].value, rows["F"].value, rows["G"].value) == ("(0, 0, 1)", "(0.25, -2)", "{a: (1, 2)}")
    assert rows["A_KW"].sourced and rows["B_KW"].sourced and rows["D"].sourced
    assert not rows["C_KW"].sourced  # a blank line ends the block
    assert rows["A_KW"].unit == "kW"
