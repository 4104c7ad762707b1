"""Scenario files: YAML validated by pydantic models.

A scenario is data: these models are the only place that says which keys exist,
their units (in the field names), their defaults and where the defaults come from.
``docs/scenario.md`` documents every field; ``re100sim validate FILE`` checks one.
Unknown keys are errors (``extra="forbid"``).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from re100sim.scenarios import bundled_scenarios
from re100sim.simulator.errors import InputError, dotted_path
from re100sim.simulator.fields import (
    BOOL_ERROR,
    NAME_PATTERN,
    InputFile,
    SafeName,
    StrictModel,
    resolve_input_path,
    unit_of,
)
from re100sim.simulator.inputs.load import (
    LoadParams,
    ProfileFileError,
    read_profile_file,
)
from re100sim.simulator.inputs.markets import RecParams, SmpParams
from re100sim.simulator.inputs.solar import MOUNT_SOLAR_DEFAULTS, Mount, SolarParams
from re100sim.simulator.inputs.tariffs import (
    TariffPath,
    UnknownTariffError,
    available_tables,
    load_table,
)
from re100sim.simulator.scenario.demand import DemandSide
from re100sim.simulator.scenario.storage import Battery, CloudEss
from re100sim.simulator.scenario.uncertainty import Uncertainty

# The bundled tariff history starts on 2022-01-01 (docs/domain.md#tariff-increases); holidays and
# tariffs are not defined far into the future, so the horizon is bounded too.
LAST_START_DATE = dt.date(2060, 1, 1)
MAX_YEARS = 50


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveFloat = Annotated[float, Field(gt=0)]


# --- policy: which installation rule applies (functions in rules/policy.py) -------------------

#: Solar on ground or roof: 10,000 m² per MW, the Gyeonggi new-complex study option 3 worked example ("1MW당 10,000㎡")
#: and the area comparison ("태양광 1만㎡").
SOLAR_M2_PER_MW = 10_000.0
#: Installation unit cost for the DEA penalty, KRW per kW. [E]: no sourced figure. Chosen for
#: commercial rooftop solar at MW scale in 2024-2026; small systems cost more (a 2025 blog lists
#: 1.2-1.4 M KRW/kW at 10 kW and about 1.7 M KRW/kW at 100 kW, https://pp.tislog.kr/60 [B]).
DEFAULT_INSTALL_COST_KRW_PER_KW = 1_300_000.0
#: "Up to 150 % x shortfall x installation unit cost" (docs/domain.md#policy-rules, allsorts blog [B]).
DEA_MAX_PENALTY_MULTIPLIER = 1.5

RuleName = Literal["none", "dea", "gyeonggi_option_1", "gyeonggi_option_2", "gyeonggi_option_3"]


class PolicyConfig(StrictModel):
    """Which installation rule the complex is held to, and the parameters it needs
    (docs/domain.md#policy-rules; the Gyeonggi new-complex study). ``rule: none`` switches the policy off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authority_installs: bool = Field(
        True,
        description="the complex authority builds public rooftop PV for a year's shortfall at the next year start"
        " (the rule sets what the complex must install)",
    )

    rule: RuleName = Field(
        "none",
        description="installation rule: none; dea (Distributed Energy Act obligation, 별표 1-2); "
        "gyeonggi_option_1 (share of forecast use), gyeonggi_option_2 (solar on 20 % of sold lot "
        "area) or gyeonggi_option_3 (renewables on 30 % of roof area) (the Gyeonggi new-complex study, docs/domain.md#policy-rules)",
    )
    capital_region: bool = Field(
        True,
        description="site is in the capital region (수도권: regional ratio 100 %, else 0 % deferred); "
        "DEA only. Default: Gyeonggi/Incheon complexes are in the capital region (the Gyeonggi new-complex study)",
    )
    plan_year: int | None = Field(
        None,
        ge=2000,
        le=2100,
        description="year the installation plan is filed; sets the yearly-ratio band (별표 2 주3). "
        "Default: the simulation's first year",
    )
    ratio_year_basis: Literal["plan_year", "each_year"] = Field(
        "plan_year",
        description="plan_year: the ratio of the filing year holds for the whole run (별표 2 주3); "
        "each_year: the ratio follows each simulated year (a what-if ratchet)",
    )
    forecast_annual_use_mwh: float | None = Field(
        None,
        gt=0,
        description="forecast annual electricity use of the energy-use plan (saturation year, "
        "별표 1 주1), MWh/yr; default: the simulated use of each year",
    )
    project_area_m2: float | None = Field(
        None,
        gt=0,
        description="development project area, m²; the DEA applies from 1,000,000 m² or from "
        "200,000 MWh/yr of use (docs/domain.md#policy-rules)",
    )
    sold_lot_area_m2: float | None = Field(
        None,
        gt=0,
        description="sold lot area (분양 대지면적: industrial, commercial and research lots), m²; "
        "needed by gyeonggi_option_2",
    )
    lot_share: float = Field(0.20, gt=0, le=1, description="share of lot area to cover with solar (the Gyeonggi new-complex study 2안: 20 %)")
    industrial_area_m2: float | None = Field(
        None,
        gt=0,
        description="industrial-facility zone area (산업시설구역), m²; gyeonggi_option_3 needs it "
        "(with building_coverage) or roof_area_m2",
    )
    building_coverage: float = Field(
        0.5, gt=0, le=1, description="building coverage ratio (건폐율), 0-1; default 50 % (the Gyeonggi new-complex study worked example)"
    )
    roof_area_m2: float | None = Field(
        None,
        gt=0,
        description="total building roof area, m²; alternative to industrial_area_m2 x building_coverage",
    )
    roof_share: float = Field(
        0.30, gt=0, le=1, description="share of roof area to cover (the Gyeonggi new-complex study 3안: 30 %)"
    )
    solar_m2_per_mw: float = Field(
        SOLAR_M2_PER_MW, gt=0, description="land or roof area per MW of solar, m² (the Gyeonggi new-complex study: 10,000)"
    )
    design_capacity_factor: float | None = Field(
        None,
        gt=0,
        le=1,
        description="capacity factor (연간이용률, 0-1) for MWh <-> MW conversions, as set by the "
        "Korea Energy Agency (별표 1 주4); default: measured from the credited plants' generation "
        "each year, or 0.15 (docs/sources.md) when none has produced",
    )
    install_cost_krw_per_kw: float = Field(
        DEFAULT_INSTALL_COST_KRW_PER_KW,
        gt=0,
        description="installation unit cost for the DEA penalty, KRW/kW [E: estimate, MW-scale rooftop solar]",
    )
    penalty_multiplier: float = Field(
        DEA_MAX_PENALTY_MULTIPLIER,
        ge=0,
        le=DEA_MAX_PENALTY_MULTIPLIER,
        description="DEA penalty as a multiple of shortfall x unit cost; the law allows up to 1.5 "
        "(docs/domain.md#policy-rules). The Gyeonggi options carry no penalty",
    )

    # Gyeonggi options 2 and 3 accept other renewables "with the same GHG effect (geothermal, wind, fuel cells,
    # ESS...)" where solar is impossible (docs/domain.md#gyeonggi-options-for-new-complexes).
    substitute_credit: Literal["nameplate", "equal_ghg"] = Field(
        "nameplate",
        description="gyeonggi_option_2/3: how in-complex non-solar plants count: nameplate (their MW, as solar) or "
        "equal_ghg (their year's MWh / (solar capacity factor x 8,760 h): the solar MW with the same MWh, so the "
        "same CO2 at one grid emission factor, docs/domain.md#storage-and-demand-side)",
    )
    storage_solar_mw_per_mwh: float = Field(
        0.16, ge=0, le=1,
        description="gyeonggi_option_2/3: solar MW credited per MWh of battery capacity in the complex [E]: one cycle "
        "each of 250 working days at 85 % round trip moves 212.5 MWh of otherwise-curtailed RE a year per MWh, "
        "the output of 212.5 / (0.15 x 8,760) = 0.16 MW of solar (docs/domain.md#storage-and-demand-side); 0: no credit",
    )

    @model_validator(mode="after")
    def _needs(self):
        if self.rule == "gyeonggi_option_2" and self.sold_lot_area_m2 is None:
            raise ValueError("rule gyeonggi_option_2 needs sold_lot_area_m2 (the sold lot area, m²)")
        if self.rule == "gyeonggi_option_3" and self.industrial_area_m2 is None and self.roof_area_m2 is None:
            raise ValueError(
                "rule gyeonggi_option_3 needs industrial_area_m2 (with building_coverage) or roof_area_m2"
            )
        if self.industrial_area_m2 is not None and self.roof_area_m2 is not None:
            raise ValueError("give either roof_area_m2 or industrial_area_m2 (x building_coverage), not both")
        return self

    def with_plan_year(self, first_year: int) -> PolicyConfig:
        """This config with ``plan_year`` defaulted to ``first_year`` (the simulation's first year)."""
        if self.plan_year is not None:
            return self
        return self.model_copy(update={"plan_year": int(first_year)})


