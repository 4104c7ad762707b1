"""Shared validation for every scenario model: one base class, one set of field types.

Every model of a scenario file (``re100sim.simulator.scenario.config`` and the parameter models
of ``re100sim.simulator.inputs``) derives from :class:`StrictModel`, so a field added later
inherits the same rules without writing any:

- unknown keys are errors; ``.inf``, ``.nan`` are errors (``allow_inf_nan=False``);
- a boolean where a number (or a string, a date...) belongs is an error (YAML turns
  ``true``/``yes``/``on`` into booleans, and pydantic would read ``true`` as 1);
- every number lies in a physically sensible range. The range comes from the field's
  explicit bounds (``Field(ge=..., le=...)``) intersected with the range of its unit, read
  from the unit suffix of its name (``capacity_kw`` -> kW -> 0 to 10 GW; :data:`UNIT_RANGES`).
  A number whose name carries no known unit and whose field gives no bound is kept within
  +-:data:`FALLBACK_MAGNITUDE`. Distributions (``mean``, ``low``, ``high``) are checked
  against the unit of the field that holds them.

:data:`InputFile` is the one type for a file a scenario names: relative paths are resolved
from the scenario file's folder (``base_dir`` in the validation context) and the results folder
copies every such file (:func:`input_files`). :data:`SafeName` is the one type for a party,
contract or scenario name (safe in file names and reports).
"""
from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

#: (name suffix, unit, lowest, highest): what a number with this unit may sensibly be. The longest
#: matching suffix wins; a field's own ``Field`` bounds narrow the range further. Upper ends are
#: generous physical limits (an industrial complex, not the national grid) that keep every
#: product of them far inside int64 KRW; prices may be negative only where a field allows it
#: (an adder, a tariff step), and a price *path* is checked to stay positive separately.
UNIT_RANGES: tuple[tuple[str, str, float, float], ...] = (
    ("_krw_per_kwh", "KRW/kWh", -1_000.0, 2_000.0),  # SMP peaked at 268 KRW/kWh in 2022 (docs/domain.md#smp)
    ("_krw_per_mwh", "KRW/MWh", -1e6, 2e6),
    ("_capex_krw_per_kwh", "KRW/kWh of capacity", 0.0, 1e8),  # storage capex: 800,000 KRW/kWh in 2015 (docs/domain.md#storage-and-demand-side)
    ("_krw_per_rec", "KRW/REC", 0.0, 1e6),  # REC 30,000-81,000 KRW in 2021-23 (docs/domain.md#rec-prices)
    ("_krw_per_kw", "KRW/kW", 0.0, 1e7),
    ("_krw_per_kw_year", "KRW/kW/yr", 0.0, 1e6),
    ("_krw_per_kw_month", "KRW/kW/month", 0.0, 1e5),
    ("_krw_per_contract_month", "KRW/month", 0.0, 1e9),
    ("_krw", "KRW", -1e15, 1e15),
    ("_kw", "kW", 0.0, 1e7),
    ("_mw", "MW", 0.0, 1e4),
    ("_kwh", "kWh", 0.0, 1e11),
    ("_mwh", "MWh", 0.0, 1e8),
    ("_mwh_per_year", "MWh/yr", 0.0, 1e8),
    ("_t_per_mwh", "tCO2/MWh", 0.0, 2.0),  # coal plants emit about 1 tCO2/MWh
    ("_pct", "%", -100.0, 200.0),
    ("_pct_per_year", "%/yr", -100.0, 100.0),
    ("_m2", "m²", 0.0, 1e10),
    ("_m2_per_mw", "m²/MW", 0.0, 1e6),
    ("_m2_per_kw", "m²/kW", 0.0, 1e3),
    ("_hours", "h", 0.0, 1e6),
    ("_days", "days", 0.0, 36_600.0),
    ("_years", "years", 0.0, 100.0),
    ("_deg", "degrees", -360.0, 360.0),
    ("_m", "m", -1e4, 1e4),
    ("_c", "°C", -60.0, 60.0),
    ("_per_c", "1/°C", -1.0, 1.0),
    ("_m_per_s", "m/s", 0.0, 100.0),
)
#: Bound for a number whose name has no known unit and whose field gives no bound of its own.
FALLBACK_MAGNITUDE = 1e9


