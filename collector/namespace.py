"""A network namespace on a host, and how a command gets into it from the host's root one."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Namespace:
    """A network namespace on a host: one `ip netns` names, or that of process ``pid``."""

    name: str | None = None
    pid: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"pid{self.pid}"

    def enter(self, argv: Sequence[str]) -> list[str]:
        """argv run inside it, from the host's root namespace. nsenter keeps the host's /sys
        (ip netns exec mounts the namespace's): read link facts with `ip`, not from sysfs."""
        if self.pid is not None:
            return ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *argv]
        return ["ip", "netns", "exec", str(self.name), *argv]