# --- distributions for tenant groups -------------------------------------------------------


class Lognormal(_Model):
    """Lognormal draw with the given arithmetic mean and coefficient of variation."""

    distribution: Literal["lognormal"]
    mean: PositiveFloat
    cv: float = Field(gt=0, le=5, description="coefficient of variation (sd / mean)")

    def amounts(self) -> tuple[float, ...]:
        """The values in the holder's unit (checked against its range)."""
        return (self.mean,)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean) - sigma2 / 2, np.sqrt(sigma2), n)


class Uniform(_Model):
    """Uniform draw on [low, high]."""

    distribution: Literal["uniform"]
    low: PositiveFloat
    high: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low} (high >= low)")
        return self

    def amounts(self) -> tuple[float, ...]:
        """The values in the holder's unit (checked against its range)."""
        return (self.low, self.high)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


Distribution = Annotated[Lognormal | Uniform, Field(discriminator="distribution")]
# A mapping is a distribution, anything else a number: errors then come from the alternative meant.
Amount = Annotated[
    Annotated[PositiveFloat, Tag("amount-number")] | Annotated[Distribution, Tag("amount-distribution")],
    Discriminator(lambda v: "amount-distribution" if isinstance(v, (dict, BaseModel)) else "amount-number"),
]


def draw(amount: Amount | None, rng: np.random.Generator, n: int) -> np.ndarray | None:
    """``n`` values of a fixed number or a distribution (None stays None)."""
    if amount is None:
        return None
    if isinstance(amount, (int, float)):
        return np.full(n, float(amount))
    return amount.sample(rng, n)


# docs/domain.md#self-generation: net metering for solar up to 1,000 kW since 2016-10-01.
NET_METERING_LIMIT_KW = 1000.0
# [E] installed cost of rooftop PV: no sourced figure (docs/domain.md#gaps); a blog range for 10-100 kW systems
# is 1.2-1.7 M KRW/kW [B] (re100sim.simulator.rules.policy); larger rooftop arrays sit at the low end.
PV_CAPEX_KRW_PER_KW = 1_200_000.0


# --- scenario parts ------------------------------------------------------------------------


class Site(_Model):
    """Location of the complex (for solar geometry)."""

    # Default: Incheon Namdong national industrial complex, about 37.40 N 126.70 E
    # (docs/domain.md#cases, Incheon Namdong case).
    latitude_deg: float = Field(37.40, ge=33.0, le=38.7, description="latitude, degrees north (South Korea)")
    longitude_deg: float = Field(126.70, ge=124.5, le=131.0, description="longitude, degrees east (South Korea)")


class TariffChoice(_Model):
    """Which bundled KEPCO table and options tenants buy grid power on."""

    table: str = Field("kepco_industrial", description="name of a bundled tariff table")
    # docs/sources.md quick defaults: >= 300 kW -> 산업용(을) 고압A 선택Ⅱ; < 300 kW -> 산업용(갑)Ⅱ 고압A 선택Ⅱ.
    option_large: str = Field("eul_high_a_ii", description="option for tenants with contract_kw >= 300")
    option_small: str = Field("gap2_high_a_ii", description="option for tenants with contract_kw < 300")

    @field_validator("table")
    @classmethod
    def _known_table(cls, v: str) -> str:
        if v not in available_tables():
            raise ValueError(f"unknown tariff table '{v}' (expected one of: {', '.join(available_tables())})")
        return v

    @model_validator(mode="after")
    def _known_options(self):
        table = load_table(self.table)
        for name in ("option_large", "option_small"):
            try:
                table.check_option(getattr(self, name))
            except UnknownTariffError as e:
                raise ValueError(str(e)) from None
        return self


class Markets(_Model):
    """Wholesale price processes: hourly SMP and monthly REC prices."""

    smp: SmpParams = SmpParams()
    rec: RecParams = RecParams()


class TenantBehaviour(_Model):
    """What drives a tenant's procurement decisions (issue 4; docs/domain.md#agents, domain.md#procurement-routes). All defaults [E]."""

    roof_area_m2: Amount | None = Field(None, description="roof area usable for PV; none: no self-generation option")
    re_target_pct: dict[int, float] = Field(
        {}, description="RE-claim target by year, % of use (e.g. {2030: 30, 2040: 100}); linear in between"
    )
    procurement_pct: float = Field(
        30.0, gt=0, le=100, description="share of annual use a tenant without a target seeks to procure, %"
    )
    hurdle_rate_pct: float = Field(8.0, ge=0, le=50, description="discount rate for own investments, %/yr")
    risk_aversion: float = Field(1.0, ge=0, description="KRW of utility lost per KRW of annual cost s.d.")
    awareness: float = Field(0.1, ge=0, le=1, description="probability of being aware of the options at the start")
    value_re_krw_per_mwh: float = Field(
        30_000.0, ge=0, description="what a claimed RE MWh towards the target is worth to the tenant (customer pressure)"
    )

    @field_validator("re_target_pct")
    @classmethod
    def _pct(cls, v: dict[int, float]) -> dict[int, float]:
        for year, pct in v.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"target {pct} for {year} is outside 0-100 (a percentage)")
        return dict(sorted(v.items()))

    def target_share(self, year: int) -> float:
        """RE target share of use in ``year`` (0-1), linear between the given years."""
        if not self.re_target_pct:
            return 0.0
        years, pcts = zip(*self.re_target_pct.items())
        return float(np.interp(year, years, pcts, left=0.0)) / 100.0


