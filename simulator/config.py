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
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scenarios import bundled_scenarios
from simulator.errors import InputError, dotted_path
from simulator.load import LoadParams, ProfileFileError, read_profile_file
from simulator.markets import RecParams, SmpParams
from simulator.solar import SolarParams
from simulator.tariffs import TariffPath, UnknownTariffError, available_tables, load_table

# The bundled tariff history starts on 2022-01-01 (facts.md §2); holidays and
# tariffs are not defined far into the future, so the horizon is bounded too.
LAST_START_DATE = dt.date(2060, 1, 1)
MAX_YEARS = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveFloat = Annotated[float, Field(gt=0)]


# --- distributions for tenant groups -------------------------------------------------------


class Lognormal(_Model):
    """Lognormal draw with the given arithmetic mean and coefficient of variation."""

    distribution: Literal["lognormal"]
    mean: PositiveFloat
    cv: float = Field(gt=0, le=5, description="coefficient of variation (sd / mean)")

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

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


Distribution = Annotated[Lognormal | Uniform, Field(discriminator="distribution")]
Amount = PositiveFloat | Distribution


def draw(amount: Amount | None, rng: np.random.Generator, n: int) -> np.ndarray | None:
    """``n`` values of a fixed number or a distribution (None stays None)."""
    if amount is None:
        return None
    if isinstance(amount, (int, float)):
        return np.full(n, float(amount))
    return amount.sample(rng, n)


# --- scenario parts ------------------------------------------------------------------------


class Site(_Model):
    """Location of the complex (for solar geometry)."""

    # Default: Incheon Namdong national industrial complex, about 37.40 N 126.70 E
    # (DOMAIN.md §6, Incheon Namdong case).
    latitude_deg: float = Field(37.40, ge=33.0, le=38.7, description="latitude, degrees north (South Korea)")
    longitude_deg: float = Field(126.70, ge=124.5, le=131.0, description="longitude, degrees east (South Korea)")


class TariffChoice(_Model):
    """Which bundled KEPCO table and options tenants buy grid power on."""

    table: str = Field("kepco_industrial", description="name of a bundled tariff table")
    # facts.md §0 quick defaults: >= 300 kW -> 산업용(을) 고압A 선택Ⅱ; < 300 kW -> 산업용(갑)Ⅱ 고압A 선택Ⅱ.
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


class TenantGroup(_Model):
    """One tenant (count 1) or a group of similar tenants drawn from distributions."""

    name: str = Field(min_length=1, description="tenant name; groups get '-001', '-002' suffixes")
    count: int = Field(1, ge=1, le=100_000, description="number of tenants in the group")
    archetype: Literal["continuous", "one_shift", "two_shift"] = Field(
        "two_shift", description="load archetype (simulator.load)"
    )
    annual_use_mwh: Amount | None = Field(None, description="annual electricity use, MWh/yr")
    peak_kw: Amount | None = Field(None, description="annual peak demand, kW (optional)")
    contract_kw: Amount | None = Field(
        None, description="contract power, kW; default: the peak (annual use / (8760 h x load factor))"
    )
    tariff_option: str | None = Field(None, description="KEPCO option; default by contract class")
    load_file: Path | None = Field(
        None, description="hourly metering file (CSV or parquet, kW), relative to the scenario file"
    )
    load: LoadParams = LoadParams()

    @model_validator(mode="after")
    def _use_given(self):
        if self.annual_use_mwh is None and self.load_file is None:
            raise ValueError("give annual_use_mwh or load_file (a tenant needs a load)")
        return self

    @field_validator("load_file")
    @classmethod
    def _readable_profile(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is None:
            return v
        base = Path((info.context or {}).get("base_dir", "."))
        path = v if v.is_absolute() else base / v
        try:
            read_profile_file(path)
        except ProfileFileError as e:
            raise ValueError(str(e)) from None
        return path


class GeneratorSpec(_Model):
    """A generating plant in or near the complex."""

    name: str = Field(min_length=1)
    technology: Literal["solar_pv", "fuel_cell"] = "solar_pv"
    capacity_kw: PositiveFloat = Field(
        description="nameplate capacity, kW (solar: DC kWp; the AC limit is capacity_kw / solar.dc_ac_ratio)"
    )
    owner: Literal["public", "private", "tenant"] = "public"
    in_complex: bool = Field(True, description="inside the complex (Gyeonggi off-site correction, DOMAIN §5)")
    solar: SolarParams = SolarParams()
    # Fuel-cell availability [E]: no sourced value in facts.md; a typical planning figure.
    availability: float = Field(0.9, gt=0, le=1, description="fuel cell: long-run available fraction")


class OutputOptions(_Model):
    """Where and what a run writes."""

    dir: Path | None = Field(None, description="results folder; default results/<scenario>-<timestamp>")


class Scenario(_Model):
    """A complete scenario: what, where, when, who, and on which prices."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$", description="scenario id")
    description: str = ""
    start_date: dt.date = Field(description="first simulated day (00:00 Asia/Seoul)")
    years: int = Field(ge=1, le=MAX_YEARS, description="simulated years, hourly steps")
    seed: int = Field(ge=0, description="root seed of numpy.random.SeedSequence")
    site: Site = Site()
    tariff: TariffChoice = TariffChoice()
    tariff_path: TariffPath = TariffPath()
    # facts.md §6.1: 0.4173 tCO2eq/MWh, single year 2023, published 2025-12.
    emission_factor_t_per_mwh: float = Field(0.4173, ge=0, description="grid emission factor, tCO2/MWh")
    markets: Markets = Markets()
    tenants: list[TenantGroup] = Field(min_length=1)
    generators: list[GeneratorSpec] = []
    output: OutputOptions = OutputOptions()

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

    @property
    def end_date(self) -> dt.date:
        from simulator.calendar import year_blocks

        return year_blocks(self.start_date, self.years)[-1][1]


# --- loading ------------------------------------------------------------------------------


def resolve_scenario_path(name_or_path: str | None) -> Path:
    """A file path, or the name of a bundled scenario (default: the bundled default)."""
    from scenarios import DEFAULT_SCENARIO

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


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; any problem raises one :class:`InputError`."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(src, "", f"cannot read file: {e.__class__.__name__}: {e} (a readable UTF-8 YAML file)")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(src, where, f"malformed YAML: {problem} (valid YAML)") from None
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
        not part.isidentifier() or part in {"float", "int", "str", "lognormal", "uniform", "none"}
    )
_TOP_LEVEL_FIELDS = set(Scenario.model_fields)


def _message(e: dict) -> str:
    kind, msg, inp = e["type"], e["msg"], e.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a documented field; see docs/scenario.md)"
    if kind == "missing":
        return "missing required field"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    shown = repr(inp) if not isinstance(inp, (dict, list)) else type(inp).__name__
    return f"{msg.lower()} (got {shown})"
