"""Policy rules (simulator/rules/policy.py): hand-worked numbers from docs/domain.md#policy-rules and the Gyeonggi new-complex study."""
import dataclasses

import pytest
from pydantic import ValidationError

from re100sim.simulator.rules import policy as p
from re100sim.simulator.rules.policy import PolicyConfig, compliance, required_mw

# --- yearly ratio tables: every band boundary (the Gyeonggi new-complex study [별표 2] and option-1 table) -------------


@pytest.mark.parametrize(
    "year, dea, gg1",
    [
        (2020, 0.02, 0.10),  # before the Act: first band ("시행-'26년")
        (2024, 0.02, 0.10),
        (2026, 0.02, 0.10),  # last year of the first band
        (2027, 0.05, 0.15),
        (2029, 0.05, 0.15),
        (2030, 0.10, 0.20),
        (2034, 0.10, 0.20),
        (2035, 0.15, 0.25),
        (2039, 0.15, 0.25),
        (2040, 0.20, 0.30),  # "'40년-"
        (2070, 0.20, 0.30),
    ],
)
def test_yearly_ratio_bands(year, dea, gg1):
    assert p.dea_yearly_ratio(year) == dea
    assert p.gyeonggi_option1_yearly_ratio(year) == gg1


def test_regional_and_obligation_ratio():
    assert p.regional_ratio(True) == 1.0
    assert p.regional_ratio(False) == 0.0  # 비수도권 0 % (유예)
    assert p.obligation_ratio(True, 2031) == pytest.approx(0.10)
    assert p.obligation_ratio(False, 2045) == 0.0


# --- DEA formulas ([별표 1]) --------------------------------------------------------------------


def test_capacity_factor():
    # 1,314 MWh from 1 MW: 1,314 / (1 x 8,760) = 0.15
    assert p.capacity_factor(1314.0, 1.0) == pytest.approx(0.15)
    with pytest.raises(ValueError, match="installed_mw"):
        p.capacity_factor(100.0, 0.0)


def test_obligation_mw_hand_example():
    # 300,000 MWh x 5 % = 15,000 MWh; minus 1,860 MWh direct trade = 13,140 MWh;
    # cf 0.15 x 8,760 h = 1,314 h; 13,140 / 1,314 = 10.0 MW
    assert p.obligation_mw(300_000, 0.05, 1_860, 0.15) == pytest.approx(10.0)
    # no direct trade: 15,000 / 1,314 = 11.4155 MW
    assert p.obligation_mw(300_000, 0.05, 0, 0.15) == pytest.approx(15_000 / 1_314)


def test_obligation_mw_floored_and_checked():
    # direct trade 20,000 > 15,000 MWh obligation -> 0, never negative
    assert p.obligation_mw(300_000, 0.05, 20_000, 0.15) == 0.0
    with pytest.raises(ValueError, match="capacity_factor"):
        p.obligation_mw(300_000, 0.05, 0, 0.0)
    with pytest.raises(ValueError, match="capacity_factor"):
        p.obligation_mw(300_000, 0.05, 0, 15.0)  # percent instead of a fraction


def test_dea_applies_thresholds_inclusive():
    assert not p.dea_applies(199_999.9, None)
    assert p.dea_applies(200_000, None)  # "20만MWh 이상"
    assert not p.dea_applies(10_000, 999_999)
    assert p.dea_applies(10_000, 1_000_000)  # "100만㎡ 이상"


def test_dea_penalty():
    # 1.5 x 4 MW x 1,000 kW/MW x 1,000,000 KRW/kW = 6,000,000,000 KRW
    assert p.dea_penalty_krw(4.0, 1_000_000, 1.5) == pytest.approx(6.0e9)


# --- Gyeonggi option 1: correction factor and credit ----------------------------------------


@pytest.mark.parametrize(
    "rate, factor",
    [
        (0.0, 0.7),
        (0.0999, 0.7),  # "10% 미만"
        (0.10, 0.8),  # "10% 이상~15% 미만": 10 % itself is in the 0.8 band
        (0.1499, 0.8),
        (0.15, 0.9),  # "15% 이상 20% 미만"
        (0.1999, 0.9),
        (0.20, 1.0),  # "20% 이상"
        (1.5, 1.0),
    ],
)
def test_offsite_correction_factor_boundaries(rate, factor):
    assert p.offsite_correction_factor(rate) == factor


def test_correction_factor_on_computed_rates():
    # rates computed by division land on the boundary exactly: 15,000 / 100,000 = 0.15
    assert p.offsite_correction_factor(p.in_complex_rate(10_000, 100_000)) == 0.8
    assert p.offsite_correction_factor(p.in_complex_rate(15_000, 100_000)) == 0.9
    assert p.offsite_correction_factor(p.in_complex_rate(20_000, 100_000)) == 1.0