class TenantGroup(_Model):
    """One tenant (count 1) or a group of similar tenants drawn from distributions."""

    name: SafeName = Field(description="tenant name; groups get '-001', '-002' suffixes")
    count: int = Field(1, ge=1, le=100_000, description="number of tenants in the group")
    archetype: Literal["continuous", "one_shift", "two_shift"] = Field(
        "two_shift", description="load archetype (re100sim.simulator.inputs.load)"
    )
    annual_use_mwh: Amount | None = Field(None, description="annual electricity use, MWh/yr")
    peak_kw: Amount | None = Field(None, description="annual peak demand, kW (optional)")
    contract_kw: Amount | None = Field(
        None, description="contract power, kW; default: the peak (annual use / (8760 h x load factor))"
    )
    tariff_option: str | None = Field(None, description="KEPCO option; default by contract class")
    load_file: InputFile | None = Field(
        None, description="hourly metering file (CSV or parquet, kW), relative to the scenario file: "
        "8,760 or 8,784 rows (a typical year) or one row per simulated hour (8,760 x years, plus 24 per 29 February)"
    )
    load: LoadParams = LoadParams()
    behaviour: TenantBehaviour = TenantBehaviour()

    @model_validator(mode="after")
    def _use_given(self):
        if self.annual_use_mwh is None and self.load_file is None:
            raise ValueError("give annual_use_mwh or load_file (a tenant needs a load)")
        return self


#: Solar REC weights by mount: (upper kW of the band, weight), each applied to the part of the capacity in
#: its band (docs/domain.md#rec-weights). Building/rooftop 1.5 up to 3 MW, 1.0 above (kept in the 2021-07-28
#: revision); general land (ground) 1.2 up to 100 kW, 1.0 to 3 MW, 0.7 above (2018 revision; the current
#: value above 3 MW was not verified); floating 1.6 / 1.4 / 1.2 for small / medium / large (2021-07-28),
#: with the ground bands' 100 kW and 3 MW limits [E: the band limits are not in the source]; a parking
#: canopy is a structure on an existing facility, weighted like a building [E].
SOLAR_REC_WEIGHT_BANDS: dict[str, tuple[tuple[float, float], ...]] = {
    "rooftop": ((3000.0, 1.5), (float("inf"), 1.0)),
    "canopy": ((3000.0, 1.5), (float("inf"), 1.0)),
    "ground": ((100.0, 1.2), (3000.0, 1.0), (float("inf"), 0.7)),
    "floating": ((100.0, 1.6), (3000.0, 1.4), (float("inf"), 1.2)),
}


def blended_rec_weight(capacity_kw: float, bands: tuple[tuple[float, float], ...]) -> float:
    """REC weight of a plant whose capacity spans size bands: each band's weight on the kW inside it,
    averaged over the capacity (docs/domain.md#rec-weights: "first 100 kW at 1.2, the rest at 1.0")."""
    lower, total = 0.0, 0.0
    for upper, weight in bands:
        total += max(0.0, min(capacity_kw, upper) - lower) * weight
        lower = upper
    return total / capacity_kw


class Outages(_Model):
    """Forced outages: exponential times to failure and to repair (availability = mtbf / (mtbf + mttr))."""

    mtbf_hours: PositiveFloat = Field(description="mean time between failures, h")
    mttr_hours: PositiveFloat = Field(description="mean time to repair, h")


class GeneratorSpec(_Model):
    """A generating plant in or near the complex."""

    name: SafeName
    technology: Literal["solar_pv", "fuel_cell"] = "solar_pv"
    capacity_kw: PositiveFloat = Field(
        description="nameplate capacity, kW (solar: DC kWp; the AC limit is capacity_kw / solar.dc_ac_ratio)"
    )
    owner: Literal["public", "private", "tenant"] = "public"
    in_complex: bool = Field(True, description="inside the complex (Gyeonggi off-site correction, docs/domain.md#policy-rules)")
    mount: Mount = Field(
        "rooftop",
        description="solar: how the plant is mounted; sets its REC weight bands (docs/domain.md#rec-weights) and"
        " the defaults of `solar` (re100sim.simulator.inputs.solar.MOUNT_SOLAR_DEFAULTS)",
    )
    solar: SolarParams = Field(SolarParams(), description="PV parameters; keys not given take the mount's defaults")
    # Fuel-cell availability [E]: no sourced value; a typical planning figure.
    availability: float = Field(0.9, gt=0, le=1, description="fuel cell: long-run available fraction")
    host_tenant: str | None = Field(
        None, description="self-generation: the tenant behind whose meter the plant sits (docs/domain.md#procurement-routes)"
    )
    export_limit_kw: float | None = Field(
        None, ge=0, description="grid export limit, kW; output above it is curtailed (none: no limit)"
    )
    net_metering: bool | None = Field(
        None,
        description="self-generation surplus credited against the host's later use (요금상계거래);"
        " default: yes for solar <= 1,000 kW (docs/domain.md#self-generation), else surplus is sold at SMP",
    )
    # docs/domain.md#self-generation: the self-use sale limit was 50 % (the KIEE 2020 green-tariff paper) and was raised to 100 % for
    # self-use solar in 2016; other self-use plants keep 50 % here.
    self_use_sale_limit_pct: float | None = Field(
        None, gt=0, le=100,
        description="self-generation: max share of annual output sold; default 100 for solar, 50 otherwise",
    )
    green_pool: bool = Field(False, description="sells into the utility's green-tariff pool (the KIEE 2020 green-tariff paper, docs/domain.md#procurement-routes)")
    outages: Outages | None = Field(None, description="forced outages and repairs (none: only the technology's own availability)")
    # Plant economics [E]: no sourced cost figures (docs/domain.md#gaps); O&M about 1.5 % of capex a year. They set
    # PPA offers and the owner's monthly capital cost and O&M (docs/accounts.md).
    capex_krw_per_kw: float = Field(PV_CAPEX_KRW_PER_KW, ge=0, description="installed cost, KRW/kW [E]")
    opex_krw_per_kw_year: float = Field(18_000.0, ge=0, description="O&M, KRW/kW per year [E]")
    lifetime_years: int = Field(20, ge=1, le=50, description="economic life, years (docs/domain.md#direct-ppa: 20-year PPAs)")
    hurdle_rate_pct: float = Field(6.0, ge=0, le=50, description="owner's required return, %/yr [E]")
    capital_cost: Literal["annuity", "upfront"] = Field(
        "annuity",
        description="how the owner's books carry the capex: annuity (capex x capital recovery factor at"
        " hurdle_rate_pct over lifetime_years, in 12 monthly parts from the first month in service; comparable"
        " year by year with a tariff bill) or upfront (all capex in the first month in service)",
    )
    offers_ppa: bool = Field(True, description="offers uncontracted output to the broker (decisions on)")
    rec_weight: float | None = Field(
        None, ge=0, le=5,
        description="REC weight (certificates per MWh); default: solar by mount and size band, each band's weight"
        " on the part of the capacity inside it (rooftop 1.5 to 3 MW, 1.0 above), fuel cell 1.9"
        " (docs/domain.md#rec-weights)",
    )

    @model_validator(mode="before")
    @classmethod
    def _mount_solar_defaults(cls, data):
        """Unset PV parameters default to the mount's (keys given in ``solar`` win)."""
        if isinstance(data, dict) and isinstance(data.get("solar", {}), dict):
            mount = data.get("mount", "rooftop")
            data = dict(data) | {"solar": MOUNT_SOLAR_DEFAULTS.get(mount, {}) | data.get("solar", {})}
        return data

    @property
    def solar_net_metering_default(self) -> bool:
        return self.technology == "solar_pv" and self.capacity_kw <= NET_METERING_LIMIT_KW

    def uses_net_metering(self) -> bool:
        if self.host_tenant is None:
            return False
        return self.net_metering if self.net_metering is not None else self.solar_net_metering_default

    def sale_limit_pct(self) -> float:
        if self.self_use_sale_limit_pct is not None:
            return self.self_use_sale_limit_pct
        return 100.0 if self.technology == "solar_pv" else 50.0

    def effective_rec_weight(self) -> float:
        if self.rec_weight is not None:
            return self.rec_weight
        # docs/domain.md#rec-weights: fuel cell 1.9 (2021-07-28).
        if self.technology == "fuel_cell":
            return 1.9
        return blended_rec_weight(self.capacity_kw, SOLAR_REC_WEIGHT_BANDS[self.mount])


