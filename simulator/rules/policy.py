"""Policy rules: the Distributed Energy Act obligation and the Gyeonggi new-complex options.

Small pure functions (units in the names: ``_mwh``, ``_mw``, ``_m2``, ``_krw``) plus one
switchable pydantic config, :class:`PolicyConfig`, and two entry points,
:func:`required_mw` and :func:`compliance`. Sources: docs/domain.md#policy-rules and the
Gyeonggi new-complex study (경기도 신규산업 신·재생에너지 도입 기준 수립 연구); where
a summary and the study differ, the study is followed (noted at the place).

Distributed Energy Act (분산에너지 활성화 특별법), the Gyeonggi new-complex study [별표 1], [별표 2]::

    의무설치량[MW]      = (분산에너지 사용량[MWh] - 직접전력거래량[MWh]) / (연간이용률 x 8760 h)
    분산에너지 사용량    = 연간 에너지 사용량(전력)[MWh] x 의무비율
    의무비율            = 지역별 비율 x 연도별 비율
    연간이용률          = 연간 발전량[MWh] / (누적 설비용량[MW] x 8760 h)

The study writes 연간이용률 in percent (x 100) and divides by "연간이용률[%] x 8760": the percent
cancels, so this module uses a fraction 0..1 throughout. 8760 h is used in every year, leap
years included, exactly as in [별표 1].

Gyeonggi proposal for new complexes (the Gyeonggi new-complex study, "신규산단 신·재생에너지 도입 기준(안)"):

* option 1 (1안): a yearly share of the complex's forecast energy use; off-complex plants count
  with a correction factor on their output (보정계수) by the in-complex installation rate;
* option 2 (2안): solar on >= 20 % of the sold lot area (분양 대지면적);
* option 3 (3안): renewables on >= 30 % of the building roof area (건축물 지붕면적).

Modelling decisions (not fixed by the sources; each is marked [E] where it is an estimate):

* Option 1 is tested in energy: ``required_mwh = forecast use x yearly ratio`` against
  ``credited_mwh = in-complex generation + correction factor x off-complex generation``. The
  study gives no direct-trade deduction for option 1, so none is applied. MW columns of the
  compliance row are MW equivalents at the credited plants' capacity factor.
* The "in-complex installation rate" (사업지구 내 신·재생에너지 설치율) is not defined in the
  study. The study carries the correction over from the zero-energy-building off-site rule
  ("제로에너지 건축물의 '대지 외 설치 기준'을 '산업단지 외 설치 기준'으로 전환"); that rule is
  believed (not checked against its text) to key the factor to the on-site energy
  self-sufficiency rate, so here the rate is in-complex RE generation / forecast use [E].
* DEA credit is the obligor's own in-complex capacity; power from off-complex plants reaches
  the DEA only as direct trade (``direct_trade_mwh``), which is deducted from the obligation,
  so off-complex capacity is not credited a second time.
* Options 2 and 3 credit all in-complex capacity (the study accepts third-party-owned plants,
  sold output and installation elsewhere inside the complex, 2안 ②④); off-complex capacity
  is not credited.
* The DEA penalty (과징금, docs/domain.md#policy-rules: up to 150 % x shortfall x installation unit cost) is
  reported per compliance row as the amount assessed on that year's shortfall. Whether the
  regulator assesses it once (at the installation check) or every year is not in the sources;
  callers that sum rows over years assume the latter. The Gyeonggi options carry no sanction
  in the study, so their penalty is 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from re100sim.simulator.scenario.config import (  # the rule set as configured (schema lives with the scenario)
    DEA_MAX_PENALTY_MULTIPLIER,
    DEFAULT_INSTALL_COST_KRW_PER_KW,
    SOLAR_M2_PER_MW,
    PolicyConfig,
    RuleName,
)

__all__ = [
    "HOURS_PER_YEAR",
    "DEA_USE_THRESHOLD_MWH",
    "DEA_AREA_THRESHOLD_M2",
    "SOLAR_M2_PER_KW_BUILDING",
    "SOLAR_M2_PER_MW",
    "FUEL_CELL_M2_PER_MW",
    "WIND_M2_PER_MW",
    "DEFAULT_CAPACITY_FACTOR",
    "DEFAULT_INSTALL_COST_KRW_PER_KW",
    "DEA_MAX_PENALTY_MULTIPLIER",
    "RuleName",
    "dea_yearly_ratio",
    "gyeonggi_option1_yearly_ratio",
    "regional_ratio",
    "obligation_ratio",
    "capacity_factor",
    "obligation_mw",
    "dea_applies",
    "offsite_correction_factor",
    "in_complex_rate",
    "option1_required_mwh",
    "option1_credited_mwh",
    "option2_required_mw",
    "option3_required_mw",
    "solar_mw_for_area",
    "dea_penalty_krw",
    "PolicyConfig",
    "roof_required_mw",
    "ComplianceRow",
    "ratio_year",
    "required_mw",
    "compliance",
]

# --- constants --------------------------------------------------------------------------------

#: Hours in the year used by [별표 1] (fixed 8760, also in leap years).
HOURS_PER_YEAR = 8760.0

#: DEA trigger: buildings expected to use >= 200,000 MWh/yr (the Gyeonggi new-complex study "연간 20만MWh 이상"; docs/domain.md#policy-rules).
DEA_USE_THRESHOLD_MWH = 200_000.0
#: DEA trigger: development projects >= 1,000,000 m² (the Gyeonggi new-complex study "100만㎡ 이상", 시행령 제10조 ②).
DEA_AREA_THRESHOLD_M2 = 1_000_000.0

#: Solar: 6.67 m² of building area per kW, the Gyeonggi new-complex study footnote 2 (102 MW on 80 Gyeonggi complexes
#: = 680,000 m² = 3.1 % of 21,797,000 m² building area; 680,000 / 102,000 kW = 6.67).
SOLAR_M2_PER_KW_BUILDING = 6.67
#: Fuel cell: 180 m² per MW, the Gyeonggi new-complex study area comparison ("연료전지 180㎡").
FUEL_CELL_M2_PER_MW = 180.0
#: Wind: 40,000 m² per MW including turbine spacing, the Gyeonggi new-complex study ("풍력 4만㎡(터빈 간 간격 포함)").
WIND_M2_PER_MW = 40_000.0

#: Fallback capacity factor when no credited plant has produced yet: solar 15 %,
#: docs/sources.md / docs/domain.md#solar-yield ([B]/[D]).
DEFAULT_CAPACITY_FACTOR = 0.15


# Year bands shared by [별표 2] and the Gyeonggi option-1 table: (last year of band, ratio).
# "시행-'26년" covers every year up to and including 2026; "'40년-" every year from 2040.
_DEA_BANDS = ((2026, 0.02), (2029, 0.05), (2034, 0.10), (2039, 0.15))
_DEA_FROM_2040 = 0.20
_GG1_BANDS = ((2026, 0.10), (2029, 0.15), (2034, 0.20), (2039, 0.25))
_GG1_FROM_2040 = 0.30

# Relative tolerance for "credited >= required" (floating-point noise only).
_REL_TOL = 1e-9


def _band(plan_year: int, bands: tuple[tuple[int, float], ...], last: float) -> float:
    for last_year, ratio in bands:
        if plan_year <= last_year:
            return ratio
    return last


# --- Distributed Energy Act -------------------------------------------------------------------


def dea_yearly_ratio(plan_year: int) -> float:
    """DEA yearly ratio (연도별 비율), the Gyeonggi new-complex study [별표 2]; docs/domain.md#policy-rules.

    By the year the installation plan is filed ([별표 2] 주3): through 2026 0.02, 2027-2029 0.05,
    2030-2034 0.10, 2035-2039 0.15, from 2040 0.20. Years before the Act (in force 2024-06-14)
    fall in the first band.
    """
    return _band(int(plan_year), _DEA_BANDS, _DEA_FROM_2040)


def gyeonggi_option1_yearly_ratio(plan_year: int) -> float:
    """Gyeonggi option-1 recommended share (비율권고), the Gyeonggi new-complex study "설치 의무량 비율(안)"; docs/domain.md#policy-rules.

    Same year bands as [별표 2]: through 2026 0.10, 2027-2029 0.15, 2030-2034 0.20,
    2035-2039 0.25, from 2040 0.30.
    """
    return _band(int(plan_year), _GG1_BANDS, _GG1_FROM_2040)


def regional_ratio(capital_region: bool) -> float:
    """DEA regional ratio (지역별 비율), the Gyeonggi new-complex study [별표 2]: capital region (수도권) 1.0,
    elsewhere 0.0 (deferred, 유예). Judged by where the project or facility is ([별표 2] 주2)."""
    return 1.0 if capital_region else 0.0


def obligation_ratio(capital_region: bool, plan_year: int) -> float:
    """DEA 의무비율 = regional ratio x yearly ratio, the Gyeonggi new-complex study [별표 1] 주2."""
    return regional_ratio(capital_region) * dea_yearly_ratio(plan_year)


def capacity_factor(annual_generation_mwh: float, installed_mw: float) -> float:
    """Annual capacity factor (연간이용률) as a fraction, the Gyeonggi new-complex study [별표 1] 3:
    ``annual_generation_mwh / (installed_mw x 8760)``."""
    if installed_mw <= 0:
        raise ValueError(f"installed_mw must be > 0 to compute a capacity factor (got {installed_mw})")
    if annual_generation_mwh < 0:
        raise ValueError(f"annual_generation_mwh must be >= 0 (got {annual_generation_mwh})")
    return annual_generation_mwh / (installed_mw * HOURS_PER_YEAR)


def _check_cf(cf: float) -> None:
    if not 0 < cf <= 1:
        raise ValueError(f"capacity_factor must be in (0, 1] (got {cf})")


def obligation_mw(
    annual_use_mwh: float, obligation_ratio: float, direct_trade_mwh: float, capacity_factor: float
) -> float:
    """DEA installation obligation (의무설치량), MW, the Gyeonggi new-complex study [별표 1] 1-2; docs/domain.md#policy-rules.

    ``max(0, annual_use_mwh x obligation_ratio - direct_trade_mwh) / (capacity_factor x 8760)``.
    ``annual_use_mwh`` is, by [별표 1] 주1, the saturation-year electricity demand forecast of
    the energy-use plan; ``direct_trade_mwh`` is power bought outside the wholesale market from a
    plant on the obligor's distribution network ([별표 1] 주3). ``capacity_factor`` is a fraction.
    """
    _check_cf(capacity_factor)
    if annual_use_mwh < 0 or direct_trade_mwh < 0 or obligation_ratio < 0:
        raise ValueError("annual_use_mwh, obligation_ratio and direct_trade_mwh must be >= 0")
    net_mwh = annual_use_mwh * obligation_ratio - direct_trade_mwh
    return max(0.0, net_mwh) / (capacity_factor * HOURS_PER_YEAR)


def dea_applies(annual_use_mwh: float, project_area_m2: float | None) -> bool:
    """Whether the DEA obligation applies: expected use >= 200,000 MWh/yr or a project area
    >= 1,000,000 m² (the Gyeonggi new-complex study; docs/domain.md#policy-rules). Both thresholds are inclusive ("이상").

    The study notes that industrial-complex managers (법 제13조 ①2 아목) are not yet among the
    projects the area trigger covers (가-마목); a decree amendment is expected to add them. This
    function assumes that amendment. ``project_area_m2=None`` means unknown (use trigger only).
    """
    if annual_use_mwh >= DEA_USE_THRESHOLD_MWH:
        return True
    return project_area_m2 is not None and project_area_m2 >= DEA_AREA_THRESHOLD_M2


def dea_penalty_krw(
    shortfall_mw: float,
    install_cost_krw_per_kw: float = DEFAULT_INSTALL_COST_KRW_PER_KW,
    multiplier: float = DEA_MAX_PENALTY_MULTIPLIER,
) -> float:
    """DEA penalty: ``multiplier x shortfall x installation unit cost`` with multiplier <= 1.5
    (docs/domain.md#policy-rules, "up to 150 %"). ``shortfall_mw`` x 1000 kW/MW x KRW/kW."""
    if shortfall_mw < 0:
        raise ValueError(f"shortfall_mw must be >= 0 (got {shortfall_mw})")
    return multiplier * shortfall_mw * 1000.0 * install_cost_krw_per_kw


# --- Gyeonggi options -------------------------------------------------------------------------


def offsite_correction_factor(in_complex_rate: float) -> float:
    """Correction factor (보정계수) on off-complex RE output, the Gyeonggi new-complex study table
    "산업단지 용지 외 신·재생에너지 설치 시 생산량에 대한 보정계수"; docs/domain.md#policy-rules.

    Boundaries per the study (이상 = inclusive lower bound, 미만 = exclusive upper bound):
    rate < 0.10 -> 0.7; 0.10 <= rate < 0.15 -> 0.8; 0.15 <= rate < 0.20 -> 0.9; rate >= 0.20 -> 1.0.
    ``in_complex_rate`` is a fraction (0.10 = 10 %).
    """
    if in_complex_rate < 0:
        raise ValueError(f"in_complex_rate must be >= 0 (got {in_complex_rate})")
    if in_complex_rate < 0.10:
        return 0.7
    if in_complex_rate < 0.15:
        return 0.8
    if in_complex_rate < 0.20:
        return 0.9
    return 1.0


def in_complex_rate(in_complex_mwh: float, forecast_use_mwh: float) -> float:
    """In-complex installation rate (사업지구 내 신·재생에너지 설치율) as in-complex RE generation
    over the complex's forecast use [E]: the study does not define it; it carries the factor over
    from the zero-energy-building off-site rule (the Gyeonggi new-complex study, 1안), assumed here to be keyed to the
    on-site self-sufficiency rate (not checked against that rule's text)."""
    if forecast_use_mwh <= 0:
        raise ValueError(f"forecast_use_mwh must be > 0 (got {forecast_use_mwh})")
    if in_complex_mwh < 0:
        raise ValueError(f"in_complex_mwh must be >= 0 (got {in_complex_mwh})")
    return in_complex_mwh / forecast_use_mwh


def option1_required_mwh(forecast_use_mwh: float, plan_year: int) -> float:
    """Gyeonggi option 1 requirement: ``forecast use x yearly share`` (the Gyeonggi new-complex study, 1안:
    "에너지 사용 예측량 대비 일정 비율"). No direct-trade deduction (none in the study)."""
    if forecast_use_mwh < 0:
        raise ValueError(f"forecast_use_mwh must be >= 0 (got {forecast_use_mwh})")
    return forecast_use_mwh * gyeonggi_option1_yearly_ratio(plan_year)


def option1_credited_mwh(in_complex_mwh: float, offsite_mwh: float, in_complex_rate: float) -> float:
    """Gyeonggi option 1 credit: in-complex output at face value (anywhere in the complex, no
    correction, the Gyeonggi new-complex study 1안) plus off-complex output x :func:`offsite_correction_factor`."""
    if in_complex_mwh < 0 or offsite_mwh < 0:
        raise ValueError("in_complex_mwh and offsite_mwh must be >= 0")
    return in_complex_mwh + offsite_correction_factor(in_complex_rate) * offsite_mwh


def option2_required_mw(lot_area_m2: float, share: float = 0.20, m2_per_mw: float = SOLAR_M2_PER_MW) -> float:
    """Gyeonggi option 2: solar on >= 20 % of the sold lot area (분양 대지면적), the Gyeonggi new-complex study 2안
    (송산그린시티 case): ``lot_area_m2 x share / m2_per_mw``. Applies lot by lot; summing lots
    gives the complex total."""
    if lot_area_m2 < 0:
        raise ValueError(f"lot_area_m2 must be >= 0 (got {lot_area_m2})")
    if not 0 < share <= 1 or m2_per_mw <= 0:
        raise ValueError("share must be in (0, 1] and m2_per_mw > 0")
    return lot_area_m2 * share / m2_per_mw


def option3_required_mw(
    industrial_area_m2: float,
    building_coverage: float,
    roof_share: float = 0.30,
    m2_per_mw: float = SOLAR_M2_PER_MW,
) -> float:
    """Gyeonggi option 3: renewables on >= 30 % of building roof area, the Gyeonggi new-complex study 3안
    (H-테크노밸리 case): ``industrial_area_m2 x building_coverage x roof_share / m2_per_mw``.

    Seed worked example: 414,000 m² x 0.5 (건폐율 50 %) x 0.30 / 10,000 = 6.21 MW ("6.2MW");
    at 70 % of the roofs 14.49 MW ("14.5MW"). The study rounds to 0.1 MW; this function does not.
    """
    if industrial_area_m2 < 0:
        raise ValueError(f"industrial_area_m2 must be >= 0 (got {industrial_area_m2})")
    if not 0 < building_coverage <= 1:
        raise ValueError(f"building_coverage must be in (0, 1] (got {building_coverage})")
    if not 0 < roof_share <= 1:
        raise ValueError(f"roof_share must be in (0, 1] (got {roof_share})")
    return solar_mw_for_area(industrial_area_m2 * building_coverage * roof_share, m2_per_mw)


def solar_mw_for_area(area_m2: float, m2_per_mw: float = SOLAR_M2_PER_MW) -> float:
    """Capacity that fits on an area: ``area_m2 / m2_per_mw`` (default 10,000 m²/MW, the Gyeonggi new-complex study)."""
    if area_m2 < 0 or m2_per_mw <= 0:
        raise ValueError("area_m2 must be >= 0 and m2_per_mw > 0")
    return area_m2 / m2_per_mw


# --- the switchable rule set ------------------------------------------------------------------


def roof_required_mw(config: PolicyConfig) -> float:
    """Option 3 requirement, MW (from roof_area_m2, or industrial_area_m2 x building_coverage)."""
    if config.roof_area_m2 is not None:
        return solar_mw_for_area(config.roof_area_m2 * config.roof_share, config.solar_m2_per_mw)
    if config.industrial_area_m2 is None:
        raise ValueError("gyeonggi_option_3 needs industrial_area_m2 or roof_area_m2")
    return option3_required_mw(
        config.industrial_area_m2, config.building_coverage, config.roof_share, config.solar_m2_per_mw
    )




@dataclass(frozen=True, slots=True)
class ComplianceRow:
    """One year's compliance with the configured rule.

    MW fields: for dea, option 2 and option 3 the obligation and the credited installed capacity;
    for option 1 the MWh test decides and the MW fields are its MW equivalents at
    ``capacity_factor``. MWh fields are ``None`` for the area rules (options 2 and 3).
    """

    year: int
    rule: str
    required_mw: float
    credited_mw: float
    shortfall_mw: float
    compliant: bool
    penalty_krw: float
    required_mwh: float | None = None
    credited_mwh: float | None = None
    shortfall_mwh: float | None = None
    ratio: float | None = None
    correction_factor: float | None = None
    capacity_factor: float | None = None


def ratio_year(config: PolicyConfig, year: int, first_year: int | None = None) -> int:
    """The year whose band sets the ratio: ``plan_year`` (default ``first_year``) under
    ``ratio_year_basis='plan_year'``, else the simulated ``year``."""
    if config.ratio_year_basis == "each_year":
        return int(year)
    if config.plan_year is not None:
        return config.plan_year
    if first_year is not None:
        return int(first_year)
    raise ValueError(
        "policy.plan_year is not set: pass first_year (the simulation's first year) or "
        "use config.with_plan_year(first_year)"
    )


def _use_mwh(config: PolicyConfig, annual_use_mwh: float) -> float:
    use = config.forecast_annual_use_mwh if config.forecast_annual_use_mwh is not None else annual_use_mwh
    if use < 0:
        raise ValueError(f"annual_use_mwh must be >= 0 (got {use})")
    return use


def required_mw(
    config: PolicyConfig,
    year: int,
    annual_use_mwh: float,
    direct_trade_mwh: float,
    capacity_factor: float,
    *,
    first_year: int | None = None,
) -> float:
    """Required capacity, MW, under ``config.rule`` in ``year``.

    * none: 0.
    * dea: :func:`obligation_mw` with ratio = regional x yearly ratio, 0 where :func:`dea_applies`
      is false.
    * gyeonggi_option_1: ``forecast use x yearly share / (capacity_factor x 8760)`` (no
      direct-trade deduction), the MW equivalent of the MWh test in :func:`compliance`.
    * gyeonggi_option_2 / 3: the area rules (independent of use and capacity factor).

    ``annual_use_mwh`` is replaced by ``config.forecast_annual_use_mwh`` when that is set.
    """
    rule = config.rule
    if rule == "none":
        return 0.0
    if rule == "gyeonggi_option_2":
        return option2_required_mw(config.sold_lot_area_m2, config.lot_share, config.solar_m2_per_mw)
    if rule == "gyeonggi_option_3":
        return roof_required_mw(config)
    use = _use_mwh(config, annual_use_mwh)
    ry = ratio_year(config, year, first_year)
    if rule == "dea":
        if not dea_applies(use, config.project_area_m2):
            return 0.0
        return obligation_mw(use, obligation_ratio(config.capital_region, ry), direct_trade_mwh, capacity_factor)
    if rule == "gyeonggi_option_1":
        _check_cf(capacity_factor)
        return option1_required_mwh(use, ry) / (capacity_factor * HOURS_PER_YEAR)
    raise ValueError(f"unknown policy rule {rule!r}")  # pragma: no cover (Literal-validated)


def substitute_adjustment_mw(config: PolicyConfig, storage_mwh: float, non_solar_mw: float,
                             non_solar_mwh: float) -> float:
    """Solar MW credited under Gyeonggi options 2 and 3 for substitutes of equal GHG effect
    (docs/domain.md#gyeonggi-options-for-new-complexes: "the same CO2 effect ... (geothermal, wind, fuel
    cells, ESS)"), beyond the nameplate MW of the in-complex plants: battery capacity x
    ``storage_solar_mw_per_mwh``; with ``substitute_credit: equal_ghg`` also the non-solar plants re-rated
    from their nameplate MW to the solar MW that yields their year's MWh,
    ``non_solar_mwh / (solar capacity factor x 8,760 h) - non_solar_mw`` (the capacity factor is
    ``design_capacity_factor`` or 0.15, docs/sources.md)."""
    if min(storage_mwh, non_solar_mw, non_solar_mwh) < 0:
        raise ValueError("substitute amounts must be >= 0")
    storage = storage_mwh * config.storage_solar_mw_per_mwh
    if config.substitute_credit == "nameplate":
        return storage
    cf = config.design_capacity_factor if config.design_capacity_factor is not None else DEFAULT_CAPACITY_FACTOR
    return storage + non_solar_mwh / (cf * HOURS_PER_YEAR) - non_solar_mw


def _measured_cf(config: PolicyConfig, generation_mwh: float, installed_mw: float) -> float:
    if config.design_capacity_factor is not None:
        return config.design_capacity_factor
    if installed_mw > 0 and generation_mwh > 0:
        return min(1.0, capacity_factor(generation_mwh, installed_mw))
    return DEFAULT_CAPACITY_FACTOR


def _covers(credited: float, required: float) -> bool:
    return credited >= required - _REL_TOL * max(1.0, abs(required))


def compliance(
    config: PolicyConfig,
    year: int,
    annual_use_mwh: float,
    direct_trade_mwh: float,
    installed_in_complex_mw: float,
    installed_offsite_mw: float,
    generation_in_complex_mwh: float,
    generation_offsite_mwh: float,
    *,
    first_year: int | None = None,
    storage_in_complex_mwh: float = 0.0,
    non_solar_in_complex_mw: float = 0.0,
    non_solar_in_complex_mwh: float = 0.0,
) -> ComplianceRow:
    """One year's compliance row under ``config.rule`` (see the module docstring for credit rules).

    * dea: capacity factor from the in-complex plants (or ``design_capacity_factor``); required =
      :func:`obligation_mw`; credited = in-complex MW; penalty = ``penalty_multiplier x
      shortfall_mw x 1000 x install_cost_krw_per_kw``.
    * gyeonggi_option_1: required_mwh = forecast use x yearly share; credited_mwh = in-complex
      MWh + correction factor x off-complex MWh, the factor set by in-complex MWh / forecast use;
      compliant iff credited_mwh >= required_mwh. Capacity factor over all credited plants.
    * gyeonggi_option_2 / 3: required = area rule; credited = in-complex solar MW + substitutes of equal
      GHG effect (:func:`substitute_adjustment_mw`: batteries, non-solar plants, of which
      ``non_solar_in_complex_mw`` is part of ``installed_in_complex_mw``).
    """
    for name, v in (
        ("direct_trade_mwh", direct_trade_mwh),
        ("installed_in_complex_mw", installed_in_complex_mw),
        ("installed_offsite_mw", installed_offsite_mw),
        ("generation_in_complex_mwh", generation_in_complex_mwh),
        ("generation_offsite_mwh", generation_offsite_mwh),
    ):
        if v < 0:
            raise ValueError(f"{name} must be >= 0 (got {v})")
    rule = config.rule
    year = int(year)
    if rule == "none":
        return ComplianceRow(year, rule, 0.0, installed_in_complex_mw, 0.0, True, 0.0)

    if rule in ("gyeonggi_option_2", "gyeonggi_option_3"):
        req = required_mw(config, year, annual_use_mwh, direct_trade_mwh, DEFAULT_CAPACITY_FACTOR)
        credited = installed_in_complex_mw + substitute_adjustment_mw(
            config, storage_in_complex_mwh, non_solar_in_complex_mw, non_solar_in_complex_mwh)
        short = max(0.0, req - credited)
        ok = _covers(credited, req)
        return ComplianceRow(year, rule, req, credited, 0.0 if ok else short, ok, 0.0)

    use = _use_mwh(config, annual_use_mwh)
    ry = ratio_year(config, year, first_year)

    if rule == "dea":
        cf = _measured_cf(config, generation_in_complex_mwh, installed_in_complex_mw)
        applies = dea_applies(use, config.project_area_m2)
        ratio = obligation_ratio(config.capital_region, ry) if applies else 0.0
        req_mwh = max(0.0, use * ratio - direct_trade_mwh)
        req = obligation_mw(use, ratio, direct_trade_mwh, cf)
        credited = installed_in_complex_mw
        ok = _covers(credited, req)
        short = 0.0 if ok else req - credited
        credited_mwh = credited * cf * HOURS_PER_YEAR
        return ComplianceRow(
            year, rule, req, credited, short, ok,
            dea_penalty_krw(short, config.install_cost_krw_per_kw, config.penalty_multiplier),
            required_mwh=req_mwh,
            credited_mwh=credited_mwh,
            shortfall_mwh=max(0.0, req_mwh - credited_mwh) if not ok else 0.0,
            ratio=ratio,
            capacity_factor=cf,
        )

    if rule == "gyeonggi_option_1":
        cf = _measured_cf(
            config,
            generation_in_complex_mwh + generation_offsite_mwh,
            installed_in_complex_mw + installed_offsite_mw,
        )
        ratio = gyeonggi_option1_yearly_ratio(ry)
        req_mwh = use * ratio
        rate = in_complex_rate(generation_in_complex_mwh, use) if use > 0 else 0.0
        factor = offsite_correction_factor(rate)
        credited_mwh = option1_credited_mwh(generation_in_complex_mwh, generation_offsite_mwh, rate)
        ok = _covers(credited_mwh, req_mwh)
        short_mwh = 0.0 if ok else req_mwh - credited_mwh
        to_mw = 1.0 / (cf * HOURS_PER_YEAR)
        return ComplianceRow(
            year, rule, req_mwh * to_mw, credited_mwh * to_mw, short_mwh * to_mw, ok, 0.0,
            required_mwh=req_mwh,
            credited_mwh=credited_mwh,
            shortfall_mwh=short_mwh,
            ratio=ratio,
            correction_factor=factor,
            capacity_factor=cf,
        )
    raise ValueError(f"unknown policy rule {rule!r}")  # pragma: no cover