def test_option1_credited_mwh():
    # rate 8 % -> factor 0.7: 8,000 + 0.7 x 5,000 = 11,500 MWh
    assert p.option1_credited_mwh(8_000, 5_000, 0.08) == pytest.approx(11_500)
    # rate 20 % -> factor 1.0: 20,000 + 5,000 = 25,000 MWh
    assert p.option1_credited_mwh(20_000, 5_000, 0.20) == pytest.approx(25_000)
    # option 1 requirement: 100,000 MWh x 20 % (2030 band) = 20,000 MWh
    assert p.option1_required_mwh(100_000, 2030) == pytest.approx(20_000)


# --- Gyeonggi options 2 and 3 ------------------------------------------------------------------


def test_option2_required_mw():
    # 500,000 m² x 20 % / 10,000 m²/MW = 10 MW
    assert p.option2_required_mw(500_000) == pytest.approx(10.0)
    assert p.option2_required_mw(500_000, share=0.3) == pytest.approx(15.0)


def test_option3_seed_worked_example():
    # the Gyeonggi new-complex study 3안: industrial zone 414,000 m², 건폐율 50 %, 10,000 m²/MW
    # 30 % of roofs: 414,000 x 0.5 x 0.30 / 10,000 = 6.21 MW -> seed "6.2MW"
    mw30 = p.option3_required_mw(414_000, 0.5)
    assert mw30 == pytest.approx(6.21)
    assert round(mw30, 1) == 6.2
    # 70 % of roofs: 414,000 x 0.5 x 0.70 / 10,000 = 14.49 MW -> seed "14.5MW"
    mw70 = p.option3_required_mw(414_000, 0.5, roof_share=0.70)
    assert mw70 == pytest.approx(14.49)
    assert round(mw70, 1) == 14.5
    # The study's first mention says "50% 설치 시 14.5MW"; 50 % gives 10.35 MW, so that is a typo
    # and the summary table's 70 % is right.
    assert p.option3_required_mw(414_000, 0.5, roof_share=0.50) == pytest.approx(10.35)


def test_area_rules_of_thumb():
    # 680,000 m² / 102,000 kW = 6.67 m²/kW (seed footnote 2)
    assert 680_000 / 102_000 == pytest.approx(p.SOLAR_M2_PER_KW_BUILDING, abs=0.005)
    assert p.SOLAR_M2_PER_MW == 10_000
    assert p.FUEL_CELL_M2_PER_MW == 180
    assert p.WIND_M2_PER_MW == 40_000
    assert p.solar_mw_for_area(25_000) == pytest.approx(2.5)


# --- config and required_mw --------------------------------------------------------------------


def test_required_mw_by_rule():
    assert required_mw(PolicyConfig(), 2030, 300_000, 0, 0.15) == 0.0  # rule none
    dea = PolicyConfig(rule="dea", plan_year=2027)
    assert required_mw(dea, 2040, 300_000, 1_860, 0.15) == pytest.approx(10.0)  # ratio fixed at 2027
    # option 1: 100,000 MWh x 20 % = 20,000 MWh / 1,314 h = 15.2207 MW (no direct-trade deduction)
    gg1 = PolicyConfig(rule="gyeonggi_option_1", plan_year=2030)
    assert required_mw(gg1, 2030, 100_000, 5_000, 0.15) == pytest.approx(20_000 / 1_314)
    gg2 = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=500_000)
    assert required_mw(gg2, 2030, 100_000, 0, 0.15) == pytest.approx(10.0)
    gg3 = PolicyConfig(rule="gyeonggi_option_3", industrial_area_m2=414_000)
    assert required_mw(gg3, 2030, 100_000, 0, 0.15) == pytest.approx(6.21)
    # roof area given directly: 207,000 m² x 30 % / 10,000 = 6.21 MW
    gg3r = PolicyConfig(rule="gyeonggi_option_3", roof_area_m2=207_000)
    assert required_mw(gg3r, 2030, 100_000, 0, 0.15) == pytest.approx(6.21)


def test_dea_not_applicable_and_non_capital():
    small = PolicyConfig(rule="dea", plan_year=2027)
    assert required_mw(small, 2027, 150_000, 0, 0.15) == 0.0  # under 200,000 MWh, area unknown
    big_area = PolicyConfig(rule="dea", plan_year=2027, project_area_m2=1_200_000)
    # 150,000 x 5 % = 7,500 MWh / 1,314 h = 5.7078 MW
    assert required_mw(big_area, 2027, 150_000, 0, 0.15) == pytest.approx(7_500 / 1_314)
    elsewhere = PolicyConfig(rule="dea", plan_year=2027, capital_region=False)
    assert required_mw(elsewhere, 2027, 300_000, 0, 0.15) == 0.0


