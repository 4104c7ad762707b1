"""Mutation score of the rule and engine modules: which small code changes do the tests catch?

Not part of CI (minutes to hours: 0.5-15 s per mutant on a shared 2-core machine). Re-run before resolving an issue that changes money or decisions;
``--write-docs`` renders the table into docs/testing.md.

The runner is mutmut 3's own (``mutmut run``): every function of a scored module is compiled once
with all its mutants behind a trampoline, the test session forks once per mutant, and a mutant runs
only the tests that called its function in mutmut's stats pass (fastest first, stopping at the first
failure). ``mutmut run`` cannot score this repository in place, because the folders install as
``re100sim.simulator``, ``re100sim.agents``... (pyproject ``package-dir``) and mutmut imports its
mutated copy by folder names. So this script lays out a scratch folder per module where the sources
and tests of HEAD sit under ``re100sim/`` and ``tests/`` (``mutants/re100sim/...`` then imports as
``re100sim``), with the compiled kernel copied in and ``[tool.mutmut]`` settings that mutate that
module and select from its test files (``TESTS``), and runs mutmut there with the base interpreter
(no editable install of the repository on its path). mutmut's forced-fail check stops the run if the
tests do not see the mutants. The scratch folders are kept between runs (mutmut caches its results;
``--recheck-survivors`` re-runs the survivors that are not listed as equivalent, after new tests);
they are rebuilt when the sources of HEAD change.

A mutant is killed when its tests fail, error or time out. A mutant listed in
``experiments/mutation_equivalent.yaml`` (module, function, mutation, and the reason it cannot change
behaviour) counts as equivalent; score = killed / (run - equivalent).

Usage::

    python experiments/mutation_score.py --modules billing settlement --write-docs
    python experiments/mutation_score.py --max-mutants 200 --write-docs   # an even sample per module
    python experiments/mutation_score.py --modules monthly --recheck-survivors  # after adding tests

Results accumulate in ``experiments/mutation_results.json`` (one entry per module, replaced when the
module is re-run).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from pathlib import Path

import libcst as cst
import yaml
from mutmut.mutation.file_mutation import create_mutations
from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "mutation_results.json"
EQUIVALENT = ROOT / "experiments" / "mutation_equivalent.yaml"
DOC = ROOT / "docs" / "testing.md"
MARK_BEGIN, MARK_END = "<!-- mutation-score:begin -->", "<!-- mutation-score:end -->"
# pyproject package-dir: re100sim.<name> <- <folder>
PACKAGE_DIRS = {"simulator": "simulator", "agents": "agents", "ext": "ext", "scenarios": "scenarios",
                "reproductions": "experiments/reproductions"}
KILLED = {"killed", "timeout", "segfault"}

# Module -> test files that exercise it. mutmut picks, per mutated function, the tests (of all these
# files) that called it; the engine-wide property test and the bundled scenarios are left out (a
# surviving mutant would run them whole: minutes each).
GOLDEN = ["tests/test_golden_contracts.py", "tests/test_golden_invoices.py"]
RULES = ["tests/test_contract_rules.py", "tests/test_settlement.py"]
STORAGE = ["tests/test_storage_engine.py"]  # batteries: what they store and deliver, with its certificates
TESTS = {
    "simulator/rules/billing.py": ["tests/test_billing.py", *GOLDEN],
    "simulator/rules/settlement.py": [*RULES, *GOLDEN],
    "simulator/market/monthly.py": [*GOLDEN, *RULES, *STORAGE],
    "simulator/market/procurement.py": [*GOLDEN, *RULES, *STORAGE],
    "simulator/rules/certification.py": [*GOLDEN, "tests/test_certificates.py", *STORAGE],
    "simulator/rules/certificates.py": ["tests/test_certificates.py", *GOLDEN],
    "simulator/rules/policy.py": ["tests/test_policy.py", *GOLDEN],
    "simulator/market/options.py": ["tests/test_options.py", "tests/test_agents.py", "tests/test_information_sets.py",
                                    "tests/test_demand.py"],  # demand.py runs _kernel with batteries
    "agents/tenant.py": ["tests/test_agents.py", "tests/test_information_sets.py"],
    "agents/generator.py": ["tests/test_agents.py", *GOLDEN],
    "agents/broker.py": ["tests/test_agents.py", *GOLDEN],
    "agents/utility.py": ["tests/test_agents.py", *GOLDEN],
}
DEFAULT_SCRATCH = Path("/tmp") / "re100sim-mutation"


def short(path: str) -> str:
    return Path(path).stem


def dotted(path: str) -> str:
    """The import name of a repository file: simulator/rules/billing.py -> re100sim.simulator.rules.billing."""
    return "re100sim." + path.removesuffix(".py").replace("/", ".")


def mutant_table(source: str, path: str) -> dict[str, dict]:
    """mutmut's mutant name -> line, function and "before -> after" for each mutation of ``source``.

    Names follow mutmut's trampolines (``<module>.x_<function>__mutmut_<i>``, methods
    ``xǁ<Class>ǁ<method>``, ``i`` counting the function's mutations in order)."""
    module, found, _, _ = create_mutations(path, source)
    names = {}
    for node in module.body:
        if isinstance(node, cst.FunctionDef):
            names[node] = (f"x_{node.name.value}", node.name.value)
        elif isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
            for m in node.body.body:
                if isinstance(m, cst.FunctionDef):
                    names[m] = (f"xǁ{node.name.value}ǁ{m.name.value}", f"{node.name.value}.{m.name.value}")
    pos = cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True).resolve(cst.metadata.PositionProvider)
    count: dict = defaultdict(int)
    out = {}
    for m in found:
        if m.contained_by_top_level_function not in names:
            continue  # mutmut only runs mutants inside functions and methods
        mangled, function = names[m.contained_by_top_level_function]
        count[mangled] += 1
        out[f"{dotted(path)}.{mangled}__mutmut_{count[mangled]}"] = {
            "line": pos[m.original_node].start.line if m.original_node in pos else 0, "function": function,
            "mutation": describe(module, m.original_node, m.mutated_node)}
    return out


