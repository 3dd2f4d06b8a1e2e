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
