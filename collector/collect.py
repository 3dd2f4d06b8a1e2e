"""A campaign from start to finish: connect, prepare hosts, then per MTU and configuration build,
verify, run, tear down; facts at start and end; MTUs restored; resumable at every point."""

import contextlib
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from . import adaptive, facts, plan
from .archive import Archive, stamp
from .campaign import Campaign
from .connection import Connection
from .csrc_build import can_build, copy_binaries, ship_and_build
from .errors import BenchError
from .existing import FoundEndpoint
from .hosts import Vm
from .namespace import Namespace
from .remote import Remote, vm_gateway
from .runner import Job, RunContext, execute, kill_leftover_server, require_tools
from .tools import TOOLS, ToolContext
from .topology import TOPOLOGIES, Pair, Topology, existing, overlay_ovs

REQUIRED_TOOLS = ["ip", "ss", "ping", "sysctl", "timeout", "setsid", "sh"]
PORT_BASE = 19300
REMOTE_WORKDIR = "/run/dataplane-bench"  # root-owned, not world-writable like /tmp


@dataclass
class Progress:
    """What the caller is told as the campaign goes (the CLI draws a rich progress bar)."""

    on_start: Callable[[str, int], None] = lambda cell, done: None
    on_done: Callable[[dict[str, Any], int], None] = lambda record, done: None
    on_plan: Callable[[int], None] = lambda planned: None  # adaptive rounds add runs


def _data_interface(remote: Remote) -> str:
    out = remote.check(["ip", "-o", "addr", "show", "to", remote.host.data_address])
    if not out.strip():
        raise BenchError(f"{remote.host.describe()}: no interface has the data address "
                         f"{remote.host.data_address}",
                         "set data_address to an address configured on the host's data NIC")
    return out.split()[1].split("@")[0]


def _read_mtu(remote: Remote, ns: Namespace | None, dev: str) -> int:
    # `ip`, not /sys: nsenter (a namespace named by PID) keeps the host's sysfs.
    argv = ["ip", "-o", "link", "show", "dev", dev]
    out = remote.check(ns.enter(argv) if ns else argv)
    found = re.search(r" mtu (\d+)", out)
    if not found:
        raise BenchError(f"{remote.host.describe()}: no MTU in `{' '.join(argv)}`: {out[:200]}")
    return int(found.group(1))


def _set_mtu(remote: Remote, dev: str, mtu: int) -> None:
    remote.check(["ip", "link", "set", "dev", dev, "mtu", str(mtu)])
    if _read_mtu(remote, None, dev) != mtu:
        raise BenchError(f"{remote.host.describe()}: {dev} did not take MTU {mtu}")


def measured_vms(c: Campaign) -> tuple[Vm, ...]:
    """The VMs on host 0 and host 1, when the campaign measures them."""
    return (c.vm_on(0), c.vm_on(1)) if "vm" in c.configurations else ()


def _workdir(archive_name: str, remote: Remote) -> str:
    return f"{REMOTE_WORKDIR}/{archive_name}/{remote.host.name}"


@contextmanager
def _connected(c: Campaign, archive_name: str) -> Iterator[tuple[Connection, ...]]:
    """Hosts 0 and 1, then their VMs (each through its host when it says jump)."""
    with ExitStack() as stack:
        hosts = [stack.enter_context(Remote(h)) for h in c.hosts]
        guests = [stack.enter_context(Remote(vm.target, gateway=vm_gateway(vm, hosts)))
                  for vm in measured_vms(c)]
        yield (*(Connection(r, "host", _workdir(archive_name, r)) for r in hosts),
               *(Connection(r, "vm", _workdir(archive_name, r)) for r in guests))


def _facts(archive: Archive, pair: Pair, phase: str) -> None:
    for conn, data_if in pair.interfaces:
        text = conn.remote.check(["sh", "-c", facts.script([data_if])], timeout=120)
        archive.write(f"facts/{conn.name}/{phase}-{stamp()}.txt", text)


