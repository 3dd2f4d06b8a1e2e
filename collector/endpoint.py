"""Where a tool process runs: a host's root namespace, or a namespace on it (container, …)."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A place to run a tool: through host ``host_index``'s SSH, maybe inside ``netns``."""

    role: str          # "host", "container", "veth namespace", "overlay member"
    host_index: int    # 0 = host A, 1 = host B
    host_name: str
    address: str       # the address the tool uses there
    netns: str | None = None

    @property
    def label(self) -> str:
        return f"{self.role} on {self.host_name}"

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else list(argv)

    @property
    def cpu_kernels(self) -> tuple[int, ...]:
        """The hosts whose /proc/stat covers this endpoint's work (a VM would add its guest)."""
        return (self.host_index,)

    def to_json(self) -> dict[str, object]:
        return {"role": self.role, "host": self.host_name, "address": self.address,
                "netns": self.netns}
