"""SSH to a host with Fabric: strict host-key checking, quoted arguments, clear errors.

Fabric's Connection accepts any unknown host key (AutoAddPolicy); every connection made here
replaces that with paramiko's RejectPolicy and loads only the host's own known_hosts file.
"""

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import paramiko
from fabric import Config, Connection
from invoke.exceptions import CommandTimedOut

from .errors import BenchError, HostKeyRejectedError, HostUnreachableError
from .hosts import Host

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


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

    def __init__(self, host: Host, connect_timeout: float = 10.0) -> None:
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
        self.connection = Connection(
            host.ssh_host, user=host.user, port=host.port,
            connect_timeout=int(connect_timeout), connect_kwargs=connect_kwargs,
            config=Config(overrides={"load_ssh_configs": False, "run": {"warn": True}}))
        self.connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.connection.client.load_host_keys(str(known_hosts))

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
        except OSError as exc:
            raise HostUnreachableError(
                f"{self.host.describe()}: cannot connect: {exc}",
                "check that the host is up and sshd listens there") from exc
        return self

    def run(self, argv: Sequence[str] | str, *, timeout: float | None = None,
            stdin: str | None = None) -> Result:
        """Run a command (an argv list is quoted; a string is taken as a shell line)."""
        command = argv if isinstance(argv, str) else quote(argv)
        if self.host.sudo and self.host.user != "root":
            command = "sudo -n -- sh -c " + shlex.quote(command)
        kwargs: dict[str, object] = {"hide": True, "warn": True, "in_stream": False}
        if timeout is not None:
            kwargs["timeout"] = timeout
        if stdin is not None:
            kwargs["in_stream"] = StringIO(stdin)
        try:
            res = self.connection.run(command, **kwargs)
        except CommandTimedOut as exc:
            out = exc.result
            return Result(command, -1, out.stdout, out.stderr, timed_out=True)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise HostUnreachableError(f"{self.host.describe()}: connection lost while running "
                                       f"{command!r}: {exc}") from exc
        return Result(command, res.exited, res.stdout, res.stderr)

    def check(self, argv: Sequence[str] | str, *, timeout: float | None = 60.0) -> str:
        """Run a command that must succeed; return its stdout."""
        res = self.run(argv, timeout=timeout)
        if not res.ok:
            what = "timed out" if res.timed_out else f"exit {res.exit_code}"
            raise BenchError(f"{self.host.describe()}: `{res.command}` failed ({what})"
                             + (f": {res.stderr.strip()}" if res.stderr.strip() else ""))
        return res.stdout

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "Remote":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
