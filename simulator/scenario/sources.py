"""Generate ``docs/sources.md``: every default number of the code and the bundled data, with its source.

``python -m re100sim.simulator.scenario.sources > docs/sources.md``; ``tests/test_sources.py`` checks the
file is current and that every default number has a source or a confidence tag, so a default cannot
change (or appear) without its row. The source of a number is read where the number is written:

- scenario defaults: the pydantic models (``simulator/scenario/config.py`` and the parameter models it embeds
  from ``simulator/inputs/``): the ``#`` comment lines just above a field and its ``description``;
- module constants in ``simulator/`` and ``agents/`` (``UPPER_CASE = number``, tuples and dicts of numbers):
  the ``#:``/``#`` comment block above (shared by a block of constants), an inline comment, or a docstring below;
- bundled data: the comments of the tariff table (one row per table version and surcharge step) and the
  ``source`` column of the SMP and REC history files (one row per data point).

A missing source is fixed at the number (tag it ``[E]`` with a one-line reason), never in the page.
"""
from __future__ import annotations

import ast
import csv
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from re100sim.simulator.fields import unit_of as _unit_range
from re100sim.simulator.scenario.config import Scenario
from re100sim.simulator.scenario.docgen import _models_of


def unit_of(name: str) -> str:
    """The unit a name's suffix gives (one registry: re100sim.simulator.fields.UNIT_RANGES), or ""."""
    u = _unit_range(name)
    return u[0] if u else ""

REPO = Path(__file__).resolve().parents[2]
CODE_DIRS = ("simulator", "agents")
TARIFF_FILES = ("scenarios/tariffs/kepco_industrial.yaml",)
HISTORY_FILES = ("scenarios/markets/smp_monthly.csv", "scenarios/markets/rec_monthly.csv")

TAGS = {
    "N": "news: a dated news report (newspaper, trade press)",
    "C": "code: a value in a public code base or official data set",
    "B": "blog: a dated blog post or a vendor's page, less checked than news",
    "D": "derived: arithmetic on sourced numbers (the arithmetic is given beside the number)",
    "E": "estimate: no published figure found; the reason for the value is given beside it",
}
_TAG = re.compile(r"\[([NCBDE])(?=[\]:,/ ])")
# A citation of the project's docs, a law's annex, a URL or one of the named source documents.
_CITATION = re.compile(
    r"docs/|domain\.md#|sources\.md|https?://|별표|KEPCO|Gyeonggi new-complex|KIEE 2020|Namdong direct-PPA|"
    r"Gwangju smart-complex|pvlib|KMA|Sultan, Farley"
)
_DATE = re.compile(r"\b(?:19|20)\d\d(?:-\d\d(?:-\d\d)?)?\b")

#: Numbers that are definitions, unit conversions, tolerances or software limits, not assumptions about
#: the world: listed in their own table, without a source. A new constant must be sourced or listed here.
DEFINITIONS = {
    "KRW_PER_MILLION": "unit conversion",
    "FALLBACK_MAGNITUDE": "validation bound for a number with no unit and no bound of its own",
    "EXIT_INPUT_ERROR": "exit code of bad input (the command-line contract)",
    "MAX_YEARS": "software limit on the horizon",
    "KWH_PER_MWH": "unit conversion",
    "WH_PER_MWH": "unit conversion (the ledger counts whole Wh)",
    "HOURS_PER_YEAR": "8,760 h: the fixed year of the rules that use it",
    "ENERGY_TOLERANCE_MWH": "tolerance of the conservation check",
    "MONEY_TOLERANCE_KRW": "tolerance of the conservation check",
    "SHARE_SUM_TOL": "floating-point tolerance",
    "MIN_MWH": "smallest amount issued (1 Wh)",
    "_REL_TOL": "floating-point tolerance",
    "_GUARD_DECIMALS": "rounding guard (floating-point noise)",
    "_ARRAY_EXACT_LIMIT": "exactness limit of float sums",
    "_PRICE_DECIMALS": "prices are published to 0.1 KRW/kWh",
    "N_TOU": "three time-of-use periods (light, mid, peak)",
    "TYPICAL_YEAR_HOURS": "hours of a common and a leap year",
    "EXAMPLE_PROFILE_SEED": "seed of the bundled example profile file",
    "_REFERENCE_YEAR": "a non-leap year used for a calendar-free calculation",
    "STREAMS": "names of the random streams",
    "VOLUME_KIND": "codes passed to the settlement kernel",
    "PRICE_KIND": "codes passed to the settlement kernel",
    "CERTIFICATES_PER_MWH": "one green or premium certificate per kWh (by definition)",
    "RATCHET_MONTHS": "calendar months (a definition of the tariff rule, sourced in the comment)",
    "CLEARSKY_CACHE_VERSION": "version of the on-disk clear-sky cache format",
    "_SIGNIFICANT_DIGITS": "digits written in reproduction tables (identical tables across machines)",
    "STRATEGY": "codes passed to the settlement kernel (battery dispatch strategies)",
    "N_SRC": "three sources of stored energy (grid, own plants, PPA)",
    "SOC_TOL": "floating-point tolerance",
    "_BATTERY_DEFAULTS": "kernel-level defaults of a test block (lossless, full SOC window, no fade)",
}


