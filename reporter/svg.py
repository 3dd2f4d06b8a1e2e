"""Static SVG copies of the charts, drawn by processes of their own while the build goes on:
vl-convert holds the GIL while it draws, so a thread would stall the build. The processes
(`python -m reporter.svg`, so they never re-import the caller's main module) take charts from a
job folder as they are made, each claiming one by renaming it; two of them keep both cores
busy once the build has only the drawing left. Each distinct spec is drawn once (cached by its
hash in the user's cache: a rebuild with unchanged figures draws nothing)."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import Any

from collector.errors import BenchError

from .cachedir import cache_root

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 1800
WORKERS = 2
DONE = "done"  # in the job folder: no more charts are coming
POLL_S = 0.02


def cache_dir() -> Path:
    return cache_root() / f"svg-{version('vl-convert-python')}"


def _text(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20] + ".svg"


class Drawer:
    """``submit`` charts as they are made (each gets its file name at once); ``finish`` waits
    for the drawings and links them into the site."""

    def __init__(self) -> None:
        self._cache = cache_dir()
        self._cache.mkdir(parents=True, exist_ok=True)
        self._jobs = tempfile.TemporaryDirectory(prefix="dpb-svg-jobs-")
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 — closed in __exit__
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PROJECT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._procs = [subprocess.Popen([sys.executable, "-m", "reporter.svg", self._jobs.name],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self._errors, env=env)
                       for _ in range(min(WORKERS, os.cpu_count() or 1))]
        self._queued: dict[str, None] = {}
        self._names: list[str] = []

    def __enter__(self) -> "Drawer":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._errors.close()
        self._jobs.cleanup()

    def submit(self, specs: list[dict[str, Any]]) -> list[str]:
        """Each spec's file name (its hash); the ones not drawn before are queued."""
        names = []
        jobs = Path(self._jobs.name)
        for spec in specs:
            text = _text(spec)
            name = _name(text)
            names.append(name)
            if name not in self._queued and not (self._cache / name).is_file():
                self._queued[name] = None
                job = {"spec": text, "target": str(self._cache / name)}
                tmp = jobs / f".{name}.tmp"
                tmp.write_text(json.dumps(job))
                os.replace(tmp, jobs / f"{len(self._queued):06d}-{name}.json")
        self._names += names
        return names

    def finish(self, out: Path) -> None:
        (Path(self._jobs.name) / DONE).touch()
        deadline = time.monotonic() + TIMEOUT_S
        codes = [proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                 for proc in self._procs]
        missing = [n for n in self._queued if not (self._cache / n).is_file()]
        if any(codes) or missing:
            self._errors.seek(0)
            said = self._errors.read().decode(errors="replace")[-3000:]
            raise BenchError(f"drawing the static SVGs failed (exit {codes}, {len(missing)} of "
                             f"{len(self._queued)} not drawn):\n{said}")
        out.mkdir(parents=True, exist_ok=True)
        for name in dict.fromkeys(self._names):
            target = out / name
            try:
                os.link(self._cache / name, target)
            except OSError:
                target.write_bytes((self._cache / name).read_bytes())


def _claim(jobs: Path) -> Path | None:
    """The oldest job no other process took (renamed, so only one process gets it)."""
    for entry in sorted(jobs.glob("*.json")):
        mine = entry.with_suffix(f".{os.getpid()}")
        try:
            os.rename(entry, mine)
        except FileNotFoundError:
            continue  # another process claimed it first
        return mine
    return None


def _serve(jobs: Path) -> int:
    """A drawing process: charts from the job folder until it says no more are coming."""
    import vl_convert as vlc

    parent, failed = os.getppid(), 0
    while os.getppid() == parent:
        done = (jobs / DONE).exists()  # read before the claim: a job written before it is seen
        claimed = _claim(jobs)
        if claimed is None:
            if done:
                break
            time.sleep(POLL_S)
            continue
        job = json.loads(claimed.read_text())
        try:
            svg = vlc.vegalite_to_svg(json.loads(job["spec"]))
        except Exception as exc:  # said, then the next chart
            print(f"{job['target']}: {exc}", file=sys.stderr)
            failed += 1
            continue
        tmp = f"{job['target']}.{os.getpid()}.tmp"
        Path(tmp).write_text(svg)
        os.replace(tmp, job["target"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_serve(Path(sys.argv[1])))