# --- procurement: direct PPA, green tariff, green premium, RECs -------------------------------


class ShareVolume(_Model):
    """A fixed share of the plant's output (after any self-consumption)."""

    kind: Literal["share"]
    share: float = Field(gt=0, le=1, description="fraction of the plant's output, 0-1")


class BaseloadVolume(_Model):
    """A constant block of power, delivered while the plant can."""

    kind: Literal["baseload"]
    block_kw: PositiveFloat


class ShapedVolume(_Model):
    """An hourly volume profile (a metering-style file, kW per hour)."""

    kind: Literal["shaped"]
    profile_file: InputFile = Field(description="hourly kW file, rows as for tenants[i].load_file")


Volume = Annotated[ShareVolume | BaseloadVolume | ShapedVolume, Field(discriminator="kind")]


class FixedPrice(_Model):
    """A fixed price, optionally escalating by a percentage each contract year."""

    kind: Literal["fixed"]
    price_krw_per_kwh: float = Field(ge=0)
    escalation_pct_per_year: float = Field(0.0, gt=-100, description="compounded each contract year")


class SmpIndexedPrice(_Model):
    """SMP plus an adder, clipped to a floor and a cap (hourly)."""

    kind: Literal["smp_indexed"]
    adder_krw_per_kwh: float = 0.0
    floor_krw_per_kwh: float | None = None
    cap_krw_per_kwh: float | None = None

    @model_validator(mode="after")
    def _floor_below_cap(self):
        if self.floor_krw_per_kwh is not None and self.cap_krw_per_kwh is not None:
            if self.floor_krw_per_kwh > self.cap_krw_per_kwh:
                raise ValueError(
                    f"floor {self.floor_krw_per_kwh} is above cap {self.cap_krw_per_kwh} (floor <= cap)"
                )
        return self


class TariffIndexedPrice(_Model):
    """A discount off the tenant's own KEPCO energy price, so the price moves with tariff increases."""

    kind: Literal["tariff_indexed"]
    discount_pct: float = Field(ge=0, lt=100, description="percent below the tenant's hourly tariff energy price")
    floor_krw_per_kwh: float | None = None
    cap_krw_per_kwh: float | None = None


Price = Annotated[FixedPrice | SmpIndexedPrice | TariffIndexedPrice, Field(discriminator="kind")]


class PpaContract(_Model):
    """A broker-mediated direct PPA between one plant and one tenant (docs/domain.md#procurement-routes, the Namdong direct-PPA proposal)."""

    name: SafeName
    generator: str = Field(description="name of a generator")
    tenant: str = Field(description="name of a tenant (one tenant; not a group)")
    volume: Volume
    price: Price
    # [E] pay-as-consumed: the tenant pays for PPA energy it uses; the plant sells the rest at SMP.
    settlement: Literal["pay_as_produced", "pay_as_consumed"] = Field(
        "pay_as_consumed", description="pay for all contracted energy, or only for energy applied to load"
    )
    min_take_pct: float = Field(
        0.0, ge=0, le=100, description="take-or-pay: the tenant pays at least this share of contracted energy"
    )
    curtailment_compensation_pct: float = Field(
        0.0, ge=0, le=100, description="share of the price the tenant pays for contracted energy curtailed"
    )
    surplus_revenue_to: Literal["generator", "tenant"] | None = Field(
        None,
        description="who receives SMP revenue for PPA energy above the tenant's load; default: the tenant for the"
        " surplus it paid for (pay-as-produced, take-or-pay), the plant for the rest (one payment per kWh)",
    )
    # docs/domain.md#direct-ppa: KEPCO's 2021 simulation put PPA network charges at 40-53 KRW/kWh all-in
    # (solar about 40); tariff-level values were not found (docs/domain.md#gaps).
    network_fee_krw_per_kwh: float = Field(40.0, ge=0, description="network usage fee on PPA energy")
    network_fee_krw_per_kw_month: float = Field(
        0.0, ge=0, description="network fee per kW of contracted capacity per month"
    )
    start_date: dt.date | None = Field(None, description="first day of supply; default: the scenario start")
    # docs/domain.md#direct-ppa "Contract length": typically 20 years (docs/domain.md#cases: Namdong 10 years).
    term_years: int = Field(20, ge=1, le=50)
    recs: Literal["bundled", "generator"] = Field(
        "bundled", description="RECs on PPA energy go to the tenant (bundled) or stay with the plant"
    )
    priority: int = Field(0, description="lower settles first among contracts on one plant")

    @model_validator(mode="after")
    def _surplus_paid_once(self):
        pays_surplus = self.settlement == "pay_as_produced" or self.min_take_pct > 0
        if self.surplus_revenue_to == "generator" and pays_surplus:
            raise ValueError(
                "surplus_revenue_to: generator, but the tenant pays for surplus energy under "
                f"{'pay_as_produced' if self.settlement == 'pay_as_produced' else 'take-or-pay (min_take_pct)'}"
                " (tenant, or omit it: one payment per kWh)"
            )
        return self


class Broker(_Model):
    """The direct-PPA platform operator (the Namdong direct-PPA proposal: KT)."""

    name: SafeName = "broker"
    # No published broker fee (docs/domain.md#gaps): [E] small platform fees.
    fee_krw_per_kwh: float = Field(1.0, ge=0, description="fee on PPA energy billed, paid by the tenant")
    fee_krw_per_contract_month: float = Field(0.0, ge=0, description="fixed fee per contract per month")
    # No sourced rule levies the power-industry fund on direct-PPA energy at a stated rate: the fund is one of
    # the components of KEPCO's 2021 all-in estimate of PPA network charges (docs/domain.md#direct-ppa), from
    # which network_fee_krw_per_kwh defaults, so charging it again would count it twice. Off by default.
    ppa_fund_pct: float = Field(
        0.0, ge=0, le=10,
        description="power-industry fund on PPA energy, % of the energy charge, collected with the bill and passed"
        " to KEPCO; default 0: already inside the default network fee (docs/domain.md#direct-ppa)",
    )
    matching: Literal["uniform_price", "pay_as_bid"] = Field(
        "uniform_price", description="how the broker clears its book of PPA bids and offers (decisions on)"
    )


