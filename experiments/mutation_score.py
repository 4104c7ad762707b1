"""Mutation score of the rule and engine modules: which small code changes do the tests catch?

Not part of CI (minutes per module). Re-run before resolving an issue that changes money or
decisions, and paste the table into docs/testing.md (``--write-docs`` does it).

The mutants are mutmut's (``mutmut.mutation.file_mutation.create_mutations``: operators,
numbers, strings, comparisons, keywords, call arguments...). ``mutmut run`` itself cannot be
used as is: it copies the sources to ``mutants/`` and imports them by their folder names, but
this repository installs its folders as ``re100sim.simulator``, ``re100sim.agents``...
(pyproject ``package-dir``), so the tests would import the unmutated package. This script
therefore applies mutmut's mutants one at a time to a scratch copy of the repository
(a detached ``git worktree`` of HEAD, imported as ``re100sim`` through a symlinked package on
``PYTHONPATH``) and runs only the test files that exercise the module (``TESTS``), stopping at
the first failure. A mutant is killed when the tests fail, error or time out.

Usage::

    python experiments/mutation_score.py                       # all modules
    python experiments/mutation_score.py --modules settlement generator --write-docs
    python experiments/mutation_score.py --modules billing --max-mutants 150   # an even sample

Results accumulate in ``experiments/mutation_results.json`` (one entry per module, replaced
when the module is re-run), from which ``--write-docs`` renders the table in docs/testing.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst
from mutmut.mutation.file_mutation import create_mutations

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "mutation_results.json"
DOC = ROOT / "docs" / "testing.md"
MARK_BEGIN, MARK_END = "<!-- mutation-score:begin -->", "<!-- mutation-score:end -->"
PACKAGE_DIRS = ("simulator", "agents", "ext", "scenarios")  # pyproject package-dir: re100sim.<dir>

# Module -> test files that exercise it, fastest and most direct first (pytest -x stops at the first kill).
GOLDEN = ["tests/test_golden_contracts.py", "tests/test_golden_invoices.py"]
TESTS = {
    "simulator/rules/billing.py": ["tests/test_billing.py", *GOLDEN],
    "simulator/rules/settlement.py": ["tests/test_settlement.py", *GOLDEN],
    "simulator/market/monthly.py": [*GOLDEN, "tests/test_settlement.py"],
    "simulator/market/procurement.py": [*GOLDEN, "tests/test_settlement.py"],
    "simulator/rules/certification.py": [*GOLDEN, "tests/test_certificates.py"],
    "simulator/rules/certificates.py": ["tests/test_certificates.py", *GOLDEN],
    "simulator/rules/policy.py": ["tests/test_policy.py", "tests/test_golden_contracts.py"],
    "simulator/market/options.py": ["tests/test_agents.py"],
    "agents/tenant.py": ["tests/test_agents.py"],
    "agents/generator.py": ["tests/test_agents.py", "tests/test_golden_contracts.py"],
    "agents/broker.py": ["tests/test_agents.py", *GOLDEN],
    "agents/utility.py": ["tests/test_agents.py", *GOLDEN],
}


def short(path: str) -> str:
    return Path(path).stem


def scratch_copy(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A detached worktree of HEAD (with the compiled kernel) and the environment that imports it as re100sim."""
    tree = tmp / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), "HEAD"], cwd=ROOT, check=True,
                   capture_output=True)
    for so in (ROOT / "ext").glob("*.so"):
        shutil.copy2(so, tree / "ext" / so.name)
    pkg = tmp / "path" / "re100sim"
    pkg.mkdir(parents=True)
    for d in PACKAGE_DIRS:
        (pkg / d).symlink_to(tree / d)
    env = dict(os.environ, PYTHONPATH=str(tmp / "path"), PYTHONDONTWRITEBYTECODE="1")
    return tree, env


