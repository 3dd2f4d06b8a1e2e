"""bench.adaptive: the same lab matrix with fixed repetitions and with adaptive ones — runs
spent, wall time, and how many cells reached the target, judged by the report's statistics
(handed in by tasks.py, which composes the two halves: a Judge for the archives and the
stopping rule for the adaptive rounds)."""

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

from . import campaign as campaign_mod
from . import lab, plan
from .adaptive import RuleFactory
from .archive import Archive, utc_now
from .benchdoc import machine
from .collect import NewArchive, Progress, run_campaign

MATRIX: dict[str, Any] = {
    "hosts": "lab", "configurations": ["bare", "container", "overlay"],
    "directions": {"container": ["container-container"]}, "tools": ["csrc", "iperf3"],
    "tests": ["stream", "rr"], "message_sizes": [1000, 20000], "duration_s": 1,
    "warmup_s": 1, "run_timeout_s": 30, "seed": 20261127}
FIXED = 10
ADAPTIVE = {"min": 3, "max": 10, "target_ci_pct": 5}


class Judge(Protocol):
    def __call__(self, root: Path, target_ci_pct: float) -> tuple[list[int], int, float]:
        """An archive's cells: runs per cell, how many reached the target, the median CI
        half-width in % of the mean."""
        ...


def measured(spec: lab.LabSpec, bench: str, name: str, keys: dict[str, Any], out: Path,
             judge: Judge, stopping: RuleFactory, target_ci_pct: float) -> dict[str, Any]:
    """MATRIX with ``keys`` collected as campaign ``name`` into ``out``, judged: its cells, runs,
    wall time, cells within the target, runs per cell and the median CI half-width."""
    c = campaign_mod.parse({**MATRIX, **keys, "name": name}, f"{bench} {name}",
                           spec.hosts_file)
    start = time.monotonic()
    archive, counts = run_campaign(c, plan.runs(c), NewArchive(out, Archive.new_name(c.name)),
                                   Progress(), stopping)
    wall = time.monotonic() - start
    per_cell, reached, median_ci = judge(archive.root, target_ci_pct)
    return {"cells": len(plan.cells(c)), "runs": sum(counts.values()),
            "ok": counts.get("ok", 0), "wall_s": wall, "reached": reached,
            "runs_per_cell": (min(per_cell), statistics.median(per_cell), max(per_cell)),
            "median_ci_pct": median_ci}


def _one(spec: lab.LabSpec, name: str, repetitions: object, out: Path, judge: Judge,
         stopping: RuleFactory) -> dict[str, Any]:
    return measured(spec, "bench.adaptive", name, {"repetitions": repetitions}, out, judge,
                    stopping, float(ADAPTIVE["target_ci_pct"]))


def run(spec: lab.LabSpec, judge: Judge, stopping: RuleFactory) -> dict[str, dict[str, Any]]:
    lab.up(spec, say=lambda _: None)
    with tempfile.TemporaryDirectory(prefix="dpb-bench-") as out:
        return {"fixed": _one(spec, "fixed", FIXED, Path(out), judge, stopping),
                "adaptive": _one(spec, "adaptive", ADAPTIVE, Path(out), judge, stopping)}


def said(result: dict[str, dict[str, Any]]) -> list[str]:
    fixed, adaptive = result["fixed"], result["adaptive"]
    return [f"runs: adaptive {adaptive['runs']} vs fixed {fixed['runs']} "
            f"({adaptive['runs'] / fixed['runs']:.2f}); cells within target: adaptive "
            f"{adaptive['reached']}, fixed {fixed['reached']} of {fixed['cells']}"]


def section(result: dict[str, dict[str, Any]]) -> str:
    fixed, adaptive = result["fixed"], result["adaptive"]

    def row(label: str, r: dict[str, Any]) -> str:
        low, mid, high = r["runs_per_cell"]
        return (f"| {label} | {r['runs']} ({r['ok']} ok) | {low}–{high} (median {mid:g}) | "
                f"{r['wall_s']:.0f} s | {r['reached']} of {r['cells']} | "
                f"±{r['median_ci_pct']:.1f} % |")

    header = (f"| measured {utc_now()[:16]}Z on {machine()} | runs | runs per cell | wall time "
              f"| cells within ±{ADAPTIVE['target_ci_pct']} % | median CI half-width |")
    return f"""## bench.adaptive — fixed vs adaptive repetitions

Reproduce: `.venv/bin/invoke bench.adaptive` (as root; brings the lab up; about a quarter of
an hour).

The same lab matrix twice — bare, container→container and overlay; csrc and iperf3; stream at
1,000 and 20,000 B and csrc's 1-byte ping-pong; 1 s runs after a 1 s warm-up, {fixed['cells']}
cells — once with `repetitions: {FIXED}`, once with `repetitions: {{min: {ADAPTIVE['min']}, max:
{ADAPTIVE['max']}, target_ci_pct: {ADAPTIVE['target_ci_pct']}}}`. A cell reached the target when
the 95 % CI half-width of its mean (goodput; mean one-way latency for ping-pong) is within
{ADAPTIVE['target_ci_pct']} % of the mean, computed by the report's statistics.

{header}
| --- | ---: | ---: | ---: | ---: | ---: |
{row(f"fixed, {FIXED} repetitions", fixed)}
{row("adaptive, 3–10", adaptive)}

**Runs spent, adaptive ÷ fixed: {adaptive['runs'] / fixed['runs']:.2f}**; cells reaching the
target: {adaptive['reached']} adaptive vs {fixed['reached']} fixed. The two campaigns run one after
the other on 2 shared cores, so a cell's scatter differs between them: compare the counts, not
single cells. Part of the adaptive count is the stopping rule itself: a cell stops at the first
round whose scatter happens to look small, so its interval is somewhat optimistic (Methodology
says so on every site). A cell that is noisy at 10 runs stays noisy: adaptive repetitions stop
spending runs on the quiet cells, they do not make a noisy path quiet.
"""
