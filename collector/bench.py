"""Benchmarks of the harness itself; results go to docs/benchmarks.md with the command that
reproduces them. Each benchmark owns one marked section of that file."""

import os
import platform
import re
import tempfile
import time
from pathlib import Path

from . import campaign as campaign_mod
from . import lab, plan
from .archive import Archive, utc_now
from .collect import Progress, campaign_input, run_campaign

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = ("# Benchmarks\n\nFigures measured on the machine named in each section; every "
          "section gives the command that reproduces it.\n")


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    text = path.read_text() if path.is_file() else HEADER
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section + "\n")
    path.write_text(text)


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} x {cpu}, Linux {platform.release()}"


def collect_overhead(spec: lab.LabSpec) -> dict[str, float]:
    """The default lab campaign: wall time ÷ time the tools measure (durations + warm-ups)."""
    lab.up(spec, say=lambda _: None)
    c = campaign_mod.lab_default(spec.hosts_file)
    runs = plan.runs(c)
    measuring = sum(plan.measuring_seconds(c, r) for r in runs)
    with tempfile.TemporaryDirectory(prefix="dpb-bench-") as out:
        start = time.monotonic()
        archive = Archive.create(Path(out), c.name, campaign_input(c), [r.run_id for r in runs],
                                 None)
        counts = run_campaign(c, archive, Progress())
        wall = time.monotonic() - start
    return {"runs": len(runs), "ok": counts.get("ok", 0), "measuring_s": measuring,
            "wall_s": wall, "ratio": wall / measuring,
            "overhead_per_run_s": (wall - measuring) / len(runs)}


def collect_section(result: dict[str, float]) -> str:
    return f"""## bench.collect — campaign overhead

Reproduce: `.venv/bin/invoke bench.collect` (as root; brings the lab up).

The default lab campaign (`invoke collect` with no file: every configuration and direction,
qperf, iperf3 and csrc, 2 message sizes, MTU 1500 and 9000, 2 repetitions, 1 s runs, 1 s
warm-up for iperf3 and csrc), from archive creation to the last teardown, csrc build, facts and
MTU restore included.

| measured {utc_now()[:16]}Z on {machine()} | value |
| --- | --- |
| runs (ok) | {result['runs']:.0f} ({result['ok']:.0f}) |
| time the tools measure (durations + warm-ups) | {result['measuring_s']:.1f} s |
| campaign wall time | {result['wall_s']:.1f} s |
| **wall ÷ measuring** (target ≤ 1.10) | **{result['ratio']:.3f}** |
| overhead per run | {result['overhead_per_run_s'] * 1000:.0f} ms |

What keeps it low: one SSH connection per host for the whole campaign, commands in persistent
remote shells (about 1.5 ms a command instead of a new SSH session's 100+ ms), readiness checks
by polling the listening socket instead of sleeps, and one build of each topology per MTU.
"""