def _remember_host_state(archive: Archive, pair: Pair) -> None:
    """The hosts' and VMs' original settings, recorded once (before any change) and restored at
    the end: data NIC MTU, ip_forward, and the MTU of each VM's host-side interface."""
    state = archive.manifest["host_state"]
    for i, remote in enumerate(pair.remotes):
        if remote.host.name not in state:
            forward = remote.check(["sysctl", "-n", "net.ipv4.ip_forward"]).strip()
            other = {vm.host_interface: _read_mtu(remote, None, vm.host_interface)
                     for vm in pair.vms[i:i + 1] if vm.host_interface}
            state[remote.host.name] = {"data_if": pair.data_ifs[i],
                                       "mtu": _read_mtu(remote, None, pair.data_ifs[i]),
                                       "ip_forward": forward, "other_mtus": other}
    for guest, data_if in zip(pair.guests, pair.guest_ifs, strict=True):
        if guest.name not in state:
            state[guest.name] = {"data_if": data_if,
                                 "mtu": _read_mtu(guest.remote, None, data_if)}
    archive.save()


def _restore_hosts(archive: Archive, pair: Pair) -> None:
    """Best effort: a host that is gone cannot be restored, and must not hide the real error."""
    for remote in (conn.remote for conn in pair.connections):
        orig = archive.manifest["host_state"].get(remote.host.name)
        if not orig:
            continue
        with contextlib.suppress(BenchError):
            remote.run(["ip", "link", "set", "dev", orig["data_if"], "mtu", str(orig["mtu"])])
            for dev, mtu in orig.get("other_mtus", {}).items():
                remote.run(["ip", "link", "set", "dev", dev, "mtu", str(mtu)])
            if "ip_forward" in orig:
                remote.run(["sysctl", "-qw", f"net.ipv4.ip_forward={orig['ip_forward']}"])


def campaign_tag(archive_name: str) -> str:
    """Four hex digits naming a campaign's namespaces and OVS run dirs (stable across resume)."""
    return hashlib.sha256(archive_name.encode()).hexdigest()[:4]


def _required_tools(c: Campaign) -> list[str]:
    tools = REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"]  # csrc is built there
    if "overlay-ovs" in c.configurations:
        tools += overlay_ovs.REQUIRED_TOOLS
    if "existing" in c.configurations:
        tools += existing.REQUIRED_TOOLS
    return tools


def _build_csrc(archive: Archive, pair: Pair) -> Pair:
    """csrc on every connection: built on each host; on a VM too when it has a compiler, else
    the binaries of its host (same architecture) are copied in."""
    built: list[str] = []
    for i, conn in enumerate(pair.connections):
        host = pair.hosts[i - len(pair.hosts)] if i >= len(pair.hosts) else None
        if host is not None and not can_build(conn.remote):
            bindir, log = copy_binaries(host.remote, built[i - len(pair.hosts)], conn.remote,
                                        conn.workdir)
        else:
            bindir, log = ship_and_build(conn.remote, conn.workdir)
        archive.write(f"build/{conn.name}-{stamp()}.log", log)
        built.append(bindir)
    return pair.with_bindirs(built)


