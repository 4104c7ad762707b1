"""The installed namespace and the pipeline's stage order (docs: README "Layout")."""
from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Stages of the data flow, lowest first. A module may import its own stage or lower ones only.
STAGES = {
    "re100sim.simulator": 0,  # the package itself (its __init__ imports nothing)
    "re100sim.agents": 4,
    "re100sim.simulator.errors": 0,
    "re100sim.simulator.rng": 0,
    "re100sim.simulator.fields": 0,
    "re100sim.simulator.folders": 0,
    "re100sim.simulator.inputs": 1,
    "re100sim.simulator.scenario": 2,
    "re100sim.simulator.rules": 3,
    "re100sim.simulator.market": 5,
    "re100sim.simulator.outputs": 6,
    "re100sim.simulator.engine": 7,
    "re100sim.simulator.run": 8,
    "re100sim.simulator.cli": 9,
}


def _stage(module: str) -> int | None:
    best = None
    for prefix, stage in STAGES.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, stage)
    return None if best is None else best[1]


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return "re100sim." + ".".join(parts)


def test_lower_stages_never_import_higher_ones():
    offences = []
    for folder in ("simulator", "agents"):
        for path in sorted((REPO / folder).rglob("*.py")):
            me = _module_name(path)
            mine = _stage(me)
            assert mine is not None, f"{me} belongs to no stage: add it to STAGES"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("re100sim"):
                    theirs = _stage(node.module)
                    if theirs is not None and theirs > mine:
                        offences.append(f"{me} (stage {mine}) imports {node.module} (stage {theirs})")
    assert not offences, "\n".join(offences)


def test_one_top_level_import_package():
    dist = importlib.metadata.distribution("re100sim")
    top = set((dist.read_text("top_level.txt") or "").split())
    assert top == {"re100sim"}


def test_no_top_level_repository_folder_is_importable_by_its_bare_name():
    import importlib.util

    for name in ("simulator", "agents", "ext", "scenarios"):
        spec = importlib.util.find_spec(name)
        assert spec is None or not str(spec.origin or "").startswith(str(REPO)), name
