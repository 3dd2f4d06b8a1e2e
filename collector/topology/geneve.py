"""geneve: the routed containers behind a Geneve tunnel between the hosts (Cilium's and OVN's
encapsulation; 50 B without options, as VXLAN). Geneve carries Ethernet, so each host's device
has a /24 and resolves its peer by ARP through the tunnel."""

from .base import Script, Side
from .netns import PREFIX
from .tunnel import Tunnel

VNI = "4243"
PORT = "6081"  # IANA's for Geneve


class Geneve(Tunnel):
    name = "geneve"
    ns_kind = "g"
    device = f"{PREFIX}tgn"
    modules = ("geneve",)
    point_to_point = False

    def _device(self, side: Side) -> Script:
        peer = self.pair.peer(side)
        return [["ip", "link", "add", self.device, "type", "geneve", "id", VNI,
                 "remote", peer.data_address, "dstport", PORT]]
