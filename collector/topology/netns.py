"""A network namespace on a host joined to it by a veth pair: the building block of containers,
the veth control and overlay members. Names carry the host index: in the embedded lab both hosts
share one kernel, so namespace names must not collide."""

from dataclasses import dataclass

from ..connection import Connection
from ..namespace import Namespace
from .base import Script, Side, Topology

PREFIX = "dpb"


@dataclass(frozen=True)
class VethNamespace:
    host_index: int
    kind: str  # one letter: c(ontainer), v(eth control), o(verlay), s (OVS overlay)
    tag: str = "0000"

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.tag}{self.host_index}{self.kind}"

    @property
    def host_dev(self) -> str:
        return f"{PREFIX}{self.host_index}{self.kind}h"

    inner_dev = "eth0"

    def create(self, mtu: int, host_mac: str | None = None) -> Script:
        ns, inner = self.netns, self.inner_dev
        mac = ["address", host_mac] if host_mac else []
        return [
            ["ip", "netns", "add", ns],
            ["ip", "-n", ns, "link", "set", "lo", "up"],
            ["ip", "link", "add", self.host_dev, *mac, "type", "veth", "peer", "name", inner,
             "netns", ns],
            ["ip", "link", "set", self.host_dev, "mtu", str(mtu), "up"],
            ["ip", "-n", ns, "link", "set", inner, "mtu", str(mtu), "up"],
        ]

    def delete(self) -> Script:
        return [["ip", "link", "del", self.host_dev], ["ip", "netns", "del", self.netns]]


def forwarding_on() -> Script:
    return [["sysctl", "-qw", "net.ipv4.ip_forward=1"]]


class NamespacePerHost(Topology):
    """A configuration with one VethNamespace per host, of kind ``ns_kind``."""

    ns_kind = ""

    def _ns(self, side: Side) -> VethNamespace:
        return VethNamespace(side.index, self.ns_kind, self.pair.tag)

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        return [*super().path_interfaces(),
                *((s.host, None, self._ns(s).host_dev) for s in self.pair.sides),
                *((s.host, Namespace(self._ns(s).netns), self._ns(s).inner_dev)
                  for s in self.pair.sides)]
