"""veth-control: the study's control experiment. Host-to-host traffic goes through one extra
veth pair and namespace on each side with plain routing (a /30 per side, no proxy ARP, no
169.254.1.1 trick), isolating the cost of the veth crossing itself."""

from ..endpoint import Endpoint
from .netns import NamespacePerHost, forwarding_on


def subnet(i: int) -> tuple[str, str, str]:
    """(network/30, host-side address, namespace-side address) for host i."""
    base = 4 * i
    return f"198.19.3.{base}/30", f"198.19.3.{base + 1}", f"198.19.3.{base + 2}"


class VethControl(NamespacePerHost):
    name = "veth-control"

    ns_kind = "v"

    def build(self, mtu: int) -> None:
        self.teardown()
        for i in (0, 1):
            ns, peer = self._ns(i), 1 - i
            _, host_addr, ns_addr = subnet(i)
            self.pair.apply(i, [
                *ns.create(mtu),
                ["ip", "addr", "add", f"{host_addr}/30", "dev", ns.host_dev],
                ["ip", "-n", ns.netns, "addr", "add", f"{ns_addr}/30", "dev", ns.inner_dev],
                ["ip", "-n", ns.netns, "route", "add", "default", "via", host_addr],
                *forwarding_on(),
                ["ip", "route", "replace", subnet(peer)[0], "via",
                 self.pair.data_address(peer), "dev", self.pair.data_ifs[i]],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for i in (0, 1):
            self.pair.apply_tolerant(i, [["ip", "route", "del", subnet(1 - i)[0]],
                                         *self._ns(i).delete()])

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("veth namespace", self.pair.hosts[i], subnet(i)[2],
                         self._ns(i).netns) for i in (0, 1))
        return a, b