def unit_of(name: str) -> tuple[str, float, float] | None:
    """``(unit, lowest, highest)`` of a field from its name's unit suffix (``pct`` alone counts)."""
    best = None
    for suffix, unit, lo, hi in UNIT_RANGES:
        if ("_" + name).endswith(suffix) and (best is None or len(suffix) > len(best[0])):
            best = (suffix, unit, lo, hi)
    return None if best is None else best[1:]


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric field: ``lo``/``hi`` inclusive unless ``lo_open``/``hi_open``."""

    lo: float
    hi: float
    lo_open: bool = False
    hi_open: bool = False
    unit: str = ""

    def __contains__(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return math.isfinite(x) and above and below

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        lo = f"> {_num(self.lo)}" if self.lo_open else f">= {_num(self.lo)}"
        hi = f"< {_num(self.hi)}" if self.hi_open else f"<= {_num(self.hi)}"
        return f"a finite number {lo} and {hi}{unit}"


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) < 1e7 else f"{x:g}"


def field_range(name: str, metadata: list) -> Range:
    """The range a numeric field allows: its explicit bounds within its unit's range; a side
    that neither gives is kept within +-FALLBACK_MAGNITUDE."""
    unit = unit_of(name)
    lo, hi = (unit[1], unit[2]) if unit else (None, None)
    lo_open = hi_open = False
    for m in metadata:
        if isinstance(m, annotated_types.Gt) and (lo is None or m.gt >= lo):
            lo, lo_open = float(m.gt), True
        elif isinstance(m, annotated_types.Ge) and (lo is None or m.ge > lo):
            lo, lo_open = float(m.ge), False
        elif isinstance(m, annotated_types.Lt) and (hi is None or m.lt <= hi):
            hi, hi_open = float(m.lt), True
        elif isinstance(m, annotated_types.Le) and (hi is None or m.le < hi):
            hi, hi_open = float(m.le), False
    lo = -FALLBACK_MAGNITUDE if lo is None else lo
    hi = FALLBACK_MAGNITUDE if hi is None else hi
    return Range(lo, hi, lo_open, hi_open, unit[0] if unit else "")


def bounds_of(field: FieldInfo) -> list:
    """The bound objects (``Gt``, ``Ge``...) of a field: on the field and inside its type
    (``PositiveFloat`` in a union), not inside nested models."""
    out = list(field.metadata)

    def walk(ann):
        if typing.get_origin(ann) is typing.Annotated:
            args = typing.get_args(ann)
            for m in args[1:]:
                out.extend(m.metadata if isinstance(m, FieldInfo) else [m])
            walk(args[0])
        elif typing.get_origin(ann) in (typing.Union, types.UnionType):
            for a in typing.get_args(ann):
                walk(a)

    walk(field.annotation)
    return out


def _admits_bool(ann) -> bool:
    if ann is bool or ann is Any:
        return True
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _admits_bool(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_admits_bool(a) for a in typing.get_args(ann))
    if origin is typing.Literal:
        return any(isinstance(a, bool) for a in typing.get_args(ann))
    return False


def _find_bool(value, ann) -> bool:
    """True when ``value`` holds a boolean where ``ann`` does not allow one (containers too)."""
    if isinstance(value, bool):
        return not _admits_bool(ann)
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _find_bool(value, typing.get_args(ann)[0])
    args = typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        hits = [_find_bool(value, a) for a in args if a is not type(None)]
        return bool(hits) and all(hits)
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return any(_find_bool(v, args[1]) for v in value.values())
    if isinstance(value, (list, tuple)) and origin in (list, tuple) and args:
        return any(_find_bool(v, args[0]) for v in value)
    return False


def _numbers(value) -> list[float]:
    """The numbers a validated field value holds (containers and distributions included)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, BaseModel) and hasattr(value, "amounts"):
        return list(value.amounts())
    return []


#: Error type of a boolean given for a non-boolean field; ``ctx["field"]`` names the field.
BOOL_ERROR = "bool_for_number"


class StrictModel(BaseModel):
    """Base of every scenario model (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data):
        # A model-level check: pydantic forbids field "before" validators on discriminator fields.
        if isinstance(data, dict):
            for name, v in data.items():
                field = cls.model_fields.get(name) if isinstance(name, str) else None
                if field is not None and _find_bool(v, field.annotation):
                    raise PydanticCustomError(
                        BOOL_ERROR, "got a boolean ({value}) (expected {expected}; YAML reads true/yes/on as booleans)",
                        {"field": name, "value": repr(v), "expected": _expected(field.annotation)},
                    )
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _sensible_numbers(cls, v, info: ValidationInfo):
        field = cls.model_fields[info.field_name]
        nums = _numbers(v)
        if nums:
            r = field_range(info.field_name, bounds_of(field))
            for x in nums:
                if x not in r:
                    raise ValueError(f"{x:g} is out of range ({r.text()})")
        return v


def _expected(ann) -> str:
    names = {"float": "a number", "int": "an integer", "str": "a string", "date": "a date YYYY-MM-DD"}
    text = str(ann)
    for key, words in names.items():
        if key in text:
            return words
    return "a value of the documented type"


# --- files a scenario names ----------------------------------------------------------------


@dataclass(frozen=True)
class InputFileMarker:
    """Marks a field as a file the run reads; ``default`` is the file read when the field is empty."""

    default: Path | None = None


def resolve_input_path(v: Path, info: ValidationInfo) -> Path:
    """``v`` resolved from the scenario file's folder (``base_dir`` in the validation context)."""
    v = Path(v).expanduser()
    if v.is_absolute():
        return v
    return Path((info.context or {}).get("base_dir", ".")) / v


def input_file(default: Path | None = None):
    """The type of a field naming an input file (see :data:`InputFile`)."""
    return Annotated[Path, AfterValidator(resolve_input_path), InputFileMarker(default)]


#: A file the run reads, relative to the scenario file's folder.
InputFile = input_file()


def _marker(ann) -> InputFileMarker | None:
    if typing.get_origin(ann) is typing.Annotated:
        for m in typing.get_args(ann)[1:]:
            if isinstance(m, InputFileMarker):
                return m
    for a in typing.get_args(ann):
        found = _marker(a)
        if found:
            return found
    return None


def input_files(model: BaseModel, loc: tuple = ()) -> list[tuple[tuple, Path]]:
    """Every ``(location, path)`` of an input file in a validated model (defaults included)."""
    out = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        marker = _marker(field.annotation)
        if marker is not None and (value is not None or marker.default is not None):
            out.append(((*loc, name), Path(value if value is not None else marker.default)))
        elif isinstance(value, BaseModel):
            out.extend(input_files(value, (*loc, name)))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    out.extend(input_files(item, (*loc, name, i)))
    return out


# --- names ---------------------------------------------------------------------------------

#: Allowed names: a letter or digit (any script: Hangul tenant names are common), then letters, digits, '_',
#: '.', '-'; at most 64 characters. No spaces, slashes or control characters: names become file names.
NAME_PATTERN = r"^[^\W_][\w.\-]{0,63}$"

#: A name that is safe in file names, tables and reports.
SafeName = Annotated[str, Field(pattern=NAME_PATTERN)]
