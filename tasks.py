"""Invoke tasks: a thin command line over the `collector` and `reporter` libraries.

`invoke --list` shows them; `invoke --help TASK` shows a task's options. Each task imports the
library it drives: the statistics and charting stack (scipy, pandas, altair) loads for the
tasks that use it, not for `--help`, `lab.*` or a dry run.
"""

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.table import Table

from collector import benchdoc
from collector import lab as lab_lib
from collector.bench_task import Bench, Measured, bench_task
from collector.console import console, printable, say, user_errors
from collector.errors import BenchError
from collector.exit import ExitStatus
from collector.lab.options import LAB_HELP, demo_spec
from collector.lab.options import spec_from_options as _spec

if TYPE_CHECKING:
    from collector.adaptive import StoppingRule

RELIABILITY_MD = benchdoc.BENCHMARKS_MD.with_name("reliability.md")
REPO = Path(__file__).resolve().parent

PYTHON = sys.executable


def _report_stopping_rule() -> "StoppingRule":
    """The report's statistics judge adaptive rounds: this layer composes the two halves (the
    collector imports nothing of the reporter's), loaded only for an adaptive campaign."""
    from reporter import stopping
    return stopping.rule()


@task(help=LAB_HELP)
@user_errors
def lab_up(c: Context, lab_id: str = "dpb", mtu: int = 0, mgmt_subnet: str = "",
           wire_subnet: str = "", state_root: str = "", vms: bool = False,
           machines: bool = False, hosts: int = 0, slow: str = "") -> None:
    """Build the embedded lab, two hosts or more (idempotent: a second call changes nothing)."""
    spec = _spec(lab_id, mtu, mgmt_subnet, wire_subnet, state_root or None, vms, machines,
                 hosts, slow)
    changed = lab_lib.up(spec, say=say)
    if changed:
        say(f"lab {spec.lab_id} is up ({len(changed)} part(s) built)")
    else:
        say(f"lab {spec.lab_id} is already up; nothing changed")
    say(f"hosts file: {spec.hosts_file}")
    say(f"ssh into a host: ssh -F {spec.state_dir / 'ssh_config'} {spec.host_name('a')}")
    if spec.vms:
        say(f"ssh into a VM: ssh -F {spec.state_dir / 'ssh_config'} {spec.vm_name('a')}")


@task(help={"lab-id": LAB_HELP["lab-id"], "state-root": LAB_HELP["state-root"],
            "purge": "also delete the lab's keys and state folder"})
@user_errors
def lab_down(c: Context, lab_id: str = "dpb", state_root: str = "", purge: bool = False) -> None:
    """Remove every namespace, link and process of the lab (also after a failed lab.up)."""
    spec = _spec(lab_id, state_root=state_root or None)
    removed = lab_lib.down(spec, purge=purge)
    say(f"lab {spec.lab_id} is down" + (f" (removed {len(removed)} part(s))" if removed
                                        else " (there was nothing to remove)"))


@task(help={"lab-id": LAB_HELP["lab-id"], "state-root": LAB_HELP["state-root"]})
@user_errors
def lab_status(c: Context, lab_id: str = "dpb", state_root: str = "") -> None:
    """Say what exists and whether each sshd answers; exit non-zero unless the lab is healthy."""
    spec = _spec(lab_id, state_root=state_root or None)
    report = lab_lib.status(spec)
    table = Table(title=f"lab {spec.lab_id} ({spec.state_dir}): {report.state}")
    table.add_column("part")
    table.add_column("state")
    for check in report.checks:
        table.add_row(check.component, "[green]ok[/]" if check.problem is None
                      else f"[red]{check.problem}[/]")
    console.print(table)
    if report.state == "down":
        raise Exit("lab is down: `invoke lab.up` builds it", code=int(ExitStatus.LAB_DOWN))
    if report.state == "broken":
        raise Exit("lab is broken: `invoke lab.up` repairs it", code=int(ExitStatus.LAB_BROKEN))


@task(help={
    "campaign": "campaign YAML file (default: the built-in campaign on the embedded lab)",
    "out": "folder that receives the campaign archive (default: ./archive)",
    "resume": "an archive folder to finish: skips finished runs, redoes unfinished ones",
    "dry-run": "print the plan's size and estimated duration without touching any host",
    "list": "with --dry-run: also print every run id, in the order the runs would go",
    "lab-id": LAB_HELP["lab-id"], "state-root": LAB_HELP["state-root"]})