class Subscription(_Model):
    tenant: str
    subscribed_mwh_per_year: PositiveFloat = Field(description="subscribed green demand (allocation weight)")


class GreenTariff(_Model):
    """The utility-pooled green tariff designed in the KIEE 2020 green-tariff paper (docs/domain.md#procurement-routes)."""

    subscribers: list[Subscription] = Field([], description="fixed subscribers (with decisions on, tenants subscribe themselves)")
    allocation: Literal["monthly", "hourly"] = Field(
        "monthly", description="allocate the pool's kWh monthly (the KIEE 2020 green-tariff paper) or hour by hour"
    )
    # The KIEE 2020 green-tariff paper, step 4: one standard price built from the purchase price (SMP), network cost,
    # margin and certificate costs. [E] SMP + 40 KRW/kWh network (docs/domain.md#direct-ppa) + 5 margin.
    price: FixedPrice | SmpIndexedPrice = Field(
        SmpIndexedPrice(kind="smp_indexed", adder_krw_per_kwh=45.0), discriminator="kind"
    )


class GreenPremium(_Model):
    """A green-premium purchase (녹색프리미엄): a premium on a declared volume, no energy flow."""

    tenant: str
    volume_mwh_per_year: PositiveFloat
    # docs/domain.md#green-premium: 2024 round 1 average winning bid 10.4 KRW/kWh.
    premium_krw_per_kwh: float = Field(10.4, ge=0)


class RecPurchase(_Model):
    """A tenant that buys unbundled RECs each year to close an RE target (annual match)."""

    tenant: str
    target_pct: float = Field(gt=0, le=100, description="RE claim target, % of annual use")


class PpaTemplate(_Model):
    """Terms of the PPAs the broker signs when decisions are on (docs/domain.md#procurement-routes direct PPA)."""

    term_years: int = Field(20, ge=1, le=50, description="docs/domain.md#direct-ppa: typically 20 years")
    escalation_pct_per_year: float = Field(0.0, gt=-100)
    settlement: Literal["pay_as_produced", "pay_as_consumed"] = "pay_as_consumed"
    network_fee_krw_per_kwh: float = Field(40.0, ge=0, description="docs/domain.md#direct-ppa (solar about 40)")


class SelfGeneration(_Model):
    """Rooftop PV a tenant may install behind its meter (docs/domain.md#procurement-routes self-generation)."""

    capex_krw_per_kw: float = Field(PV_CAPEX_KRW_PER_KW, ge=0, description="installed cost [E]")
    opex_pct_per_year: float = Field(1.5, ge=0, description="O&M, % of capex a year [E]")
    lifetime_years: int = Field(
        20, ge=1, le=50, description="economic life, years [E]: the usual PPA term (docs/domain.md#direct-ppa)"
    )
    m2_per_kw: float = Field(6.67, gt=0, description="docs/domain.md#policy-rules: 6.67 m² per kW of solar")
    # The Gyeonggi new-complex study counts 102 MW of solar on 80 Gyeonggi complexes, 3.1 % of their building area
    # (docs/domain.md#area-and-yield-rules-of-thumb, June 2022): most roofs carry no PV whatever the tariff (leased buildings, roof
    # structure, capital), which the cost comparison alone does not represent.
    # 0.3 [E]: no survey of usable factory roofs was found. With every roof usable, rooftop PV at about
    # 100 KRW/kWh beats grid energy for nearly every aware tenant and adoption passes 50 % in five years,
    # far from the 3.1 % of building area observed; leased buildings and weak roofs rule most out.
    usable_roof_share: float = Field(
        0.3, ge=0, le=1,
        description="share of tenants whose roof can carry their own PV (owned, strong enough); drawn once per "
        "tenant [E] (docs/domain.md#area-and-yield-rules-of-thumb: 3.1 % of building area carried PV in 2022)",
    )


class Decisions(_Model):
    """Agent decisions (issue 4): tenants adopt options; the broker signs PPAs. Off: a fixed scenario."""

    enabled: bool = False
    options: list[Literal["grid", "green_premium", "green_tariff", "direct_ppa", "rec", "self_generation",
                          "efficiency", "load_shifting", "battery"]] = Field(
        ["grid", "green_premium", "green_tariff", "direct_ppa", "rec", "self_generation"],
        description="options tenants may choose among; efficiency, load_shifting and battery are demand-side"
                    " measures (docs/decisions.md#demand-side-measures), off unless listed",
    )
    # Multinomial logit over utility = -cost + RE value - risk penalty - switching cost (docs/decisions.md).
    logit_scale_pct: float = Field(
        3.0, gt=0, description="cost difference, % of the tenant's grid bill, that changes the odds by e [E]"
    )
    switching_cost_pct: float = Field(1.0, ge=0, description="one-off cost of changing option, % of the grid bill [E]")
    # Bass diffusion of awareness; averages of Sultan, Farley and Lehmann (1990): p 0.03, q 0.38 [E].
    bass_p: float = Field(0.03, ge=0, le=1, description="innovation: yearly chance an unaware tenant learns")
    bass_q: float = Field(0.38, ge=0, le=1, description="imitation: extra chance per share of adopters")
    # the Gyeonggi new-complex study: tenants were reluctant at first; interest in self-generation and PPAs grew with
    # the tariff increases. [E] each percent of last year's tariff increase adds this chance.
    attention_per_pct: float = Field(0.02, ge=0, le=1, description="awareness gained per % tariff increase")
    # Price uncertainty for the risk penalty (s.d. of a year's change): tariffs rose >60 % in
    # 2022-24 (docs/domain.md#tariff-increases) [D]; SMP ranged 67-268 KRW/kWh 2020-22 (domain.md#smp) [D]; REC 30-81k (domain.md#rec-prices) [D].
    tariff_sd_pct: float = Field(10.0, ge=0)
    smp_sd_pct: float = Field(25.0, ge=0)
    rec_sd_pct: float = Field(25.0, ge=0)
    # Adaptive expectations [E]: tenants extrapolate the observed annualised change of their tariff's
    # average price (announced price for the coming year vs the observed years, up to
    # tariff_lookback_years back) over the decision horizon, floored at 0 and capped
    # (docs/decisions.md#information-set). The cap is modest: a 2022-24 shock (>60 %,
    # docs/domain.md#tariff-increases) is not extrapolated for 20 years; 3 %/yr is about the 2 % inflation
    # target plus a real increase of 1 %/yr [E].
    tariff_expectation: Literal["adaptive", "static"] = "adaptive"
    expected_growth_cap_pct: float = Field(3.0, ge=0, description="cap on the extrapolated tariff growth, %/yr [E]")
    tariff_lookback_years: int = Field(3, ge=1, le=20, description="observed years the tariff growth is measured over")
    horizon_years: int = Field(
        20, ge=1, le=50,
        description="years over which options are compared (levelised); [E] the usual PPA term and PV life"
        " (docs/domain.md#direct-ppa: typically 20 years)",
    )
    ppa: PpaTemplate = PpaTemplate()
    self_generation: SelfGeneration = SelfGeneration()
    demand_side: DemandSide = DemandSide()
    # docs/domain.md#green-premium: 2024 round 1 average winning bid.
    green_premium_krw_per_kwh: float = Field(10.4, ge=0)