@dataclass(frozen=True)
class Row:
    what: str  # field path, constant name or data point
    where: str  # file
    value: str
    unit: str
    source: str
    neutral: bool = False  # a default that switches a term off needs no source

    @property
    def tags(self) -> str:
        return " ".join(f"[{t}]" for t in dict.fromkeys(_TAG.findall(self.source)))

    @property
    def dates(self) -> str:
        return ", ".join(list(dict.fromkeys(_DATE.findall(self.source)))[:3])

    @property
    def sourced(self) -> bool:
        return self.neutral or bool(_TAG.search(self.source) or _CITATION.search(self.source))


def _rel(path: str | Path) -> str:
    return str(Path(path).resolve().relative_to(REPO))


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace("|", "\\|")


def _unit(name: str) -> str:
    """Unit from a name: ``m2_per_mw`` -> m²/MW; otherwise the suffix table of docs/scenario.md."""
    m = re.search(r"([a-z0-9]+)_per_([a-z0-9]+)$", name)
    if m and not unit_of(name).count("/"):
        num, den = unit_of(f"_{m[1]}"), unit_of(f"_{m[2]}") or {"year": "yr"}.get(m[2], "")
        if num and den:
            return f"{num}/{den}"
    return unit_of(name)


def _fmt(value) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1e4:
            return f"{int(value):,}"
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, (tuple, list)) for v in value):
        if len(value) > 4 or any(len(v) > 6 for v in value):  # a table: its shape, the numbers are in the file
            return f"{len(value)}x{len(value[0])} values"
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        shown = ", ".join(_fmt(v) for v in items[:12])
        return f"({shown}{', ...' if len(items) > 12 else ''})"
    return str(value)


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, dict):
        # values may be tuples or dicts of numbers (an empty dict: no override)
        return bool(value) and all(_is_number(v) or v == {} for v in value.values())
    if isinstance(value, (tuple, list, frozenset, set)):
        return bool(value) and all(_is_number(v) for v in value)
    return False


