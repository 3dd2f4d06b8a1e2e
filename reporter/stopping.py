"""The report's stopping rule for adaptive repetitions (collector/adaptive.StoppingRule): a
cell is settled when its ok runs give a 95 % CI half-width within ``target_ci_pct`` % of their
mean — the same figure (goodput for stream cells, mean one-way latency for rr cells) and the
same statistics the report computes, the runs read back from the archive through the report's
parsers, so the collector and the report cannot disagree on a cell."""

from collector.archive import Archive
from collector.records import RunRecord

from .archive import Campaign
from .convergence import METRIC
from .stats import MIN_RUNS_FOR_CI, summarise
from .tidy import RUN_DATA_ERRORS, run_figures


def settled(target_ci_pct: float, values: list[float]) -> bool:
    """Enough runs for an interval, and its half-width within the target."""
    if len(values) < MIN_RUNS_FOR_CI:
        return False
    s = summarise(values)
    return bool(s.mean) and s.ci95_half <= target_ci_pct / 100 * abs(s.mean)


class CiTarget:
    """One per campaign: its reader and each run's figure are kept from round to round (files
    written after the reader's walk are found by its path checks)."""

    def __init__(self) -> None:
        self._reader: Campaign | None = None
        self._figures: dict[str, float | None] = {}  # run id → its figure, once read

    def _figure(self, archive: Archive, run_id: str) -> float | None:
        if run_id not in self._figures:
            if self._reader is None or self._reader.root != archive.root:
                self._reader = Campaign(archive.root, archive.manifest)
            rec = archive.manifest["runs"][run_id]
            value: float | None = None
            if rec.get("status") == "ok":
                try:
                    typed = RunRecord.model_validate(rec)
                    value = run_figures(self._reader, typed).get(METRIC[typed.test])
                except RUN_DATA_ERRORS:
                    value = None  # the report lists it under Problems; it counts as made
            self._figures[run_id] = value
        return self._figures[run_id]

    def reached(self, archive: Archive, runs: dict[str, list[str]],
                target_ci_pct: float) -> set[str]:
        done = set()
        for cell_id, ids in runs.items():
            values = [v for v in (self._figure(archive, r) for r in ids) if v is not None]
            if settled(target_ci_pct, values):
                done.add(cell_id)
        return done


def rule() -> CiTarget:
    return CiTarget()