class OutputOptions(_Model):
    """Where and what a run writes."""

    dir: Annotated[Path, AfterValidator(resolve_input_path)] | None = Field(
        None, description="results folder, relative to the scenario file; default results/<scenario>-<timestamp>"
    )


class Scenario(_Model):
    """A complete scenario: what, where, when, who, and on which prices."""

    name: SafeName = Field(description="scenario id")
    description: str = ""
    start_date: dt.date = Field(description="first simulated day (00:00 Asia/Seoul)")
    years: int = Field(ge=1, le=MAX_YEARS, description="simulated years, hourly steps")
    seed: int = Field(ge=0, le=2**63 - 1, description="root seed of numpy.random.SeedSequence")
    site: Site = Site()
    tariff: TariffChoice = TariffChoice()
    tariff_path: TariffPath = TariffPath()
    # docs/domain.md#emissions: 0.4173 tCO2eq/MWh, single year 2023, published 2025-12.
    emission_factor_t_per_mwh: float = Field(0.4173, ge=0, description="grid emission factor, tCO2/MWh")
    markets: Markets = Markets()
    tenants: list[TenantGroup] = Field(min_length=1)
    generators: list[GeneratorSpec] = []
    broker: Broker = Broker()
    contracts: list[PpaContract] = []
    green_tariff: GreenTariff | None = None
    green_premium: list[GreenPremium] = []
    rec_purchases: list[RecPurchase] = []
    batteries: list[Battery] = Field([], description="batteries behind tenants' meters (simulator/scenario/storage.py)")
    cloud_ess: list[CloudEss] = Field(
        [], description="complex-level shared batteries whose capacity tenants subscribe to (docs/domain.md#shared-cloud-ess)"
    )
    battery_dispatch: Literal["causal", "perfect_foresight"] = Field(
        "causal",
        description="causal: batteries decide on what is known at the hour; perfect_foresight: a benchmark whose "
                    "peak_shaving targets see the month's actual load and output (docs/decisions.md#storage-dispatch), "
                    "reported as such in summary.json and batteries.parquet",
    )
    decisions: Decisions = Decisions()
    policy: PolicyConfig = PolicyConfig()
    output: OutputOptions = OutputOptions()
    uncertainty: Uncertainty | None = Field(
        None, description="uncertain inputs for mc, sweep and sensitivity (re100sim.simulator.scenario.uncertainty)"
    )

    @model_validator(mode="after")
    def _start_in_range(self):
        first = load_table(self.tariff.table).first_effective_date
        if self.start_date.day != 1:
            raise ValueError(
                f"start_date: {self.start_date} is not the first day of a month (bills are monthly: YYYY-MM-01)"
            )
        if not (first <= self.start_date < LAST_START_DATE):
            raise ValueError(
                f"start_date: {self.start_date} is out of range (a date from {first} to"
                f" {LAST_START_DATE - dt.timedelta(days=1)}; the bundled tariff history starts on {first})"
            )
        return self

    @model_validator(mode="after")
    def _unique_names(self):
        for what, items in (("tenants", self.tenants), ("generators", self.generators)):
            seen = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    raise ValueError(f"{what}[{i}].name: duplicate name '{item.name}' (unique names)")
                seen.add(item.name)
        return self

    @model_validator(mode="after")
    def _tenant_options(self):
        table = load_table(self.tariff.table)
        for i, t in enumerate(self.tenants):
            if t.tariff_option is not None:
                try:
                    table.check_option(t.tariff_option)
                except UnknownTariffError as e:
                    raise ValueError(f"tenants[{i}].tariff_option: {e}") from None
        return self

    def tenant_names(self) -> list[str]:
        """Individual tenant names after group expansion (``name`` or ``name-001`` ...)."""
        return [t.name if t.count == 1 else f"{t.name}-{i + 1:03d}" for t in self.tenants for i in range(t.count)]

    @model_validator(mode="after")
    def _references(self):
        tenants = set(self.tenant_names())
        plants = {g.name: g for g in self.generators}

        def need(kind: str, value: str, where: str, names) -> None:
            if value not in names:
                shown = ", ".join(sorted(names)[:8]) + (" ..." if len(names) > 8 else "")
                raise ValueError(f"{where}: unknown {kind} '{value}' (one of: {shown})")

        for i, g in enumerate(self.generators):
            if g.host_tenant is not None:
                need("tenant", g.host_tenant, f"generators[{i}].host_tenant", tenants)
                if g.green_pool:
                    raise ValueError(f"generators[{i}].green_pool: a self-generation plant cannot sell to the pool")
        shares: dict[str, float] = {}
        for i, c in enumerate(self.contracts):
            need("generator", c.generator, f"contracts[{i}].generator", plants)
            need("tenant", c.tenant, f"contracts[{i}].tenant", tenants)
            if plants[c.generator].green_pool:
                raise ValueError(f"contracts[{i}].generator: '{c.generator}' sells to the green-tariff pool (a PPA plant)")
            if plants[c.generator].owner == "tenant" and plants[c.generator].host_tenant == c.tenant:
                # A tenant's own plant is self-generation: a PPA with itself would pay and certify kWh to itself.
                raise ValueError(
                    f"contracts[{i}].tenant: '{c.tenant}' owns '{c.generator}' (owner: tenant, host_tenant:"
                    f" {c.tenant}) (a buyer other than the plant's owner, or owner public/private)"
                )
            if c.volume.kind == "share":
                shares[c.generator] = shares.get(c.generator, 0.0) + c.volume.share
                if shares[c.generator] > 1 + 1e-9:
                    raise ValueError(
                        f"contracts[{i}].volume.share: shares of '{c.generator}' add up to"
                        f" {shares[c.generator]:.3f} (at most 1)"
                    )
            if c.start_date is not None and c.start_date < self.start_date:
                raise ValueError(f"contracts[{i}].start_date: {c.start_date} is before the scenario start")
            if c.start_date is not None and c.start_date.day != 1:
                raise ValueError(f"contracts[{i}].start_date: {c.start_date} is not the first day of a month (YYYY-MM-01)")
        seen_contracts: dict[str, int] = {}
        for i, c in enumerate(self.contracts):
            if c.name.casefold() in seen_contracts:
                raise ValueError(
                    f"contracts[{i}].name: '{c.name}' is also the name of contracts[{seen_contracts[c.name.casefold()]}]"
                    " (contract names must be unique, ignoring case)"
                )
            seen_contracts[c.name.casefold()] = i
        if self.green_tariff is not None:
            for i, sub in enumerate(self.green_tariff.subscribers):
                need("tenant", sub.tenant, f"green_tariff.subscribers[{i}].tenant", tenants)
            if not any(g.green_pool for g in self.generators):
                raise ValueError("green_tariff: no generator has green_pool: true (a pool needs plants)")
        for i, gp in enumerate(self.green_premium):
            need("tenant", gp.tenant, f"green_premium[{i}].tenant", tenants)
        for i, rp in enumerate(self.rec_purchases):
            need("tenant", rp.tenant, f"rec_purchases[{i}].tenant", tenants)
        for i, b in enumerate(self.batteries):
            need("tenant", b.owner, f"batteries[{i}].owner", tenants)
        if len({b.name for b in self.batteries}) != len(self.batteries):
            raise ValueError("batteries: battery names must be unique")
        for i, b in enumerate(self.batteries):
            if b.name in tenants or b.name in plants:
                raise ValueError(f"batteries[{i}].name: '{b.name}' is a tenant's or generator's name (a name of its own)")
        taken = tenants | set(plants) | {b.name for b in self.batteries}
        own_battery = {b.owner for b in self.batteries}
        for i, c in enumerate(self.cloud_ess):
            if c.name in taken:
                raise ValueError(f"cloud_ess[{i}].name: '{c.name}' is already a tenant's, plant's or battery's name")
            taken.add(c.name)
            for j, sub in enumerate(c.subscriptions):
                need("tenant", sub.tenant, f"cloud_ess[{i}].subscriptions[{j}].tenant", tenants)
                if not c.bill_sees_peak and sub.tenant in own_battery:
                    raise ValueError(
                        f"cloud_ess[{i}].subscriptions[{j}].tenant: '{sub.tenant}' has a battery of its own; with"
                        " bill_sees_peak: false its bill would need its peak with its own battery but without the"
                        " share (not modelled: set bill_sees_peak: true or drop one of the two)")
            for v in c.virtual_batteries():
                if v.name in taken:
                    raise ValueError(f"cloud_ess[{i}]: the subscription's name '{v.name}' is already taken")
                taken.add(v.name)
        return self

    @property
    def end_date(self) -> dt.date:
        from re100sim.simulator.inputs.calendar import year_blocks

        return year_blocks(self.start_date, self.years)[-1][1]

    @property
    def horizon_hours(self) -> int:
        """Simulated hours (Korea keeps no daylight saving time: 24 a day)."""
        return (self.end_date - self.start_date).days * 24

    @model_validator(mode="after")
    def _party_names(self):
        """Every party in the ledger has its own name: tenants (after group expansion), plants, the
        broker and the fixed parties; compared ignoring case, as file systems and readers do."""
        seen: dict[str, str] = {n.casefold(): f"the name of the ledger's own party {n}" for n in RESERVED_PARTY_NAMES}
        named = [(f"tenants[{gi}].name", n) for gi, t in enumerate(self.tenants)
                 for n in ([t.name] if t.count == 1 else [f"{t.name}-{i + 1:03d}" for i in range(t.count)])]
        named += [(f"generators[{i}].name", g.name) for i, g in enumerate(self.generators)]
        named.append(("broker.name", self.broker.name))
        for where, name in named[:-1]:  # the rooftop plant a deciding tenant may build (market.round)
            if where.startswith("tenants"):
                seen[f"{name}{ROOFTOP_PLANT_SUFFIX}".casefold()] = f"the name of the rooftop plant {name} may build"
        for where, name in named:
            key = name.casefold()
            if key.startswith(GENERATED_PLANT_PREFIX):
                raise ValueError(f"{where}: '{name}' starts with '{GENERATED_PLANT_PREFIX}', reserved for plants "
                                 "the policy builds (another name)")
            if key in seen and seen[key] != where:
                raise ValueError(f"{where}: '{name}' is {seen[key]} (party names must be unique across tenants,"
                                 f" generators, the broker and the reserved names {', '.join(RESERVED_PARTY_NAMES)})")
            seen.setdefault(key, f"already used by {where}")
        return self

    @model_validator(mode="after")
    def _contracts_apply(self):
        """A contract that starts after the run ends never supplies: a mistake, not a scenario."""
        for i, c in enumerate(self.contracts):
            if c.start_date is not None and c.start_date >= self.end_date:
                raise ValueError(
                    f"contracts[{i}].start_date: {c.start_date} is on or after the end of the run"
                    f" {self.end_date} (a start before {self.end_date}; the contract would never supply)"
                )
        return self

    @model_validator(mode="after")
    def _profiles(self):
        """Metering files: a typical year (8,760/8,784 rows) or, for a tenant, one row per simulated hour."""
        for i, t in enumerate(self.tenants):
            if t.load_file is not None:
                _check_profile(f"tenants[{i}].load_file", t.load_file, self.horizon_hours)
        for i, c in enumerate(self.contracts):
            if c.volume.kind == "shaped":
                _check_profile(f"contracts[{i}].volume.profile_file", c.volume.profile_file, None)
        return self

    @model_validator(mode="after")
    def _price_paths(self):
        """Prices stay positive and sensible over the whole run: the tariff path (bundled energy
        prices moved by increases and yearly_pct), the SMP and REC level paths, and SMP-indexed PPA
        prices (SMP reaches 0 KRW/kWh on spring holidays, docs/domain.md#smp, so a negative adder
        needs a floor)."""
        from re100sim.simulator.inputs.markets import rec_level_krw_per_rec, smp_level_krw_per_kwh
        from re100sim.simulator.inputs.tariffs import path_adjustment

        table = load_table(self.tariff.table)
        days = np.arange(np.datetime64(self.start_date, "D"), np.datetime64(self.end_date, "D"))
        factor, add = path_adjustment(self.tariff_path, days, dt.date(table.effective_dates[-1].year + 1, 1, 1))
        prices = np.concatenate([t.energy_krw_per_kwh.ravel() for o in table.options.values() for t in o.terms])
        low, high = factor * prices.min() + add, factor * prices.max() + add
        if not (low.min() > 0 and high.max() <= MAX_PRICE_KRW_PER_KWH):
            bad = int(np.argmin(low)) if low.min() <= 0 else int(np.argmax(high))
            raise ValueError(
                f"tariff_path: moves energy prices to {low[bad]:,.1f}-{high[bad]:,.1f} KRW/kWh on {days[bad]}"
                f" (prices above 0 and at most {MAX_PRICE_KRW_PER_KWH:,.0f} KRW/kWh over the whole run)"
            )
        months = np.arange(self.start_date.year * 12 + self.start_date.month - 1,
                           self.end_date.year * 12 + self.end_date.month - 1)
        for where, level, limit, unit in (
            ("markets.smp", smp_level_krw_per_kwh(months, self.markets.smp), MAX_PRICE_KRW_PER_KWH, "KRW/kWh"),
            ("markets.rec", rec_level_krw_per_rec(months, self.markets.rec), MAX_REC_KRW_PER_REC, "KRW/REC"),
        ):
            if not np.all(np.isfinite(level)) or level.max() > limit:
                raise ValueError(f"{where}: the level path reaches {level.max():,.0f} {unit} by the end of the run"
                                 f" (at most {limit:,.0f} {unit}; lower the level or yearly_drift_pct)")
        prices_in = [(f"contracts[{i}].price", c.price, c.term_years) for i, c in enumerate(self.contracts)]
        if self.green_tariff is not None:
            prices_in.append(("green_tariff.price", self.green_tariff.price, self.years))
        for where, price, years in prices_in:
            cap, floor = getattr(price, "cap_krw_per_kwh", None), getattr(price, "floor_krw_per_kwh", None)
            if cap is not None and cap < 0:
                raise ValueError(f"{where}.cap_krw_per_kwh: {cap:g} makes the price negative (a cap >= 0)")
            if cap is not None and floor is not None and floor > cap:
                raise ValueError(f"{where}.floor_krw_per_kwh: floor {floor:g} is above cap {cap:g} (floor <= cap)")
            if price.kind == "smp_indexed" and price.adder_krw_per_kwh < 0 and not (
                price.floor_krw_per_kwh is not None and price.floor_krw_per_kwh >= 0
            ):
                raise ValueError(
                    f"{where}.adder_krw_per_kwh: {price.adder_krw_per_kwh:g} makes the price negative when SMP is"
                    " below it (an adder >= 0, or floor_krw_per_kwh >= 0)"
                )
            if price.kind == "fixed":
                end = price.price_krw_per_kwh * (1 + price.escalation_pct_per_year / 100) ** max(years - 1, 0)
                if end > MAX_PRICE_KRW_PER_KWH:
                    raise ValueError(f"{where}.escalation_pct_per_year: the price reaches {end:,.0f} KRW/kWh"
                                     f" (at most {MAX_PRICE_KRW_PER_KWH:,.0f} KRW/kWh over the term)")
        return self


