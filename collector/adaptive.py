"""Adaptive repetitions: after each round of a group, which cells have reached their target.

A cell is settled when its ok runs give a 95 % CI half-width within ``target_ci_pct`` % of
their mean — the same figure (goodput for stream cells, mean one-way latency for rr cells) and
the same statistics the report computes: the runs are read back from the archive through the
reporter's parsers, so the collector and the report cannot disagree on a cell."""

from typing import Any

from reporter.archive import Campaign as ArchiveReader
from reporter.convergence import METRIC
from reporter.parsers import ParseError
from reporter.stats import MIN_RUNS_FOR_CI, summarise
from reporter.tidy import run_figures

from .archive import FINAL_STATUSES, Archive
from .campaign import Campaign
from .errors import BenchError
from .plan import Cell, Run, next_round
from .records import RunRecord


def settled(target_ci_pct: float, values: list[float]) -> bool:
    """Enough runs for an interval, and its half-width within the target."""
    if len(values) < MIN_RUNS_FOR_CI:
        return False
    s = summarise(values)
    return bool(s.mean) and s.ci95_half <= target_ci_pct / 100 * abs(s.mean)


class Rounds:
    """The runs after a group's first round: none with fixed repetitions; with adaptive ones,
    a round at a time, each decided from what the archive holds (so a resume decides alike)."""

    def __init__(self, c: Campaign, archive: Archive) -> None:
        self.c = c
        self.archive = archive
        # One reader for the whole campaign: files written after its walk are found by
        # path()'s own checks, so the archive is not walked again every round.
        self.reader = ArchiveReader(archive.root, archive.manifest)
        self._figures: dict[str, float | None] = {}  # run id → its figure, once read

    def _figure(self, run_id: str, rec: dict[str, Any]) -> float | None:
        if run_id not in self._figures:
            value: float | None = None
            if rec.get("status") == "ok":
                try:
                    typed = RunRecord.model_validate(rec)
                    value = run_figures(self.reader, typed).get(METRIC[typed.test])
                except (ParseError, BenchError, KeyError, TypeError, ValueError):
                    value = None  # the report lists it under Problems; it counts as made
            self._figures[run_id] = value
        return self._figures[run_id]

    def state(self, group: list[Cell]) -> tuple[dict[str, int], set[str]]:
        """Per cell of the group: runs made (finished, whatever their status), and the cells
        that reached the target."""
        ids = {cell.cell_id for cell in group}
        made: dict[str, int] = dict.fromkeys(ids, 0)
        values: dict[str, list[float]] = {i: [] for i in ids}
        for run_id, rec in self.archive.manifest["runs"].items():
            cell_id = rec.get("cell_id") or run_id.rpartition(".")[0]  # <cell id>.rNN
            if cell_id not in ids or rec.get("status") not in FINAL_STATUSES:
                continue
            made[cell_id] += 1
            value = self._figure(run_id, rec)
            if value is not None:
                values[cell_id].append(value)
        target = self.c.repetitions.target_ci_pct
        done = {i for i in ids if target is not None and settled(target, values[i])}
        return made, done

    def next(self, group: list[Cell]) -> list[Run]:
        if not self.c.repetitions.adaptive:
            return []
        made, done = self.state(group)
        return next_round(self.c, group, made, done)