def test_plan_year_defaults_to_first_year():
    cfg = PolicyConfig(rule="dea")
    # first year 2030 -> 10 % for the whole run, also in 2040: 300,000 x 10 % / 1,314 = 22.83 MW
    assert required_mw(cfg, 2040, 300_000, 0, 0.15, first_year=2030) == pytest.approx(30_000 / 1_314)
    assert cfg.with_plan_year(2030).plan_year == 2030
    assert PolicyConfig(rule="dea", plan_year=2027).with_plan_year(2030).plan_year == 2027
    with pytest.raises(ValueError, match="plan_year is not set"):
        required_mw(cfg, 2040, 300_000, 0, 0.15)
    # what-if ratchet: the ratio follows each simulated year (2040 -> 20 %)
    ratchet = PolicyConfig(rule="dea", ratio_year_basis="each_year")
    assert required_mw(ratchet, 2040, 300_000, 0, 0.15) == pytest.approx(60_000 / 1_314)


def test_forecast_use_overrides_simulated_use():
    # [별표 1] 주1: the saturation-year forecast, not the simulated year's use
    cfg = PolicyConfig(rule="dea", plan_year=2027, forecast_annual_use_mwh=300_000)
    assert required_mw(cfg, 2027, 50_000, 1_860, 0.15) == pytest.approx(10.0)


# --- compliance rows ---------------------------------------------------------------------------


def test_dea_compliance_shortfall_and_penalty():
    cfg = PolicyConfig(rule="dea", plan_year=2027, install_cost_krw_per_kw=1_000_000)
    # 6 MW in the complex making 7,884 MWh: cf = 7,884 / (6 x 8,760) = 0.15
    # required = (300,000 x 5 % - 1,860) / 1,314 = 10 MW; shortfall 4 MW
    # penalty = 1.5 x 4 MW x 1,000 kW/MW x 1,000,000 KRW/kW = 6.0e9 KRW
    row = compliance(cfg, 2028, 300_000, 1_860, 6.0, 3.0, 7_884, 4_000)
    assert row.year == 2028 and row.rule == "dea"
    assert row.capacity_factor == pytest.approx(0.15)
    assert row.required_mw == pytest.approx(10.0)
    assert row.credited_mw == pytest.approx(6.0)  # off-complex MW not credited
    assert row.shortfall_mw == pytest.approx(4.0)
    assert not row.compliant
    assert row.penalty_krw == pytest.approx(6.0e9)
    assert row.required_mwh == pytest.approx(13_140)
    assert row.shortfall_mwh == pytest.approx(13_140 - 7_884)


def test_dea_compliance_met():
    cfg = PolicyConfig(rule="dea", plan_year=2027)
    # 12 MW making 15,768 MWh (cf 0.15): required 10 MW <= 12 MW
    row = compliance(cfg, 2027, 300_000, 1_860, 12.0, 0.0, 15_768, 0.0)
    assert row.compliant and row.shortfall_mw == 0.0 and row.penalty_krw == 0.0
    assert row.required_mw == pytest.approx(10.0)


def test_dea_compliance_no_plants_uses_default_cf_and_default_cost():
    cfg = PolicyConfig(rule="dea", plan_year=2027)
    row = compliance(cfg, 2027, 300_000, 1_860, 0.0, 0.0, 0.0, 0.0)
    assert row.capacity_factor == p.DEFAULT_CAPACITY_FACTOR  # 0.15 -> required 10 MW
    # 1.5 x 10 MW x 1,000 x 1,300,000 KRW/kW = 1.95e10 KRW
    assert row.penalty_krw == pytest.approx(1.95e10)
    # the design capacity factor (별표 1 주4) replaces the measured one: 13,140 / (0.2 x 8,760) = 7.5 MW
    fixed = PolicyConfig(rule="dea", plan_year=2027, design_capacity_factor=0.2)
    assert compliance(fixed, 2027, 300_000, 1_860, 6.0, 0.0, 7_884, 0.0).required_mw == pytest.approx(7.5)


