"""`invoke report` and `invoke compare`: choose archives, build the site or judge a candidate
against a baseline, say what came out. The statistics and charting stack (pandas, altair,
scipy) loads once the archives are read: a refused archive is said at once."""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.archive import MANIFEST, newest
from collector.errors import UsageError

from . import archive

if TYPE_CHECKING:
    from .compare import Change


def report(paths: list[str], out: Path, default_root: Path, baseline: str = "",
           tolerance_pct: float | None = None, pair: str = "") -> dict[str, Any]:
    """Build the site of ``paths`` (default: the newest archive under ``default_root``);
    ``tolerance_pct`` defaults to site.DEFAULT_TOLERANCE_PCT."""
    chosen = [a for p in paths for a in expand(Path(p))] if paths else [newest(default_root)]
    with tempfile.TemporaryDirectory(prefix="dpb-report-") as scratch:
        campaigns = [archive.load(p, Path(scratch) / f"x{i}") for i, p in enumerate(chosen)]
        from . import site

        tolerance = site.DEFAULT_TOLERANCE_PCT if tolerance_pct is None else tolerance_pct
        return site.build(campaigns, out, Path(scratch) / "build", baseline, tolerance, pair)


def expand(path: Path) -> list[Path]:
    """An archive as named, or, for a folder that holds archives instead of being one (what
    `invoke collect --out DIR` fills), every campaign in it, oldest name first."""
    if not path.is_dir() or os.path.lexists(path / MANIFEST):
        return [path]
    entries = [p for p in path.iterdir() if not p.is_symlink()]
    folders = {p.name for p in entries if (p / MANIFEST).is_file()}
    # A packed copy beside its folder (`invoke archive.pack`) is the same campaign.
    packed = {p.name for p in entries if p.is_file() and p.name.endswith((".tar.gz", ".tgz"))
              and p.name.removesuffix(".gz").removesuffix(".tar").removesuffix(".tgz")
              not in folders}
    inside = sorted(path / n for n in folders | packed)
    if not inside:
        raise UsageError(f"--archive {path}: no manifest.json, and no campaign archive in it",
                         "name a campaign archive folder or .tar.gz made by `invoke collect`, "
                         "or the folder its --out filled")
    return inside


@dataclass(frozen=True)
class Verdicts:
    baseline: str
    candidate: str
    changes: list["Change"]

    @property
    def regressions(self) -> list["Change"]:
        from .compare import WORSE

        return [c for c in self.changes if c.verdict == WORSE]


def compare(baseline: str, candidate: str, tolerance_pct: float) -> Verdicts:
    """The candidate campaign against the baseline (folders or .tar.gz)."""
    with tempfile.TemporaryDirectory(prefix="dpb-compare-") as scratch:
        both = [archive.load(Path(p), Path(scratch) / f"x{i}")
                for i, p in enumerate((baseline, candidate))]
        from . import aggregate
        from .campaigns import info
        from .compare import compare_pair
        from .tidy import table

        df = table(both)
        cells = {m: aggregate.with_ratios(aggregate.cells(df, m))
                 for m in ("gbps", "lat_mean_us", "cpu_per_gbps")}
        base, cand = info(both[0]), info(both[1])
        if base.name == cand.name:
            raise UsageError(f"the baseline and the candidate are both campaign {base.name}")
        return Verdicts(base.name, cand.name, compare_pair(cells, base, cand, tolerance_pct))
