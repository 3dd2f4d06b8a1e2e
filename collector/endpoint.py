"""Where a tool process runs: a host's root namespace, a namespace on it (container, …), or a VM
living on it (its own SSH target)."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A place to run a tool: through connection ``remote`` (default: host ``host_index``'s),
    maybe inside ``netns``.

    Connections are numbered as the campaign opens them: 0 and 1 the hosts, then the VMs
    (2 on host 0, 3 on host 1).
    """

    role: str          # "host", "container", "veth namespace", "overlay member", "vm"
    host_index: int    # 0 = host A, 1 = host B: the machine it lives on
    host_name: str
    address: str       # the address the tool uses there
    netns: str | None = None
    remote: int | None = None   # a VM's own connection
    vm_name: str | None = None

    @property
    def runs_on(self) -> int:
        """The connection its commands go through."""
        return self.host_index if self.remote is None else self.remote

    @property
    def label(self) -> str:
        return f"{self.role} on {self.host_name}"

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else list(argv)

    @property
    def cpu_kernels(self) -> tuple[int, ...]:
        """The connections whose /proc/stat covers this endpoint's work: a VM's guest and host."""
        return tuple(dict.fromkeys((self.runs_on, self.host_index)))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"role": self.role, "host": self.host_name,
                                   "address": self.address, "netns": self.netns}
        if self.vm_name:
            data["vm"] = self.vm_name
        return data
