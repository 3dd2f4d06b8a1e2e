"""The configurations the collector builds on the hosts, one module each."""

from .bare import Bare
from .base import Pair, Side, Topology
from .container import Container
from .existing import Existing
from .overlay import Overlay
from .overlay_ovs import OverlayOvs
from .veth_control import VethControl
from .vm import Vm

TOPOLOGIES: dict[str, type[Topology]] = {
    "bare": Bare,
    "container": Container,
    "vm": Vm,
    "veth-control": VethControl,
    "overlay": Overlay,
    "existing": Existing,
    "overlay-ovs": OverlayOvs,
}

__all__ = ["TOPOLOGIES", "Pair", "Side", "Topology"]
