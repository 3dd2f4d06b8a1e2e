"""Running commands on this machine (the lab's plumbing), with errors that name the command."""

import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence

from .errors import CommandError, NotRootError, UnsupportedSystemError


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 30.0,
        input_text: str | None = None, cwd: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (never through a shell); raise CommandError with its stderr when it fails."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              input=input_text, check=False, cwd=cwd)
    except FileNotFoundError as exc:
        raise CommandError(f"command not found: {argv[0]}",
                           "run ./bootstrap.sh to install the system packages") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"command timed out after {timeout:g} s: {shlex.join(argv)}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise CommandError(f"command failed (exit {proc.returncode}): {shlex.join(argv)}"
                           + (f"\n  {detail}" if detail else ""))
    return proc


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise NotRootError(f"{what} needs root (network namespaces, veth links and sshd)",
                           "run it as root, e.g. with sudo")


def require_netns() -> None:
    """Fail clearly when this system cannot create network namespaces."""
    if shutil.which("ip") is None:
        raise UnsupportedSystemError("iproute2's `ip` is not installed",
                                     "run ./bootstrap.sh (it installs iproute2)")
    if not os.path.exists("/proc/self/ns/net"):
        raise UnsupportedSystemError("this kernel has no network namespaces (/proc/self/ns/net "
                                     "is missing)", "use a kernel built with CONFIG_NET_NS")
    probe = f"dpb-probe-{os.getpid()}"
    attempt = run(["ip", "netns", "add", probe], check=False)
    if attempt.returncode != 0:
        raise UnsupportedSystemError(f"cannot create a network namespace: "
                                     f"{attempt.stderr.strip()}",
                                     "run on a host or a privileged container with CAP_SYS_ADMIN")
    run(["ip", "netns", "del", probe], check=False)
