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
        for side in self.pair.sides:
            ns = self._ns(side)
            side.apply([
                ["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "link", "set", BRIDGE, "mtu", inner, "up"],
                ["ip", "link", "add", VXLAN, "type", "vxlan", "id", VNI,
                 "local", side.data_address, "remote", self.pair.peer(side).data_address,
                 "dstport", "4789", "dev", side.data_if],
                ["ip", "link", "set", VXLAN, "mtu", inner, "master", BRIDGE, "up"],
                *ns.create(int(inner)),
                ["ip", "link", "set", ns.host_dev, "master", BRIDGE],
                ["ip", "-n", ns.netns, "addr", "add", f"{member_address(side.index)}/24",
                 "dev", ns.inner_dev],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for side in self.pair.sides:
            side.apply_tolerant([*self._ns(side).delete(), ["ip", "link", "del", VXLAN],
                                 ["ip", "link", "del", BRIDGE]])

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("overlay member", s.host, member_address(s.index), self._ns(s).netns)
                for s in self.pair.sides)
        return a, b

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        sides = self.pair.sides
        wire = [(s.host, None, s.data_if) for s in sides]
        return [*wire, *((s.host, None, VXLAN) for s in sides),
                *((s.host, Namespace(self._ns(s).netns), self._ns(s).inner_dev)
                  for s in sides)]