def describe(module: cst.Module, original: cst.CSTNode, mutated) -> str:
    """"before -> after": the nodes' code (100 characters each); for a node over several lines, only
    the changed part (whitespace collapsed) after 30 characters of context."""
    before = module.code_for_node(original).strip()
    after = "<removed>" if isinstance(mutated, cst.RemovalSentinel) else module.code_for_node(mutated).strip()
    if "\n" not in before and "\n" not in after:
        return f"{before[:100]} -> {after[:100]}"
    a, b = " ".join(before.split()), " ".join(after.split())
    pre = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    suf = next((i for i, (x, y) in enumerate(zip(a[::-1], b[::-1])) if x != y or i >= min(len(a), len(b)) - pre),
               min(len(a), len(b)) - pre)
    while suf and (a[len(a) - suf].isalnum() or a[len(a) - suf] == "_"):  # end on a whole name
        suf -= 1
    ctx = max(0, pre - 30)
    return f"...{a[ctx:len(a) - suf][:100]} -> ...{b[ctx:len(b) - suf][:100]}"


def source_trees() -> str:
    """Git tree ids of the package folders at HEAD: the scratch copy is rebuilt when they change."""
    return " ".join(git("rev-parse", f"HEAD:{d}") for d in PACKAGE_DIRS.values())