def test_option1_compliance_with_correction_factor():
    cfg = PolicyConfig(rule="gyeonggi_option_1", plan_year=2030, design_capacity_factor=0.15)
    # required = 100,000 x 20 % = 20,000 MWh
    # in-complex 12,000 MWh -> rate 12 % -> factor 0.8; credited = 12,000 + 0.8 x 8,000 = 18,400
    # shortfall 1,600 MWh = 1,600 / 1,314 = 1.2177 MW; no Gyeonggi penalty
    row = compliance(cfg, 2031, 100_000, 0.0, 9.0, 6.0, 12_000, 8_000)
    assert row.required_mwh == pytest.approx(20_000)
    assert row.correction_factor == 0.8
    assert row.credited_mwh == pytest.approx(18_400)
    assert row.shortfall_mwh == pytest.approx(1_600)
    assert row.shortfall_mw == pytest.approx(1_600 / 1_314)
    assert not row.compliant and row.penalty_krw == 0.0
    # 10,000 MWh off-site: 12,000 + 0.8 x 10,000 = 20,000 = required -> compliant at equality
    ok = compliance(cfg, 2031, 100_000, 0.0, 9.0, 7.0, 12_000, 10_000)
    assert ok.compliant and ok.shortfall_mwh == 0.0
    # in-complex 20,000 MWh alone: rate 20 % -> factor 1.0, compliant without off-site output
    alone = compliance(cfg, 2031, 100_000, 0.0, 15.0, 0.0, 20_000, 0.0)
    assert alone.compliant and alone.correction_factor == 1.0


def test_option1_measured_cf_over_all_plants():
    cfg = PolicyConfig(rule="gyeonggi_option_1", plan_year=2030)
    # (12,000 + 8,000) MWh / ((9 + 6) MW x 8,760 h) = 0.15221
    row = compliance(cfg, 2030, 100_000, 0.0, 9.0, 6.0, 12_000, 8_000)
    assert row.capacity_factor == pytest.approx(20_000 / (15 * 8_760))


def test_option2_and_option3_compliance():
    gg2 = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=500_000)
    # required 10 MW; only the 8 in-complex MW count
    row = compliance(gg2, 2030, 100_000, 0, 8.0, 5.0, 10_000, 6_000)
    assert row.required_mw == pytest.approx(10.0) and row.credited_mw == 8.0
    assert row.shortfall_mw == pytest.approx(2.0) and not row.compliant and row.penalty_krw == 0.0
    assert row.required_mwh is None
    gg3 = PolicyConfig(rule="gyeonggi_option_3", industrial_area_m2=414_000)
    short = compliance(gg3, 2030, 100_000, 0, 6.0, 0, 7_000, 0)
    assert short.shortfall_mw == pytest.approx(0.21) and not short.compliant  # 6.21 - 6.0
    assert compliance(gg3, 2030, 100_000, 0, 6.21, 0, 7_000, 0).compliant


def test_rule_none_row():
    row = compliance(PolicyConfig(), 2030, 100_000, 0, 3.0, 0, 4_000, 0)
    assert row.compliant and row.required_mw == 0.0 and row.penalty_krw == 0.0
    assert dataclasses.is_dataclass(row)


# --- config validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rule": "gyeonggi_option_2"}, "needs sold_lot_area_m2"),
        ({"rule": "gyeonggi_option_3"}, "needs industrial_area_m2"),
        ({"rule": "gyeonggi_option_3", "industrial_area_m2": 1e5, "roof_area_m2": 5e4}, "not both"),
        ({"rule": "gyeonggi_option_4"}, "rule"),
        ({"rule": "dea", "penalty_multiplier": 1.6}, "penalty_multiplier"),
        ({"rule": "dea", "building_coverage": 0}, "building_coverage"),
        ({"rule": "dea", "design_capacity_factor": 15}, "design_capacity_factor"),
        ({"rule": "dea", "obligation_pct": 5}, "obligation_pct"),  # extra="forbid"
    ],
)
def test_config_validation_errors(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        PolicyConfig(**kwargs)


def test_config_frozen_and_documented():
    cfg = PolicyConfig(rule="dea")
    with pytest.raises(ValidationError):
        cfg.rule = "none"
    for name, field in PolicyConfig.model_fields.items():
        assert field.description, f"{name} has no description"


# --- substitutes of equal GHG effect under Gyeonggi options 2 and 3 -------------------------------------------


def test_storage_is_credited_by_its_equivalence():
    # option 2: 100,000 m² of sold lots x 20 % / 10,000 m² per MW = 2.0 MW required.
    # 1.5 MW of solar + a 3 MWh battery (Changwon's size) x 0.16 MW/MWh = 0.48 MW -> 1.98 MW: 0.02 MW short
    cfg = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=100_000)
    row = compliance(cfg, 2030, 50_000, 0, 1.5, 0, 1_971, 0, storage_in_complex_mwh=3.0)
    assert row.required_mw == pytest.approx(2.0)
    assert row.credited_mw == pytest.approx(1.98) and row.shortfall_mw == pytest.approx(0.02) and not row.compliant
    # 3.2 MWh x 0.16 = 0.512 MW -> 2.012 MW: compliant
    assert compliance(cfg, 2030, 50_000, 0, 1.5, 0, 1_971, 0, storage_in_complex_mwh=3.2).compliant
    # no credit with a zero equivalence: 1.5 MW
    off = cfg.model_copy(update={"storage_solar_mw_per_mwh": 0.0})
    assert compliance(off, 2030, 50_000, 0, 1.5, 0, 1_971, 0, storage_in_complex_mwh=3.2).credited_mw == pytest.approx(1.5)


