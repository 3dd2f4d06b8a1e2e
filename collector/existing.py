"""Endpoints the user already runs (a CNI's pod, a service's namespace): how a campaign names
them, one per host, under `endpoints:`. Measured as the configuration `existing`."""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .errors import UsageError
from .hosts import Host
from .namespace import Namespace

KEYS = ("host", "netns", "pid", "address")
# A container is a namespace the runtime knows by name; the PID it gives is what we measure.
RUNTIME_PID = {
    "docker": "docker inspect -f '{{.State.Pid}}' NAME",
    "podman": "podman inspect -f '{{.State.Pid}}' NAME",
    "crictl": "crictl inspect -o go-template --template '{{.info.pid}}' CONTAINER_ID",
}
NETNS_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")  # a file name in /run/netns
PID_MAX = 4194304  # Linux's pid_max ceiling


@dataclass(frozen=True)
class NamedEndpoint:
    """One host's endpoint as the campaign names it: a namespace (``netns``, as `ip netns`
    lists it, or ``pid``, a process inside it) and the address the tools use there."""

    host: str
    address: str
    netns: str | None = None
    pid: int | None = None

    @property
    def key(self) -> str:
        """The campaign key that names the namespace (for messages)."""
        return "netns" if self.netns is not None else "pid"

    @property
    def namespace(self) -> Namespace:
        return Namespace(self.netns, self.pid)

    @property
    def described(self) -> str:
        """How the campaign names the namespace, for messages."""
        return f"namespace {self.netns}" if self.netns is not None else \
            f"the namespace of PID {self.pid}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"host": self.host}
        data.update({"netns": self.netns} if self.netns is not None else {"pid": self.pid})
        data["address"] = self.address
        return data


def parse(value: Any, source: str, hosts: tuple[Host, ...]) -> tuple[NamedEndpoint, ...]:
    """`endpoints:`, a list with one mapping per campaign host; ``source`` prefixes errors."""
    names = [h.name for h in hosts]
    count = "two" if len(names) == 2 else str(len(names))
    if not isinstance(value, list) or len(value) != len(names):
        raise UsageError(f"{source}: endpoints: expected a list of {count} mappings, one per "
                         f"host ({', '.join(names)})",
                         "see docs/campaign.md#existing-endpoints")
    found = tuple(_one(raw, f"{source}: endpoints[{i}]", names) for i, raw in enumerate(value))
    named = [e.host for e in found]
    for host in named:
        if named.count(host) > 1:
            raise UsageError(f"{source}: endpoints: {'both' if len(names) == 2 else 'several'} "
                             f"name host {host!r}",
                             f"give one endpoint on each host: {', '.join(names)}")
    return found


def _one(raw: Any, where: str, hosts: list[str]) -> NamedEndpoint:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping with host, netns or pid, and address, "
                         f"got {type(raw).__name__}")
    if "container" in raw or "runtime" in raw:
        raise UsageError(
            f"{where}: container: naming a container is not supported; give the PID of a "
            "process in it (pid:)",
            "on the host, the runtime prints it: "
            + "; ".join(f"{rt}: {cmd}" for rt, cmd in RUNTIME_PID.items()))
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"allowed: {', '.join(KEYS)}")
    host = raw.get("host")
    if host not in hosts:
        raise UsageError(f"{where}.host: {host!r} is not one of the campaign's hosts",
                         f"one of: {', '.join(hosts)}")
    netns, pid = raw.get("netns"), raw.get("pid")
    if (netns is None) == (pid is None):
        raise UsageError(f"{where}: give exactly one of netns and pid",
                         "netns: a name `ip netns list` shows on the host; pid: a process "
                         "inside the namespace (a container's PID)")
    if netns is not None and (not isinstance(netns, str) or not NETNS_NAME.fullmatch(netns)
                              or netns in (".", "..")):
        raise UsageError(f"{where}.netns: {netns!r} is not a namespace name",
                         "a name as `ip netns list` shows it: letters, digits, '.', '_', '-'")
    if pid is not None and (not isinstance(pid, int) or isinstance(pid, bool)
                            or not 2 <= pid <= PID_MAX):
        raise UsageError(f"{where}.pid: {pid!r} is not a process ID",
                         f"an integer 2-{PID_MAX} (PID 1's namespace is the host's own)")
    address = raw.get("address")
    if address is None:
        raise UsageError(f"{where}: missing key address",
                         "the endpoint's address on the path under test")
    try:
        ipaddress.ip_address(str(address))
    except ValueError as exc:
        raise UsageError(f"{where}.address: {address!r} is not an IP address",
                         "the endpoint's address on the path under test") from exc
    return NamedEndpoint(host=str(host), address=str(address), netns=netns, pid=pid)



@dataclass(frozen=True)
class FoundEndpoint:
    """A named endpoint as its host showed it, before anything was measured."""

    named: NamedEndpoint
    namespace_id: str        # readlink /proc/PID/ns/net: net:[inode], to notice a restart
    device: str              # the interface that holds the address
    kind: str                # its link kind (veth, vxlan, macvlan, ...; "" for a device)
    mtu: int
    host_peer: str | None    # a veth's other end, when it is in the host's namespace
    attached_to: str | None  # what that end is enslaved to: "cni0 bridge", "ovs-system ..."
    inspection: str          # the commands run and what they printed, for the archive

    @property
    def description(self) -> str:
        """What a reader needs to place the numbers: e.g. "veth → cni0 bridge, MTU 1450"."""
        kind = self.kind or "device"
        if self.kind == "veth" and self.host_peer is not None:
            path = f"veth → {self.attached_to}" if self.attached_to else "veth, routed"
        elif self.kind == "veth":
            path = "veth (its peer is not in the host's namespace)"
        else:
            path = kind
        return f"{path}, MTU {self.mtu}"


def check_families(endpoints: tuple[NamedEndpoint, ...], hosts: tuple[Host, Host],
                   directions: tuple[str, ...], source: str) -> None:
    """Each measured direction's two addresses are of one family (IPv4 or IPv6)."""
    on = {e.host: (i, e) for i, e in enumerate(endpoints)}
    for direction in directions:
        client, server = direction.split("-")
        ends = []
        for side, host in ((client, hosts[0]), (server, hosts[1])):
            if side == "existing":
                index, e = on[host.name]
                ends.append((f"endpoints[{index}].address", e.address))
            else:
                ends.append((f"{host.name}'s data_address", host.data_address))
        (what_a, a), (what_b, b) = ends
        if ipaddress.ip_address(a).version != ipaddress.ip_address(b).version:
            raise UsageError(f"{source}: directions.existing: {direction} would go from {a} "
                             f"({what_a}) to {b} ({what_b}): not one IP family",
                             "give addresses of one family, or leave that direction out "
                             "(directions: {existing: [...]})")
