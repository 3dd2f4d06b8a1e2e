"""overlay-ovs: the study's OVS + VXLAN. A private Open vSwitch per host (its own ovsdb-server and
ovs-vswitchd, run directory, database, pid files and control sockets, so a host's own OVS is never
touched), an overlay bridge with a VXLAN port to the other host, one namespace per host on it.

Datapath: the kernel one (`system`) where the host's kernel has the openvswitch module, else the
userspace `netdev` datapath. With `netdev`, OVS resolves tunnel routes itself, so the VXLAN
endpoint address must sit on an OVS bridge: the data NIC becomes a port of an underlay bridge
that takes over its address and routes (restored at teardown, also after a crash, from a file the
build leaves in the run directory). Host-to-host traffic then crosses OVS too, which is why the
configurations are always built in the order bare, …, overlay-ovs. Checksum offload is turned off
on the namespace's veth: the userspace datapath forwards the partial checksums as they are."""

import contextlib
import json
import shlex

from ..connection import Connection
from ..endpoint import Endpoint
from ..errors import BenchError
from ..namespace import Namespace
from ..remote import Remote
from .base import Script, Side
from .netns import PREFIX, NamespacePerHost

VXLAN_OVERHEAD = 50
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
OVERLAY_BR = f"{PREFIX}ov"
UNDERLAY_BR = f"{PREFIX}ul"
VXLAN_PORT = f"{PREFIX}vx"
REQUIRED_TOOLS = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl",
                  "ethtool"]


def run_dir(tag: str, i: int) -> str:
    return f"/run/dataplane-bench/ovs-{tag}-{i}"


def member_address(i: int) -> str:
    return f"198.19.5.{i + 1}"


def _vsctl(r: str, *args: str) -> list[str]:
    return ["ovs-vsctl", f"--db=unix:{r}/db.sock", "--timeout=10", *args]


def _daemons(r: str) -> Script:
    common = ["--detach", "--no-chdir"]
    return [
        ["mkdir", "-p", r],
        ["ovsdb-tool", "create", f"{r}/conf.db", SCHEMA],
        ["ovsdb-server", f"{r}/conf.db", f"--remote=punix:{r}/db.sock",
         f"--pidfile={r}/ovsdb-server.pid", f"--unixctl={r}/ovsdb-server.ctl",
         f"--log-file={r}/ovsdb-server.log", *common],
        _vsctl(r, "--no-wait", "init"),
        ["ovs-vswitchd", f"unix:{r}/db.sock", f"--pidfile={r}/ovs-vswitchd.pid",
         f"--unixctl={r}/ovs-vswitchd.ctl", f"--log-file={r}/ovs-vswitchd.log", *common],
    ]


def restore_leftovers(remote: Remote, tag: str, i: int) -> None:
    """Undo what an earlier build left (a crash, a kill -9): stop our OVS, give the data NIC its
    address and routes back. Does nothing when no build of ours is on the host."""
    r = run_dir(tag, i)
    saved = remote.run(["cat", f"{r}/restore.json"])
    # Only where our run directory exists: a host's own OVS (and its ovs-netdev) is not ours.
    stop = (f"[ -d {r} ] || exit 0; "
            f"ovs-appctl -t {r}/ovs-vswitchd.ctl exit --cleanup 2>/dev/null; "
            f"for p in ovs-vswitchd ovsdb-server; do [ -f {r}/$p.pid ] && "
            f"kill \"$(cat {r}/$p.pid)\" 2>/dev/null; done; "
            f"for d in {OVERLAY_BR} {UNDERLAY_BR} {VXLAN_PORT} ovs-netdev; do "
            f"ip link del $d 2>/dev/null; done; true")
    remote.run(["sh", "-c", stop], timeout=30)
    if saved.ok and saved.stdout.strip():
        state = json.loads(saved.stdout)
        dev = state["data_if"]
        # The peer's MAC was its OVS bridge's: forget it, or traffic waits for ARP to age out.
        script = [["ip", "addr", "replace", state["address"], "dev", dev],
                  ["ip", "link", "set", dev, "promisc", "off", "up"],
                  ["ip", "neigh", "flush", "dev", dev]]
        for route in state["routes"]:
            script.append(["ip", "route", "replace", route["dst"],
                           *(["via", route["gateway"]] if route.get("gateway") else []),
                           "dev", dev])
        line = " ; ".join(shlex.join(a) for a in script)
        res = remote.run(["sh", "-c", line], timeout=30)
        if not res.ok:
            raise BenchError(f"{remote.host.describe()}: could not give {dev} its address "
                             f"back: {res.stderr.strip()}", f"restore it by hand from {r}")
    remote.run(["rm", "-rf", r])


