"""container: one namespace per host, routed the Calico way — a veth pair and no bridge, a /32
route to the container on its host, proxy ARP on the host end, and the container's default route
via 169.254.1.1 (an address nobody has: proxy ARP answers for it)."""

from ..endpoint import Endpoint
from .netns import NamespacePerHost, forwarding_on

GATEWAY = "169.254.1.1"


def container_address(i: int) -> str:
    return f"198.19.{i + 1}.2"


class Container(NamespacePerHost):
    name = "container"

    ns_kind = "c"

    def build(self, mtu: int) -> None:
        self.teardown()
        for i in (0, 1):
            ns, peer = self._ns(i), 1 - i
            addr = container_address(i)
            self.pair.apply(i, [
                *ns.create(mtu),
                ["sysctl", "-qw", f"net.ipv4.conf.{ns.host_dev}.proxy_arp=1"],
                ["sysctl", "-qw", f"net.ipv4.neigh.{ns.host_dev}.proxy_delay=0"],
                ["ip", "route", "replace", f"{addr}/32", "dev", ns.host_dev, "scope", "link"],
                ["ip", "-n", ns.netns, "addr", "add", f"{addr}/32", "dev", ns.inner_dev],
                ["ip", "-n", ns.netns, "route", "add", GATEWAY, "dev", ns.inner_dev,
                 "scope", "link"],
                ["ip", "-n", ns.netns, "route", "add", "default", "via", GATEWAY,
                 "dev", ns.inner_dev],
                *forwarding_on(),
                ["ip", "route", "replace", f"{container_address(peer)}/32",
                 "via", self.pair.data_address(peer), "dev", self.pair.data_ifs[i]],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for i in (0, 1):
            self.pair.apply_tolerant(i, [
                ["ip", "route", "del", f"{container_address(1 - i)}/32"],
                ["ip", "route", "del", f"{container_address(i)}/32"],
                *self._ns(i).delete()])

    def _container(self, i: int) -> Endpoint:
        return Endpoint("container", i, self.pair.remotes[i].host.name, container_address(i),
                        self._ns(i).netns)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        return {
            "container-container": (self._container(0), self._container(1)),
            "container-host": (self._container(0), self.pair.host(1)),
            "host-container": (self.pair.host(0), self._container(1)),
        }[direction]