#: Parties the ledger names besides tenants, plants and the broker: the utility, the power market
#: (KPX), the Korea Energy Agency, the REC spot market and external REC sellers (a test checks
#: these against the engine's own names).
RESERVED_PARTY_NAMES = ("KEPCO", "market", "korea_energy_agency", "rec_market", "rec-market-external")
#: Plants the complex authority builds are named ``complex-pv-YEAR`` (re100sim.simulator.engine).
GENERATED_PLANT_PREFIX = "complex-pv-"
#: A tenant that adopts self-generation builds ``TENANT-rooftop`` (re100sim.simulator.market.round).
ROOFTOP_PLANT_SUFFIX = "-rooftop"
#: Highest sensible energy price, KRW/kWh (the unit range of every *_krw_per_kwh field).
MAX_PRICE_KRW_PER_KWH = unit_of("price_krw_per_kwh")[2]
#: Highest sensible REC price, KRW/REC.
MAX_REC_KRW_PER_REC = unit_of("level_krw_per_rec")[2]


def _check_profile(where: str, path: Path, horizon_hours: int | None) -> None:
    try:
        read_profile_file(path, horizon_hours)
    except ProfileFileError as e:
        raise ValueError(f"{where}: {e}") from None


# --- loading ------------------------------------------------------------------------------


