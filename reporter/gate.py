"""`invoke compare` as a CI gate: the table it prints, and its verdict. A gate that judged no
cell (every candidate run failed, no cell in common, too few runs everywhere) fails with its
own exit status instead of passing on nothing."""

from dataclasses import dataclass

from collector.exit import ExitStatus

from .compare import BETTER, SAME, WITHIN, WORSE, Change
from .numbers import interval, num, pct

JUDGED = (WORSE, BETTER, WITHIN, SAME)
HEADER = ["cell", "metric", "baseline", "candidate", "Δ %", "95 % CI", "p (BH)", "verdict"]


@dataclass(frozen=True)
class Outcome:
    status: ExitStatus
    said: str


def table(changes: list[Change]) -> list[str]:
    """The significant changes as plain columns (whole cell ids, also in a CI log)."""
    rows = [HEADER] + [[ch.cell_id, ch.metric, num(ch.baseline_mean), num(ch.candidate_mean),
                        pct(ch.delta_pct, True), interval(ch.low_pct, ch.high_pct),
                        num(ch.p_adjusted, 2), ch.verdict] for ch in changes if ch.significant]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def counts(changes: list[Change]) -> str:
    found: dict[str, int] = {}
    for ch in changes:
        found[ch.verdict] = found.get(ch.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(found.items())) or "no cell measured in both"


def outcome(changes: list[Change], tolerance_pct: float) -> Outcome:
    worse = sum(ch.verdict == WORSE for ch in changes)
    if worse:
        return Outcome(ExitStatus.REGRESSION,
                       f"{worse} regression(s) beyond {tolerance_pct:g} %")
    if not any(ch.verdict in JUDGED for ch in changes):
        return Outcome(ExitStatus.NOTHING_COMPARED,
                       "nothing was compared: no cell metric was measured in both campaigns "
                       "with enough ok runs to judge (failed runs are under Problems in "
                       "`invoke report`); the gate does not pass on nothing")
    return Outcome(ExitStatus.OK, "")
