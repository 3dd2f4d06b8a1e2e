"""What the tunnels between the hosts share (ipip, geneve, wireguard, ipsec): the study's routed
containers (container's veth, /32 routes, proxy ARP) behind a tunnel device on each host, so
container-to-container traffic crosses the wire encapsulated — and encrypted, for WireGuard and
IPsec. Each host's tunnel device has an address of its own too, for host to host through the
tunnel.

The inner MTU is the wire's less the encapsulation (collector/encapsulation.py): set on the
tunnel device and the containers' veths, read back with the path's other MTUs, and verified by a
ping of exactly that size that may not fragment, both ways on every direction. The tunnel
devices' packet counters must grow on both hosts over those pings: traffic that found another
way (a route over the bare wire) would not move them."""

import json
from collections.abc import Sequence

from ..connection import Connection
from ..encapsulation import ENCAPSULATIONS, inner_mtu
from ..endpoint import Endpoint
from ..errors import BenchError
from ..namespace import Namespace
from .base import Script, Side
from .container import container_address, routed_container
from .netns import NamespacePerHost

ICMP_IP_HEADERS = 28
DIRECTIONS = ("container-container", "host-host")


def tunnel_address(i: int) -> str:
    return f"198.19.6.{i + 1}"


class Tunnel(NamespacePerHost):
    """One tunnel device per host, named ``device``, made by ``_device``; ``modules`` are the
    kernel modules it needs and ``tools`` the commands, each with its Debian package."""

    device = ""
    modules: tuple[str, ...] = ()
    tools: tuple[tuple[str, str], ...] = ()
    # Point to point (ipip, wireguard, xfrm): an address with a peer, routes into the device.
    # Else (geneve, an Ethernet tunnel): a /24 on the device, routes via the peer's address.
    point_to_point = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.inner = 0

    def _device(self, side: Side) -> Script:
        """Create the tunnel device on the side's host (it is set up and addressed after)."""
        raise NotImplementedError

    def _configure(self) -> None:
        """What needs both hosts' devices to exist first (peers' keys, say)."""

    def _remove(self, side: Side) -> Script:
        """What the tunnel left on the host beside its device (xfrm states and policies)."""
        return []

    def build(self, mtu: int) -> None:
        self.teardown()
        self.inner = inner_mtu(self.name, mtu)
        for side in self.pair.sides:
            peer = self.pair.peer(side)
            me, you = tunnel_address(side.index), tunnel_address(peer.index)
            address = (["ip", "addr", "add", f"{me}/32", "peer", f"{you}/32"]
                       if self.point_to_point else ["ip", "addr", "add", f"{me}/24"])
            via = [] if self.point_to_point else ["via", you]
            side.apply([
                *self._device(side),
                ["ip", "link", "set", self.device, "mtu", str(self.inner), "up"],
                [*address, "dev", self.device],
                *routed_container(self._ns(side), side.index, self.inner),
                ["ip", "route", "replace", f"{container_address(peer.index)}/32", *via,
                 "dev", self.device],
            ], f"building the {self.name} configuration")
        self._configure()

    def teardown(self) -> None:
        for side in self.pair.sides:
            side.apply_tolerant([
                ["ip", "route", "del", f"{container_address(side.index)}/32"],
                *self._ns(side).delete(), ["ip", "link", "del", self.device],
                *self._remove(side)])

    def _host(self, side: Side) -> Endpoint:
        return Endpoint("host (tunnel)", side.host, tunnel_address(side.index))

    def _container(self, side: Side) -> Endpoint:
        return Endpoint("container", side.host, container_address(side.index),
                        self._ns(side).netns)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = self.pair.sides
        return {"container-container": (self._container(a), self._container(b)),
                "host-host": (self._host(a), self._host(b))}[direction]

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        return [*super().path_interfaces(),
                *((s.host, None, self.device) for s in self.pair.sides)]

    def details(self) -> dict[str, str]:
        return {"encapsulation": ENCAPSULATIONS[self.name].name,
                "inner_mtu": str(self.inner)}

    def verify(self, directions: Sequence[str]) -> None:
        before = [self._counters(side) for side in self.pair.sides]
        size = self.inner - ICMP_IP_HEADERS
        for direction in directions:
            client, server = self.endpoints(direction)
            self._reach(direction, client, server, size)
            self._reach(direction, server, client, size)
        for side, (tx, rx) in zip(self.pair.sides, before, strict=True):
            tx_now, rx_now = self._counters(side)
            if tx_now <= tx or rx_now <= rx:
                raise BenchError(
                    f"{side.remote.host.describe()}: {self.name}: the pings reached the peer "
                    f"but {self.device}'s counters did not move (tx {tx} → {tx_now}, rx {rx} → "
                    f"{rx_now}): the traffic did not cross the tunnel",
                    "look for a route to 198.19.0.0/16 on the hosts that bypasses the tunnel; "
                    "the configuration is torn down and the archive can be resumed")

    def _counters(self, side: Side) -> tuple[int, int]:
        out = side.remote.check(["ip", "-j", "-s", "link", "show", "dev", self.device])
        stats = json.loads(out)[0]["stats64"]
        return int(stats["tx"]["packets"]), int(stats["rx"]["packets"])
