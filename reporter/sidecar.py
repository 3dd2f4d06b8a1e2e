"""Python processes a reporter process keeps beside its builds (SVG drawing, mkdocs), for all
of them: started as `python -m MODULE` with the project importable whatever the working
directory, their stderr kept to quote when they fail, and stopped when the process that
started them exits — never by a forked worker that inherited them."""

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
SAID_CHARS = 3000


class Sidecars:
    """``count`` processes of ``python -m module *args``. ``ask_to_end`` tells them to finish;
    they get ``WAIT_S`` to do it before they are killed."""

    WAIT_S = 5.0

    def __init__(self, module: str, args: list[str], count: int = 1,
                 env: dict[str, str] | None = None, **popen: Any) -> None:
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 — closed in close()
        merged = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(
            [str(PROJECT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.procs: list[subprocess.Popen[Any]] = [
            subprocess.Popen([sys.executable, "-m", module, *args], stderr=self.errors,
                             env=merged, **popen) for _ in range(count)]
        self.owner = os.getpid()
        atexit.register(self.close)

    def ours(self) -> bool:
        return os.getpid() == self.owner

    def alive(self) -> bool:
        return all(proc.poll() is None for proc in self.procs)

    def said(self) -> str:
        """The end of what they wrote to stderr."""
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")[-SAID_CHARS:]

    def ask_to_end(self) -> None:
        """Tell them to finish (by default they are simply killed after WAIT_S)."""

    def close(self) -> None:
        if not self.ours():  # a forked worker inherited them: not its to stop
            return
        self.ask_to_end()
        for proc in self.procs:
            try:
                proc.wait(timeout=self.WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.errors.close()
        atexit.unregister(self.close)