def test_non_solar_substitutes_count_at_their_nameplate_or_by_equal_ghg():
    # 1.0 MW solar + a 0.2 MW fuel cell running at 90 %: 0.2 x 0.9 x 8,760 = 1,576.8 MWh a year.
    # nameplate: 1.2 MW credited (short of 2.0); equal_ghg: 1,576.8 / (0.15 x 8,760 = 1,314) = 1.2 MW of solar
    # with the same MWh, so 1.0 + 1.2 = 2.2 MW: compliant
    cfg = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=100_000)
    kw = dict(non_solar_in_complex_mw=0.2, non_solar_in_complex_mwh=1_576.8)
    assert compliance(cfg, 2030, 50_000, 0, 1.2, 0, 2_890.8, 0, **kw).credited_mw == pytest.approx(1.2)
    ghg = cfg.model_copy(update={"substitute_credit": "equal_ghg"})
    row = compliance(ghg, 2030, 50_000, 0, 1.2, 0, 2_890.8, 0, **kw)
    assert row.credited_mw == pytest.approx(2.2) and row.compliant
    # option 3 the same way; option 1 and the DEA ignore substitutes (they are tested in MWh or capacity of RE)
    gg3 = PolicyConfig(rule="gyeonggi_option_3", roof_area_m2=66_667, substitute_credit="equal_ghg")
    assert compliance(gg3, 2030, 50_000, 0, 1.2, 0, 2_890.8, 0, **kw).credited_mw == pytest.approx(2.2)
    with pytest.raises(ValueError):
        p.substitute_adjustment_mw(cfg, -1.0, 0.0, 0.0)


def test_substitute_credit_guards_the_design_capacity_factor_and_the_defaults():
    # Every amount is checked, each with the one message.
    cfg = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=100_000, substitute_credit="equal_ghg")
    for args in [(-1.0, 0.0, 0.0), (0.0, -0.1, 0.0), (0.0, 0.0, -0.1)]:
        with pytest.raises(ValueError, match=r"^substitute amounts must be >= 0$"):
            p.substitute_adjustment_mw(cfg, *args)
    # equal_ghg re-rates at the design capacity factor when one is set: a 1.0 MW fuel cell making
    # 3,504 MWh is 3,504 / (0.2 x 8,760 = 1,752) = 2.0 solar MW, +1.0 MW over its nameplate; at the
    # default 0.15 it would be 3,504 / 1,314 - 1 = 1.6667 MW
    assert p.substitute_adjustment_mw(cfg.model_copy(update={"design_capacity_factor": 0.2}), 0.0, 1.0, 3_504.0) \
        == pytest.approx(1.0, rel=1e-12)
    assert p.substitute_adjustment_mw(cfg, 0.0, 1.0, 3_504.0) == pytest.approx(3_504.0 / 1_314.0 - 1.0, rel=1e-12)
    # compliance without substitutes given: no battery and no non-solar plant, so exactly the in-complex
    # MW (1.5 of 2.0 required); a default of 1 MWh of battery would add 0.16 MW, 1 MW of non-solar
    # nameplate without MWh would take 1 MW off under equal_ghg
    for c in (cfg, cfg.model_copy(update={"substitute_credit": "nameplate"})):
        row = compliance(c, 2030, 50_000, 0, 1.5, 0, 1_971, 0)
        assert row.credited_mw == 1.5 and row.shortfall_mw == pytest.approx(0.5)


# --- input guards: the boundaries each rule accepts and the messages of what it rejects (mutation score) --


