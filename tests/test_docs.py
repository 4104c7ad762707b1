"""The scenario reference is generated from the models and must be current."""
from pathlib import Path

from re100sim.simulator.scenario.docgen import generate


def test_scenario_reference_is_current():
    doc = Path(__file__).resolve().parent.parent / "docs" / "scenario.md"
    assert doc.read_text(encoding="utf-8") == generate(), (
        "docs/scenario.md is stale: run `python -m re100sim.simulator.scenario.docgen > docs/scenario.md`"
    )


def test_no_tracked_file_points_outside_the_repository():
    """Users clone the repository alone: no file may cite material outside it."""
    import re
    import subprocess

    repo = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"\.\./shared|/work/|DOMAIN\.md|facts\.md|seeds? 00\d")
    offenders = []
    for name in tracked:
        path = repo / name
        if name == "tests/test_docs.py" or not path.is_file() or path.suffix in {".so", ".png", ".parquet"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{name}:{i}: {line.strip()[:80]}" for i, line in enumerate(text.splitlines(), 1) if outside.search(line)]
    assert not offenders, "\n".join(offenders)