@user_errors
def collect(c: Context, campaign: str = "", out: str = "archive", resume: str = "",
            dry_run: bool = False, list: bool = False, lab_id: str = "dpb",
            state_root: str = "") -> None:
    """Run the measurement matrix over SSH on the two hosts and archive every raw output."""
    from collector import command as collect_command
    spec = _spec(lab_id, state_root=state_root or None)
    if dry_run:
        summary, run_ids = collect_command.plan_only(campaign, spec)
        if list:
            for run_id in run_ids:
                print(run_id)
        for key, value in summary.items():
            say(f"{key:>12}: {value if not isinstance(value, float) else f'{value:,.0f} s'}")
        return
    if list:
        raise Exit("--list goes with --dry-run", code=int(ExitStatus.USAGE))
    done = collect_command.collect(campaign, Path(out), resume, spec, _report_stopping_rule)
    say("runs: " + ", ".join(f"{n} {status}" for status, n in sorted(done.counts.items())))
    say(f"archive: {done.root}")
    if done.counts.get("failed") or done.counts.get("timeout"):
        say("some runs failed or timed out: their reasons are in manifest.json; "
            "`invoke report` lists them under Problems")


@task(help={"archive": "the archive folder of the campaign whose hosts to give back",
            "lab-id": LAB_HELP["lab-id"], "state-root": LAB_HELP["state-root"]})
@user_errors
def restore(c: Context, archive: str, lab_id: str = "dpb", state_root: str = "") -> None:
    """Give the hosts of a stopped campaign back as they were (settings, tuning, modules,
    configurations), without measuring; `collect --resume` does the same before it goes on.
    Not while that campaign's collect still runs."""
    from collector import command as collect_command
    spec = _spec(lab_id, state_root=state_root or None)
    hosts = collect_command.restore(archive, spec)
    say(f"restored: {', '.join(hosts) or 'nothing (the campaign changed no host yet)'}")


@task(iterable=["archive"], help={
    "archive": "a campaign archive folder or .tar.gz (repeatable; default: the newest in "
               "./archive)",
    "out": "where the site goes (default: ./site)",
    "baseline": "with several campaigns: the one the others are compared with (default: the "
                "oldest)",
    "tolerance": "a significant change smaller than this, in %, is 'within tolerance' "
                 "(default 5)",
    "pair": "with several node pairs: the pair the figure pages show, SENDER~RECEIVER "
            "(default: the median pair)"})
@user_errors
def report(c: Context, archive: list[str] | None = None, out: str = "site", baseline: str = "",
           tolerance: float = 5.0, pair: str = "") -> None:
    """Parse archives, compute statistics and build the offline site."""
    from reporter import command as report_command
    result = report_command.report(archive or [], Path(out), Path("archive"), baseline,
                                   tolerance, pair)
    say(f"runs: {result['runs']} ({result['ok']} ok, {result['problems']} listed under "
        f"Problems), charts: {result['charts']}")
    index = Path(out).resolve() / "index.html"
    say(f"your site is at {index}")
    serve_cmd = ".venv/bin/invoke serve" + ("" if out == "site" else f" --out {shlex.quote(out)}")
    say(f"open it as file://{index}, or serve it with `{serve_cmd}` "
        f"(http://127.0.0.1:8000/) or any static web server")


@task(help={"out": "the site folder (default: ./site)", "port": "TCP port (default 8000)"})
@user_errors
def serve(c: Context, out: str = "site", port: int = 8000) -> None:
    """Serve the site on 127.0.0.1 (Ctrl-C stops it)."""
    site = Path(out).resolve()
    if not (site / "index.html").is_file():
        raise BenchError(f"{site}: no site here (no index.html)",
                         "build one with `.venv/bin/invoke report` (its --out names the folder), "
                         "then serve that folder with --out")
    say(f"serving {site} on http://127.0.0.1:{port}/")
    c.run(f"{PYTHON} -m http.server --bind 127.0.0.1 --directory {shlex.quote(str(site))} "
          f"{port}", pty=False)


@task(help={
    "baseline": "the campaign archive (folder or .tar.gz) to compare against",
    "candidate": "the campaign archive judged against it",
    "tolerance": "a significant change smaller than this, in %, is not a regression "
                 "(default 5)",
    "junit": "also write JUnit XML here: a test case per cell and metric, a failure per "
             "regression"})
