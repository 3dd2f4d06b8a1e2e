"""The data network of a lab of more than two hosts: each host's wire0 a veth whose other end
is a port of one bridge (the wire bridge), as hosts on one switch; and, for tests, one host's
link made slower on purpose with a token bucket (`tc tbf`) in both directions."""

import json
from typing import Any

from .. import local
from . import iproute
from .iproute import ip
from .spec import LETTERS, WIRE_IF, LabSpec

PORT_MTU = 9000  # the bridge's ports take any MTU a campaign sets on a host's wire0
TBF_BURST = "256kb"  # above a 64 KiB GSO segment: tbf segments what exceeds its bucket
TBF_LATENCY = "50ms"


class WirePort:
    """Host ``letter``'s data link: wire0 in its namespace, its peer on the wire bridge."""

    def __init__(self, spec: LabSpec, letter: str) -> None:
        self.spec = spec
        self.letter = letter
        self.ns = spec.netns(letter)
        self.port = spec.wire_port(letter)
        self.name = f"data link {self.port} ↔ {self.ns}:{WIRE_IF} on {spec.wire_bridge}"

    def problem(self) -> str | None:
        port = iproute.link(self.port)
        if port is None:
            return "missing"
        if port.get("master") != self.spec.wire_bridge or not iproute.is_up(port):
            return f"not an up port of {self.spec.wire_bridge}"
        if port.get("mtu") != PORT_MTU:
            return f"port MTU {port.get('mtu')}, want {PORT_MTU}"
        inner = iproute.link(WIRE_IF, self.ns)
        if inner is None or not iproute.is_up(inner):
            return f"{WIRE_IF} missing or down in {self.ns}"
        if str(self.spec.wire_address(self.letter)) not in iproute.addresses(inner):
            return f"{self.ns}:{WIRE_IF} lacks {self.spec.wire_address(self.letter)}"
        if inner.get("mtu") != self.spec.mtu:
            return f"{self.ns}:{WIRE_IF} MTU is {inner.get('mtu')}, want {self.spec.mtu}"
        gateway = str(self.spec.wire_address(self.spec.peer(self.letter)).ip)
        if iproute.default_gateway(self.ns) != gateway:
            return f"{self.ns} has no default route via {gateway}"
        return None

    def build(self) -> None:
        ip("link", "add", self.port, "type", "veth", "peer", "name", WIRE_IF, "netns", self.ns)
        ip("link", "set", self.port, "mtu", str(PORT_MTU), "master", self.spec.wire_bridge, "up")
        ip("addr", "add", str(self.spec.wire_address(self.letter)), "dev", WIRE_IF,
           netns=self.ns)
        ip("link", "set", WIRE_IF, "mtu", str(self.spec.mtu), "up", netns=self.ns)
        # Proxy ARP for 169.254.1.1 (containers) answers only for an address routed out of
        # another interface: a default route through the wire, via the next host.
        ip("route", "replace", "default", "via",
           str(self.spec.wire_address(self.spec.peer(self.letter)).ip), "dev", WIRE_IF,
           netns=self.ns)

    def remove(self) -> None:
        iproute.delete_link(self.port)
        if self.ns in iproute.namespaces():
            iproute.delete_link(WIRE_IF, self.ns)


def _tc(*args: str, netns: str | None = None) -> list[str]:
    return ["tc", *(("-n", netns) if netns else ()), *args]


def _root_qdisc(dev: str, netns: str | None) -> dict[str, Any] | None:
    proc = local.run(_tc("-j", "qdisc", "show", "dev", dev, "root", netns=netns), check=False)
    if proc.returncode != 0:
        return None
    found: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    return found[0] if found else None


def _rate_bits(text: str) -> int:
    units = {"kbit": 10**3, "mbit": 10**6, "gbit": 10**9, "bit": 1}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(text.removesuffix(unit)) * factor
    raise ValueError(text)


class SlowLink:
    """The slow host's link limited to ``slow_rate`` both ways: its wire0 (what it sends) and
    its bridge port (what it receives). Without a slow host, any token bucket this lab put on
    its own data links is taken off (the lab's devices only, by name)."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        what = (f"{spec.host_name(spec.slow_host)} at {spec.slow_rate}" if spec.slow_host
                else "none")
        self.name = f"rate-limited data link ({what})"

    def _devices(self, letter: str) -> list[tuple[str, str | None]]:
        return [(WIRE_IF, self.spec.netns(letter)), (self.spec.wire_port(letter), None)]

    def _present(self) -> list[tuple[str, str | None]]:
        namespaces = iproute.namespaces()
        return [(dev, ns) for letter in LETTERS for dev, ns in self._devices(letter)
                if (ns is None or ns in namespaces) and iproute.link(dev, ns) is not None
                and (_root_qdisc(dev, ns) or {}).get("kind") == "tbf"]

    def problem(self) -> str | None:
        wanted = set(self._devices(self.spec.slow_host)) if self.spec.slow_host else set()
        limited = set(self._present())
        if limited - wanted:
            return "a rate limit left on " + ", ".join(sorted(d for d, _ in limited - wanted))
        for dev, ns in sorted(wanted, key=str):
            qdisc = _root_qdisc(dev, ns) or {}
            rate = qdisc.get("options", {}).get("rate")
            if qdisc.get("kind") != "tbf" or rate != _rate_bits(self.spec.slow_rate) // 8:
                return f"{dev} not limited to {self.spec.slow_rate}"
        return None

    def build(self) -> None:
        for dev, ns in self._devices(self.spec.slow_host) if self.spec.slow_host else []:
            local.run(_tc("qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                          self.spec.slow_rate, "burst", TBF_BURST, "latency", TBF_LATENCY,
                          netns=ns))

    def remove(self) -> None:
        for dev, ns in self._present():
            local.run(_tc("qdisc", "del", "dev", dev, "root", netns=ns), check=False)
