"""bench.report: time `invoke report` on synthetic archives of growing size."""

import tempfile
import time
from pathlib import Path

from collector.archive import utc_now
from collector.bench import machine, write_section

from . import archive, site, synthetic


def time_report(runs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="dpb-bench-report-") as tmp:
        root = synthetic.generate(Path(tmp), runs)
        start = time.monotonic()
        site.build([archive.load(root)], Path(tmp) / "site", Path(tmp) / "build")
        return time.monotonic() - start


def run(sizes: tuple[int, ...] = (1000, 10000)) -> dict[int, float]:
    return {n: time_report(n) for n in sizes}


def section(times: dict[int, float]) -> str:
    small, large = min(times), max(times)
    growth = times[large] / times[small]
    rows = "\n".join(f"| {n:,} | {t:.1f} s |" for n, t in sorted(times.items()))
    return f"""## bench.report — report build time

Reproduce: `.venv/bin/invoke bench.report`.

Synthetic archives (`reporter/synthetic.py`: the collector's layout, raw files taken from the
real tools' outputs in `tests/fixtures/`, 7 configurations and directions × 5 tool tests × 5
sizes × 2 MTUs, repetitions to reach the size), from reading the archive to the finished site
(parsing, statistics, charts, SVGs, copying raw files, `mkdocs build --strict`).

| runs (measured {utc_now()[:16]}Z on {machine()}) | time |
| --- | --- |
{rows}

Target: 10,000 runs in ≤ 20 s: **{"met" if times[large] <= 20 else "MISSED"}**
({times[large]:.1f} s). Growth from {small:,} to {large:,} runs: **{growth:.1f}×** (target ≤ 12,
linear or better).
"""


def write(times: dict[int, float], path: Path) -> None:
    write_section("bench.report", section(times), path)
