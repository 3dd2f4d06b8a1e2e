"""bench.pinning: the bench.adaptive lab matrix (and csrc's connection rate) with fixed
repetitions, unpinned and with `cpu_affinity: auto` — how many cells reach ±5 % and the median
CI half-width each way, judged by the report's statistics (handed in by tasks.py)."""

import tempfile
from pathlib import Path
from typing import Any

from . import lab
from .adaptive import FIXED as FIXED_RULE
from .archive import utc_now
from .bench_adaptive import Judge, measured
from .benchdoc import machine

REPETITIONS = 10
TARGET_PCT = 5.0
PINNED: dict[str, Any] = {"cpu_affinity": "auto"}


def _one(spec: lab.LabSpec, name: str, extra: dict[str, Any], out: Path,
         judge: Judge) -> dict[str, Any]:
    return measured(spec, "bench.pinning", name,
                    {"tests": ["stream", "rr", "crr"], **extra, "repetitions": REPETITIONS},
                    out, judge, FIXED_RULE, TARGET_PCT)


def run(spec: lab.LabSpec, judge: Judge, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` of (unpinned, pinned), one after the other."""
    lab.up(spec, say=lambda _: None)
    results: dict[str, list[dict[str, Any]]] = {"unpinned": [], "pinned": []}
    with tempfile.TemporaryDirectory(prefix="dpb-bench-") as out:
        for i in range(rounds):
            for kind in ("unpinned", "pinned"):
                results[kind].append(_one(spec, f"{kind}{i + 1}",
                                          PINNED if kind == "pinned" else {}, Path(out), judge))
    return results


def said(result: dict[str, list[dict[str, Any]]]) -> list[str]:
    def reached(kind: str) -> str:
        return " + ".join(str(r["reached"]) for r in result[kind])
    cells = result["unpinned"][0]["cells"]
    return [f"cells within ±{TARGET_PCT:g} % (of {cells} per campaign): pinned "
            f"{reached('pinned')}, unpinned {reached('unpinned')}"]


def section(result: dict[str, list[dict[str, Any]]]) -> str:
    rows = []
    for i, (free, pinned) in enumerate(zip(result["unpinned"], result["pinned"],
                                           strict=True), 1):
        for label, r in ((f"unpinned, round {i}", free), (f"pinned (auto), round {i}", pinned)):
            rows.append(f"| {label} | {r['runs']} ({r['ok']} ok) | {r['wall_s']:.0f} s | "
                        f"{r['reached']} of {r['cells']} | ±{r['median_ci_pct']:.1f} % |")
    total = {k: sum(r["reached"] for r in v) for k, v in result.items()}
    cells = sum(r["cells"] for r in result["unpinned"])
    header = (f"| measured {utc_now()[:16]}Z on {machine()} | runs | wall time | cells within "
              f"±{TARGET_PCT:g} % | median CI half-width |")
    body = "\n".join(rows)
    return f"""## bench.pinning — the scatter with and without pinned tools

Reproduce: `.venv/bin/invoke bench.pinning` (as root; brings the lab up; about 7 minutes per
campaign).

bench.adaptive's lab matrix — bare, container→container and overlay; csrc and iperf3; stream
at 1,000 and 20,000 B, csrc's 1-byte ping-pong and its connection rate (`crr`); 1 s runs after
a 1 s warm-up, `repetitions: {REPETITIONS}` — unpinned and with `cpu_affinity: auto` (on this
2-CPU lab: client on CPU 1, server on CPU 0), alternating. A cell reached the target when the
95 % CI half-width of its mean (goodput; mean one-way latency; connections/s) is within
{TARGET_PCT:g} % of the mean, by the report's statistics.

{header}
| --- | ---: | ---: | ---: | ---: |
{body}

**Cells within ±{TARGET_PCT:g} %: pinned {total['pinned']} of {cells}, unpinned
{total['unpinned']} of {cells}.** The campaigns run one after the other on 2 shared cores:
compare the counts over the rounds, not single cells.
"""
