"""existing: endpoints the user already runs (a pod, a service's namespace), measured where they
are. Nothing is built or torn down there: each endpoint is found before anything is measured
(its namespace, the interface holding its address, that interface's host-side end), checked
again at every build (a restarted container has a new namespace), and pinged both ways."""

import ipaddress
import json
import shlex
from collections.abc import Callable
from typing import Any

from ..connection import Connection
from ..endpoint import Endpoint
from ..errors import BenchError, UsageError
from ..existing import FoundEndpoint, NamedEndpoint
from ..namespace import Namespace
from ..records import ENDPOINT_DETAIL, NAMESPACE_DETAIL
from .base import Side, Topology

REQUIRED_TOOLS = ["nsenter", "readlink"]
ROLE = "existing"
# direction → (the client is the existing endpoint, the server is)
DIRECTIONS = {"existing-existing": (True, True), "existing-host": (True, False),
              "host-existing": (False, True)}


def find(conn: Connection, named: NamedEndpoint, where: str) -> FoundEndpoint:
    """The endpoint as ``conn``'s host shows it; a clear refusal naming the host and the
    campaign key (``where``: "campaign.yaml: endpoints[0]") when it is not there."""
    remote, ns = conn.remote, named.namespace
    host = remote.host.describe()
    log: list[str] = []

    def run(argv: list[str]) -> tuple[bool, str]:
        res = remote.run(argv, timeout=30)
        log.append(f"### {shlex.join(argv)}\n{res.stdout}{res.stderr}")
        return res.ok, (res.stdout if res.ok else (res.stderr or res.stdout)).strip()

    _, own = run(["readlink", "/proc/self/ns/net"])
    ok, ns_id = run(ns.enter(["readlink", "/proc/self/ns/net"]))
    if not ok:
        if named.netns is not None:
            _, listed = run(["ip", "netns", "list"])
            names = ", ".join(line.split()[0] for line in listed.splitlines() if line) or "none"
            raise UsageError(f"{host}: {where}.netns: no network namespace {named.netns!r} "
                             f"there (ip netns list: {names})",
                             "name one `ip netns list` shows on that host, or give pid: of a "
                             "process inside it")
        raise UsageError(f"{host}: {where}.pid: no process {named.pid} there ({ns_id[:200]})",
                         "give the PID of a running process in the endpoint's namespace (a "
                         "container's: docs/campaign.md#existing-endpoints)")
    if ns_id == own:
        raise UsageError(f"{host}: {where}.{named.key}: {named.described} is the host's own "
                         "network namespace",
                         "that path is the bare configuration; name the endpoint's namespace")
    ok, text = run(ns.enter(["ip", "-j", "-d", "addr", "show"]))
    if not ok:
        raise BenchError(f"{host}: {where}: `ip -j addr` failed in {named.described}: "
                         f"{text[:200]}", "the host needs iproute2 with JSON output (-j)")
    links = _json_list(text, f"{host}: ip -j addr in {named.described}")
    link = _holding(links, named.address)
    if link is None:
        have = ", ".join(f"{lk.get('ifname')} {a.get('local')}/{a.get('prefixlen')}"
                         for lk in links for a in lk.get("addr_info", [])) or "no address"
        raise UsageError(f"{host}: {where}.address: {named.address} is not an address in "
                         f"{named.described} (it has: {have})",
                         "give the address the endpoint uses on the path under test")
    for argv in (["ip", "route", "show"], ["ip", "-6", "route", "show"],
                 ["ip", "-d", "link", "show"]):
        run(ns.enter(argv))
    kind = str(link.get("linkinfo", {}).get("info_kind", ""))
    peer, attached = (_host_end(run, link) if kind == "veth" else (None, None))
    return FoundEndpoint(named=named, namespace_id=ns_id, device=str(link["ifname"]),
                         kind=kind, mtu=int(link["mtu"]), host_peer=peer, attached_to=attached,
                         inspection="\n".join(log))