def _neutral(value) -> bool:
    """A zero default switches a term off (no fee, no escalation, no floor); it needs no source."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


#: Scenario fields whose default is a structural choice, not a number about the world.
STRUCTURAL = {"tenants[].count": "one tenant unless a group is declared",
              "contracts[].priority": "settlement order among contracts on one plant"}


# --- comments next to a line ------------------------------------------------------------------


def _comment_above(lines: list[str], lineno: int, through_assignments: bool) -> list[str]:
    """The ``#`` comment block just above 1-based ``lineno``; with ``through_assignments`` it continues
    past the assignments of a block of constants (one comment sources the whole block)."""
    out: list[str] = []
    i = lineno - 2
    while i >= 0:
        s = lines[i].strip()
        if s.startswith("#"):
            text = s.lstrip("#:").strip()
            if text.strip("-= ") and not re.fullmatch(r"-{2,}.*-{2,}", text):  # skip section rulers
                out.insert(0, text)
        elif through_assignments and re.match(r"^_?[A-Z][A-Z0-9_]*\s*[:=]", s) and not out:
            pass
        else:
            break
        i -= 1
    return out


def _inline_comment(line: str) -> str:
    m = re.search(r"#\s*(.*)$", line)
    return m.group(1) if m else ""


# --- (a) scenario defaults -------------------------------------------------------------------


def _field_sources(model: type[BaseModel]) -> dict[str, tuple[str, str]]:
    """(comment just above, comment above its block) of each field of a model class, by field name.
    A comment above a block of fields (no blank line between them) sources the fields below it."""
    try:
        lines, _ = inspect.getsourcelines(model)
    except (OSError, TypeError):
        return {}
    text = [line.rstrip("\n") for line in lines]
    out: dict[str, tuple[str, str]] = {}
    previous, block = None, ""
    for node in ast.parse("\n".join(text)).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own = " ".join(_comment_above(text, node.lineno, False))
            if own or previous is None or previous.end_lineno != node.lineno - 1:
                block = own
            out[node.target.id] = (own, block)
            previous = node
        else:
            previous = None
    return out


def _class_tag(model: type[BaseModel]) -> str:
    """A class docstring that tags all its defaults ("All defaults [E]", "all [E]") sources each field."""
    m = re.search(r"[Aa]ll (?:defaults )?(\[[NCBDE]\])", model.__doc__ or "")
    return f"(all defaults of {model.__name__}: {m.group(1)})" if m else ""


def scenario_rows(model: type[BaseModel] = Scenario, prefix: str = "", instance: BaseModel | None = None,
                  inherited: str = "") -> list[Row]:
    """One row per numeric default of ``model`` and the models it embeds (field path as in a scenario file).

    ``instance``: a non-default instance given as the parent's default (its values are read, and where one
    differs from the class default its source is the parent field's comment, ``inherited``)."""
    out: list[Row] = []
    comments = _field_sources(model)
    where = _rel(inspect.getsourcefile(model))
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        own, block = comments.get(name, ("", ""))
        src = _clean(" ".join(x for x in (own, field.description or "") if x))
        if block and not Row(path, "", "", "", src).sourced:
            src = _clean(f"{block} {src}")
        if field.default is PydanticUndefined and field.default_factory is None:
            default = PydanticUndefined
        else:
            default = field.default_factory() if field.default_factory else field.default
        value = getattr(instance, name) if instance is not None else default
        if instance is not None and value != default:
            src = _clean(f"{src} {inherited}")
        if not _TAG.search(src) and _class_tag(model):
            src = _clean(f"{src} {_class_tag(model)}")
        if isinstance(value, BaseModel):
            out += scenario_rows(type(value), f"{path}.", value, src)
            continue
        if _models_of(field.annotation) and (value is PydanticUndefined or value in (None, [], {})):
            # a required, optional or list-of-models field: the defaults of each model it may hold
            for m in _flatten_models(field.annotation):
                if m.__name__ in ("Lognormal", "Uniform"):
                    continue
                kind = f"({typing.get_args(m.model_fields['kind'].annotation)[0]})" if "kind" in m.model_fields else ""
                out += scenario_rows(m, f"{path}[]{kind}." if _is_list(field.annotation) else f"{path}{kind}.")
            continue
        if _is_number(value):
            if path in STRUCTURAL:
                src = STRUCTURAL[path]
            out.append(Row(path, where, _fmt(value), _unit(name), src, _neutral(value) or path in STRUCTURAL))
    return out


def _is_list(ann) -> bool:
    return typing.get_origin(ann) is list or any(_is_list(a) for a in typing.get_args(ann))


def _flatten_models(ann) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    found = []
    for a in typing.get_args(ann):
        for m in _flatten_models(a):
            if m not in found:
                found.append(m)
    return found


# --- (b) module constants --------------------------------------------------------------------


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b}


