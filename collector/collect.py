"""A campaign from start to finish: connect, prepare the hosts (collector/preparation.py), then
per MTU and configuration build, verify, run, tear down; facts at start and end; MTUs restored;
resumable at every point."""

import contextlib
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from . import adaptive, pinning, plan, preparation
from .archive import Archive
from .campaign import Campaign
from .connection import Connection
from .errors import BenchError
from .host_tuning import Tuner
from .ports import Ports
from .preparation import REMOTE_WORKDIR, campaign_tag, read_mtu, set_mtu
from .records import RunRecord
from .runner import Job, RunContext, execute, kill_leftover_server
from .tools import TOOLS, ToolContext
from .topology import TOPOLOGIES, Pair, Topology, existing


@dataclass
class Progress:
    """What the caller is told as the campaign goes (the CLI draws a rich progress bar)."""

    on_start: Callable[[str, int], None] = lambda cell, done: None
    on_done: Callable[[RunRecord, int], None] = lambda record, done: None
    on_plan: Callable[[int], None] = lambda planned: None  # adaptive rounds add runs


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
            pair = preparation.pair(c, campaign_tag(posixpath.basename(campaign_dir)),
                                    connections)
    if pair is not None:
        if not prepared:
            for cfg in c.configurations:
                _teardown(TOPOLOGIES[cfg](pair))
        if restore_from is not None:  # None: nothing changed yet, or already restored
            preparation.restore(restore_from, pair)
    parents = " ".join(shlex.quote(d) for d in (REMOTE_WORKDIR,
                                                 posixpath.dirname(REMOTE_WORKDIR)))
    for conn in connections:
        with contextlib.suppress(BenchError):
            conn.remote.run(["rm", "-rf", campaign_dir], timeout=30)
            # the folders above it too, once empty (no other campaign's, no lab's state)
            conn.remote.run(["sh", "-c", f"rmdir {parents} 2>/dev/null; true"], timeout=30)


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
    tuner: Tuner
    cores: pinning.Cores | None = None  # cpu_affinity, resolved on the hosts
    ports: Ports = field(default_factory=Ports)

    def run(self, cfg: str, mtu: int, first: list[plan.Run],
            more: Callable[[], list[plan.Run]]) -> None:
        """One build of a topology: its first round of runs, then as many rounds as ``more``
        gives (adaptive repetitions), then the teardown."""
        topo: Topology = TOPOLOGIES[cfg](self.pair)
        try:
            for side in self.pair.sides:
                set_mtu(side, mtu)
            topo.build(mtu)
            topo.verify(self.c.directions[cfg])
            mtus = {f"{conn.name}:{ns.label + ':' if ns else ''}{dev}":
                    read_mtu(conn.remote, ns, dev) for conn, ns, dev in topo.path_interfaces()}
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
        if self.tuner.use(run.cell.tuning):  # a NIC's offloads changed: the path again
            topo.verify(self.c.directions[run.cell.configuration])
        record = execute(ctx, self._job(topo, run))
        self.archive.record(run.run_id, record)
        self.done += 1
        self.progress.on_done(record, self.done)

    def _job(self, topo: Topology, run: plan.Run) -> Job:
        c = self.c
        client, server = topo.endpoints(run.cell.direction)
        inv = TOOLS[run.cell.tool](run.cell, client, server,
                                   ToolContext(c.duration_s, c.warmup_s,
                                               self.ports.at(self.done)))
        pinned = pinning.recorded(self.cores, client, server)
        if pinned is not None:
            inv = pinning.pin(inv, pinned.client, pinned.server)
        return Job(run, inv, client, server, c.duration_s, topo.details(), pinned)


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
        with preparation.connected(c, archive_name) as connections:
            pair: Pair | None = None
            prepared = False
            try:
                pair = preparation.pair(c, campaign_tag(archive_name), connections)
                cores = (pinning.resolve(c.cpu_affinity, connections[:2])
                         if c.cpu_affinity is not None else None)
                archive = into.create(c, runs) if isinstance(into, NewArchive) else into
                existing.same_as_measured(archive.manifest["runs"], pair.existing)
                done = sum(archive.finished(r) for r in archive.manifest["runs"])
                pair = preparation.prepare(c, archive, pair)
                builds = _Builds(c, archive, pair, progress, done,
                                 preparation.tuner(c, archive, pair), cores)
                prepared = True
                rounds = adaptive.Rounds(c, archive, stopping)
                for (mtu, cfg), group in plan.groups(c):
                    # A resumed group: its unfinished first-round runs, else the next round.
                    first = [r for r in runs if (r.cell.mtu, r.cell.configuration) == (mtu, cfg)
                             and not archive.finished(r.run_id)] or rounds.next(group)
                    if first:
                        builds.run(cfg, mtu, first, partial(rounds.next, group))
                # The end facts describe the hosts as the campaign leaves them: restored.
                preparation.restore(archive, pair)
                preparation.end_facts(archive, pair)
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


def restore_hosts(c: Campaign, archive: Archive) -> list[str]:
    """What a campaign stopped before its clean-up (kill -9, a lost collector) left on the
    hosts, given back without measuring: its servers stopped, its configurations torn down,
    every setting the archive recorded from before restored (MTUs, forwarding, the interface
    defaults, the tuning profiles' sysctls and offloads, the modules), its work dirs removed.
    The names of the hosts and VMs whose settings were restored."""
    with preparation.connected(c, archive.root.name) as connections:
        pair = preparation.pair(c, campaign_tag(archive.root.name), connections)
        _clean_up(c, connections, pair, archive, prepared=False)
        return [conn.name for conn in connections if conn.name in archive.manifest["host_state"]]
