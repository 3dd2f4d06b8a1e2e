"""overlay: one container per host in a VXLAN overlay — a Linux vxlan device (unicast to the
other host) and a bridge per host, the container's veth on that bridge. The overlay's MTU is the
wire's less the 50 B of VXLAN encapsulation."""

from ..connection import Connection
from ..endpoint import Endpoint
from ..namespace import Namespace
from .netns import PREFIX, NamespacePerHost

VXLAN_OVERHEAD = 50
VNI = "4242"
BRIDGE = f"{PREFIX}xbr"
VXLAN = f"{PREFIX}xvx"


def member_address(i: int) -> str:
    return f"198.19.4.{i + 1}"


class Overlay(NamespacePerHost):
    name = "overlay"

    ns_kind = "o"

    def build(self, mtu: int) -> None:
        self.teardown()
        inner = str(mtu - VXLAN_OVERHEAD)
        for i in (0, 1):
            ns = self._ns(i)
            self.pair.apply(i, [
                ["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "link", "set", BRIDGE, "mtu", inner, "up"],
                ["ip", "link", "add", VXLAN, "type", "vxlan", "id", VNI,
                 "local", self.pair.data_address(i), "remote", self.pair.data_address(1 - i),
                 "dstport", "4789", "dev", self.pair.data_ifs[i]],
                ["ip", "link", "set", VXLAN, "mtu", inner, "master", BRIDGE, "up"],
                *ns.create(int(inner)),
                ["ip", "link", "set", ns.host_dev, "master", BRIDGE],
                ["ip", "-n", ns.netns, "addr", "add", f"{member_address(i)}/24",
                 "dev", ns.inner_dev],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for i in (0, 1):
            self.pair.apply_tolerant(i, [*self._ns(i).delete(), ["ip", "link", "del", VXLAN],
                                         ["ip", "link", "del", BRIDGE]])

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("overlay member", self.pair.hosts[i],
                         member_address(i), self._ns(i).netns) for i in (0, 1))
        return a, b

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        wire = [(self.pair.hosts[i], None, self.pair.data_ifs[i]) for i in (0, 1)]
        return [*wire, *((self.pair.hosts[i], None, VXLAN) for i in (0, 1)),
                *((self.pair.hosts[i], Namespace(self._ns(i).netns), self._ns(i).inner_dev)
                  for i in (0, 1))]
