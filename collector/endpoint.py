"""Where a tool process runs: a host's root namespace, a namespace on it (container, …), or a VM
living on it (its own SSH connection)."""

from collections.abc import Sequence
from dataclasses import dataclass

from .connection import Connection
from .namespace import Namespace


@dataclass(frozen=True)
class Endpoint:
    """A place to run a tool: on ``host`` (the machine it lives on), maybe inside a network
    namespace (``netns``, a name `ip netns` knows, or that of process ``pid``), or through a
    VM's own connection ``guest``."""

    role: str          # "host", "container", "veth namespace", "overlay member", "vm", ...
    host: Connection
    address: str       # the address the tool uses there
    netns: str | None = None
    guest: Connection | None = None
    vm_name: str | None = None
    pid: int | None = None

    @property
    def runs_on(self) -> Connection:
        """The connection its commands go through."""
        return self.host if self.guest is None else self.guest

    @property
    def host_name(self) -> str:
        return self.host.name

    @property
    def label(self) -> str:
        return f"{self.role} on {self.host_name}"

    @property
    def namespace(self) -> Namespace | None:
        if self.pid is None and not self.netns:
            return None
        return Namespace(self.netns, self.pid)

    def wrap(self, argv: Sequence[str]) -> list[str]:
        ns = self.namespace
        return ns.enter(argv) if ns else list(argv)

    @property
    def cpu_kernels(self) -> tuple[Connection, ...]:
        """The connections whose /proc/stat covers this endpoint's work: a VM's guest and host."""
        return tuple(dict.fromkeys((self.runs_on, self.host)))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"role": self.role, "host": self.host_name,
                                   "address": self.address, "netns": self.netns}
        if self.vm_name:
            data["vm"] = self.vm_name
        if self.pid is not None:
            data["pid"] = self.pid
        return data
