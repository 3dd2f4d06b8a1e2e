"""Adaptive repetitions: after each round of a group, which cells have reached their target.

Which cells reached it is a question about results, so the collector does not answer it: it
counts the runs each cell has made and asks a StoppingRule, handed to it by whoever composes
the collector with a way of reading results (tasks.py hands it the report's: the same figure
and statistics the site computes, reporter/stopping.py). Without one (FIXED), no cell counts
as settled and every cell runs to its `max`."""

from collections.abc import Callable
from typing import Protocol

from .archive import FINAL_STATUSES, Archive
from .campaign import Campaign
from .plan import Cell, Run, next_round


class StoppingRule(Protocol):
    def reached(self, archive: Archive, runs: dict[str, list[str]],
                target_ci_pct: float) -> set[str]:
        """Of ``runs`` (cell id → the ids of its finished runs in ``archive``), the cells whose
        runs have reached the target."""
        ...


class NeverSettled:
    """No statistics: an adaptive cell runs to its max (the fixed-repetitions default)."""

    def reached(self, archive: Archive, runs: dict[str, list[str]],
                target_ci_pct: float) -> set[str]:
        return set()


# How a caller hands a rule: made only for a campaign with adaptive repetitions (the report's
# loads the statistics stack, which a fixed campaign never needs).
RuleFactory = Callable[[], StoppingRule]
FIXED: RuleFactory = NeverSettled


class Rounds:
    """The runs after a group's first round: none with fixed repetitions; with adaptive ones,
    a round at a time, each decided from what the archive holds (so a resume decides alike)."""

    def __init__(self, c: Campaign, archive: Archive, rule: RuleFactory = FIXED) -> None:
        self.c = c
        self.archive = archive
        self.rule = (rule if c.repetitions.adaptive else FIXED)()

    def state(self, group: list[Cell]) -> tuple[dict[str, int], set[str]]:
        """Per cell of the group: runs made (finished, whatever their status), and the cells
        that reached the target."""
        ids = {cell.cell_id for cell in group}
        finished: dict[str, list[str]] = {i: [] for i in ids}
        for run_id, rec in self.archive.manifest["runs"].items():
            cell_id = rec.get("cell_id") or run_id.rpartition(".")[0]  # <cell id>.rNN
            if cell_id in ids and rec.get("status") in FINAL_STATUSES:
                finished[cell_id].append(run_id)
        made = {i: len(runs) for i, runs in finished.items()}
        target = self.c.repetitions.target_ci_pct
        done = self.rule.reached(self.archive, finished, target) if target is not None \
            else set()
        return made, done

    def next(self, group: list[Cell]) -> list[Run]:
        if not self.c.repetitions.adaptive:
            return []
        made, done = self.state(group)
        return next_round(self.c, group, made, done)
