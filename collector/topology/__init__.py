"""The configurations the collector builds on the hosts, one module each."""

from .bare import Bare
from .base import Pair, Side, Topology
from .container import Container
from .existing import Existing
from .geneve import Geneve
from .ipip import Ipip
from .ipsec import Ipsec
from .overlay import Overlay
from .overlay_ovs import OverlayOvs
from .tunnel import Tunnel
from .veth_control import VethControl
from .vm import Vm
from .wireguard import Wireguard

TOPOLOGIES: dict[str, type[Topology]] = {
    "bare": Bare,
    "container": Container,
    "vm": Vm,
    "veth-control": VethControl,
    "overlay": Overlay,
    "ipip": Ipip,
    "geneve": Geneve,
    "wireguard": Wireguard,
    "ipsec": Ipsec,
    "existing": Existing,
    "overlay-ovs": OverlayOvs,
}

TUNNELS: dict[str, type[Tunnel]] = {name: t for name, t in TOPOLOGIES.items()
                                     if issubclass(t, Tunnel)}

__all__ = ["TOPOLOGIES", "TUNNELS", "Pair", "Side", "Topology"]