def export_head(dest: Path, folders: list[str]) -> None:
    data = subprocess.run(["git", "archive", "--format=tar", "HEAD", *folders], cwd=ROOT, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")


def prepare_scratch(scratch: Path, path: str) -> None:
    """Sources of HEAD under scratch/re100sim, tests of HEAD in scratch/tests, mutmut's settings for
    mutating ``path`` and selecting from its tests (one scratch folder per module)."""
    stamp = scratch / "source-trees.txt"
    trees = source_trees()
    if not stamp.exists() or stamp.read_text() != trees:
        shutil.rmtree(scratch, ignore_errors=True)
        export = scratch / "export"
        export_head(export, list(PACKAGE_DIRS.values()))
        for name, folder in PACKAGE_DIRS.items():
            (scratch / "re100sim").mkdir(parents=True, exist_ok=True)
            (export / folder).rename(scratch / "re100sim" / name)
        shutil.rmtree(export)
        for so in (ROOT / "ext").glob("*.so"):  # the kernel as built in this checkout
            shutil.copy2(so, scratch / "re100sim" / "ext" / so.name)
        stamp.write_text(trees)
    for old in (scratch / "tests", scratch / "mutants" / "tests"):
        shutil.rmtree(old, ignore_errors=True)
    export_head(scratch, ["tests"])
    (scratch / "pyproject.toml").write_text(f"""\
[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["slow: long-running test"]
addopts = "-p no:benchmark -p no:cacheprovider"

[tool.mutmut]
source_paths = ["re100sim"]
only_mutate = {json.dumps(["re100sim/" + path])}
pytest_add_cli_args = ["-m", "not slow"]
pytest_add_cli_args_test_selection = {json.dumps(TESTS[path])}
# CPU-seconds limit per mutant = (tests' time + 1 s) x multiplier x 2, and a wall-clock limit of half
# that: on a shared machine a mutant's tests can take several times their quiet wall time, and a
# timeout counts as a kill, so the margin is wide (mutmut re-runs the timeouts when it changes)
timeout_multiplier = 15
""", encoding="utf-8")


def meta(scratch: Path, path: str) -> dict:
    f = scratch / "mutants" / "re100sim" / (path + ".meta")
    return json.loads(f.read_text()) if f.exists() else {"exit_code_by_key": {}, "durations_by_key": {}}


def base_python() -> str:
    """The interpreter under the venv: mutmut and the test deps, but not the editable re100sim."""
    return getattr(sys, "_base_executable", sys.executable)


def run_mutmut(scratch: Path, names: list[str]) -> float:
    """``mutmut run`` on ``names``; wall seconds."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["HYPOTHESIS_PROFILE"] = "mutation"
    t0 = time.perf_counter()
    with open(scratch / "mutmut.log", "w") as log:
        r = subprocess.run([base_python(), "-m", "mutmut", "run", "--max-children", "1", *names], cwd=scratch,
                           env=env, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = (scratch / "mutmut.log").read_text(errors="replace").replace("\r", "\n").splitlines()[-30:]
        sys.exit("mutmut run failed:\n" + "\n".join(tail))
    return time.perf_counter() - t0


def equivalents() -> dict[str, list[dict]]:
    return yaml.safe_load(EQUIVALENT.read_text(encoding="utf-8")) or {} if EQUIVALENT.exists() else {}


def summarise(scratch: Path, path: str, table: dict[str, dict], picked: list[str]) -> dict:
    codes, durations = meta(scratch, path)["exit_code_by_key"], meta(scratch, path)["durations_by_key"]
    equiv = {(e["function"], e["mutation"]): e["reason"] for e in equivalents().get(path, [])}
    killed, survivors, equivalent, unchecked = 0, [], [], 0
    for name in picked:
        status = status_by_exit_code[codes.get(name)]
        row = {"line": table[name]["line"], "function": table[name]["function"],
               "mutation": table[name]["mutation"]}
        if status == "not checked":
            unchecked += 1
        elif status in KILLED:
            killed += 1
        elif (row["function"], row["mutation"]) in equiv:
            equivalent.append(row | {"reason": equiv[(row["function"], row["mutation"])]})
        else:
            survivors.append(row | {"status": status})
    run = len(picked) - unchecked
    return {"module": path, "tests": TESTS[path], "mutants_total": len(table), "mutants_run": run,
            "sample": len(picked) < len(table), "partial": unchecked > 0, "killed": killed, "survived": len(survivors),
            "equivalent": len(equivalent), "score_pct": round(100.0 * killed / max(run - len(equivalent), 1), 1),
            "survivors": sorted(survivors, key=lambda r: r["line"]),
            "equivalents": sorted(equivalent, key=lambda r: r["line"]),
            "test_seconds": round(sum(durations.get(n, 0.0) for n in picked), 1)}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def render(results: dict) -> str:
    lines = [MARK_BEGIN, "",
             "| module | mutants (run / total) | killed | survived | equivalent | score | date | commit |",
             "|---|---|---|---|---|---|---|---|"]
    for path in TESTS:
        r = results.get(path)
        if r is None:
            lines.append(f"| {path} | not scored | | | | | | |")
            continue
        sample = (" (part of an even sample)" if r.get("sample") else " (partial: mutmut runs the fastest-tested functions first)") if r.get("partial") \
            else " (even sample)" if r.get("sample") else ""
        lines.append(f"| {path} | {r['mutants_run']} / {r['mutants_total']}{sample} | {r['killed']} | "
                     f"{r['survived']} | {r.get('equivalent', 0)} | {r['score_pct']} % | {r['date']} | {r['commit']} |")
    lines += ["", "Score = killed / (run - equivalent). Surviving mutants (line, function: original -> mutant):", ""]
    for path in TESTS:
        r = results.get(path)
        if r and r["survivors"]:
            lines.append(f"- `{path}`:")
            lines += [f"  - {s['line']}, `{s.get('function', '')}`: `{s['mutation']}`"
                      + (f" ({s['status']})" if s.get("status", "survived") != "survived" else "")
                      for s in r["survivors"]]
    lines += ["", "Equivalent mutants (listed in `experiments/mutation_equivalent.yaml`, with the reason):", ""]
    for path in TESTS:
        r = results.get(path)
        if r and r.get("equivalents"):
            lines.append(f"- `{path}`:")
            lines += [f"  - {e['line']}, `{e['function']}`: `{e['mutation']}`: {e['reason']}" for e in r["equivalents"]]
    return "\n".join(lines + ["", MARK_END])


def write_docs(results: dict) -> None:
    text = DOC.read_text(encoding="utf-8")
    a, b = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
    DOC.write_text(text[:a] + render(results) + text[b:], encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", nargs="*", help="module stems (e.g. settlement generator); default all")
    ap.add_argument("--max-mutants", type=int, default=None, help="evenly spaced sample per module")
    ap.add_argument("--recheck-survivors", action="store_true",
                    help="re-run mutants that survived before (after adding tests)")
    ap.add_argument("--survivors-only", action="store_true",
                    help="with --recheck-survivors: re-run only the survivors, not the mutants not yet run")
    ap.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH, help="scratch folder (kept between runs)")
    ap.add_argument("--write-docs", action="store_true", help="render the results table into docs/testing.md")
    ap.add_argument("--summarise-only", action="store_true",
                    help="run no mutant: summarise what the scratch folders hold (a run stopped part-way counts "
                         "the mutants it ran, in mutmut's order)")
    args = ap.parse_args()
    paths = [p for p in TESTS if not args.modules or short(p) in args.modules]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    commit, date = git("rev-parse", "--short", "HEAD"), dt.date.today().isoformat()
    for path in paths:
        scratch = args.scratch / short(path)
        prepare_scratch(scratch, path)
        with contextlib.chdir(scratch):  # mutmut's mutation reads its settings from the folder it runs in
            table = mutant_table((scratch / "re100sim" / path).read_text(), path)
        names, n = list(table), args.max_mutants
        picked = names if not n or len(names) <= n else [names[round(i * (len(names) - 1) / (n - 1))] for i in range(n)]
        codes = meta(scratch, path)["exit_code_by_key"]
        equiv = {(e["function"], e["mutation"]) for e in equivalents().get(path, [])}
        todo = [k for k in picked if (codes.get(k) is None and not args.survivors_only)
                or (args.recheck_survivors and status_by_exit_code[codes[k]] not in KILLED
                    and (table[k]["function"], table[k]["mutation"]) not in equiv)]
        seconds = run_mutmut(scratch, todo) if todo and not args.summarise_only else 0.0
        r = summarise(scratch, path, table, picked) | {"commit": commit, "date": date, "run_seconds": round(seconds)}
        if args.summarise_only and r["mutants_run"] == 0:
            continue  # nothing in this scratch folder: keep the module's last result
        results[path] = r
        print(f"{path}: ran {len(todo) if seconds else 0} in {seconds:.0f} s ({seconds / max(len(todo), 1):.2f} s per mutant, with "
              f"mutmut's setup); {r['killed']}/{r['mutants_run']} killed, {r['equivalent']} equivalent "
              f"({r['score_pct']} %)", flush=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.write_docs:
        write_docs(results)


if __name__ == "__main__":
    main()