def _pair(c: Campaign, tag: str, connections: tuple[Connection, ...]) -> Pair:
    """The hosts (and VMs) checked, with their data interfaces; OVS leftovers given back."""
    hosts, guests = connections[:2], connections[2:]
    for i, conn in enumerate(hosts):
        require_tools(conn.remote, _required_tools(c))
        if "overlay-ovs" in c.configurations:
            # before the data NIC is looked up
            overlay_ovs.restore_leftovers(conn.remote, tag, i)
    for guest in guests:
        require_tools(guest.remote, REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"])
    return Pair((hosts[0], hosts[1]), (_data_interface(hosts[0].remote),
                                       _data_interface(hosts[1].remote)),
                tag, measured_vms(c), guests, tuple(_data_interface(g.remote) for g in guests),
                _found_endpoints(c, hosts))


def _found_endpoints(c: Campaign, hosts: tuple[Connection, ...]) -> tuple[FoundEndpoint, ...]:
    """The existing configuration's endpoints as their hosts show them (refused, naming host
    and key, when one is not there)."""
    if "existing" not in c.configurations:
        return ()
    found = []
    for i, conn in enumerate(hosts):
        index, named = c.endpoint_on(i)
        found.append(existing.find(conn, named, f"{c.source}: endpoints[{index}]"))
    return tuple(found)


def _prepare(c: Campaign, archive: Archive, pair: Pair) -> Pair:
    """The pair ready to measure: work dirs made, host state recorded, csrc built."""
    for conn in pair.connections:
        conn.remote.check(["mkdir", "-p", conn.workdir])
        kill_leftover_server(conn.remote, conn.workdir)
    _remember_host_state(archive, pair)
    _facts(archive, pair, "start")
    for found in pair.existing:
        archive.write(f"facts/{found.named.host}/existing-endpoint-{stamp()}.txt",
                      found.inspection)
    return _build_csrc(archive, pair) if "csrc" in c.tools else pair


def _clean_up(c: Campaign, connections: tuple[Connection, ...], pair: Pair | None,
              restore_from: Archive | None, prepared: bool) -> None:
    """However the campaign ends: no server of ours left running, the hosts as they were, and
    no work dir of ours left on them (a resume ships and builds what it needs again).

    Stopped before it was prepared (a second interrupt soon after a kill -9, say), it also
    tears every configuration down: what a killed attempt left is not measured over anyway."""
    campaign_dir = posixpath.dirname(connections[0].workdir)
    for conn in connections:
        with contextlib.suppress(BenchError):
            kill_leftover_server(conn.remote, conn.workdir)
    if pair is None:
        with contextlib.suppress(BenchError):
            pair = _pair(c, campaign_tag(posixpath.basename(campaign_dir)), connections)
    if pair is not None:
        if not prepared:
            for cfg in c.configurations:
                _teardown(TOPOLOGIES[cfg](pair))
        if restore_from is not None:  # None: nothing changed yet, or already restored
            _restore_hosts(restore_from, pair)
    for conn in connections:
        with contextlib.suppress(BenchError):
            conn.remote.run(["rm", "-rf", campaign_dir], timeout=30)


def _teardown(topo: Topology) -> None:
    # A lost host cannot be cleaned now; every build starts with a teardown anyway.
    with contextlib.suppress(BenchError):
        topo.teardown()


@dataclass
class _Builds:
    """The campaign's builds, one after the other, into one archive; counts the runs done."""

    c: Campaign
    archive: Archive
    pair: Pair
    progress: Progress
    done: int

    def run(self, cfg: str, mtu: int, first: list[plan.Run],
            more: Callable[[], list[plan.Run]]) -> None:
        """One build of a topology: its first round of runs, then as many rounds as ``more``
        gives (adaptive repetitions), then the teardown."""
        topo: Topology = TOPOLOGIES[cfg](self.pair)
        try:
            for remote, data_if in zip(self.pair.remotes, self.pair.data_ifs, strict=True):
                _set_mtu(remote, data_if, mtu)
            topo.build(mtu)
            topo.verify(self.c.directions[cfg])
            mtus = {f"{conn.name}:{ns.label + ':' if ns else ''}{dev}":
                    _read_mtu(conn.remote, ns, dev) for conn, ns, dev in topo.path_interfaces()}
            ctx = RunContext(self.archive, mtus, float(self.c.duration_s), self.c.run_timeout_s)
            batch = first
            while batch:
                if any(r.run_id not in self.archive.manifest["plan"] for r in batch):
                    self.archive.extend_plan([r.run_id for r in batch])
                    self.progress.on_plan(len(self.archive.manifest["plan"]))
                for run in batch:
                    self._one(topo, ctx, run)
                batch = more()
        finally:
            _teardown(topo)

    def _one(self, topo: Topology, ctx: RunContext, run: plan.Run) -> None:
        self.progress.on_start(run.cell.cell_id, self.done)
        record = execute(ctx, self._job(topo, run))
        self.archive.record(run.run_id, record)
        self.done += 1
        self.progress.on_done(record, self.done)

    def _job(self, topo: Topology, run: plan.Run) -> Job:
        c = self.c
        client, server = topo.endpoints(run.cell.direction)
        port = PORT_BASE + 2 * (self.done % 50)
        inv = TOOLS[run.cell.tool](run.cell, client, server,
                                   ToolContext(c.duration_s, c.warmup_s, port))
        kernels = {*client.cpu_kernels, *server.cpu_kernels}
        record = {"run_id": run.run_id, "cell_id": run.cell.cell_id, **asdict(run.cell),
                  "repetition": run.repetition, "client": client.to_json(),
                  "server": server.to_json(), "duration_s": c.duration_s,
                  "warmup_s": inv.window_offset_s,
                  "cpu_hosts": sorted(k.name for k in kernels), "topology": topo.details()}
        return Job(run.run_id, inv, client, server, record)


def _mark_stopped(archive: Archive, reason: str) -> None:
    """Best effort: on a full disk this write fails too, and must not hide the first error."""
    with contextlib.suppress(BenchError):
        archive.set_state("stopped", reason)


@dataclass(frozen=True)
class NewArchive:
    """An archive to create in ``out_dir`` once the hosts are checked; ``source_text`` is the
    campaign file as the user wrote it."""

    out_dir: Path
    name: str
    source_text: str | None = None

    def create(self, c: Campaign, runs: list[plan.Run]) -> Archive:
        return Archive.create(self.out_dir, self.name, c.to_input(), [r.run_id for r in runs],
                              self.source_text)


def run_campaign(c: Campaign, runs: list[plan.Run], into: Archive | NewArchive,
                 progress: Progress, stopping: adaptive.RuleFactory = adaptive.FIXED
                 ) -> tuple[Archive, dict[str, int]]:
    """Run every unfinished run of the plan (first round ``runs``, then any adaptive rounds,
    which ``stopping`` judges) into an archive; return it and its status counts.

    The hosts are connected and checked (tools, data interfaces) before a new archive is
    created: a campaign refused there leaves nothing behind, on the hosts or in the archive
    folder."""
    archive_name = into.name if isinstance(into, NewArchive) else into.root.name
    archive: Archive | None = None
    restored = False
    try:
        with _connected(c, archive_name) as connections:
            pair: Pair | None = None
            prepared = False
            try:
                pair = _pair(c, campaign_tag(archive_name), connections)
                archive = into.create(c, runs) if isinstance(into, NewArchive) else into
                existing.same_as_measured(archive.manifest["runs"], pair.existing)
                done = sum(archive.finished(r) for r in archive.manifest["runs"])
                builds = _Builds(c, archive, _prepare(c, archive, pair), progress, done)
                prepared = True
                rounds = adaptive.Rounds(c, archive, stopping)
                for (mtu, cfg), group in plan.groups(c):
                    # A resumed group: its unfinished first-round runs, else the next round.
                    first = [r for r in runs if (r.cell.mtu, r.cell.configuration) == (mtu, cfg)
                             and not archive.finished(r.run_id)] or rounds.next(group)
                    if first:
                        builds.run(cfg, mtu, first, partial(rounds.next, group))
                # The end facts describe the hosts as the campaign leaves them: restored.
                _restore_hosts(archive, pair)
                _facts(archive, pair, "end")
                restored = True
            finally:
                _clean_up(c, connections, pair, None if restored else archive, prepared)
        assert archive is not None  # opened, or an exception went past this line
        archive.set_state("complete")
    except KeyboardInterrupt:
        if archive is not None:
            _mark_stopped(archive, "interrupted")
        raise
    except BenchError as exc:
        if archive is not None:
            _mark_stopped(archive, exc.message)
        raise
    counts: dict[str, int] = {}
    for rec in archive.manifest["runs"].values():
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
    return archive, counts