@user_errors
def compare(c: Context, baseline: str, candidate: str, tolerance: float = 5.0,
            junit: str = "") -> None:
    """Regression gate: exit 0 unless a cell got significantly worse beyond the tolerance (9),
    or nothing could be compared (10)."""
    from reporter import command as report_command
    from reporter import gate
    from reporter import junit as junit_lib
    verdicts = report_command.compare(baseline, candidate, tolerance)
    shown = [ch for ch in verdicts.changes if ch.significant]
    say(f"{verdicts.candidate} against {verdicts.baseline}: {len(verdicts.changes)} cell "
        f"metrics compared, {len(shown)} significant (tolerance {tolerance:g} %)")
    for line in gate.table(verdicts.changes):
        print(printable(line))
    say(gate.counts(verdicts.changes))
    if junit:
        junit_lib.write(verdicts.changes, verdicts.baseline, verdicts.candidate, Path(junit))
        say(f"JUnit XML: {junit}")
    outcome = gate.outcome(verdicts.changes, tolerance)
    if outcome.status != ExitStatus.OK:
        raise Exit(printable(outcome.said), code=int(outcome.status))


@task(help={"path": "the campaign archive folder", "out": "the .tar.gz (default: beside it)"})
@user_errors
def archive_pack(c: Context, path: str, out: str = "") -> None:
    """Pack a campaign archive into a .tar.gz for sending elsewhere."""
    from collector import archive as archive_lib
    say(f"packed: {archive_lib.pack(Path(path), Path(out) if out else None)}")


# --- Benchmarks: bench.NAME measures, writes its section of a docs page, says the figures --

def _lab_options(**more: tuple[Any, str]) -> dict[str, tuple[Any, str]]:
    return {**more, "lab_id": ("dpb", LAB_HELP["lab-id"]),
            "state_root": ("", LAB_HELP["state-root"])}


def _measure_collect(lab_id: str, state_root: str) -> Measured:
    from collector import bench as lib
    result = lib.collect_overhead(_spec(lab_id, state_root=state_root or None))
    return lib.collect_section(result), lib.collect_said(result)


def _measure_adaptive(lab_id: str, state_root: str) -> Measured:
    from collector import bench_adaptive as lib
    from reporter.convergence import judge_archive
    result = lib.run(_spec(lab_id, state_root=state_root or None), judge_archive,
                     _report_stopping_rule)
    return lib.section(result), lib.said(result)


def _measure_pinning(rounds: int, lab_id: str, state_root: str) -> Measured:
    from collector import bench_pinning as lib
    from reporter.convergence import judge_archive
    result = lib.run(_spec(lab_id, state_root=state_root or None), judge_archive, rounds)
    return lib.section(result), lib.said(result)


def _measure_tools(pairs: int, duration: int, unpinned: bool, lab_id: str,
                   state_root: str) -> Measured:
    from collector import archive as archive_lib
    from collector import bench_tools as lib
    from reporter.parsers.figures import bench_figures
    results, placement = lib.run(_spec(lab_id, state_root=state_root or None), bench_figures(),
                                 pairs, duration, not unpinned)
    when = archive_lib.utc_now()[:16] + "Z"
    return (lib.section(results, benchdoc.machine(), when, pairs, duration, placement),
            lib.said(results))


def _measure_report() -> Measured:
    from reporter import bench as lib
    results = lib.run()
    return lib.section(results), lib.said(results)


def _measure_fast_tier(times: int) -> Measured:
    from collector import bench_fast_tier as lib
    result = lib.run(times)
    return lib.section(result), lib.said(result, times)


def _measure_vm_boot(times: int, lab_id: str, state_root: str) -> Measured:
    from collector import bench as lib
    result = lib.vm_boot(_spec(lab_id, state_root=state_root or None, vms=True), times)
    return lib.vm_boot_section(result, times), lib.vm_boot_said(result)


def _measure_machine_lab(boots: int, lab_id: str, state_root: str) -> Measured:
    from collector import bench_machine_lab as lib
    result = lib.run(_spec(lab_id, state_root=state_root or None, machines=True), boots)
    return lib.section(result, boots), lib.said(result)


def _measure_hostile() -> Measured:
    from reporter import bench_hostile as lib
    results = lib.run()
    return lib.section(results, benchdoc.machine()), lib.said(results)