def resolve_scenario_path(name_or_path: str | None) -> Path:
    """A file path, or the name of a bundled scenario (default: the bundled default)."""
    from re100sim.scenarios import DEFAULT_SCENARIO

    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    bundled = bundled_scenarios()
    if name_or_path in bundled:
        return bundled[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(
            name_or_path, "", f"no such file or bundled scenario (a path, or one of: {', '.join(bundled)})"
        )
    return path


class _ScenarioLoader(yaml.SafeLoader):
    """YAML as a scenario needs it: dates stay text (pydantic parses them and names the field when
    one is impossible, e.g. 2025-02-30), and a key given twice is an error (safe_load keeps the last)."""


_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _duplicate_key(node: yaml.Node, loc: list) -> tuple[list, yaml.Node, yaml.Node] | None:
    """The first key given twice in a mapping (at any depth): its location and both key nodes."""
    if isinstance(node, yaml.MappingNode):
        first: dict = {}
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else id(key)
            if k in first:
                return [*loc, k], first[k], key
            first[k] = key
            if found := _duplicate_key(value, [*loc, k]):
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if found := _duplicate_key(item, [*loc, i]):
                return found
    return None


def load_scenario_data(path: Path):
    """The YAML document of a scenario file (unvalidated); any problem raises one :class:`InputError`."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(src, "", f"cannot read file: {e.__class__.__name__}: {e} (a readable UTF-8 YAML file)")
    loader = _ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and (dup := _duplicate_key(node, [])):
            loc, first, again = dup
            raise InputError(src, dotted_path(loc), f"duplicate key at line {again.start_mark.line + 1}, first given"
                             f" at line {first.start_mark.line + 1} (each key once)")
        return None if node is None else loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(src, where, f"malformed YAML: {problem} (valid YAML)") from None
    except (ValueError, TypeError, OverflowError) as e:  # a tagged scalar that cannot be built
        raise InputError(src, "(file)", f"malformed YAML: {e} (valid YAML)") from None
    finally:
        loader.dispose()


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; any problem raises one :class:`InputError`."""
    src = str(path)
    data = load_scenario_data(path)
    if not isinstance(data, dict):
        raise InputError(src, "(top level)", f"got {type(data).__name__} (a mapping of scenario fields)")
    try:
        return Scenario.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as e:
        raise validation_to_input_error(src, e) from None


def validation_to_input_error(src: str, err: ValidationError) -> InputError:
    """The first pydantic error as one line; how many more there are, if any."""
    errors = err.errors(include_url=False)
    first = errors[0]
    loc = [p for p in first["loc"] if not _is_union_tag(p)]
    if first["type"] == BOOL_ERROR:  # raised by the model, about one of its fields
        loc.append(first["ctx"]["field"])
    msg = _message(first)
    # Nested validators report a "path: message" of their own; lift the path.
    field = dotted_path(loc)
    if msg.count(": ") and msg.split(": ", 1)[0].replace("[", ".").split(".")[0] in _TOP_LEVEL_FIELDS:
        field, msg = msg.split(": ", 1)
    more = f" [+{len(errors) - 1} more]" if len(errors) > 1 else ""
    return InputError(src, field, msg + more)


def _is_union_tag(part) -> bool:
    """pydantic names union members in error locations (``float``, ``constrained-float``,
    ``lognormal``...); our field names are snake_case identifiers, never those."""
    return isinstance(part, str) and (
        not part.isidentifier() or part in {"float", "int", "str", "lognormal", "uniform", "none", "function-after",
                                            "normal", "triangular", "choice"}
    )
_TOP_LEVEL_FIELDS = set(Scenario.model_fields)


def _message(e: dict) -> str:
    kind, msg, inp = e["type"], e["msg"], e.get("input")
    shown = repr(inp) if not isinstance(inp, (dict, list)) else type(inp).__name__
    if kind == "extra_forbidden":
        return "unknown key (a documented field; see docs/scenario.md)"
    if kind == "missing":
        return "missing required field"
    if kind == "string_pattern_mismatch" and e["ctx"]["pattern"] == NAME_PATTERN:
        return (f"{shown} is not an allowed name (a name matching {NAME_PATTERN}: a letter or digit, then"
                " letters, digits, '_', '.' or '-', at most 64 characters)")
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    if kind == BOOL_ERROR:
        return msg
    return f"{msg[:1].lower()}{msg[1:]} (got {shown})"