def test_rule_functions_accept_their_boundaries():
    # Zero and sub-unit amounts are valid inputs; values worked by hand (8,760 h a year, 10,000 m²/MW default).
    assert p.capacity_factor(0.0, 1.0) == 0.0
    assert p.capacity_factor(0.5, 1.0) == pytest.approx(0.5 / 8760)
    assert p.obligation_mw(0.0, 0.0, 0.0, 1.0) == 0.0  # capacity factor 1 is allowed
    assert p.obligation_mw(0.5, 0.5, 0.5, 0.5) == 0.0  # 0.25 - 0.5 < 0 -> nothing
    assert p.in_complex_rate(0.0, 0.5) == 0.0 and p.in_complex_rate(0.5, 0.5) == 1.0
    assert p.option1_required_mwh(0.0, 2026) == 0.0
    assert p.option1_required_mwh(0.5, 2026) == pytest.approx(0.05)  # 2026 share 0.10
    assert p.option1_credited_mwh(0.0, 0.0, 0.2) == 0.0
    assert p.option1_credited_mwh(0.5, 0.5, 0.2) == 1.0  # rate 0.2 -> factor 1.0: 0.5 + 0.5
    assert p.option2_required_mw(0.0) == 0.0
    assert p.option2_required_mw(0.5, 1.0, 0.5) == 1.0  # 0.5 x 1.0 / 0.5
    assert p.option3_required_mw(0.0, 1.0, 1.0) == 0.0
    assert p.option3_required_mw(0.5, 1.0, 1.0, 0.5) == 1.0  # 0.5 x 1 x 1 / 0.5
    assert p.option3_required_mw(414_000, 0.5, 0.30, 5_000.0) == pytest.approx(12.42)  # 62,100 m² / 5,000
    assert p.solar_mw_for_area(0.0) == 0.0 and p.solar_mw_for_area(0.5, 0.5) == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: p.capacity_factor(-1.0, 1.0), r"annual_generation_mwh must be >= 0 \(got -1.0\)"),
    (lambda: p.obligation_mw(1.0, 0.1, 0.0, 1.5), r"capacity_factor must be in \(0, 1\] \(got 1.5\)"),
    (lambda: p.obligation_mw(-1.0, 0.1, 0.0, 0.2), "^annual_use_mwh, obligation_ratio and direct_trade_mwh must be >= 0$"),
    (lambda: p.obligation_mw(1.0, -0.1, 0.0, 0.2), "^annual_use_mwh, obligation_ratio and direct_trade_mwh must be >= 0$"),
    (lambda: p.obligation_mw(1.0, 0.1, -1.0, 0.2), "^annual_use_mwh, obligation_ratio and direct_trade_mwh must be >= 0$"),
    (lambda: p.dea_penalty_krw(-1.0), r"shortfall_mw must be >= 0 \(got -1.0\)"),
    (lambda: p.offsite_correction_factor(-0.1), r"in_complex_rate must be >= 0 \(got -0.1\)"),
    (lambda: p.in_complex_rate(1.0, 0.0), r"forecast_use_mwh must be > 0 \(got 0.0\)"),
    (lambda: p.in_complex_rate(-1.0, 1.0), r"in_complex_mwh must be >= 0 \(got -1.0\)"),
    (lambda: p.option1_required_mwh(-1.0, 2026), r"forecast_use_mwh must be >= 0 \(got -1.0\)"),
    (lambda: p.option1_credited_mwh(-1.0, 0.0, 0.2), "^in_complex_mwh and offsite_mwh must be >= 0$"),
    (lambda: p.option1_credited_mwh(0.0, -1.0, 0.2), "^in_complex_mwh and offsite_mwh must be >= 0$"),
    (lambda: p.option2_required_mw(-1.0), r"lot_area_m2 must be >= 0 \(got -1.0\)"),
    (lambda: p.option2_required_mw(1.0, 0.0), r"^share must be in \(0, 1\] and m2_per_mw > 0$"),
    (lambda: p.option2_required_mw(1.0, 1.5), r"^share must be in \(0, 1\] and m2_per_mw > 0$"),
    (lambda: p.option2_required_mw(1.0, 0.2, 0.0), r"^share must be in \(0, 1\] and m2_per_mw > 0$"),
    (lambda: p.option3_required_mw(-1.0, 0.5), r"industrial_area_m2 must be >= 0 \(got -1.0\)"),
    (lambda: p.option3_required_mw(1.0, 0.0), r"building_coverage must be in \(0, 1\] \(got 0.0\)"),
    (lambda: p.option3_required_mw(1.0, 1.5), r"building_coverage must be in \(0, 1\] \(got 1.5\)"),
    (lambda: p.option3_required_mw(1.0, 0.5, 0.0), r"roof_share must be in \(0, 1\] \(got 0.0\)"),
    (lambda: p.option3_required_mw(1.0, 0.5, 1.5), r"roof_share must be in \(0, 1\] \(got 1.5\)"),
    (lambda: p.solar_mw_for_area(-1.0), r"^area_m2 must be >= 0 and m2_per_mw > 0$"),
    (lambda: p.solar_mw_for_area(1.0, 0.0), r"^area_m2 must be >= 0 and m2_per_mw > 0$"),
])
def test_rule_functions_reject_bad_inputs_with_one_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_area_rules_use_the_configured_m2_per_mw():
    # 5,000 m²/MW instead of the default 10,000: roof 20,000 m² x 0.3 = 6,000 m² -> 1.2 MW;
    # industrial 100,000 m² x 0.5 x 0.3 = 15,000 m² -> 3.0 MW; sold lots 50,000 m² x 0.2 = 10,000 m² -> 2.0 MW.
    roof = PolicyConfig(rule="gyeonggi_option_3", roof_area_m2=20_000, solar_m2_per_mw=5_000)
    assert p.roof_required_mw(roof) == pytest.approx(1.2)
    area = PolicyConfig(rule="gyeonggi_option_3", industrial_area_m2=100_000, building_coverage=0.5,
                        solar_m2_per_mw=5_000)
    assert p.roof_required_mw(area) == pytest.approx(3.0)
    lots = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=50_000, solar_m2_per_mw=5_000)
    assert required_mw(lots, 2026, 0.0, 0.0, 0.2) == pytest.approx(2.0)


