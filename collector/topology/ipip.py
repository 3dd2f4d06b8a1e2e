"""ipip: Calico's IPIP mode — the routed containers behind an IP-in-IP tunnel between the hosts
(20 B of outer IPv4 header)."""

from .base import Script, Side
from .netns import PREFIX
from .tunnel import Tunnel


class Ipip(Tunnel):
    name = "ipip"
    ns_kind = "i"
    device = f"{PREFIX}tip"
    modules = ("ipip",)

    def _device(self, side: Side) -> Script:
        peer = self.pair.peer(side)
        return [["ip", "link", "add", self.device, "type", "ipip", "local", side.data_address,
                 "remote", peer.data_address, "dev", side.data_if, "ttl", "64"]]
