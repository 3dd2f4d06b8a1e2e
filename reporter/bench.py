"""bench.report: the report build against the one part it cannot avoid — reading and parsing
the archives — at 1,000 and 10,000 runs (one campaign each) and 60,000 runs (a history of 200
campaigns × 300 runs), each measured in a process of its own (peak memory), with cold caches;
then the history rebuilt after one more campaign, with its parse cache warm."""

import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from collector.archive import utc_now
from collector.benchdoc import machine

from . import archive, mkdocs_runner, site, svg, synthetic
from .tidy import table

HISTORY = (200, 300)  # campaigns × runs


@dataclass(frozen=True)
class Result:
    runs: int
    campaigns: int
    parse_s: float
    build_s: float
    peak_mib: float
    rebuild_s: float = 0.0  # after one more campaign, parse cache warm

    @property
    def ratio(self) -> float:
        return self.build_s / self.parse_s


def _generate(work: Path, runs: int, campaigns: int, first: int = 0) -> list[Path]:
    """``campaigns`` archives of ``runs`` runs in all, numbered from ``first``; written to
    disk before anything is timed (a build must not compete with their write-back)."""
    each = runs // campaigns
    made = [synthetic.generate(work / "archives", each, seed=i + 1,
                               name=f"c{i:03d}" if campaigns > 1 or first else "",
                               created_utc=f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00.000000Z")
            for i in range(first, first + campaigns)]
    os.sync()
    return made


def _measure(runs: int, campaigns: int, rebuild: bool) -> Result:
    with tempfile.TemporaryDirectory(prefix="dpb-bench-report-") as tmp:
        work = Path(tmp)
        os.environ["DPB_REPORT_CACHE"] = str(work / "cache")  # cold: nothing parsed or drawn
        roots = _generate(work, runs, campaigns)
        loaded = [archive.load(r) for r in roots]
        start = time.monotonic()
        table(loaded, cache=False)
        parse = time.monotonic() - start
        start = time.monotonic()
        site.build([archive.load(r) for r in roots], work / "site", work / "build")
        build = time.monotonic() - start
        again = 0.0
        if rebuild:
            roots += _generate(work, runs // campaigns, 1, first=campaigns)
            # As a new `invoke report` would: its mkdocs and drawing processes start again.
            svg.stop()
            mkdocs_runner.stop()
            start = time.monotonic()
            site.build([archive.load(r) for r in roots], work / "site", work / "build")
            again = time.monotonic() - start
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return Result(runs, campaigns, parse, build, peak, again)


def _child(args: tuple[int, int, bool], out: "multiprocessing.Queue[Result]") -> None:
    out.put(_measure(*args))


def measure(runs: int, campaigns: int = 1, rebuild: bool = False) -> Result:
    """One size in a fresh process, so its peak memory is its own."""
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[Result] = ctx.Queue()
    proc = ctx.Process(target=_child, args=((runs, campaigns, rebuild), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def run() -> list[Result]:
    return [measure(1000), measure(10000), measure(HISTORY[0] * HISTORY[1], HISTORY[0],
                                                   rebuild=True)]


def section(results: list[Result]) -> str:
    rows = "\n".join(
        f"| {r.runs:,} ({r.campaigns} campaign{'s' if r.campaigns > 1 else ''}) | "
        f"{r.parse_s:.1f} s | {r.build_s:.1f} s | **{r.ratio:.2f}** | {r.peak_mib:,.0f} MiB |"
        for r in results)
    by_runs = {r.runs: r for r in results}
    ten, history = by_runs[10000], results[-1]
    growth = history.build_s / ten.build_s
    checks = [
        ("whole build ÷ parse-and-tidy ≤ 3 at 10,000 runs and above",
         all(r.ratio <= 3 for r in results if r.runs >= 10000),
         ", ".join(f"{r.ratio:.2f}" for r in results if r.runs >= 10000)),
        ("60,000 ÷ 10,000 build time ≤ 6", growth <= 6, f"{growth:.2f}"),
        ("peak memory at 60,000 runs ≤ 2 GiB", history.peak_mib <= 2048,
         f"{history.peak_mib:,.0f} MiB"),
        ("the 60,000-run history builds in ≤ 60 s", history.build_s <= 60,
         f"{history.build_s:.1f} s"),
        ("rebuilt after one more campaign in ≤ 15 s", history.rebuild_s <= 15,
         f"{history.rebuild_s:.1f} s"),
    ]
    verdicts = "\n".join(f"- {what}: **{'met' if ok else 'MISSED'}** ({value})"
                         for what, ok, value in checks)
    return f"""## bench.report — report build against parsing

Reproduce: `.venv/bin/invoke bench.report`.

Synthetic archives (`reporter/synthetic.py`: the collector's layout and SHA256SUMS, raw files
from the real tools' outputs in `tests/fixtures/`, 7 paths × 5 tool tests × 5 sizes × 2 MTUs,
repetitions to reach the size). *Parse* is reading and parsing every raw file into the tidy
table — what any report must do; *build* is the whole `invoke report` from the archives to the
finished site (parsing, statistics, comparisons, charts and their SVGs, pages, `mkdocs build
--strict`, raw files and data tables), with cold caches. Each size runs in a process of its own;
peak memory is the larger of that process's and its children's (workers, mkdocs).

| runs (measured {utc_now()[:16]}Z on {machine()}) | parse | build | build ÷ parse | peak memory |
| --- | ---: | ---: | ---: | ---: |
{rows}

{verdicts}

The history rebuilt after adding a 201st campaign: parse cache warm (`~/.cache/dataplane-bench/
tidy`, keyed by each archive's manifest, SHA256SUMS and files' sizes and times), the 200
unchanged campaigns' raw files and data moved over from the previous site (reporter/parts.py),
every chart new (the newest campaign is on all of them) and drawn while the build goes on:
**{history.rebuild_s:.1f} s**.
"""
