"""A campaign from start to finish: connect, prepare hosts, then per MTU and configuration build,
verify, run, tear down; facts at start and end; MTUs restored; resumable at every point."""

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from . import adaptive, facts, plan
from .archive import Archive, stamp
from .campaign import Campaign
from .csrc_build import can_build, copy_binaries, ship_and_build
from .errors import BenchError
from .hosts import Vm
from .remote import Remote, vm_gateway
from .runner import RunContext, execute, kill_leftover_server, require_tools
from .tools import TOOLS, ToolContext
from .topology import TOPOLOGIES, Pair, Topology, overlay_ovs

REQUIRED_TOOLS = ["ip", "ss", "ping", "sysctl", "timeout", "setsid", "sh"]
PORT_BASE = 19300
REMOTE_WORKDIR = "/run/dataplane-bench"  # root-owned, not world-writable like /tmp


@dataclass
class Progress:
    """What the caller is told as the campaign goes (the CLI draws a rich progress bar)."""

    on_start: Callable[[str, int], None] = lambda cell, done: None
    on_done: Callable[[dict[str, Any], int], None] = lambda record, done: None
    on_plan: Callable[[int], None] = lambda planned: None  # adaptive rounds add runs


def dry_run(c: Campaign) -> dict[str, Any]:
    """The plan's figures; with adaptive repetitions ``runs`` and ``estimated_s`` are the
    first round's (``min`` per cell), and ``runs_max``/``estimated_max_s`` the ceiling."""
    runs = plan.runs(c)
    out = {"campaign": c.name, "seed": c.seed, "hosts": [h.describe() for h in c.hosts],
           "cells": len(plan.cells(c)), "runs": len(runs),
           "measuring_s": sum(plan.measuring_seconds(c, r) for r in runs),
           "estimated_s": plan.estimate_seconds(c, runs),
           "builds": len({(r.cell.mtu, r.cell.configuration) for r in runs})}
    reps = c.repetitions
    if reps.adaptive:
        out.update(repetitions=f"{reps.minimum}-{reps.maximum} per cell, until the 95 % CI "
                               f"is within ±{reps.target_ci_pct:g} % of the mean",
                   runs_max=plan.max_runs(c), estimated_max_s=plan.estimate_max_seconds(c))
    return out


def _data_interface(remote: Remote) -> str:
    out = remote.check(["ip", "-o", "addr", "show", "to", remote.host.data_address])
    if not out.strip():
        raise BenchError(f"{remote.host.describe()}: no interface has the data address "
                         f"{remote.host.data_address}",
                         "set data_address to an address configured on the host's data NIC")
    return out.split()[1].split("@")[0]


def _read_mtu(remote: Remote, netns: str | None, dev: str) -> int:
    argv = ["cat", f"/sys/class/net/{dev}/mtu"]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return int(remote.check(argv).strip())


def _set_mtu(remote: Remote, dev: str, mtu: int) -> None:
    remote.check(["ip", "link", "set", "dev", dev, "mtu", str(mtu)])
    if _read_mtu(remote, None, dev) != mtu:
        raise BenchError(f"{remote.host.describe()}: {dev} did not take MTU {mtu}")


def measured_vms(c: Campaign) -> tuple[Vm, ...]:
    """The VMs on host 0 and host 1, when the campaign measures them."""
    return (c.vm_on(0), c.vm_on(1)) if "vm" in c.configurations else ()


@contextmanager
def _connected(c: Campaign) -> Iterator[tuple[Remote, ...]]:
    """Hosts 0 and 1, then their VMs (each through its host when it says jump)."""
    with ExitStack() as stack:
        hosts = [stack.enter_context(Remote(h)) for h in c.hosts]
        guests = [stack.enter_context(Remote(vm.target, gateway=vm_gateway(vm, hosts)))
                  for vm in measured_vms(c)]
        yield (*hosts, *guests)


def _facts(archive: Archive, pair: Pair, phase: str) -> None:
    interfaces = [*pair.data_ifs, *pair.guest_ifs]
    for i, remote in enumerate(pair.connections):
        text = remote.check(["sh", "-c", facts.script([interfaces[i]])], timeout=120)
        archive.write(f"facts/{remote.host.name}/{phase}-{stamp()}.txt", text)


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
    for i, guest in enumerate(pair.guests):
        if guest.host.name not in state:
            state[guest.host.name] = {"data_if": pair.guest_ifs[i],
                                      "mtu": _read_mtu(guest, None, pair.guest_ifs[i])}
    archive.save()


