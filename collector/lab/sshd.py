"""A real OpenSSH sshd inside each host namespace: key-only, root login, its own config and pid."""

import os
import signal
import socket
import time
from pathlib import Path

from .. import local
from ..errors import LabBrokenError
from . import credentials
from .spec import LabSpec

SSHD = "/usr/sbin/sshd"


def _config(spec: LabSpec, letter: str) -> str:
    d = spec.state_dir / letter
    return "\n".join([
        f"ListenAddress {spec.mgmt_address(letter).ip}",
        "Port 22",
        f"HostKey {credentials.host_key_path(spec, letter)}",
        f"PidFile {d / 'sshd.pid'}",
        f"AuthorizedKeysFile {credentials.authorized_keys_path(spec)}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes yes",
        "X11Forwarding no",
        "PrintMotd no",
        "PermitUserEnvironment no",
        "MaxSessions 64",
        "MaxStartups 64:30:128",
        "ClientAliveInterval 15",
        "LogLevel VERBOSE",
        "Subsystem sftp internal-sftp",
        "",
    ])


class Sshd:
    def __init__(self, spec: LabSpec, letter: str) -> None:
        self.spec = spec
        self.letter = letter
        self.ns = spec.netns(letter)
        self.dir = spec.state_dir / letter
        self.config_path = self.dir / "sshd_config"
        self.pid_path = self.dir / "sshd.pid"
        self.log_path = self.dir / "sshd.log"
        self.address = str(spec.mgmt_address(letter).ip)
        self.name = f"sshd in {self.ns} on {self.address}:22"

    def pid(self) -> int | None:
        """The PID of this lab's sshd, only if that process really is ours (config path checked)."""
        try:
            pid = int(self.pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError):
            return None
        # sshd rewrites its title to "sshd: /usr/sbin/sshd -f CONFIG … [listener] …"
        ours = str(self.config_path).encode()
        return pid if ours + b"\0" in cmdline or ours + b" " in cmdline else None

    def problem(self) -> str | None:
        if self.pid() is None:
            return "not running"
        if not self.config_path.is_file() or self.config_path.read_text() != _config(
                self.spec, self.letter):
            return "config changed"
        return None if banner(self.address) else "does not answer on port 22"

    def build(self) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config_path.write_text(_config(self.spec, self.letter))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation directory
        local.run([SSHD, "-t", "-f", str(self.config_path)])
        local.run(["ip", "netns", "exec", self.ns, SSHD, "-f", str(self.config_path),
                   "-E", str(self.log_path)])
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.pid() is not None and banner(self.address):
                return
            time.sleep(0.05)
        tail = self.log_path.read_text()[-600:] if self.log_path.is_file() else "(no log)"
        raise LabBrokenError(f"sshd in {self.ns} did not answer on {self.address}:22 within 10 s",
                             f"its log {self.log_path} ends with:\n{tail}")

    def remove(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)


def banner(address: str, port: int = 22, timeout: float = 2.0) -> bool:
    """True when an SSH server greets on address:port."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            return sock.recv(64).startswith(b"SSH-2.0-")
    except OSError:
        return False
