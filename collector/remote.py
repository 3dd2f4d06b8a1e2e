"""SSH to a host with Fabric: strict host-key checking, quoted arguments, clear errors.

Commands run in persistent shells (collector/shell.py) over the Fabric connection's transport.

Fabric's Connection accepts any unknown host key (AutoAddPolicy); every connection made here
replaces that with paramiko's RejectPolicy and loads only the host's own known_hosts file.
"""

import contextlib
import posixpath
import shlex
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko
from fabric import Config, Connection

from .errors import BenchError, HostKeyRejectedError, HostUnreachableError
from .hosts import DEFAULT_KNOWN_HOSTS, Host, Vm
from .shell import SCRATCH, Shell, ShellTimeout


@dataclass(frozen=True)
class Result:
    command: str
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def quote(argv: Sequence[str]) -> str:
    """One shell command line with every argument quoted."""
    return shlex.join(argv)


class Remote:
    """One long-lived SSH connection to a host."""

    def __init__(self, host: Host, connect_timeout: float = 10.0,
                 gateway: "Remote | None" = None) -> None:
        self.host = host
        known_hosts = Path(host.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()
        if not known_hosts.is_file():
            raise HostKeyRejectedError(
                f"{host.describe()}: known_hosts file {known_hosts} does not exist",
                "pin the host's key first (ssh-keyscan, checked out of band) — unknown host keys "
                "are never accepted")
        self.known_hosts = known_hosts
        connect_kwargs: dict[str, object] = {"allow_agent": False,
                                             "look_for_keys": host.key is None}
        if host.key:
            connect_kwargs["key_filename"] = str(Path(host.key).expanduser())
        self.connection: Connection = Connection(
            host.ssh_host, user=host.user, port=host.port,
            connect_timeout=int(connect_timeout), connect_kwargs=connect_kwargs,
            gateway=gateway.connection if gateway else None,
            config=Config(overrides={"load_ssh_configs": False, "run": {"warn": True}}))
        self.connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.connection.client.load_host_keys(str(known_hosts))
        self._idle: list[Shell] = []
        self._lock = threading.Lock()

    def open(self) -> "Remote":
        try:
            self.connection.open()
        except paramiko.BadHostKeyException as exc:
            raise HostKeyRejectedError(
                f"{self.host.describe()}: host key does not match the one pinned in "
                f"{self.known_hosts} (got {exc.key.get_name()} {exc.key.get_base64()[:24]}…)",
                "if the host was reinstalled, verify its new key out of band and update "
                "known_hosts; otherwise treat this as an attack") from exc
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise HostKeyRejectedError(
                    f"{self.host.describe()}: host key is not pinned in {self.known_hosts}",
                    "add the host's key to that file after checking its fingerprint") from exc
            raise HostUnreachableError(f"{self.host.describe()}: SSH failed: {exc}") from exc
        except (OSError, EOFError) as exc:
            raise HostUnreachableError(
                f"{self.host.describe()}: cannot connect: {exc}",
                "check that the host is up and sshd listens there") from exc
        return self

    def run(self, argv: Sequence[str] | str, *, timeout: float | None = None) -> Result:
        """Run a command (an argv list is quoted; a string is taken as a shell line)."""
        command = argv if isinstance(argv, str) else quote(argv)
        shell = self._acquire()
        try:
            code, out, err = shell.run(command, timeout=timeout)
        except ShellTimeout:
            return Result(command, -1, "", "", timed_out=True)
        finally:
            self._release(shell)
        return Result(command, code, out, err)

    def _acquire(self) -> Shell:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        transport = self.connection.transport
        if transport is None or not transport.is_active():
            raise HostUnreachableError(f"{self.host.describe()}: not connected")
        try:
            return Shell(transport, self.host.describe(),
                         sudo=self.host.sudo and self.host.user != "root")
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise HostUnreachableError(f"{self.host.describe()}: cannot open a session: "
                                       f"{exc}") from exc

    def _release(self, shell: Shell) -> None:
        if shell.alive:
            with self._lock:
                self._idle.append(shell)

    def check(self, argv: Sequence[str] | str, *, timeout: float | None = 60.0) -> str:
        """Run a command that must succeed; return its stdout."""
        res = self.run(argv, timeout=timeout)
        if not res.ok:
            what = "timed out" if res.timed_out else f"exit {res.exit_code}"
            raise BenchError(f"{self.host.describe()}: `{res.command}` failed ({what})"
                             + (f": {res.stderr.strip()}" if res.stderr.strip() else ""))
        return res.stdout

    def close(self) -> None:
        with self._lock:
            shells, self._idle = self._idle, []
        for shell in shells:
            with contextlib.suppress(HostUnreachableError, ShellTimeout):
                # its folder, and the folders above it once empty (the host as it was)
                shell.run(f"rm -rf {shlex.quote(shell.scratch)}; rmdir {SCRATCH} "
                          f"{posixpath.dirname(SCRATCH)} 2>/dev/null; true", timeout=5)
            shell.close()
        self.connection.close()

    def __enter__(self) -> "Remote":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def vm_gateway(vm: Vm, hosts: Sequence[Remote]) -> Remote | None:
    """The connected host a VM's SSH goes through (None: the VM is reached directly)."""
    if not vm.jump:
        return None
    for remote in hosts:
        if remote.host.name == vm.host:
            return remote
    raise BenchError(f"{vm.describe()}: its host {vm.host!r} is not one of "
                     f"{', '.join(r.host.name for r in hosts)}",
                     "set the VM's host to the name of the host it runs on")


@contextlib.contextmanager
def connect_vm(vm: Vm, hosts: Sequence[Host]) -> Iterator[Remote]:
    """A VM's connection on its own (through its host when it says jump)."""
    with contextlib.ExitStack() as stack:
        remotes = [stack.enter_context(Remote(h)) for h in hosts if vm.jump and h.name == vm.host]
        yield stack.enter_context(Remote(vm.target, gateway=vm_gateway(vm, remotes)))
