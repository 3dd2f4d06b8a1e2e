"""Static SVG copies of the charts, drawn by processes of their own while the build goes on:
vl-convert holds the GIL while it draws, so a thread would stall the build. The processes
(`python -m reporter.svg`, so they never re-import the caller's main module) take charts from a
job folder as they are made, each claiming one by renaming it; two of them keep both cores
busy once the build has only the drawing left. They start with the first chart to draw and
serve every later build of the same process until it exits. Each distinct spec is drawn once
(cached by its hash in the user's cache: a rebuild with unchanged figures draws nothing, and
starts no drawing process)."""

import hashlib
import json
import os
import shutil
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
from .sidecar import Sidecars

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


class _Service(Sidecars):
    """The drawing processes of this process, shared by every build it makes (a test session,
    a fuzz run build many sites): each process pays vl-convert's start (~0.5 s of CPU) once."""

    WAIT_S = 2.0

    def __init__(self) -> None:
        self.jobs = Path(tempfile.mkdtemp(prefix="dpb-svg-jobs-"))
        super().__init__("reporter.svg", [str(self.jobs)], count=min(WORKERS, os.cpu_count() or 1),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def ask_to_end(self) -> None:
        (self.jobs / DONE).touch()

    def close(self) -> None:
        super().close()
        if self.ours():
            shutil.rmtree(self.jobs, ignore_errors=True)


_service: _Service | None = None


def _running() -> _Service:
    """The shared drawing processes, started (again, if one has died) on demand."""
    global _service
    if _service is None or not _service.alive() or not _service.ours():
        if _service is not None:
            _service.close()
        _service = _Service()
    return _service


def stop() -> None:
    """Stop the shared drawing processes (the next chart to draw starts them again)."""
    global _service
    if _service is not None:
        _service.close()
        _service = None


class Drawer:
    """``submit`` charts as they are made (each gets its file name at once); ``finish`` waits
    for the drawings and links them into the site."""

    def __init__(self) -> None:
        self._cache = cache_dir()
        self._cache.mkdir(parents=True, exist_ok=True)
        self._service: _Service | None = None
        self._queued: dict[str, None] = {}
        self._names: list[str] = []

    def __enter__(self) -> "Drawer":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._service is not None and kind is not None:
            # A build that failed leaves its unclaimed charts behind; a finished one has none.
            for name in self._queued:
                for leftover in self._service.jobs.glob(f"*-{name}.json"):
                    leftover.unlink(missing_ok=True)

    def submit(self, specs: list[dict[str, Any]]) -> list[str]:
        """Each spec's file name (its hash); the ones not drawn before are queued."""
        names = []
        for spec in specs:
            text = _text(spec)
            name = _name(text)
            names.append(name)
            if name not in self._queued and not (self._cache / name).is_file():
                if self._service is None:
                    self._service = _running()
                self._queued[name] = None
                (self._service.jobs / f"{name}.failed").unlink(missing_ok=True)
                job = {"spec": text, "target": str(self._cache / name)}
                tmp = self._service.jobs / f".{name}.tmp"
                tmp.write_text(json.dumps(job))
                os.replace(tmp, self._service.jobs / f"{time.time_ns():020d}-{name}.json")
        self._names += names
        return names

    def finish(self, out: Path) -> None:
        if self._service is not None:
            self._wait(self._service)
        out.mkdir(parents=True, exist_ok=True)
        for name in dict.fromkeys(self._names):
            target = out / name
            try:
                os.link(self._cache / name, target)
            except OSError:
                target.write_bytes((self._cache / name).read_bytes())

    def _wait(self, service: _Service) -> None:
        """Until every chart queued is drawn, or said to have failed, or a process died."""
        deadline = time.monotonic() + TIMEOUT_S
        pending = list(self._queued)
        failed: list[str] = []
        while pending and service.alive() and time.monotonic() < deadline:
            left = []
            for name in pending:
                if (service.jobs / f"{name}.failed").exists():
                    failed.append(name)
                elif not (self._cache / name).is_file():
                    left.append(name)
            pending = left
            if pending:
                time.sleep(POLL_S)
        if failed or pending:
            codes = [proc.poll() for proc in service.procs]
            raise BenchError(f"drawing the static SVGs failed ({len(failed) + len(pending)} of "
                             f"{len(self._queued)} not drawn; drawing processes' exit codes "
                             f"{codes}):\n{service.said()}")


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
    """A drawing process: charts from the job folder until it says no more are coming (or
    the process that started it is gone); a chart it cannot draw is marked NAME.failed."""
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
        claimed.unlink()
        try:
            svg = vlc.vegalite_to_svg(json.loads(job["spec"]))
        except Exception as exc:  # said, then the next chart
            print(f"{job['target']}: {exc}", file=sys.stderr, flush=True)
            (jobs / f"{Path(job['target']).name}.failed").touch()
            failed += 1
            continue
        tmp = f"{job['target']}.{os.getpid()}.tmp"
        Path(tmp).write_text(svg)
        os.replace(tmp, job["target"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_serve(Path(sys.argv[1])))