def mutants(source: str, filename: str) -> list[tuple[int, str, str]]:
    """(line, description, mutated module source) for each of mutmut's mutations of ``source``."""
    module, found, _, _ = create_mutations(filename, source)
    wrapper = cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True)
    pos = wrapper.resolve(cst.metadata.PositionProvider)
    out = []
    for m in found:
        line = pos[m.original_node].start.line if m.original_node in pos else 0
        before = module.code_for_node(m.original_node).strip().splitlines()[0][:60]
        after = module.code_for_node(m.mutated_node).strip().splitlines()[0][:60] if not isinstance(
            m.mutated_node, cst.RemovalSentinel) else "<removed>"
        out.append((line, f"{before} -> {after}", module.deep_replace(m.original_node, m.mutated_node).code))
    return out


def run_tests(tree: Path, env: dict[str, str], tests: list[str], timeout_s: float) -> str:
    cmd = [str(Path(sys.executable).with_name("pytest")), "-x", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark",
           "--no-header", "-o", "addopts=", "-m", "not slow", *tests]
    try:
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if r.returncode == 0 else "killed"


def score_module(tree: Path, env: dict[str, str], path: str, max_mutants: int | None) -> dict:
    tests = TESTS[path]
    target = tree / path
    original = target.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    assert run_tests(tree, env, tests, 900) == "survived", f"{path}: the tests fail without mutation"
    baseline_s = time.perf_counter() - t0
    found = mutants(original, path)
    picked = found if not max_mutants or len(found) <= max_mutants else [
        found[round(i * (len(found) - 1) / (max_mutants - 1))] for i in range(max_mutants)]
    survivors, killed = [], 0
    try:
        for line, what, code in picked:
            target.write_text(code, encoding="utf-8")
            status = run_tests(tree, env, tests, timeout_s=max(30.0, 3 * baseline_s))
            if status == "survived":
                survivors.append({"line": line, "mutation": what})
            else:
                killed += 1
            print(f"  {short(path)}:{line} {status}: {what}", flush=True)
    finally:
        target.write_text(original, encoding="utf-8")
    return {"module": path, "tests": tests, "mutants_total": len(found), "mutants_run": len(picked),
            "killed": killed, "survived": len(survivors),
            "score_pct": round(100.0 * killed / max(len(picked), 1), 1), "survivors": survivors,
            "seconds": round(time.perf_counter() - t0, 1)}


def git_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def render(results: dict) -> str:
    lines = [MARK_BEGIN, "", "| module | mutants (run / total) | killed | survived | score | date | commit |",
             "|---|---|---|---|---|---|---|"]
    for path in TESTS:
        r = results.get(path)
        if r is None:
            lines.append(f"| {path} | not scored | | | | | |")
            continue
        lines.append(f"| {path} | {r['mutants_run']} / {r['mutants_total']} | {r['killed']} | {r['survived']} | "
                     f"{r['score_pct']} % | {r['date']} | {r['commit']} |")
    lines += ["", "Surviving mutants (line: original -> mutant):", ""]
    for path in TESTS:
        r = results.get(path)
        if r and r["survivors"]:
            lines.append(f"- `{path}`:")
            lines += [f"  - {s['line']}: `{s['mutation']}`" for s in r["survivors"]]
    return "\n".join(lines + ["", MARK_END])


def write_docs(results: dict) -> None:
    text = DOC.read_text(encoding="utf-8")
    a, b = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
    DOC.write_text(text[:a] + render(results) + text[b:], encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", nargs="*", help="module stems (e.g. settlement generator); default all")
    ap.add_argument("--max-mutants", type=int, default=None, help="evenly spaced sample per module")
    ap.add_argument("--write-docs", action="store_true", help="render the results table into docs/testing.md")
    args = ap.parse_args()
    paths = [p for p in TESTS if not args.modules or short(p) in args.modules]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    commit, date = git_commit(), dt.date.today().isoformat()
    tmp = Path(tempfile.mkdtemp(prefix="mutation-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still restore the module and remove the scratch copy
    try:
        tree, env = scratch_copy(tmp)
        for path in paths:
            print(f"{path}: tests {' '.join(TESTS[path])}", flush=True)
            r = score_module(tree, env, path, args.max_mutants) | {"commit": commit, "date": date}
            results[path] = r
            RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{path}: {r['killed']}/{r['mutants_run']} killed ({r['score_pct']} %) in {r['seconds']} s", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "tree")], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.write_docs:
        write_docs(results)


if __name__ == "__main__":
    main()