class OverlayOvs(NamespacePerHost):
    name = "overlay-ovs"
    ns_kind = "s"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.datapath = "netdev"

    def _run_dir(self, side: Side) -> str:
        return run_dir(self.pair.tag, side.index)

    def _choose_datapath(self, side: Side) -> str:
        remote = side.remote
        if remote.run(["sh", "-c", "pidof ovs-vswitchd"]).ok:
            raise BenchError(f"{remote.host.describe()}: an Open vSwitch is already running",
                             "overlay-ovs runs a private OVS of its own; leave it out of the "
                             "campaign on hosts that use OVS")
        probe = remote.run(["sh", "-c", "[ -d /sys/module/openvswitch ] || "
                                        "modprobe openvswitch 2>/dev/null"])
        return "system" if probe.ok else "netdev"

    def build(self, mtu: int) -> None:
        self.teardown()
        inner = mtu - VXLAN_OVERHEAD
        for side in self.pair.sides:
            host = side.remote.host
            if host.ssh_host == host.data_address:
                raise BenchError(f"{host.describe()}: overlay-ovs moves the data address onto an "
                                 "OVS bridge; it must not be the SSH address")
        datapaths = {self._choose_datapath(side) for side in self.pair.sides}
        self.datapath = "system" if datapaths == {"system"} else "netdev"
        for side in self.pair.sides:
            self._build_host(side, inner)

    def _underlay(self, side: Side) -> Script:
        """netdev only: the data NIC into an OVS bridge that takes over its address and routes."""
        remote, dev = side.remote, side.data_if
        addrs = json.loads(remote.check(["ip", "-j", "addr", "show", "dev", dev]))
        prefix = next(a["prefixlen"] for a in addrs[0]["addr_info"]
                      if a.get("local") == remote.host.data_address)
        routes = [r for r in json.loads(remote.check(["ip", "-j", "route", "show", "dev", dev]))
                  if r.get("protocol") != "kernel"]
        address = f"{remote.host.data_address}/{prefix}"
        state = json.dumps({"data_if": dev, "address": address, "routes": routes})
        r = self._run_dir(side)
        remote.check(["sh", "-c", f"mkdir -p {r} && printf '%s' "
                      f"{shlex.quote(state)} > {r}/restore.json"])
        return [
            _vsctl(r, "add-br", UNDERLAY_BR, "--", "set", "bridge", UNDERLAY_BR,
                   "datapath_type=netdev"),
            _vsctl(r, "add-port", UNDERLAY_BR, dev),
            ["ip", "addr", "del", address, "dev", dev],
            ["ip", "addr", "add", address, "dev", UNDERLAY_BR],
            ["ip", "link", "set", UNDERLAY_BR, "up"],
            *(["ip", "route", "replace", route["dst"],
               *(["via", route["gateway"]] if route.get("gateway") else []), "dev", UNDERLAY_BR]
              for route in routes),
        ]

    def _build_host(self, side: Side, inner: int) -> None:
        ns, r = self._ns(side), self._run_dir(side)
        me, peer = side.data_address, self.pair.peer(side).data_address
        side.apply(_daemons(r), "starting a private Open vSwitch")
        underlay = self._underlay(side) if self.datapath == "netdev" else []
        side.apply([
            *underlay,
            _vsctl(r, "add-br", OVERLAY_BR, "--", "set", "bridge", OVERLAY_BR,
                   f"datapath_type={self.datapath}"),
            _vsctl(r, "add-port", OVERLAY_BR, VXLAN_PORT, "--", "set", "interface",
                   VXLAN_PORT, "type=vxlan", f"options:remote_ip={peer}",
                   f"options:local_ip={me}", "options:key=4242"),
            *ns.create(inner),
            _vsctl(r, "add-port", OVERLAY_BR, ns.host_dev),
            ["ip", "-n", ns.netns, "addr", "add", f"{member_address(side.index)}/24",
             "dev", ns.inner_dev],
            ["ip", "netns", "exec", ns.netns, "ethtool", "-K", ns.inner_dev, "tx", "off"],
            ["ethtool", "-K", ns.host_dev, "tx", "off"],
        ], f"building the {self.name} configuration ({self.datapath} datapath)")

    def teardown(self) -> None:
        for side in self.pair.sides:
            side.apply_tolerant(self._ns(side).delete())
            with contextlib.suppress(BenchError):  # a lost host: see Side.apply_tolerant
                restore_leftovers(side.remote, self.pair.tag, side.index)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("OVS overlay member", s.host, member_address(s.index),
                         self._ns(s).netns) for s in self.pair.sides)
        return a, b

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        underlay = ([(s.host, None, UNDERLAY_BR) for s in self.pair.sides]
                    if self.datapath == "netdev" else [])
        return [*super().path_interfaces(), *underlay]

    def details(self) -> dict[str, str]:
        return {"ovs_datapath": self.datapath}