def _literal(node: ast.expr):
    """The value of a literal expression: numbers, tuples, lists, dicts, arithmetic on them (``1.0 / 3.0``,
    ``[0.0] * 9 + [...]``), ``float("inf")`` and ``np.array(...)``/``frozenset(...)`` of one; None for anything
    else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _literal(node.operand)
        return -v if _is_number(v) and not isinstance(v, (tuple, list, dict)) else None
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [_literal(e) for e in node.elts]
        return None if any(i is None for i in items) else tuple(items)
    if isinstance(node, ast.Dict):
        values = [_literal(v) for v in node.values]
        keys = [_literal(k) if k is not None else None for k in node.keys]
        return None if any(x is None for x in keys + values) else dict(zip(keys, values))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _literal(node.left), _literal(node.right)
        if a is None or b is None:
            return None
        a, b = (list(x) if isinstance(x, tuple) else x for x in (a, b))
        try:
            out = _OPS[type(node.op)](a, b)
        except TypeError:
            return None
        return tuple(out) if isinstance(out, list) else out
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        fn = node.func
        name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
        if name in ("array", "frozenset", "tuple"):
            return _literal(node.args[0])
        if name == "float" and isinstance(arg := _literal(node.args[0]), str):
            return float(arg)  # float("inf")
    return None


def constants_in(path: Path) -> list[Row]:
    """Every module-level ``UPPER_CASE = number`` (or tuple/dict of numbers) of one Python file."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    out = []
    for k, node in enumerate(tree.body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if not isinstance(target, ast.Name) or not re.fullmatch(r"_?[A-Z][A-Z0-9_]*", target.id):
            continue
        value = _literal(node.value)
        if not _is_number(value):
            continue
        parts = _comment_above(lines, node.lineno, True) + [_inline_comment(lines[node.end_lineno - 1])]
        after = tree.body[k + 1] if k + 1 < len(tree.body) else None  # a docstring below the constant
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            parts.append(after.value.value)
        where = _rel(path) if path.resolve().is_relative_to(REPO) else path.name
        out.append(Row(target.id, where, _fmt(value), _unit(target.id.lower()), _clean(" ".join(p for p in parts if p))))
    return out


def constant_rows() -> tuple[list[Row], list[Row]]:
    """(assumptions, definitions): the constants of every module in simulator/ and agents/."""
    assumptions: list[Row] = []
    definitions: list[Row] = []
    for folder in CODE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for row in constants_in(path):
                if row.what in DEFINITIONS:
                    definitions.append(Row(row.what, row.where, row.value, row.unit, DEFINITIONS[row.what]))
                else:
                    assumptions.append(row)
    return assumptions, definitions


# --- (c) bundled data ------------------------------------------------------------------------


def tariff_rows(rel: str) -> list[Row]:
    """One row per table version (its dated energy step or explicit prices) and per surcharge step."""
    lines = (REPO / rel).read_text(encoding="utf-8").splitlines()
    out: list[Row] = []
    i = 0
    section = ""
    series = ""
    while i < len(lines):
        line = lines[i]
        if re.match(r"^[a-z_]+:", line):
            section = line.split(":")[0]
        if section == "versions" and (m := re.match(r"^\s+- effective: (\S+)", line)):
            block = [line]
            i += 1
            while i < len(lines) and not re.match(r"^\s+- effective:|^[a-z#]", lines[i]):
                block.append(lines[i])
                i += 1
            comments = [_inline_comment(b) if not b.strip().startswith("#") else b.strip().lstrip("# ")
                        for b in block]
            step = next((b.split(":", 1)[1].strip() for b in block if "energy_step_krw_per_kwh" in b), "")
            n_prices = sum(1 for b in block if re.match(r"^\s+[a-z0-9_]+:\s+\{basic:", b))
            what = []
            if step:
                what.append(f"energy step {step} KRW/kWh")
            if n_prices:
                what.append(f"explicit prices of {n_prices} options")
            if any("bands:" in b for b in block):
                bands = next(b.split(":", 1)[1] for b in block if "bands:" in b)
                what.append("time-of-use bands " + bands.split("#")[0].strip())
            src = _clean(" ".join(dict.fromkeys(c for c in comments if c)))
            out.append(Row(f"version {m.group(1)}", rel, "; ".join(what), "KRW/kWh, KRW/kW-month", src))
            continue
        if section == "surcharges":
            if m := re.match(r"^  ([a-z_]+):", line):
                series = m.group(1)
            elif m := re.match(r"^\s+- \[(\S+), (\S+)\]", line):
                src = [_inline_comment(line)]
                j = i + 1
                while j < len(lines) and lines[j].strip().startswith("#"):
                    src.append(lines[j].strip().lstrip("# "))
                    j += 1
                unit = unit_of(series) or "share of the bill"
                out.append(Row(f"{series} from {m.group(1)}", rel, m.group(2), unit, _clean(" ".join(src))))
        i += 1
    return out


def history_rows(rel: str) -> list[Row]:
    """One row per data point of an SMP or REC history file (its ``source`` column)."""
    with open(REPO / rel, encoding="utf-8") as f:
        reader = csv.DictReader(f)
        value_col = next(c for c in reader.fieldnames if c.endswith(("_krw_per_kwh", "_krw_per_rec")))
        rows = []
        for r in reader:
            used = "in the price path" if r["in_path"] == "1" else "context, not in the path"
            rows.append(Row(f"{r['period']} ({r['kind']}, {used})", rel, r[value_col], unit_of(value_col),
                            _clean(r["source"])))
    return rows


# --- the page ---------------------------------------------------------------------------------


HEADER = """# Sources of every default number

Every number the simulator assumes when a scenario does not say otherwise, and every number of the
bundled data, with its unit, its source and the date the source gives. The domain rules behind them are
in [`docs/domain.md`](domain.md); the scenario fields in [`docs/scenario.md`](scenario.md); terms in
[`docs/glossary.md`](glossary.md).

This page is generated by `python -m re100sim.simulator.scenario.sources > docs/sources.md` from the
places the numbers are written: the `#` comments and `description` of each scenario field, the comment
above each module constant, the comments of the tariff table and the `source` column of the market
history files. `tests/test_sources.py` fails when the page is stale or when a number has neither a
confidence tag nor a citation, so a default cannot change, or appear, without its row. A missing source
is fixed where the number is written (tag it [E] with a one-line reason), never here.

## Confidence tags

| tag | meaning |
|---|---|
""" + "\n".join(f"| [{k}] | {v} |" for k, v in TAGS.items()) + """

A number without a tag cites its source directly (a section of `docs/domain.md`, a law's annex or a named
document). The named source documents: *the Namdong direct-PPA platform proposal* (the consortium
proposal for a direct-PPA platform in the Incheon Namdong national industrial complex, 2025), *the
Gyeonggi new-complex renewable standards study* (경기도 신규산업단지 신·재생에너지 도입 기준 수립 연구),
*the KIEE 2020 green-tariff paper* (Transactions of the KIEE, 2020: green tariff design) and *the Gwangju
smart-complex article*. A default of 0 switches a term off (no fee, no escalation, no floor) and
needs no source. "date" lists the dates the source text mentions.
"""


def _table(rows: list[Row], with_file: bool) -> list[str]:
    head = "| what | file | value | unit | tag | date | source |" if with_file else \
        "| field | value | unit | tag | date | source |"
    out = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        cells = [f"`{r.what}`"] + ([f"`{r.where}`"] if with_file else []) + \
            [r.value, r.unit, r.tags or ("—" if r.neutral else ""), r.dates, r.source or "**missing**"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def all_rows() -> dict[str, list[Row]]:
    """Every row that needs a source, by section title."""
    constants, _ = constant_rows()
    sections = {"Scenario defaults (pydantic models)": scenario_rows(), "Constants in the code": constants}
    for rel in TARIFF_FILES:
        sections[f"Tariff table `{rel}`"] = tariff_rows(rel)
    for rel in HISTORY_FILES:
        sections[f"Market history `{rel}`"] = history_rows(rel)
    return sections


def unsourced() -> list[Row]:
    """Rows whose number has neither a confidence tag nor a citation (must be empty)."""
    return [r for rows in all_rows().values() for r in rows if not r.sourced]


def generate() -> str:
    parts = [HEADER]
    for title, rows in all_rows().items():
        parts.append(f"## {title}\n")
        if title.startswith("Scenario"):
            parts.append("Field paths as in a scenario file (`[]`: each item of a list; `(kind)`: one variant).\n")
        parts.append("\n".join(_table(rows, with_file=not title.startswith(("Scenario", "Tariff", "Market")))) + "\n")
    _, definitions = constant_rows()
    parts.append("## Definitions, conversions and tolerances\n\nNumbers in the code that are not assumptions "
                 "about the world (listed in `DEFINITIONS` of the generator with the reason).\n")
    parts.append("\n".join(["| constant | file | value | what it is |", "|---|---|---|---|"] +
                           [f"| `{r.what}` | `{r.where}` | {r.value} | {r.source} |" for r in definitions]) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(generate(), end="")
