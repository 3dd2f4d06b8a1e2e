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
        for side in self.pair.sides:
            ns, peer = self._ns(side), self.pair.peer(side)
            _, host_addr, ns_addr = subnet(side.index)
            side.apply([
                *ns.create(mtu),
                ["ip", "addr", "add", f"{host_addr}/30", "dev", ns.host_dev],
                ["ip", "-n", ns.netns, "addr", "add", f"{ns_addr}/30", "dev", ns.inner_dev],
                ["ip", "-n", ns.netns, "route", "add", "default", "via", host_addr],
                *forwarding_on(),
                ["ip", "route", "replace", subnet(peer.index)[0], "via",
                 peer.data_address, "dev", side.data_if],
            ], f"building the {self.name} configuration")

    def teardown(self) -> None:
        for side in self.pair.sides:
            side.apply_tolerant([["ip", "route", "del", subnet(self.pair.peer(side).index)[0]],
                                 *self._ns(side).delete()])

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("veth namespace", s.host, subnet(s.index)[2], self._ns(s).netns)
                for s in self.pair.sides)
        return a, b
