"""KEPCO tariff tables: loading, registry, hourly rate arrays and tariff paths.

Tables are YAML package data in ``re100sim.scenarios.tariffs`` (one file per table; the
file stem is the table name). Every number in them cites its row in
docs/domain.md (#tariff-tables: KEPCO industrial tariffs; #tariff-increases: dated increases).

Option keys of ``kepco_industrial`` and the Korean names:

==================  ===============================  =========================
key                 KEPCO name                       docs/domain.md
==================  ===============================  =========================
``eul_high_a_i``    산업용(을) 고압A 선택Ⅰ           domain.md#tariff-tables
``eul_high_a_ii``   산업용(을) 고압A 선택Ⅱ           domain.md#tariff-tables
``eul_high_a_iii``  산업용(을) 고압A 선택Ⅲ           domain.md#tariff-tables
``eul_high_b_*``    산업용(을) 고압B 선택Ⅰ/Ⅱ/Ⅲ       domain.md#tariff-tables
``eul_high_c_*``    산업용(을) 고압C 선택Ⅰ/Ⅱ/Ⅲ       domain.md#tariff-tables
``gap1_low``        산업용(갑)Ⅰ 저압 (flat seasonal)  domain.md#tariff-tables
``gap1_high_a_*``   산업용(갑)Ⅰ 고압A 선택Ⅰ/Ⅱ         domain.md#tariff-tables
``gap1_high_b_*``   산업용(갑)Ⅰ 고압B 선택Ⅰ/Ⅱ         domain.md#tariff-tables
``gap2_high_a_*``   산업용(갑)Ⅱ 고압A 선택Ⅰ/Ⅱ (TOU)   domain.md#tariff-tables
``gap2_high_b_*``   산업용(갑)Ⅱ 고압B 선택Ⅰ/Ⅱ (TOU)   domain.md#tariff-tables
==================  ===============================  =========================

(``*`` is ``i``, ``ii`` and, for 을, ``iii``.)

Versions are dated (prices, weekday hour bands and the weekend discount); a
simulation that crosses an effective date switches at 00:00 of that day. The
TOU period billed in an hour follows docs/domain.md#time-of-use-periods: the version's weekday band,
then Saturday peak -> mid, Sunday/public holiday -> light (domain.md#time-of-use-periods (c)). The
2026 reform's 50 % discount (domain.md#tariff-tables "New discount") is applied to the energy
price of the hours it covers, after the tariff path.

Interpretation choices (details and arithmetic in the YAML comments):

- history before 2024-10-24 = the next version minus the dated energy steps of
  domain.md#tariff-increases; the 2022-10-01 을 amounts "7원" / "11.7원" replace the +2.5 전력량 part,
  so 을 고압A rose 4.9 + 7.0 = 11.9 and 고압B/C 4.9 + 11.7 = 16.6 (갑: 7.4);
- basic charges are unchanged over 2022-2026;
- the 22-08 (pre-reform) bands apply back to 2022-01-01 (domain.md#time-of-use-periods (d) conflict);
- the weekend discount is declared for 을 only (갑Ⅱ post-reform: none);
- 갑Ⅰ (flat prices) follows the 갑 bands, which only split kWh into invoice
  lines and exclude light-load hours from the billing demand.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import AfterValidator, Field, model_validator

from re100sim.simulator.fields import StrictModel
from re100sim.simulator.inputs.calendar import (
    DAY_SATURDAY,
    DAY_SUNDAY_HOLIDAY,
    DAY_TYPE_NAMES,
    SEASON_NAMES,
    HourlyCalendar,
)

# TOU period codes (docs/domain.md#time-of-use-periods): 경부하, 중간부하, 최대부하.
TOU_LIGHT, TOU_MID, TOU_PEAK = 0, 1, 2
TOU_NAMES = ("light", "mid", "peak")

TABLE_PACKAGE = "re100sim.scenarios.tariffs"
# KEPCO publishes energy prices to 0.1 KRW/kWh; derived prices are rounded to it.
_PRICE_DECIMALS = 1
_VERSION_KEYS = {"effective", "announced", "bands", "weekend_discount", "energy_step_krw_per_kwh", "prices"}
_OPTION_KEYS = {"name_ko", "contract_class", "voltage", "choice", "band_group", "step_group"}
# Charged once per month: may only change on the first of a month.
_MONTHLY_SURCHARGES = ("fund_rate", "vat_rate")


class UnknownTariffError(ValueError):
    """An unknown tariff table or option; the message lists the valid names."""


# --- table structure ------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekendDiscount:
    """Share off the energy price in some hours of some days (docs/domain.md#tariff-tables "New discount")."""

    share: float
    seasons: tuple[int, ...]  # SEASON_* codes
    day_types: tuple[int, ...]  # DAY_* codes
    start_hour: int  # inclusive
    end_hour: int  # exclusive
    until: dt.date  # last day the discount applies

    def factor(self, season, day_type, hour, days) -> np.ndarray:
        """Energy-price multiplier per hour: ``1 - share`` where the discount applies, else 1."""
        applies = (
            np.isin(season, self.seasons)
            & np.isin(day_type, self.day_types)
            & (hour >= self.start_hour)
            & (hour < self.end_hour)
            & (days <= np.datetime64(self.until, "D"))
        )
        return np.where(applies, 1.0 - self.share, 1.0)


@dataclass(frozen=True, eq=False)
class OptionTerms:
    """One option's terms in one tariff version."""

    basic_krw_per_kw_month: float
    energy_krw_per_kwh: np.ndarray  # [SEASON_* code, TOU_* code]
    band_scheme: str  # name of the weekday band scheme
    weekday_bands: np.ndarray  # [SEASON_* code, clock hour] -> TOU_* code on a weekday
    weekend_discount: WeekendDiscount | None

    def __post_init__(self):
        self.energy_krw_per_kwh.flags.writeable = False
        self.weekday_bands.flags.writeable = False


@dataclass(frozen=True, eq=False)
class TariffOption:
    """A tariff option (e.g. 산업용(을) 고압A 선택Ⅱ) with its terms in every version."""

    key: str
    name_ko: str
    contract_class: str  # "eul" (>= 300 kW), "gap1" or "gap2" (< 300 kW); docs/domain.md#bill-structure
    voltage: str  # "low", "high_a", "high_b", "high_c"
    choice: str | None  # "i", "ii", "iii" (선택Ⅰ/Ⅱ/Ⅲ); None for 갑Ⅰ 저압
    band_group: str  # which hour bands / weekend discount of a version apply
    step_group: str  # which dated energy steps of docs/domain.md#tariff-increases apply
    terms: tuple[OptionTerms, ...]  # one per version of the table, in date order


@dataclass(frozen=True, eq=False)
class StepSchedule:
    """A dated step function: ``values[i]`` from ``dates[i]`` until ``dates[i + 1]``."""

    dates: np.ndarray  # datetime64[D], increasing
    values: np.ndarray  # float64

    def at(self, days: np.ndarray) -> np.ndarray:
        """Value in force on each day (``days`` not before ``dates[0]``)."""
        return self.values[np.searchsorted(self.dates, days, side="right") - 1]


@dataclass(frozen=True, eq=False)
class Surcharges:
    """Dated surcharges of docs/domain.md#bill-structure and docs/domain.md#tariff-increases; the same for every option."""

    climate_krw_per_kwh: StepSchedule
    fuel_adj_krw_per_kwh: StepSchedule
    fund_rate: StepSchedule
    vat_rate: StepSchedule


@dataclass(frozen=True, eq=False)
class TariffTable:
    """A bundled tariff table: options, dated versions and surcharges."""

    name: str
    effective_dates: tuple[dt.date, ...]  # one per version, increasing
    options: Mapping[str, TariffOption]
    surcharges: Surcharges
    # When each version was made public (default: its effective date); decisions see a version
    # only from then on (docs/decisions.md#information-set).
    announced_dates: tuple[dt.date, ...] = ()

    @property
    def first_effective_date(self) -> dt.date:
        """The earliest date the table covers."""
        return self.effective_dates[0]

    def check_option(self, option: str) -> TariffOption:
        """The option called ``option``, or :class:`UnknownTariffError`."""
        if option not in self.options:
            raise UnknownTariffError(
                f"unknown option '{option}' for {self.name} (expected one of: {', '.join(self.options)})"
            )
        return self.options[option]

    def contract_class(self, option: str) -> str:
        """``"eul"``, ``"gap1"`` or ``"gap2"`` (docs/domain.md#bill-structure "Contract classes")."""
        return self.check_option(option).contract_class

    def version_index(self, days: np.ndarray) -> np.ndarray:
        """Index of the version in force on each day (``datetime64[D]`` array)."""
        first = np.datetime64(self.first_effective_date, "D")
        if days.size and days.min() < first:
            raise ValueError(
                f"{days.min()} is before the first effective date {first} of tariff table {self.name}"
            )
        return np.searchsorted(np.array(self.effective_dates, dtype="datetime64[D]"), days, side="right") - 1

    def terms(self, option: str, on: dt.date) -> OptionTerms:
        """The terms of ``option`` in the version in force on ``on``."""
        (index,) = self.version_index(np.array([on], dtype="datetime64[D]"))
        return self.check_option(option).terms[index]


# --- registry -------------------------------------------------------------------------------


def available_tables() -> list[str]:
    """Names of the bundled tariff tables (the YAML file stems), sorted."""
    root = files(TABLE_PACKAGE)
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


def load_table(name: str) -> TariffTable:
    """The bundled table ``name`` (parsed once, then cached)."""
    if name not in available_tables():
        raise UnknownTariffError(
            f"unknown tariff table '{name}' (expected one of: {', '.join(available_tables())})"
        )
    return _load_table(name)


@lru_cache(maxsize=None)
def _load_table(name: str) -> TariffTable:
    raw = yaml.safe_load(files(TABLE_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    if raw.get("name") != name:
        raise ValueError(f"{name}.yaml: name is {raw.get('name')!r} (the file stem, {name!r})")
    return parse_table(raw)


# --- parsing --------------------------------------------------------------------------------


def parse_table(raw: Mapping[str, Any]) -> TariffTable:
    """Build a :class:`TariffTable` from the YAML structure (see ``kepco_industrial.yaml``)."""
    name = raw["name"]
    versions = raw["versions"]
    _check_versions(versions, raw["options"], name)
    schemes = {
        key: _weekday_bands(spec, f"{name}: band_schemes.{key}") for key, spec in raw["band_schemes"].items()
    }
    options = {key: _option(key, spec, versions, schemes, name) for key, spec in raw["options"].items()}
    dates = tuple(v["effective"] for v in versions)
    return TariffTable(
        name=name,
        effective_dates=dates,
        options=MappingProxyType(options),
        surcharges=_surcharges(raw["surcharges"], dates[0], name),
        announced_dates=tuple(v.get("announced", v["effective"]) for v in versions),
    )


def _check_versions(versions: Sequence[Mapping], options: Mapping[str, Mapping], name: str) -> None:
    """Dates increase; every key names a known field, option or group."""
    band_groups = {o["band_group"] for o in options.values()}
    step_groups = {o["step_group"] for o in options.values()}
    for i, v in enumerate(versions):
        where = f"{name}: versions[{i}]"
        _expect_subset(v, _VERSION_KEYS, where)
        if i and v["effective"] <= versions[i - 1]["effective"]:
            raise ValueError(f"{where}: effective {v['effective']} is not after the previous version's")
        if v.get("announced", v["effective"]) > v["effective"]:
            raise ValueError(f"{where}: announced {v['announced']} is after its effective date {v['effective']}")
        _expect_subset(v.get("bands", {}), band_groups, f"{where}.bands")
        _expect_subset(v.get("weekend_discount", {}), band_groups, f"{where}.weekend_discount")
        _expect_subset(v.get("prices", {}), set(options), f"{where}.prices")
        step = v.get("energy_step_krw_per_kwh")
        if step is not None and (i == 0 or set(step) != step_groups):
            raise ValueError(
                f"{where}.energy_step_krw_per_kwh: expected one step per group {sorted(step_groups)},"
                " and none on the first version"
            )
    for key, spec in options.items():
        _expect_subset(spec, _OPTION_KEYS, f"{name}: options.{key}")


def _expect_subset(mapping: Mapping, allowed: set[str], where: str) -> None:
    unknown = set(mapping) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} (expected some of: {sorted(allowed)})")


def _weekday_bands(spec: Mapping[str, Mapping], where: str) -> np.ndarray:
    """``[season, hour] -> TOU period`` from ``{season: {period: [[start, end), ...]}}``."""
    bands = np.full((len(SEASON_NAMES), 24), -1, dtype=np.int8)
    for s, season in enumerate(SEASON_NAMES):
        for p, period in enumerate(TOU_NAMES):
            for start, end in spec[season][period]:
                hours = np.arange(start, end if end > start else end + 24) % 24
                if (bands[s, hours] != -1).any():
                    raise ValueError(f"{where}.{season}.{period}: hours {start}-{end} overlap another period")
                bands[s, hours] = p
        if (bands[s] == -1).any():
            missing = np.flatnonzero(bands[s] == -1).tolist()
            raise ValueError(f"{where}.{season}: hours {missing} have no period")
    return bands


def _option(key, spec, versions, schemes, name) -> TariffOption:
    where = f"{name}: options.{key}"
    prices = _resolve_prices(key, spec["step_group"], versions, where)
    bands = _inherited(versions, "bands", spec["band_group"])
    discounts = _inherited(versions, "weekend_discount", spec["band_group"])
    if bands[0] not in schemes:
        raise ValueError(f"{where}: the first version names no known band scheme for {spec['band_group']}")
    terms = tuple(
        OptionTerms(
            basic_krw_per_kw_month=basic,
            energy_krw_per_kwh=energy,
            band_scheme=scheme,
            weekday_bands=schemes[scheme],
            weekend_discount=_discount(discount),
        )
        for (basic, energy), scheme, discount in zip(prices, bands, discounts)
    )
    return TariffOption(key=key, terms=terms, **{k: spec[k] for k in sorted(_OPTION_KEYS)})


def _inherited(versions: Sequence[Mapping], field: str, group: str) -> list:
    """Per version, the latest value of ``versions[k][field][group]`` declared up to ``k``."""
    out, current = [], None
    for v in versions:
        current = v.get(field, {}).get(group, current)
        out.append(current)
    return out


def _resolve_prices(key: str, step_group: str, versions: Sequence[Mapping], where: str) -> list:
    """``(basic, energy[season, period])`` per version.

    Explicit ``prices`` win; otherwise ``prices(k) = prices(k-1) + step(k)``, read
    backwards before the first explicit table (older = newer minus the newer step).
    Basic charges are not stepped.
    """
    out = [_price_entry(v["prices"][key], where) if key in v.get("prices", {}) else None for v in versions]
    steps = [v.get("energy_step_krw_per_kwh", {}).get(step_group, 0.0) for v in versions]
    anchor = next((k for k, p in enumerate(out) if p is not None), None)
    if anchor is None:
        raise ValueError(f"{where}: no version gives explicit prices")
    for k in range(anchor - 1, -1, -1):
        basic, energy = out[k + 1]
        out[k] = (basic, np.round(energy - steps[k + 1], _PRICE_DECIMALS))
    for k in range(anchor + 1, len(out)):
        if out[k] is None:
            basic, energy = out[k - 1]
            out[k] = (basic, np.round(energy + steps[k], _PRICE_DECIMALS))
    return out


def _price_entry(entry: Mapping[str, Any], where: str) -> tuple[float, np.ndarray]:
    """``{basic, summer, spring_fall, winter}``; a season is [light, mid, peak] or one flat price."""
    _expect_subset(entry, {"basic", *SEASON_NAMES}, where)
    energy = np.array([np.broadcast_to(np.asarray(entry[s], dtype=float), 3) for s in SEASON_NAMES])
    return float(entry["basic"]), energy


def _discount(spec: Mapping[str, Any] | None) -> WeekendDiscount | None:
    if spec is None:
        return None
    start, end = spec["hours"]
    return WeekendDiscount(
        share=float(spec["share"]),
        seasons=tuple(SEASON_NAMES.index(s) for s in spec["seasons"]),
        day_types=tuple(DAY_TYPE_NAMES.index(d) for d in spec["day_types"]),
        start_hour=int(start),
        end_hour=int(end),
        until=spec["until"],
    )


def _surcharges(raw: Mapping[str, Sequence], first: dt.date, name: str) -> Surcharges:
    schedules = {}
    for f in fields(Surcharges):
        rows = raw[f.name]
        dates = [d for d, _ in rows]
        where = f"{name}: surcharges.{f.name}"
        if dates[0] > first or dates != sorted(set(dates)):
            raise ValueError(f"{where}: dates must increase and start by {first}")
        if f.name in _MONTHLY_SURCHARGES and any(d.day != 1 for d in dates):
            raise ValueError(f"{where}: may change only on the first of a month")
        values = np.array([x for _, x in rows], dtype=float)
        schedules[f.name] = StepSchedule(np.array(dates, dtype="datetime64[D]"), values)
    return Surcharges(**schedules)


# --- tariff path ----------------------------------------------------------------------------


def _above_minus_100(pct: float) -> float:
    if pct <= -100.0:
        raise ValueError(f"a percent change must be greater than -100 (got {pct}; prices must stay positive)")
    return pct


Pct = Annotated[float, AfterValidator(_above_minus_100)]


class TariffIncrease(StrictModel):
    """One dated tariff change: a KRW/kWh addition to energy prices, or a percent change."""

    date: dt.date = Field(description="first day (00:00 Asia/Seoul) the change applies")
    announced: dt.date | None = Field(
        None, description="day the change was made public; decisions see it from then on (default: `date`)"
    )
    energy_krw_per_kwh: float | None = Field(
        None, description="KRW/kWh added to every energy price from `date` (not to basic or surcharges)"
    )
    pct: Pct | None = Field(None, description="percent change of energy prices and basic charges from `date`")

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [n for n in ("energy_krw_per_kwh", "pct") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"increase on {self.date}: give exactly one of energy_krw_per_kwh or pct"
                f" (got {' and '.join(given) or 'neither'})"
            )
        if self.announced is not None and self.announced > self.date:
            raise ValueError(f"increase on {self.date}: announced {self.announced} is after the date it applies")
        return self

    def affine(self) -> tuple[float, float]:
        """``(factor, add_krw_per_kwh)``: from ``date`` an energy price p becomes ``p * factor + add``."""
        if self.pct is None:
            return 1.0, float(self.energy_krw_per_kwh)
        return 1.0 + self.pct / 100.0, 0.0


class TariffPath(StrictModel):
    """Tariff movements on top of the bundled table (projections and counterfactuals).

    Changes apply in date order and compound: a percent change scales the price
    in force, including earlier KRW/kWh additions. On a shared date the yearly
    step comes first, then ``increases`` in list order. Surcharges (climate,
    fuel adjustment, fund, VAT) are not moved by the path.
    """

    increases: list[TariffIncrease] = Field(
        default_factory=list,
        description="dated increases: KRW/kWh on energy prices, or percent on energy prices and basic charges",
    )
    yearly_pct: Pct = Field(
        0.0, description="percent compounded on each 1 January from yearly_from, on energy prices and basic"
    )
    yearly_from: dt.date | None = Field(
        None,
        description="yearly_pct applies on every 1 January on or after this date;"
        " default: 1 January of the year after the table's last version",
    )
    hold_at: dt.date | None = Field(
        None,
        description="from this date on, the bundled version and surcharges in force on it apply for ever"
        " ('flat tariff' counterfactual; increases and yearly_pct still apply)",
    )


def path_adjustment(
    path: TariffPath, days: np.ndarray, yearly_from: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Per day, ``(factor, add_krw_per_kwh)``: energy ``p -> p * factor + add``, basic ``b -> b * factor``.

    ``yearly_from`` is used when ``path.yearly_from`` is None.
    """
    steps = _path_steps(path, path.yearly_from or yearly_from, _year(days.max()) if days.size else 0)
    factor, add = np.ones(len(steps) + 1), np.zeros(len(steps) + 1)
    for i, (_, f, a) in enumerate(steps):
        factor[i + 1] = factor[i] * f
        add[i + 1] = add[i] * f + a
    at = np.searchsorted(np.array([d for d, _, _ in steps], dtype="datetime64[D]"), days, side="right")
    return factor[at], add[at]


def _path_steps(path: TariffPath, yearly_from: dt.date, last_year: int) -> list[tuple[dt.date, float, float]]:
    """``(date, factor, add)`` in application order (stable sort: yearly steps first on a date)."""
    steps = []
    if path.yearly_pct:
        first_year = yearly_from.year + (yearly_from > dt.date(yearly_from.year, 1, 1))
        f = 1.0 + path.yearly_pct / 100.0
        steps += [(dt.date(y, 1, 1), f, 0.0) for y in range(first_year, last_year + 1)]
    steps += [(inc.date, *inc.affine()) for inc in path.increases]
    return sorted(steps, key=lambda s: s[0])


def _year(day: np.datetime64) -> int:
    return int(day.astype("datetime64[Y]").astype(int)) + 1970


# --- what is known at a date (docs/decisions.md#information-set) ------------------------------


def default_yearly_from(table: TariffTable) -> dt.date:
    """Where ``TariffPath.yearly_pct`` starts by default: 1 January after the table's last version."""
    return dt.date(table.effective_dates[-1].year + 1, 1, 1)


def known_table(table: TariffTable, as_of: dt.date) -> TariffTable:
    """``table`` as a customer knew it on ``as_of``: the versions announced by then (the first
    version always) and the surcharge steps in force by then (surcharges carry no announcement
    date: each is known from its first day)."""
    keep = [i for i, a in enumerate(table.announced_dates or table.effective_dates) if i == 0 or a <= as_of]
    if len(keep) == len(table.effective_dates) and all(
            s.dates[-1] <= np.datetime64(as_of, "D") for s in _schedules(table.surcharges)):
        return table
    options = {
        key: TariffOption(**{f.name: getattr(o, f.name) for f in fields(TariffOption) if f.name != "terms"},
                          terms=tuple(o.terms[i] for i in keep))
        for key, o in table.options.items()
    }
    day = np.datetime64(as_of, "D")
    surcharges = Surcharges(**{
        f.name: StepSchedule(s.dates[: max(1, int((s.dates <= day).sum()))], s.values[: max(1, int((s.dates <= day).sum()))])
        for f, s in zip(fields(Surcharges), _schedules(table.surcharges))
    })
    return TariffTable(
        name=table.name,
        effective_dates=tuple(table.effective_dates[i] for i in keep),
        options=MappingProxyType(options),
        surcharges=surcharges,
        announced_dates=tuple((table.announced_dates or table.effective_dates)[i] for i in keep),
    )


def _schedules(s: Surcharges) -> list[StepSchedule]:
    return [getattr(s, f.name) for f in fields(Surcharges)]


def known_path(path: TariffPath, as_of: dt.date, yearly_from: dt.date) -> TariffPath:
    """``path`` as known on ``as_of``: increases announced by then (default announcement: their
    date) and the yearly steps already applied (a projection is not an announcement).

    ``yearly_from`` is used when ``path.yearly_from`` is None (as in :func:`path_adjustment`)."""
    yearly = [TariffIncrease(date=d, pct=path.yearly_pct)
              for d, _, _ in _path_steps(path.model_copy(update={"increases": []}), path.yearly_from or yearly_from,
                                         as_of.year) if d <= as_of]
    known = [inc for inc in path.increases if (inc.announced or inc.date) <= as_of]
    return path.model_copy(update={"increases": yearly + known, "yearly_pct": 0.0, "yearly_from": None})


# --- hourly rates ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HourlyRates:
    """One option's rates for every hour of a calendar block (read-only arrays)."""

    tou_period: np.ndarray  # int8 TOU_* code billed, after the day-type rules
    energy_krw_per_kwh: np.ndarray  # after the tariff path and the weekend discount
    basic_krw_per_kw_month: np.ndarray  # after the tariff path
    climate_krw_per_kwh: np.ndarray
    fuel_adj_krw_per_kwh: np.ndarray
    fund_rate: np.ndarray  # share of the 전기요금계
    vat_rate: np.ndarray  # share of the 전기요금계

    def __post_init__(self):
        for f in fields(self):
            getattr(self, f.name).flags.writeable = False


def hour_days(calendar: HourlyCalendar) -> np.ndarray:
    """Local (Asia/Seoul) date of each hour, ``datetime64[D]``."""
    return calendar.timestamps.tz_localize(None).to_numpy().astype("datetime64[D]")


def billed_period(weekday_period: np.ndarray, day_type: np.ndarray) -> np.ndarray:
    """TOU period billed: Saturday peak -> mid; Sunday/holiday -> light (docs/domain.md#time-of-use-periods (c))."""
    saturday_peak = (day_type == DAY_SATURDAY) & (weekday_period == TOU_PEAK)
    period = np.where(saturday_peak, TOU_MID, weekday_period)
    return np.where(day_type == DAY_SUNDAY_HOLIDAY, TOU_LIGHT, period).astype(np.int8)


def hourly_rates(
    calendar: HourlyCalendar, table: TariffTable, option: str, path: TariffPath | None = None
) -> HourlyRates:
    """Per-hour TOU period, prices and surcharges of ``option`` over ``calendar``.

    The version (and surcharges) of each hour is the one in force on its day,
    or on ``path.hold_at`` for days after it. The energy price is
    ``(bundled * factor + add) * discount`` with the path's ``factor, add``
    (:func:`path_adjustment`) and the version's weekend discount.
    """
    opt = table.check_option(option)
    path = path or TariffPath()
    days = hour_days(calendar)
    terms_days = days if path.hold_at is None else np.minimum(days, np.datetime64(path.hold_at, "D"))
    period, energy, basic, discount = _bundled_terms(calendar, opt, table.version_index(terms_days), days)
    factor, add = path_adjustment(path, days, default_yearly_from(table))
    s = table.surcharges
    return HourlyRates(
        tou_period=period,
        energy_krw_per_kwh=(energy * factor + add) * discount,
        basic_krw_per_kw_month=basic * factor,
        climate_krw_per_kwh=s.climate_krw_per_kwh.at(terms_days),
        fuel_adj_krw_per_kwh=s.fuel_adj_krw_per_kwh.at(terms_days),
        fund_rate=s.fund_rate.at(terms_days),
        vat_rate=s.vat_rate.at(terms_days),
    )


def _bundled_terms(calendar: HourlyCalendar, opt: TariffOption, version: np.ndarray, days: np.ndarray):
    """Per hour: billed period, bundled energy price, basic charge and discount factor."""
    n = calendar.n_hours
    period, energy, basic, discount = np.empty(n, np.int8), np.empty(n), np.empty(n), np.ones(n)
    for v in np.unique(version):
        at = version == v
        terms = opt.terms[v]
        season, hour, day_type = calendar.season[at], calendar.hour[at], calendar.day_type[at]
        period[at] = billed_period(terms.weekday_bands[season, hour], day_type)
        energy[at] = terms.energy_krw_per_kwh[season, period[at]]
        basic[at] = terms.basic_krw_per_kw_month
        if terms.weekend_discount is not None:
            discount[at] = terms.weekend_discount.factor(season, day_type, hour, days[at])
    return period, energy, basic, discount