def test_plan_year_message_and_use_boundaries():
    with pytest.raises(ValueError, match=r"^policy.plan_year is not set: pass first_year \(the simulation's first "
                                         r"year\) or use config.with_plan_year\(first_year\)$"):
        p.ratio_year(PolicyConfig(rule="dea"), 2026)
    opt1 = PolicyConfig(rule="gyeonggi_option_1", plan_year=2026)
    assert required_mw(opt1, 2026, 0.0, 0.0, 1.0) == 0.0  # no use: nothing required
    assert required_mw(opt1, 2026, 0.5, 0.0, 1.0) == pytest.approx(0.05 / 8760)  # 0.5 x 0.10 / 8,760 h
    with pytest.raises(ValueError, match=r"annual_use_mwh must be >= 0 \(got -1.0\)"):
        required_mw(opt1, 2026, -1.0, 0.0, 1.0)


def _dea_cf(installed_mw: float, generation_mwh: float) -> float:
    """The capacity factor a DEA compliance row uses (measured from the in-complex plants)."""
    cfg = PolicyConfig(rule="dea", plan_year=2026, project_area_m2=2_000_000)
    return compliance(cfg, 2026, 8_760.0, 0.0, installed_mw, 0.0, generation_mwh, 0.0).capacity_factor


def test_dea_capacity_factor_measured_only_from_real_output():
    # 0.5 MW making 876 MWh: 876 / (0.5 x 8,760) = 0.2.
    assert _dea_cf(0.5, 876.0) == pytest.approx(0.2)
    # More than 8,760 MWh per MW (10,000 MWh on 1 MW = 1.14) is capped at 1.
    assert _dea_cf(1.0, 10_000.0) == 1.0
    # No plant, or a plant with no output: the default planning factor 0.15 (not a division by zero).
    assert _dea_cf(0.0, 100.0) == 0.15
    assert _dea_cf(1.0, 0.0) == 0.15


def test_covered_within_a_relative_tolerance_of_one_in_a_billion():
    # Option 2 on 100,000 m² of lots: 100,000 x 0.2 / 10,000 = 2.0 MW required. The tolerance is
    # 1e-9 x max(1, required): 2e-9 MW here, so 2.0 - 1.5e-9 MW is covered...
    lots = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=100_000)
    assert compliance(lots, 2026, 0.0, 0.0, 2.0 - 1.5e-9, 0.0, 0.0, 0.0).compliant
    # ...while for 0.2 MW (10,000 m²) the tolerance is 1e-9, so 0.2 - 1.5e-9 is not.
    small = PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=10_000)
    assert not compliance(small, 2026, 0.0, 0.0, 0.2 - 1.5e-9, 0.0, 0.0, 0.0).compliant


def test_compliance_rejects_negative_amounts_by_name_and_rule_none_row():
    cfg = PolicyConfig(rule="none")
    args = [0.0, 0.0, 0.0, 0.0, 0.0]  # direct trade, in/off-complex MW, in/off-complex MWh
    names = ["direct_trade_mwh", "installed_in_complex_mw", "installed_offsite_mw", "generation_in_complex_mwh",
             "generation_offsite_mwh"]
    for i, name in enumerate(names):
        bad = args.copy()
        bad[i] = -1.0
        with pytest.raises(ValueError, match=rf"^{name} must be >= 0 \(got -1.0\)$"):
            compliance(cfg, 2026, 100.0, *bad)
    # No rule: nothing required, the in-complex 0.5 MW shown as credited, compliant, no penalty.
    row = compliance(cfg, 2026.0, 100.0, 0.0, 0.5, 0.0, 0.0, 0.0)
    assert (row.year, row.rule, row.required_mw, row.credited_mw, row.shortfall_mw, row.compliant, row.penalty_krw) == (
        2026, "none", 0.0, 0.5, 0.0, True, 0.0)
    assert type(row.year) is int