def _restore_hosts(archive: Archive, pair: Pair) -> None:
    """Best effort: a host that is gone cannot be restored, and must not hide the real error."""
    for remote in pair.connections:
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


@dataclass(frozen=True)
class Prepared:
    """The hosts (and VMs), ready: connected, checked, their state recorded, csrc built."""

    pair: Pair
    workdirs: tuple[str, ...]   # per connection, as numbered in Pair.connections
    bindirs: tuple[str, ...]


def _required_tools(c: Campaign) -> list[str]:
    tools = REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"]  # csrc is built there
    if "overlay-ovs" in c.configurations:
        tools += overlay_ovs.REQUIRED_TOOLS
    return tools


def _build_csrc(archive: Archive, pair: Pair, workdirs: tuple[str, ...]) -> tuple[str, ...]:
    """csrc on every connection: built on each host; on a VM too when it has a compiler, else
    the binaries of its host (same architecture) are copied in."""
    built: list[str] = []
    for i, remote in enumerate(pair.connections):
        host_bindir = built[i - len(pair.remotes)] if i >= len(pair.remotes) else None
        if host_bindir is not None and not can_build(remote):
            host = pair.remotes[i - len(pair.remotes)]
            bindir, log = copy_binaries(host, host_bindir, remote, workdirs[i])
        else:
            bindir, log = ship_and_build(remote, workdirs[i])
        archive.write(f"build/{remote.host.name}-{stamp()}.log", log)
        built.append(bindir)
    return tuple(built)


