"""`invoke report` and `invoke compare`: choose archives, build the site or judge a candidate
against a baseline, say what came out. The statistics and charting stack (pandas, altair,
scipy) loads once the archives are read: a refused archive is said at once."""

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.archive import newest
from collector.errors import UsageError

from . import archive

if TYPE_CHECKING:
    from .compare import Change


def report(paths: list[str], out: Path, default_root: Path, baseline: str = "",
           tolerance_pct: float | None = None) -> dict[str, Any]:
    """Build the site of ``paths`` (default: the newest archive under ``default_root``);
    ``tolerance_pct`` defaults to site.DEFAULT_TOLERANCE_PCT."""
    chosen = [Path(p) for p in paths] if paths else [newest(default_root)]
    with tempfile.TemporaryDirectory(prefix="dpb-report-") as scratch:
        campaigns = [archive.load(p, Path(scratch) / f"x{i}") for i, p in enumerate(chosen)]
        from . import site

        tolerance = site.DEFAULT_TOLERANCE_PCT if tolerance_pct is None else tolerance_pct
        return site.build(campaigns, out, Path(scratch) / "build", baseline, tolerance)


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