BENCHES = [
    Bench("collect", "default lab campaign wall time ÷ measuring time", _measure_collect,
          _lab_options()),
    Bench("adaptive", "fixed 10 repetitions vs adaptive (3-10, ±5 %) on the lab",
          _measure_adaptive, _lab_options()),
    Bench("pinning", "the lab matrix unpinned and with cpu_affinity: auto: cells within ±5 %",
          _measure_pinning, _lab_options(
              rounds=(1, "pairs of campaigns (unpinned, pinned) to run (default 1)"))),
    Bench("tools", "csrc programs vs qperf and sockperf", _measure_tools, _lab_options(
        pairs=(7, "alternating pairs per comparison (default 7)"),
        duration=(2, "seconds per run (default 2)"),
        unpinned=(False, "leave the tools unpinned (default: cpu_affinity auto for all)"))),
    Bench("report", "the report against its floors (read + JSON, its own parse) at 240 to "
          "60,000 runs", _measure_report),
    Bench("fast-tier", 'wall time of `pytest -m "not lab"` (target ≤ 60 s)',
          _measure_fast_tier, {"times": (3, "how many runs of the tier (default 3; the "
                                            "median is the figure)")}),
    Bench("vm-boot", "lab VM boot to SSH (reboots the lab's guests)", _measure_vm_boot,
          _lab_options(times=(5, "boots per guest (default 5)"))),
    Bench("machine-lab", "machine lab: image (cold, warm), boot to SSH, campaign wall ÷ measuring",
          _measure_machine_lab, _lab_options(boots=(3, "boots of both guests (default 3)"))),
    Bench("hostile", "what the bounds on untrusted input cost (time, peak memory)",
          _measure_hostile, doc=RELIABILITY_MD),
]


@task(help={"k": "only tests matching this pytest -k expression",
            "extra": "more pytest arguments, as one string"})
def test(c: Context, k: str = "", extra: str = "") -> None:
    """Run lint, type checks and the whole test suite (needs root for the lab tests)."""
    c.run(f"{PYTHON} -m ruff check .", pty=False)
    c.run(f"{PYTHON} -m mypy", pty=False)
    selection = f" -k {k!r}" if k else ""
    c.run(f"{PYTHON} -m pytest{selection} {extra}".rstrip(), pty=False)


@task
def lint(c: Context) -> None:
    """ruff and mypy only."""
    c.run(f"{PYTHON} -m ruff check .")
    c.run(f"{PYTHON} -m mypy")


@task(help={"out": "folder that receives the campaign archive (default: ./archive)"})
@user_errors
def demo(c: Context, out: str = "archive") -> None:
    """The main job on this machine: embedded lab up → default campaign → report → site."""
    lab_lib.up(demo_spec(), say=say)
    collect(c, out=out)
    report(c)


@task(help={"manifests": "mutated manifests to build (default 1000)",
            "seed": "the fuzzer's seed (default 7)"})
@user_errors
def fuzz_site(c: Context, manifests: int = 1000, seed: int = 7) -> None:
    """Fuzz: mutated manifests through the whole site build; docs/reliability.md."""
    from reporter import fuzz as fuzz_lib
    outcome = fuzz_lib.run(manifests, seed)
    benchdoc.write_section("fuzz.site", fuzz_lib.section(outcome, seed), RELIABILITY_MD)
    for crash in outcome.crashes:
        say(crash)
    say(f"{outcome.manifests} mutated manifests in {outcome.seconds:.0f} s: "
        + ", ".join(f"{n} {k}" for k, n in sorted(outcome.counts.items()))
        + f", {len(outcome.crashes)} tracebacks; written to {RELIABILITY_MD}")
    if outcome.crashes:
        raise Exit(code=1)


lab = Collection("lab")
lab.add_task(lab_up, "up")
lab.add_task(lab_down, "down")
lab.add_task(lab_status, "status")

archive = Collection("archive")
archive.add_task(archive_pack, "pack")

bench = Collection("bench")
for definition in BENCHES:
    bench.add_task(bench_task(definition), definition.name)

fuzz = Collection("fuzz")
fuzz.add_task(fuzz_site, "site")

ns = Collection(demo, collect, restore, report, compare, serve, test, lint, lab, archive, bench,
                fuzz)
os.environ.setdefault("PYTHONUNBUFFERED", "1")