def _json_list(text: str, what: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BenchError(f"{what}: not JSON: {text[:200]}") from exc
    if not isinstance(data, list):
        raise BenchError(f"{what}: expected a list of links, got {type(data).__name__}")
    return [d for d in data if isinstance(d, dict)]


def _holding(links: list[dict[str, Any]], address: str) -> dict[str, Any] | None:
    wanted = ipaddress.ip_address(address)
    for link in links:
        for info in link.get("addr_info", []):
            try:
                if ipaddress.ip_address(str(info.get("local"))) == wanted:
                    return link
            except ValueError:
                continue
    return None


def _host_end(run: Callable[[list[str]], tuple[bool, str]],
              link: dict[str, Any]) -> tuple[str | None, str | None]:
    """A veth's other end in the host's namespace (it names our end back), and what it is
    enslaved to there (a bridge, OVS, ...)."""
    ok, text = run(["ip", "-j", "-d", "link", "show"])
    if not ok or "link_index" not in link:
        return None, None
    host_links = _json_list(text, "ip -j link on the host")
    peer = next((h for h in host_links if h.get("ifindex") == link["link_index"]
                 and h.get("link_index") == link.get("ifindex")
                 and h.get("linkinfo", {}).get("info_kind") == "veth"), None)
    if peer is None:
        return None, None
    master = peer.get("master")
    if not master:
        return str(peer["ifname"]), None
    kind = next((str(h.get("linkinfo", {}).get("info_kind", "")) for h in host_links
                 if h.get("ifname") == master), "")
    return str(peer["ifname"]), f"{master} {kind}".strip()


class Existing(Topology):
    name = "existing"
    verify_both_ways = True
    unreachable_hint = ("check the endpoints' routes and the hosts' firewalls: the collector "
                        "changed nothing there")

    def build(self, mtu: int) -> None:
        """Nothing to build: check each endpoint is still the namespace found at the start."""
        for side in self.pair.sides:
            found = side.found()
            res = side.remote.run(found.named.namespace.enter(["readlink", "/proc/self/ns/net"]),
                                  timeout=30)
            if not res.ok or res.stdout.strip() != found.namespace_id:
                raise BenchError(f"{side.remote.host.describe()}: endpoints: "
                                 f"{found.named.described} is no longer the namespace found "
                                 f"at the start ({found.namespace_id}); was the container "
                                 "restarted?",
                                 "name it again and collect into a new archive: the runs "
                                 "made so far measured the old one")

    @staticmethod
    def _existing(side: Side) -> Endpoint:
        named = side.found().named
        return Endpoint(ROLE, side.host, named.address, netns=named.netns, pid=named.pid)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        client, server = DIRECTIONS[direction]
        a, b = self.pair.sides
        return (self._existing(a) if client else a.endpoint,
                self._existing(b) if server else b.endpoint)

    def details(self) -> dict[str, str]:
        out = {}
        for side in self.pair.sides:
            found = side.found()
            out[f"{ENDPOINT_DETAIL}{side.host.name}"] = found.description
            out[f"{NAMESPACE_DETAIL}{side.host.name}"] = found.namespace_id
        return out

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        paths = super().path_interfaces()
        for side in self.pair.sides:
            found = side.found()
            if found.host_peer:
                paths.append((side.host, None, found.host_peer))
            paths.append((side.host, found.named.namespace, found.device))
        return paths


def same_as_measured(runs: dict[str, Any], found: tuple[FoundEndpoint, ...]) -> None:
    """A resumed campaign measures the namespaces its archive's runs measured, or nothing: a
    container restarted since has a new one (and a name or PID may now mean another)."""
    for endpoint in found:
        key = f"{NAMESPACE_DETAIL}{endpoint.named.host}"
        seen = {str(r["topology"][key]) for r in runs.values()
                if isinstance(r, dict) and isinstance(r.get("topology"), dict)
                and key in r["topology"]}
        if seen and seen != {endpoint.namespace_id}:
            raise BenchError(f"{endpoint.named.host}: endpoints: {endpoint.named.described} is "
                             f"{endpoint.namespace_id} now, but the archive's runs measured "
                             f"{', '.join(sorted(seen))}; was the container restarted?",
                             "collect into a new archive (name the endpoint again): resuming "
                             "would mix two endpoints in one cell")

