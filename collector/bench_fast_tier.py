"""bench.fast-tier: the wall time of the tests that need no root (`pytest -m "not lab"`), each
run a fresh process from a cold start (its own report cache and scratch folders, as in CI);
the median of a few runs, against the target of 60 s on this project's reference machine."""

import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .archive import utc_now
from .benchdoc import machine
from .errors import BenchError

REPO = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "pytest", "-m", "not lab", "-q", "-p", "no:cacheprovider"]
TARGET_S = 60.0


@dataclass(frozen=True)
class Result:
    seconds: list[float]
    passed: int
    measured_utc: str

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)


def run(times: int = 3) -> Result:
    seconds, passed = [], 0
    for _ in range(times):
        start = time.monotonic()
        proc = subprocess.run(COMMAND, cwd=REPO, capture_output=True, text=True, timeout=1800,
                              check=False)
        seconds.append(time.monotonic() - start)
        if proc.returncode != 0:
            raise BenchError(f"the fast tier failed:\n{proc.stdout[-3000:]}",
                             "a benchmark of failing tests means nothing: fix them first")
        found = re.search(r"(\d+) passed", proc.stdout)
        passed = int(found.group(1)) if found else 0
    return Result(seconds, passed, utc_now())


def said(result: Result, times: int) -> list[str]:
    return [f"{result.passed} tests; median {result.median_s:.1f} s over {times} runs "
            f"(target ≤ {TARGET_S:.0f} s)"]


def section(result: Result) -> str:
    met = result.median_s <= TARGET_S
    runs = ", ".join(f"{s:.1f} s" for s in result.seconds)
    return f"""## bench.fast-tier — the tests that need no root

Reproduce: `.venv/bin/invoke bench.fast-tier` (runs `python -m pytest -m "not lab"` from the
repository {len(result.seconds)} times, each a cold start: the session's report cache and
scratch folders are its own).

Measured {result.measured_utc[:16]}Z on {machine()}: **{result.passed} tests**, wall time
{runs}; median **{result.median_s:.1f} s**.

- the fast tier in ≤ {TARGET_S:.0f} s: **{'met' if met else 'MISSED'}** ({result.median_s:.1f} s)

What it holds: parsers (the real tools' captured outputs), statistics, campaign files and the
CLI's usage errors, the csrc programs (built with ASan + UBSan, run on loopback), the archive
reader against hostile archives, fuzzing, and whole report builds — real mkdocs, real SVG
drawing, one real Chromium — from synthetic archives made of the captured outputs. Where the
time goes: each site build (~1.5 s, a dozen of them), the csrc programs' timed runs (~9 s),
Chromium (~3 s), `invoke` started as a user does (~5 s over a dozen usage-error tests).
"""
