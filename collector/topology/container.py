"""container: one namespace per host, routed the Calico way — a veth pair and no bridge, a /32
route to the container on its host, proxy ARP on the host end, and the container's default route
via 169.254.1.1 (an address nobody has).

Proxy ARP answers for 169.254.1.1 only when the host has a route to it (its default route, say),
and hosts on a dedicated data network often have none. So, as Calico's CNI plugin does, the
host end gets a fixed MAC address and the container a permanent neighbour entry for the gateway
with that MAC: nothing depends on the host's routes."""

from ..endpoint import Endpoint
from .base import Script, Side
from .netns import NamespacePerHost, VethNamespace, forwarding_on

GATEWAY = "169.254.1.1"
HOST_MAC = "ee:ee:ee:ee:ee:ee"  # Calico's: the same on every host-side veth, never on a wire


def container_address(i: int) -> str:
    return f"198.19.{i + 1}.2"


def routed_container(ns: VethNamespace, index: int, mtu: int) -> Script:
    """Side ``index``'s container in namespace ``ns``, routed from its host (the route to the
    peer's container is the configuration's: over the wire, or into a tunnel)."""
    addr = container_address(index)
    return [
        *ns.create(mtu, host_mac=HOST_MAC),
        ["sysctl", "-qw", f"net.ipv4.conf.{ns.host_dev}.proxy_arp=1"],
        ["sysctl", "-qw", f"net.ipv4.neigh.{ns.host_dev}.proxy_delay=0"],
        ["ip", "route", "replace", f"{addr}/32", "dev", ns.host_dev, "scope", "link"],
        ["ip", "-n", ns.netns, "addr", "add", f"{addr}/32", "dev", ns.inner_dev],
        ["ip", "-n", ns.netns, "route", "add", GATEWAY, "dev", ns.inner_dev, "scope", "link"],
        ["ip", "-n", ns.netns, "neigh", "replace", GATEWAY, "lladdr", HOST_MAC,
         "dev", ns.inner_dev, "nud", "permanent"],
        ["ip", "-n", ns.netns, "route", "add", "default", "via", GATEWAY, "dev", ns.inner_dev],
        *forwarding_on(),
    ]


class Container(NamespacePerHost):
    name = "container"

    ns_kind = "c"

    def build(self, mtu: int) -> None:
        self.teardown()
        for side in self.pair.sides:
            peer = self.pair.peer(side)
            side.apply([
                *routed_container(self._ns(side), side.index, mtu),
                ["ip", "route", "replace", f"{container_address(peer.index)}/32",
                 "via", peer.data_address, "dev", side.data_if],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for side in self.pair.sides:
            side.apply_tolerant([
                ["ip", "route", "del", f"{container_address(self.pair.peer(side).index)}/32"],
                ["ip", "route", "del", f"{container_address(side.index)}/32"],
                *self._ns(side).delete()])

    def _container(self, side: Side) -> Endpoint:
        return Endpoint("container", side.host, container_address(side.index),
                        self._ns(side).netns)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = self.pair.sides
        return {
            "container-container": (self._container(a), self._container(b)),
            "container-host": (self._container(a), b.endpoint),
            "host-container": (a.endpoint, self._container(b)),
        }[direction]
