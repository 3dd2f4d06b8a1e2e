"""The project's exceptions: each carries what went wrong, what to do, and the exit status."""

from .exit import ExitStatus


class BenchError(Exception):
    """An error meant for the user: a message, an optional hint, an exit status."""

    status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, hint: str = "", status: ExitStatus | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class NotRootError(BenchError):
    status = ExitStatus.NOT_ROOT


class UnsupportedSystemError(BenchError):
    status = ExitStatus.UNSUPPORTED_SYSTEM


class CommandError(BenchError):
    """A local command failed; the message names the command and quotes its stderr."""


class LabBrokenError(BenchError):
    status = ExitStatus.LAB_BROKEN


class HostUnreachableError(BenchError):
    status = ExitStatus.HOST_UNREACHABLE


class HostKeyRejectedError(BenchError):
    status = ExitStatus.HOST_KEY_REJECTED


class UsageError(BenchError):
    """What the user gave is wrong (a campaign or hosts file, an option): exit 2, like a bad
    command line."""

    status = ExitStatus.USAGE
