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


def test_every_cited_domain_anchor_exists():
    """Code and docs cite anchors of docs/domain.md: each must be one of its headings."""
    import re
    import subprocess

    repo = Path(__file__).resolve().parents[1]

    def slug(heading: str) -> str:  # GitHub's rule: lower case, drop punctuation, spaces -> '-'
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    text = (repo / "docs" / "domain.md").read_text(encoding="utf-8")
    anchors = {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    grep = subprocess.run(["git", "grep", "-ohE", r"domain\.md#[A-Za-z0-9_-]+"], cwd=repo, capture_output=True,
                          text=True).stdout
    cited = {m.split("#", 1)[1] for m in grep.split()}
    assert cited and not cited - anchors, sorted(cited - anchors)
