"""A persistent `sh` on a host, over one SSH channel, that runs command after command.

Opening an SSH session costs a fork, a login and the user's shell start-up files (over 100 ms on
hosts whose .bashrc does work); a campaign runs thousands of short commands. Each command here
runs in a subshell with its output in files, then the shell prints one line: a random marker,
the exit code, and stdout and stderr in base64 — so no output can be mistaken for the marker.
"""

import base64
import secrets
import shlex
import time

import paramiko

from .errors import HostUnreachableError

SCRATCH = "/run/dataplane-bench/shell"
# Scratch folders whose shell has ended; one without a pid file only once it is a minute old
# (a shell that is starting writes its pid right after making the folder).
SWEEP = (f"for d in {SCRATCH}/DPB-*; do [ -d \"$d\" ] || continue; "
         "p=$(cat \"$d/pid\" 2>/dev/null); "
         "if [ -n \"$p\" ]; then kill -0 \"$p\" 2>/dev/null || rm -rf \"$d\"; "
         "elif [ -n \"$(find \"$d\" -maxdepth 0 -mmin +1)\" ]; then rm -rf \"$d\"; fi; "
         "done")


class ShellTimeout(Exception):
    """The command did not finish in time; the shell is closed (its processes get SIGHUP)."""


class Shell:
    def __init__(self, transport: paramiko.Transport, who: str, sudo: bool) -> None:
        self.who = who
        self.marker = f"DPB-{secrets.token_hex(12)}"
        self.scratch = f"{SCRATCH}/{self.marker}"
        self.channel = transport.open_session()
        self.channel.exec_command("exec sudo -n sh" if sudo else "exec sh")
        self._buffer = b""
        self._count = 0
        self.alive = True
        # The scratch folder holds each command's output files, so it is made outside run().
        # It records the shell's pid: a collector killed with -9 cannot remove its folders,
        # and the next shell on the host removes those whose shell is gone (SSH ending ends
        # the shell).
        scratch = shlex.quote(self.scratch)
        self.channel.sendall(f"umask 077; mkdir -p {scratch} && echo $$ > {scratch}/pid || "
                             f"exit 1; {SWEEP}\n".encode())
        self.run("true", timeout=30)

    def run(self, command: str, timeout: float | None = None) -> tuple[int, str, str]:
        """Run one shell command line; return (exit code, stdout, stderr)."""
        self._count += 1
        out, err = (shlex.quote(f"{self.scratch}/{n}.{self._count}") for n in ("o", "e"))
        line = (f"( {command}\n) >{out} 2>{err} </dev/null; rc=$?; "
                f"printf '%s %s ' {self.marker} $rc; base64 -w0 {out}; printf ' '; "
                f"base64 -w0 {err}; printf '\\n'; rm -f {out} {err}\n")
        try:
            self.channel.sendall(line.encode())
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.alive = False
            raise HostUnreachableError(f"{self.who}: SSH session lost: {exc}") from exc
        reply = self._read_reply(timeout)
        _, rc, out_b64, err_b64 = reply.split(" ")
        return (int(rc), base64.b64decode(out_b64).decode(errors="replace"),
                base64.b64decode(err_b64).decode(errors="replace"))

    def _read_reply(self, timeout: float | None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        prefix = f"{self.marker} ".encode()
        while True:
            start = self._buffer.find(prefix)
            if start >= 0:
                end = self._buffer.find(b"\n", start)
                if end >= 0:
                    reply = self._buffer[start:end].decode()
                    self._buffer = self._buffer[end + 1:]
                    return reply
            if deadline is not None and time.monotonic() > deadline:
                self.close()
                raise ShellTimeout
            wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            self.channel.settimeout(wait)
            try:
                chunk = self.channel.recv(65536)
            except TimeoutError:
                continue
            except (OSError, EOFError, paramiko.SSHException) as exc:
                self.alive = False
                raise HostUnreachableError(f"{self.who}: SSH session lost: {exc}") from exc
            if not chunk:
                self.alive = False
                err = self.channel.recv_stderr(4096).decode(errors="replace").strip()
                raise HostUnreachableError(f"{self.who}: the remote shell ended"
                                           + (f": {err}" if err else ""),
                                           "check that sudo works without a password"
                                           " (sudo -n)" if "sudo" in err else "")
            self._buffer += chunk

    def close(self) -> None:
        self.alive = False
        self.channel.close()
