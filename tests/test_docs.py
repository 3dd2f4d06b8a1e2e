"""The project's docs build with mkdocs --strict, and every page stays inside the site."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_docs_build_strict_with_no_external_assets(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(REPO / "mkdocs.yml"), "-d", str(site)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr
    pages = list(site.glob("*.html"))
    assert {p.name for p in pages} >= {"lab.html", "campaign.html", "archive-format.html"}
    for page in pages:
        html = page.read_text()
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert not [u for u in external if "fonts.googleapis" in u or u.endswith(".js")], page


def test_the_runs_columns_documented_are_the_declared_metrics() -> None:
    """docs/report.md's column list names every figure reporter/metrics.py declares, and
    nothing it does not (a CPU class column is written once, as `…_CLASS_pct`)."""
    from reporter import metrics
    from reporter.parsers import procstat
    from reporter.tidy import CELL_COLUMNS

    text = (REPO / "docs" / "report.md").read_text()
    section = text[text.index("## Columns of `data/runs.csv`"):]
    rows = [line for line in section.splitlines()[4:] if line.startswith("| `")]
    named = {n for row in rows for n in re.findall(r"`([a-z0-9_…]+)`", row.split(" | ")[0])}
    classes = {f"cpu_{side}_{c}_pct" for side in ("sender", "receiver")
               for c in procstat.CLASSES}
    first, *rest = procstat.CLASSES
    assert {f"cpu_sender_{first}_pct", *(f"…_{c}_pct" for c in rest)} <= named
    declared = set(metrics.RUN_FIGURES) - classes
    run = {"campaign", "run_id", "repetition", "status", "reason", *CELL_COLUMNS}
    assert declared - named == set(), "declared, not documented"
    assert {n for n in named if "…" not in n} - declared - classes - run == set(), \
        "documented, not declared"
