"""What the lab's two kinds of qemu guest share: starting qemu, finding this very guest's qemu by
its pid file, stopping it, and saying how its boot went."""

import json
import os
import signal
import time
from pathlib import Path

from .. import local
from ..errors import BenchError
from .network import _alive


def start(argv: list[str], name: str) -> None:
    try:
        local.run(argv, timeout=30)
    except BenchError as exc:
        raise BenchError(f"{name}: qemu did not start: {exc.message}",
                         "run ./bootstrap.sh (it installs qemu-system-x86)") from exc


def running_pid(pid_path: Path, qemu_name: str) -> int | None:
    """The guest's qemu, if the pid file names a live qemu started with `-name guest=NAME`."""
    try:
        pid = int(pid_path.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if f"guest={qemu_name}".encode() in cmdline and _alive(pid) else None


def stop(pid_path: Path, qemu_name: str, grace_s: float) -> None:
    """SIGTERM this guest's qemu (never another process), SIGKILL after the grace."""
    pid = running_pid(pid_path, qemu_name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)


def describe_boot(record: Path, kernel: bool = False) -> str:
    if not record.is_file():
        return ""
    boot = json.loads(record.read_text())
    said = f"booted to SSH in {boot['boot_to_ssh_s']:.1f} s ({boot['accel']})"
    return f"kernel {boot['kernel']}, {said}" if kernel else said