def _pair(c: Campaign, tag: str, connections: tuple[Remote, ...]) -> Pair:
    """The hosts (and VMs) checked, with their data interfaces; OVS leftovers given back."""
    hosts, guests = connections[:2], connections[2:]
    for i, remote in enumerate(hosts):
        require_tools(remote, _required_tools(c))
        if "overlay-ovs" in c.configurations:
            overlay_ovs.restore_leftovers(remote, tag, i)  # before the data NIC is looked up
    for guest in guests:
        require_tools(guest, REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"])
    return Pair((hosts[0], hosts[1]), (_data_interface(hosts[0]), _data_interface(hosts[1])),
                tag, measured_vms(c), guests, tuple(_data_interface(g) for g in guests))


def _workdirs(archive_name: str, connections: tuple[Remote, ...]) -> tuple[str, ...]:
    return tuple(f"{REMOTE_WORKDIR}/{archive_name}/{r.host.name}" for r in connections)


def _prepare(c: Campaign, archive: Archive, pair: Pair, workdirs: tuple[str, ...]) -> Prepared:
    for remote, wd in zip(pair.connections, workdirs, strict=True):
        remote.check(["mkdir", "-p", wd])
        kill_leftover_server(remote, wd)
    _remember_host_state(archive, pair)
    _facts(archive, pair, "start")
    bindirs = _build_csrc(archive, pair, workdirs) if "csrc" in c.tools else ("",) * len(workdirs)
    return Prepared(pair, workdirs, bindirs)


def _clean_up(c: Campaign, restore_from: Archive | None, connections: tuple[Remote, ...],
              archive_name: str, pair: Pair | None, prepared: bool) -> None:
    """However the campaign ends: no server of ours left running, the hosts as they were, and
    no work dir of ours left on them (a resume ships and builds what it needs again).

    Stopped before it was prepared (a second interrupt soon after a kill -9, say), it also
    tears every configuration down: what a killed attempt left is not measured over anyway."""
    for remote, wd in zip(connections, _workdirs(archive_name, connections), strict=True):
        with contextlib.suppress(BenchError):
            kill_leftover_server(remote, wd)
    if pair is None:
        with contextlib.suppress(BenchError):
            pair = _pair(c, campaign_tag(archive_name), connections)
    if pair is not None:
        if not prepared:
            for cfg in c.configurations:
                _teardown(TOPOLOGIES[cfg](pair))
        if restore_from is not None:  # None: nothing changed yet, or already restored
            _restore_hosts(restore_from, pair)
    for remote in connections:
        with contextlib.suppress(BenchError):
            remote.run(["rm", "-rf", f"{REMOTE_WORKDIR}/{archive_name}"], timeout=30)


def _teardown(topo: Topology) -> None:
    # A lost host cannot be cleaned now; every build starts with a teardown anyway.
    with contextlib.suppress(BenchError):
        topo.teardown()


def _run_build(c: Campaign, archive: Archive, hosts: Prepared, mtu: int, cfg: str,
               first: list[plan.Run], more: Callable[[], list[plan.Run]], progress: Progress,
               done: int) -> int:
    """One build of a topology: its first round of runs, then as many rounds as ``more``
    gives (adaptive repetitions), then the teardown."""
    pair = hosts.pair
    remotes = pair.connections
    topo: Topology = TOPOLOGIES[cfg](pair)
    try:
        for i, remote in enumerate(pair.remotes):
            _set_mtu(remote, pair.data_ifs[i], mtu)
        topo.build(mtu)
        topo.verify(c.directions[cfg])
        mtus = {f"{remotes[i].host.name}:{ns + ':' if ns else ''}{dev}":
                _read_mtu(remotes[i], ns, dev) for i, ns, dev in topo.path_interfaces()}
        ctx = RunContext(archive, remotes, hosts.workdirs, mtus)
        batch = first
        while batch:
            if any(r.run_id not in archive.manifest["plan"] for r in batch):
                archive.extend_plan([r.run_id for r in batch])
                progress.on_plan(len(archive.manifest["plan"]))
            done = _run_batch(c, archive, hosts, topo, ctx, batch, progress, done)
            batch = more()
    finally:
        _teardown(topo)
    return done


def _run_batch(c: Campaign, archive: Archive, hosts: Prepared, topo: Topology,
               ctx: RunContext, batch: list[plan.Run], progress: Progress, done: int) -> int:
    remotes = hosts.pair.connections
    for run in batch:
        progress.on_start(run.cell.cell_id, done)
        client, server = topo.endpoints(run.cell.direction)
        port = PORT_BASE + 2 * (done % 50)
        inv = TOOLS[run.cell.tool](run.cell, client, server,
                                   ToolContext(c.duration_s, c.warmup_s, port, hosts.bindirs))
        kernels = set(client.cpu_kernels) | set(server.cpu_kernels)
        base = {"run_id": run.run_id, "cell_id": run.cell.cell_id, **asdict(run.cell),
                "repetition": run.repetition, "client": client.to_json(),
                "server": server.to_json(), "duration_s": c.duration_s,
                "warmup_s": inv.window_offset_s,
                "cpu_hosts": sorted(remotes[k].host.name for k in kernels),
                "topology": topo.details()}
        record = execute(ctx, run.run_id, inv, client, server,
                         float(c.duration_s), c.run_timeout_s, base)
        archive.record(run.run_id, record)
        done += 1
        progress.on_done(record, done)
    return done


def _mark_stopped(archive: Archive, reason: str) -> None:
    """Best effort: on a full disk this write fails too, and must not hide the first error."""
    with contextlib.suppress(BenchError):
        archive.set_state("stopped", reason)


def run_campaign(c: Campaign, archive_name: str, open_archive: Callable[[], Archive],
                 progress: Progress) -> tuple[Archive, dict[str, int]]:
    """Run every unfinished run of the plan into the archive; return it and its status counts.

    The hosts are connected and checked (tools, data interfaces) before ``open_archive`` is
    called: a campaign refused there leaves nothing behind, on the hosts or in the archive
    folder."""
    runs = plan.runs(c)
    archive: Archive | None = None
    restored = False
    try:
        with _connected(c) as remotes:
            pair: Pair | None = None
            hosts: Prepared | None = None
            try:
                pair = _pair(c, campaign_tag(archive_name), remotes)
                archive = open_archive()
                done = sum(archive.finished(r) for r in archive.manifest["runs"])
                hosts = _prepare(c, archive, pair, _workdirs(archive_name, remotes))
                rounds = adaptive.Rounds(c, archive)
                for (mtu, cfg), group in plan.groups(c):
                    # A resumed group: its unfinished first-round runs, else the next round.
                    first = [r for r in runs if (r.cell.mtu, r.cell.configuration) == (mtu, cfg)
                             and not archive.finished(r.run_id)] or rounds.next(group)
                    if first:
                        done = _run_build(c, archive, hosts, mtu, cfg, first,
                                          partial(rounds.next, group), progress, done)
                # The end facts describe the hosts as the campaign leaves them: restored.
                _restore_hosts(archive, pair)
                _facts(archive, pair, "end")
                restored = True
            finally:
                _clean_up(c, None if restored else archive, remotes, archive_name, pair,
                          hosts is not None)
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


def campaign_input(c: Campaign) -> dict[str, Any]:
    """The campaign as a mapping that `campaign.parse` takes back (for resume)."""
    data = c.to_json()
    data.pop("source", None)
    normalised: dict[str, Any] = json.loads(json.dumps(data))  # tuples → lists, as stored
    return normalised
