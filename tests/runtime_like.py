"""Endpoints made on the lab's hosts the way container runtimes make them, for the existing
configuration's tests: a namespace per host holding a process, joined to its host by a veth —
routed on host A (a gateway address on the host end, as a routed CNI does), on a bridge on host
B (as the CNI bridge plugin does) — addressed from 198.19.20.0/24 and 198.19.21.0/24.

Host A's namespace has a name (`ip netns`); host B's has none, only the process inside it (as a
container's), which the collector reaches by PID. Everything is removed afterwards by name and
PID, also when the test fails."""

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from collector.lab import LabSpec
from collector.namespace import Namespace

HOST_END = "web0h"         # the veth end on each host (inside the lab host's namespace)
BRIDGE = "br-web"          # host B's bridge
SUBNETS = ("198.19.20", "198.19.21")


@dataclass(frozen=True)
class RuntimeLike:
    netns_a: str   # host A's endpoint: a named namespace
    pid_b: int     # host B's endpoint: a process in a namespace of its own

    address_a = f"{SUBNETS[0]}.2"
    address_b = f"{SUBNETS[1]}.2"

    def snapshot(self) -> dict[str, Any]:
        """What the endpoints are: their addresses, links and routes, and the process."""
        out: dict[str, Any] = {}
        for side, ns in (("a", Namespace(self.netns_a)), ("b", Namespace(pid=self.pid_b))):
            for what, argv in (("links", ["ip", "-d", "link"]), ("addrs", ["ip", "-br", "addr"]),
                               ("routes", ["ip", "route"])):
                out[f"{side}-{what}"] = _run(ns.enter(argv))
        out["b-alive"] = _comm(self.pid_b)
        return out


def _run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _comm(pid: int) -> str:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as f:
        return f.read().strip()
    return ""


def _ipv4_only(host: str, inner: Namespace, host_end: str) -> list[list[str]]:
    """No IPv6 on a new veth's two ends (``host_end`` in lab host namespace ``host``, eth0 in
    ``inner``): the kernel would add link-local addresses a moment later, and the before/after
    snapshots would differ by them, not by anything measured."""
    return [Namespace(host).enter(["sysctl", "-qw", f"net.ipv6.conf.{host_end}.disable_ipv6=1"]),
            inner.enter(["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"])]


@contextlib.contextmanager
def runtime_like_endpoints(spec: LabSpec) -> Iterator[RuntimeLike]:
    ns_a, ns_b = spec.netns("a"), spec.netns("b")
    name = f"{spec.lab_id}-web"
    wire = {letter: str(spec.wire_address(letter).ip) for letter in "ab"}
    forward = {ns: _run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"])
               .strip() for ns in (ns_a, ns_b)}
    proc = subprocess.Popen(["ip", "netns", "exec", ns_b, "unshare", "--net", "--",
                             "sleep", "3600"])
    try:
        # ip netns exec and unshare exec what follows: the PID is sleep's, once it runs.
        for _ in range(100):
            if _comm(proc.pid) == "sleep":
                break
            time.sleep(0.05)
        steps = [
            ["ip", "netns", "add", name],
            ["ip", "-n", name, "link", "set", "lo", "up"],
            ["ip", "-n", ns_a, "link", "add", HOST_END, "type", "veth", "peer", "name", "eth0",
             "netns", name],
            *_ipv4_only(ns_a, Namespace(name), HOST_END),
            ["ip", "-n", ns_a, "addr", "add", f"{SUBNETS[0]}.1/24", "dev", HOST_END],
            ["ip", "-n", ns_a, "link", "set", HOST_END, "up"],
            ["ip", "-n", name, "addr", "add", f"{SUBNETS[0]}.2/24", "dev", "eth0"],
            ["ip", "-n", name, "link", "set", "eth0", "up"],
            ["ip", "-n", name, "route", "add", "default", "via", f"{SUBNETS[0]}.1"],
            ["ip", "-n", ns_a, "route", "add", f"{SUBNETS[1]}.0/24", "via", wire["b"]],
            ["ip", "netns", "exec", ns_a, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["ip", "-n", ns_b, "link", "add", BRIDGE, "type", "bridge"],
            ["ip", "netns", "exec", ns_b, "sysctl", "-qw",
             f"net.ipv6.conf.{BRIDGE}.disable_ipv6=1"],
            ["ip", "-n", ns_b, "addr", "add", f"{SUBNETS[1]}.1/24", "dev", BRIDGE],
            ["ip", "-n", ns_b, "link", "set", BRIDGE, "up"],
            ["ip", "-n", ns_b, "link", "add", HOST_END, "type", "veth", "peer", "name", "eth0",
             "netns", str(proc.pid)],
            *_ipv4_only(ns_b, Namespace(pid=proc.pid), HOST_END),
            ["ip", "-n", ns_b, "link", "set", HOST_END, "master", BRIDGE, "up"],
            Namespace(pid=proc.pid).enter([
                "sh", "-c", f"ip link set lo up && ip addr add {SUBNETS[1]}.2/24 dev eth0 && "
                f"ip link set eth0 up && ip route add default via {SUBNETS[1]}.1"]),
            ["ip", "-n", ns_b, "route", "add", f"{SUBNETS[0]}.0/24", "via", wire["a"]],
            ["ip", "netns", "exec", ns_b, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        ]
        for argv in steps:
            subprocess.run(argv, check=True, capture_output=True)
        # The bridge reports UP once its port forwards: settled before anyone snapshots it.
        for _ in range(100):
            if '"operstate":"UP"' in _run(["ip", "-n", ns_b, "-j", "link", "show", BRIDGE]):
                break
            time.sleep(0.05)
        yield RuntimeLike(name, proc.pid)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        for argv in (["ip", "netns", "del", name],
                     ["ip", "-n", ns_a, "link", "del", HOST_END],
                     ["ip", "-n", ns_b, "link", "del", HOST_END],
                     ["ip", "-n", ns_b, "link", "del", BRIDGE],
                     ["ip", "-n", ns_a, "route", "del", f"{SUBNETS[1]}.0/24"],
                     ["ip", "-n", ns_b, "route", "del", f"{SUBNETS[0]}.0/24"],
                     *(["ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.ip_forward={v}"]
                       for ns, v in forward.items())):
            subprocess.run(argv, capture_output=True, check=False)

