"""The lab's network: two host namespaces, a management bridge, and the veth wire between them.

Each piece is a Component: `problem()` says what is missing or wrong (None when healthy),
`build()` creates it from scratch, `remove()` deletes it and tolerates it being half there.
"""

import contextlib
import os
import signal
import time
from typing import Protocol

from . import iproute
from .iproute import ip
from .spec import MGMT_IF, WIRE_IF, LabSpec


class Component(Protocol):
    name: str

    def problem(self) -> str | None: ...
    def build(self) -> None: ...
    def remove(self) -> None: ...


class Namespace:
    def __init__(self, spec: LabSpec, letter: str) -> None:
        self.ns = spec.netns(letter)
        self.name = f"namespace {self.ns}"

    def problem(self) -> str | None:
        if self.ns not in iproute.namespaces():
            return "missing"
        lo = iproute.link("lo", self.ns)
        return None if lo and iproute.is_up(lo) else "loopback down"

    def build(self) -> None:
        ip("netns", "add", self.ns)
        ip("link", "set", "lo", "up", netns=self.ns)

    def remove(self) -> None:
        if self.ns not in iproute.namespaces():
            return
        kill_processes_in(self.ns)
        ip("netns", "del", self.ns)


def kill_processes_in(netns: str, grace_s: float = 3.0) -> list[int]:
    """Stop every process living in one of the lab's namespaces (by PID: tool servers, sshd)."""
    pids = iproute.netns_pids(netns)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    return pids


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


class Bridge:
    """The management network's bridge in the root namespace; the collector's side of SSH."""

    def __init__(self, spec: LabSpec) -> None:
        self.dev = spec.bridge
        self.address = str(spec.mgmt_gateway)
        self.name = f"bridge {self.dev}"

    def problem(self) -> str | None:
        rec = iproute.link(self.dev)
        if rec is None:
            return "missing"
        if self.address not in iproute.addresses(rec):
            return f"address {self.address} missing"
        return None if iproute.is_up(rec) else "down"

    def build(self) -> None:
        ip("link", "add", "name", self.dev, "type", "bridge")
        ip("addr", "add", self.address, "dev", self.dev)
        ip("link", "set", self.dev, "up")

    def remove(self) -> None:
        iproute.delete_link(self.dev)


class WireBridge:
    """The machine lab's data network: a bridge joining the two guests' data taps, nothing else
    on it (no address, no firewall: bridged frames skip this machine's iptables)."""

    def __init__(self, spec: LabSpec) -> None:
        self.dev = spec.wire_bridge
        self.name = f"wire bridge {self.dev}"

    def problem(self) -> str | None:
        rec = iproute.link(self.dev)
        if rec is None:
            return "missing"
        return None if iproute.is_up(rec) else "down"

    def build(self) -> None:
        ip("link", "add", "name", self.dev, "type", "bridge", "nf_call_iptables", "0",
           "nf_call_arptables", "0")
        ip("link", "set", self.dev, "up")

    def remove(self) -> None:
        iproute.delete_link(self.dev)


class ManagementLink:
    """A veth from a host namespace (mgmt0) to a port of the management bridge."""

    def __init__(self, spec: LabSpec, letter: str) -> None:
        self.ns = spec.netns(letter)
        self.port = spec.mgmt_port(letter)
        self.bridge = spec.bridge
        self.address = str(spec.mgmt_address(letter))
        self.name = f"management link {self.port} ↔ {self.ns}:{MGMT_IF}"

    def problem(self) -> str | None:
        port = iproute.link(self.port)
        if port is None:
            return "missing"
        if port.get("master") != self.bridge or not iproute.is_up(port):
            return f"not an up port of {self.bridge}"
        inner = iproute.link(MGMT_IF, self.ns)
        if inner is None or not iproute.is_up(inner):
            return f"{MGMT_IF} missing or down in {self.ns}"
        if self.address not in iproute.addresses(inner):
            return f"address {self.address} missing"
        return None

    def build(self) -> None:
        ip("link", "add", self.port, "type", "veth", "peer", "name", MGMT_IF, "netns", self.ns)
        ip("link", "set", self.port, "master", self.bridge, "up")
        ip("addr", "add", self.address, "dev", MGMT_IF, netns=self.ns)
        ip("link", "set", MGMT_IF, "up", netns=self.ns)

    def remove(self) -> None:
        iproute.delete_link(self.port)
        if self.ns in iproute.namespaces():
            iproute.delete_link(MGMT_IF, self.ns)


class Wire:
    """The data network: one veth pair straight from host A's namespace to host B's."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.name = f"wire {spec.netns('a')}:{WIRE_IF} ↔ {spec.netns('b')}:{WIRE_IF}"

    def problem(self) -> str | None:
        for letter in ("a", "b"):
            ns = self.spec.netns(letter)
            rec = iproute.link(WIRE_IF, ns)
            if rec is None:
                return f"{WIRE_IF} missing in {ns}"
            if str(self.spec.wire_address(letter)) not in iproute.addresses(rec):
                return f"{ns}:{WIRE_IF} lacks {self.spec.wire_address(letter)}"
            if not iproute.is_up(rec):
                return f"{ns}:{WIRE_IF} is down"
            if rec.get("mtu") != self.spec.mtu:
                return f"{ns}:{WIRE_IF} MTU is {rec.get('mtu')}, want {self.spec.mtu}"
            want_gw = str(self.spec.wire_address(self.spec.peer(letter)).ip)
            if iproute.default_gateway(ns) != want_gw:
                return f"{ns} has no default route via {want_gw}"
        return None

    def build(self) -> None:
        a, b = self.spec.netns("a"), self.spec.netns("b")
        ip("link", "add", WIRE_IF, "type", "veth", "peer", "name", WIRE_IF, "netns", b, netns=a)
        for letter in ("a", "b"):
            ns = self.spec.netns(letter)
            ip("addr", "add", str(self.spec.wire_address(letter)), "dev", WIRE_IF, netns=ns)
            ip("link", "set", WIRE_IF, "mtu", str(self.spec.mtu), "up", netns=ns)
            # A default route through the wire: proxy ARP for 169.254.1.1 (containers, VMs)
            # only answers when the host routes that address out of another interface.
            gateway = str(self.spec.wire_address(self.spec.peer(letter)).ip)
            ip("route", "replace", "default", "via", gateway, "dev", WIRE_IF, netns=ns)

    def remove(self) -> None:
        for letter in ("a", "b"):
            ns = self.spec.netns(letter)
            if ns in iproute.namespaces():
                iproute.delete_link(WIRE_IF, ns)