def test_compliance_rows_by_hand():
    # DEA, capital region, plan year 2026 (ratio 0.02), design capacity factor 0.2, 8,760 MWh/yr use on a
    # 2,000,000 m² project: required 8,760 x 0.02 / (0.2 x 8,760) = 0.1 MW (175.2 MWh).
    dea = PolicyConfig(rule="dea", plan_year=2026, project_area_m2=2_000_000, design_capacity_factor=0.2,
                       install_cost_krw_per_kw=1_300_000, penalty_multiplier=1.0)
    short = compliance(dea, 2026, 8_760.0, 0.0, 0.02, 0.0, 0.0, 0.0)
    assert short.required_mw == pytest.approx(0.1) and short.shortfall_mw == pytest.approx(0.08)  # 0.1 - 0.02
    assert short.penalty_krw == pytest.approx(104_000_000.0)  # 1.0 x 0.08 MW x 1,000 x 1,300,000
    assert short.shortfall_mwh == pytest.approx(140.16)  # 175.2 - 0.02 x 0.2 x 8,760 = 175.2 - 35.04
    ok = compliance(dea, 2026, 8_760.0, 0.0, 0.1, 0.0, 0.0, 0.0)
    assert ok.compliant and ok.shortfall_mw == 0.0 and ok.shortfall_mwh == 0.0 and ok.penalty_krw == 0.0
    # Below both DEA triggers (100 MWh/yr, no project area): no ratio, nothing required.
    small = compliance(PolicyConfig(rule="dea", plan_year=2026), 2026, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert (small.ratio, small.required_mw, small.required_mwh, small.compliant) == (0.0, 0.0, 0.0, True)
    # 0.001 MW making 0.5 MWh: measured capacity factor 0.5 / 8.76 = 0.0571 (not the 0.15 default).
    assert _dea_cf(0.001, 0.5) == pytest.approx(0.5 / 8.76)
    # Option 2, covered within the tolerance: no shortfall reported, no penalty.
    lots = compliance(PolicyConfig(rule="gyeonggi_option_2", sold_lot_area_m2=100_000), 2026, 0.0, 0.0,
                      2.0 - 1.5e-9, 0.0, 0.0, 0.0)
    assert (lots.year, lots.rule, lots.shortfall_mw, lots.penalty_krw) == (2026, "gyeonggi_option_2", 0.0, 0.0)
    # Option 1 (2026 share 0.10): with no use, rate 0 -> correction 0.7; with 0.5 MWh use all made in the
    # complex, rate 1.0 -> correction 1.0.
    opt1 = PolicyConfig(rule="gyeonggi_option_1", plan_year=2026)
    none = compliance(opt1, 2026, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert (none.rule, none.ratio, none.correction_factor, none.compliant) == ("gyeonggi_option_1", 0.10, 0.7, True)
    full = compliance(opt1, 2026, 0.5, 0.0, 0.001, 0.0, 0.5, 0.0)
    assert full.correction_factor == 1.0 and full.required_mwh == pytest.approx(0.05)  # 0.5 x 0.10


def test_compliance_rows_each_year_and_near_the_requirement():
    # What-if ratchet (ratio_year_basis each_year): the 2040 band, 20 %, in the row itself: 300,000 MWh x 20 %
    # = 60,000 MWh, / (0.15 x 8,760 = 1,314) = 45.66 MW required; nothing installed, all of it short.
    ratchet = PolicyConfig(rule="dea", ratio_year_basis="each_year")
    row = compliance(ratchet, 2040, 300_000, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert (row.ratio, row.required_mwh) == (0.2, pytest.approx(60_000.0))
    assert row.required_mw == pytest.approx(60_000 / 1_314) and not row.compliant
    # The by-hand DEA case above (0.1 MW = 175.2 MWh required, design capacity factor 0.2). 0.09995 MW makes
    # 0.09995 x 0.2 x 8,760 = 175.1124 MWh: short by 0.0876 MWh (less than 1 MWh, still reported as it is).
    dea = PolicyConfig(rule="dea", plan_year=2026, project_area_m2=2_000_000, design_capacity_factor=0.2)
    short = compliance(dea, 2026, 8_760.0, 0.0, 0.09995, 0.0, 0.0, 0.0)
    assert not short.compliant and short.shortfall_mwh == pytest.approx(0.0876)
    # 0.1 MW - 5e-10 MW is covered (tolerance 1e-9 x max(1, 0.1) = 1e-9 MW): compliant, so no shortfall in
    # MWh either (not the 5e-10 x 0.2 x 8,760 = 8.76e-7 MWh the MW gap would make).
    covered = compliance(dea, 2026, 8_760.0, 0.0, 0.1 - 5e-10, 0.0, 0.0, 0.0)
    assert covered.compliant and (covered.shortfall_mw, covered.shortfall_mwh) == (0.0, 0.0)
