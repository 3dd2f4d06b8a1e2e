"""`invoke report`: choose archives, build the site, say where it is."""

import tempfile
from pathlib import Path
from typing import Any

from collector.archive import newest

from . import archive, site


def report(paths: list[str], out: Path, default_root: Path) -> dict[str, Any]:
    chosen = [Path(p) for p in paths] if paths else [newest(default_root)]
    with tempfile.TemporaryDirectory(prefix="dpb-report-") as scratch:
        campaigns = [archive.load(p, Path(scratch) / f"x{i}") for i, p in enumerate(chosen)]
        return site.build(campaigns, out, Path(scratch) / "build")
