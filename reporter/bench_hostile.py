"""`invoke bench.hostile`: what the bounds on untrusted input cost, measured. Each case is a
report (or a tarball read) in a process of its own, timed, its peak memory read from the
kernel (the process tree's largest resident set, from wait4), beside the same report of the
clean archive in the same run: oversized facts, ten 60 MB iperf3 error texts, a tarball that
unpacks 1000:1, a raw file nested 100,000 deep."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from collector.archive import Archive

from . import archive as reader
from . import synthetic

RUNS = 240


@dataclass(frozen=True)
class Measured:
    case: str
    seconds: float
    peak_mib: float
    exit_code: int
    said: str


# A child forked from this (large) process starts with its memory high-water mark: the case
# is forked from a small launcher instead, which reports the case's tree's peak (wait4).
LAUNCHER = ("import os, sys\npid = os.fork()\nif pid == 0:\n"
            "    os.execv(sys.argv[1], sys.argv[1:])\n"
            "_, status, usage = os.wait4(pid, 0)\nprint(f'DPB-PEAK-KIB {usage.ru_maxrss}')\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def _run(case: str, code: str, cwd: Path) -> Measured:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-c", code],
                          cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "DPB_REPORT_CACHE": str(cwd / "cache")})
    seconds = time.monotonic() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    peak = next(int(x.split()[1]) for x in lines if x.startswith("DPB-PEAK-KIB "))
    said = [x for x in lines if not x.startswith("DPB-PEAK-KIB ")]
    errors = [x for x in said if "Error: " in x]  # the exception's line, under its traceback
    shown = errors[-1].split("Error: ", 1)[1] if errors else said[-1] if said else ""
    shown = shown.replace(str(cwd) + "/", "")  # the scratch folder's name says nothing
    return Measured(case, seconds, peak / 1024, proc.returncode, shown[:200])


def _report(case: str, archive: Path, work: Path) -> Measured:
    out = work / f"site-{case.split()[0]}"
    code = ("from pathlib import Path; from reporter import command; "
            f"r = command.report([{str(archive)!r}], Path({str(out)!r}), Path('.')); "
            "print(r['runs'], 'runs,', r['problems'], 'under Problems')")
    return _run(case, code, work)


def _copy(base: Path, name: str) -> tuple[Path, dict[str, object]]:
    target = base.with_name(name)
    shutil.copytree(base, target)
    return target, json.loads((target / "manifest.json").read_text())


def run() -> list[Measured]:
    with tempfile.TemporaryDirectory(prefix="dpb-bench-hostile-") as scratch:
        work = Path(scratch)
        base = synthetic.generate(work / "a", RUNS, name="clean")
        results = [_report("clean archive (baseline)", base, work)]

        facts, manifest = _copy(base, "facts")
        (facts / "facts" / "lab-a").mkdir(parents=True)
        section = "### sysctl\n" + "net.core.x = 1\n" * 40_000
        (facts / "facts" / "lab-a" / "start-x.txt").write_text(section * 8)  # 4.8 MB
        (facts / "facts" / "lab-a" / "end-x.txt").write_text(section[:3_900_000])
        Archive(facts, manifest).write_sums()
        results.append(_report("facts 4.8 MB + 3.9 MB", facts, work))

        errors, manifest = _copy(base, "errors")
        runs = manifest["runs"]
        assert isinstance(runs, dict)
        iperf3 = [r for r in sorted(runs) if runs[r]["tool"] == "iperf3"][:10]
        for run_id in iperf3:
            (errors / runs[run_id]["files"]["client_stdout"]).write_text(
                json.dumps({"error": "E" * 60_000_000}))
        Archive(errors, manifest).write_sums()
        results.append(_report("ten 60 MB iperf3 errors", errors, work))

        deep, manifest = _copy(base, "deep")
        runs = manifest["runs"]
        assert isinstance(runs, dict)
        for run_id in [r for r in sorted(runs) if runs[r]["tool"] == "iperf3"][:10]:
            (deep / runs[run_id]["files"]["client_stdout"]).write_text(
                "[" * 100_000 + "]" * 100_000)
        Archive(deep, manifest).write_sums()
        results.append(_report("ten raw files nested 100,000 deep", deep, work))

        bomb = work / "bomb.tar.gz"
        with tarfile.open(bomb, "w:gz") as tar:
            for i in range(34):  # 2 GiB of zeros, members under the 64 MiB bound
                info = tarfile.TarInfo(f"c/runs/f{i:02d}")
                info.size = 60 * 1024 * 1024
                with open("/dev/zero", "rb") as zeros:
                    tar.addfile(info, zeros)
        size = bomb.stat().st_size
        code = ("from pathlib import Path; from reporter import archive\n"
                f"try: archive.load(Path({str(bomb)!r}), Path({str(work / 'x')!r}))\n"
                "except Exception as e: print('BenchError: ' + e.message); raise SystemExit(1)")
        measured = _run(f"a {size / 1e6:.1f} MB tarball unpacking to 2 GiB", code, work)
        written = sum(p.stat().st_size for p in (work / "x").rglob("*") if p.is_file())
        results.append(Measured(measured.case, measured.seconds, measured.peak_mib,
                                measured.exit_code,
                                f"{measured.said} (scratch written: {written / 2**20:.0f} MiB, "
                                f"budget {reader.unpack_budget(size) / 2**20:.0f} MiB)"))
        return results


def said(results: list[Measured]) -> list[str]:
    return [f"{r.case}: {r.seconds:.2f} s, {r.peak_mib:,.0f} MiB, exit {r.exit_code}: {r.said}"
            for r in results]


def section(results: list[Measured], machine: str) -> str:
    clean = results[0]
    rows = "\n".join(
        f"| {r.case} | {r.seconds:.2f} s ({r.seconds / clean.seconds:.2f}×) | "
        f"{r.peak_mib:,.0f} MiB ({r.peak_mib / clean.peak_mib:.2f}×) | {r.exit_code} | "
        f"{r.said.replace('|', '/')} |" for r in results)
    return (f"### Bounds on untrusted input, measured\n\nReproduce: `.venv/bin/invoke "
            f"bench.hostile` (no root needed). Machine: {machine}. Each case is a new "
            "process (a cold report of a synthetic "
            f"{RUNS}-run campaign, changed as the row says), its time and the largest resident "
            "set of its process tree, each also as a ratio to the clean archive's in the same "
            "run.\n\n| case | wall | peak memory | exit | what it said |\n| --- | ---: | ---: | "
            f"---: | --- |\n{rows}\n")
