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
from .base import Script
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

    def _run_dir(self, i: int) -> str:
        return run_dir(self.pair.tag, i)

    def _choose_datapath(self, i: int) -> str:
        remote = self.pair.remotes[i]
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
        for i in (0, 1):
            host = self.pair.remotes[i].host
            if host.ssh_host == host.data_address:
                raise BenchError(f"{host.describe()}: overlay-ovs moves the data address onto an "
                                 "OVS bridge; it must not be the SSH address")
        datapaths = {self._choose_datapath(i) for i in (0, 1)}
        self.datapath = "system" if datapaths == {"system"} else "netdev"
        for i in (0, 1):
            self._build_host(i, inner)

    def _underlay(self, i: int) -> Script:
        """netdev only: the data NIC into an OVS bridge that takes over its address and routes."""
        remote, dev = self.pair.remotes[i], self.pair.data_ifs[i]
        addrs = json.loads(remote.check(["ip", "-j", "addr", "show", "dev", dev]))
        prefix = next(a["prefixlen"] for a in addrs[0]["addr_info"]
                      if a.get("local") == remote.host.data_address)
        routes = [r for r in json.loads(remote.check(["ip", "-j", "route", "show", "dev", dev]))
                  if r.get("protocol") != "kernel"]
        address = f"{remote.host.data_address}/{prefix}"
        state = json.dumps({"data_if": dev, "address": address, "routes": routes})
        r = self._run_dir(i)
        remote.check(["sh", "-c", f"mkdir -p {r} && printf '%s' "
                      f"{shlex.quote(state)} > {r}/restore.json"])
        return [
            _vsctl(self._run_dir(i), "add-br", UNDERLAY_BR, "--", "set", "bridge", UNDERLAY_BR,
                   "datapath_type=netdev"),
            _vsctl(self._run_dir(i), "add-port", UNDERLAY_BR, dev),
            ["ip", "addr", "del", address, "dev", dev],
            ["ip", "addr", "add", address, "dev", UNDERLAY_BR],
            ["ip", "link", "set", UNDERLAY_BR, "up"],
            *(["ip", "route", "replace", r["dst"],
               *(["via", r["gateway"]] if r.get("gateway") else []), "dev", UNDERLAY_BR]
              for r in routes),
        ]

    def _build_host(self, i: int, inner: int) -> None:
        ns = self._ns(i)
        me, peer = self.pair.data_address(i), self.pair.data_address(1 - i)
        self.pair.apply(i, _daemons(self._run_dir(i)), "starting a private Open vSwitch")
        underlay = self._underlay(i) if self.datapath == "netdev" else []
        self.pair.apply(i, [
            *underlay,
            _vsctl(self._run_dir(i), "add-br", OVERLAY_BR, "--", "set", "bridge", OVERLAY_BR,
                   f"datapath_type={self.datapath}"),
            _vsctl(self._run_dir(i), "add-port", OVERLAY_BR, VXLAN_PORT, "--", "set", "interface",
                   VXLAN_PORT, "type=vxlan", f"options:remote_ip={peer}",
                   f"options:local_ip={me}", "options:key=4242"),
            *ns.create(inner),
            _vsctl(self._run_dir(i), "add-port", OVERLAY_BR, ns.host_dev),
            ["ip", "-n", ns.netns, "addr", "add", f"{member_address(i)}/24",
             "dev", ns.inner_dev],
            ["ip", "netns", "exec", ns.netns, "ethtool", "-K", ns.inner_dev, "tx", "off"],
            ["ethtool", "-K", ns.host_dev, "tx", "off"],
        ], f"building the {self.name} configuration ({self.datapath} datapath)")

    def teardown(self) -> None:
        for i in (0, 1):
            self.pair.apply_tolerant(i, self._ns(i).delete())
            with contextlib.suppress(BenchError):  # a lost host: see Pair.apply_tolerant
                restore_leftovers(self.pair.remotes[i], self.pair.tag, i)

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        a, b = (Endpoint("OVS overlay member", self.pair.hosts[i],
                         member_address(i), self._ns(i).netns) for i in (0, 1))
        return a, b

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        underlay = ([(self.pair.hosts[i], None, UNDERLAY_BR) for i in (0, 1)]
                    if self.datapath == "netdev" else [])
        return [*super().path_interfaces(), *underlay]

    def details(self) -> dict[str, str]:
        return {"ovs_datapath": self.datapath}
