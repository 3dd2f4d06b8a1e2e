"""A campaign from start to finish: connect, prepare the hosts (collector/preparation.py), then
per MTU and configuration build, verify, run, tear down; facts at start and end; MTUs restored;
resumable at every point."""

import contextlib
import posixpath
import shlex
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from . import adaptive, fleet, node_pairs, pinning, plan, preparation
from .archive import Archive
from .campaign import Campaign
from .connection import Connection
from .errors import BenchError
from .fleet import REMOTE_WORKDIR, Fleet, fan_out
from .host_tuning import Tuner
from .lockstep import Alone, Lockstep
from .ports import Ports
from .preparation import read_mtu, set_mtu
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


def _clean_up(c: Campaign, hosts: Fleet, pairs: list[Pair] | None, tags: list[str],
              restore_from: Archive | None, prepared: bool) -> None:
    """However the campaign ends: no server of ours left running, the hosts as they were, and
    no work dir of ours left on them (a resume ships and builds what it needs again).

    Stopped before it was prepared (a second interrupt soon after a kill -9, say), it also
    tears every pair's configurations down: what a killed attempt left is not measured over
    anyway."""
    connections = hosts.connections
    campaign_dir = posixpath.dirname(connections[0].workdir)
    fan_out(lambda conn: _stop_servers(conn), list(connections))
    if pairs is None:
        with contextlib.suppress(BenchError):
            pairs = [preparation.pair(pc, tag, hosts.of(pc))
                     for pc, tag in zip(_pair_campaigns(c), tags, strict=True)]
    if pairs is not None:
        if not prepared:
            for pair in pairs:
                for cfg in c.configurations:
                    _teardown(TOPOLOGIES[cfg](pair))
        if restore_from is not None:  # None: nothing changed yet, or already restored
            preparation.restore(restore_from, connections)
    parents = " ".join(shlex.quote(d) for d in (REMOTE_WORKDIR,
                                                 posixpath.dirname(REMOTE_WORKDIR)))

    def remove_workdir(conn: Connection) -> None:
        with contextlib.suppress(BenchError):
            conn.remote.run(["rm", "-rf", campaign_dir], timeout=30)
            # the folders above it too, once empty (no other campaign's, no lab's state)
            conn.remote.run(["sh", "-c", f"rmdir {parents} 2>/dev/null; true"], timeout=30)

    fan_out(remove_workdir, list(connections))


def _stop_servers(conn: Connection) -> None:
    with contextlib.suppress(BenchError):
        kill_leftover_server(conn.remote, conn.workdir)


def _pair_campaigns(c: Campaign) -> list[Campaign]:
    return [c.for_pair(p) for p in c.pairs]


def _teardown(topo: Topology) -> None:
    # A lost host cannot be cleaned now; every build starts with a teardown anyway.
    with contextlib.suppress(BenchError):
        topo.teardown()


class _Counter:
    """Runs done in the whole campaign (pairs measured at once count into one)."""

    def __init__(self, done: int) -> None:
        self.done = done
        self._lock = threading.Lock()

    def add(self) -> int:
        with self._lock:
            self.done += 1
            return self.done


@dataclass
class _Builds:
    """One pair's builds, one after the other, into the campaign's archive."""

    c: Campaign  # the pair's (Campaign.for_pair)
    archive: Archive
    pair: Pair
    progress: Progress
    counter: _Counter
    tuner: Tuner
    cores: pinning.Cores | None = None  # cpu_affinity, resolved on the hosts
    step: Lockstep | Alone = field(default_factory=Alone)  # pairs measured at once
    stop: threading.Event = field(default_factory=threading.Event)  # Ctrl-C in another thread
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
            ctx = RunContext(self.archive, mtus, float(self.c.duration_s), self.c.run_timeout_s,
                             self.step.wait)
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
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.progress.on_start(run.cell.cell_id, self.counter.done)
        if self.tuner.use(run.cell.tuning):  # a NIC's offloads changed: the path again
            topo.verify(self.c.directions[run.cell.configuration])
        self.step.wait()  # every pair measured at once starts this run together
        record = execute(ctx, self._job(topo, run))
        self.archive.record(run.run_id, record)
        self.progress.on_done(record, self.counter.add())

    def _job(self, topo: Topology, run: plan.Run) -> Job:
        c = self.c
        client, server = topo.endpoints(run.cell.direction)
        inv = TOOLS[run.cell.tool](run.cell, client, server,
                                   ToolContext(c.duration_s, c.warmup_s,
                                               self.ports.next()))
        pinned = pinning.recorded(self.cores, client, server)
        if pinned is not None:
            inv = pinning.pin(inv, pinned.client, pinned.server)
        return Job(run, inv, client, server, c.duration_s, topo.details(), pinned)

    def measure(self, runs: list[plan.Run], stopping: adaptive.RuleFactory) -> None:
        """Every unfinished run of the pair's plan (first round ``runs``, then any adaptive
        rounds), build by build; the pair's hosts given back at the end."""
        rounds = adaptive.Rounds(self.c, self.archive, stopping)
        try:
            for (mtu, cfg), group in plan.groups(self.c):
                # A resumed group: its unfinished first-round runs, else the next round.
                first = [r for r in runs if (r.cell.mtu, r.cell.configuration) == (mtu, cfg)
                         and not self.archive.finished(r.run_id)] or rounds.next(group)
                if first:
                    self.run(cfg, mtu, first, partial(rounds.next, group))
        finally:
            self.step.leave()
            preparation.restore(self.archive, self.pair.connections)


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
    folder. With several node pairs, a pair that fails (a host lost) is said at the end, after
    the others were measured; `collect --resume` measures what it did not."""
    archive_name = into.name if isinstance(into, NewArchive) else into.root.name
    archive: Archive | None = None
    restored = False
    failures: list[str] = []
    try:
        with fleet.connected(c, archive_name) as hosts:
            pcs, tags = _pair_campaigns(c), preparation.pair_tags(c, archive_name)
            pairs: list[Pair] | None = None
            prepared = False
            try:
                pairs = fan_out(lambda i: preparation.pair(pcs[i], tags[i], hosts.of(pcs[i])),
                                list(range(len(pcs))))
                cores = [pinning.resolve(c.cpu_affinity, hosts.of(pc)[:2])
                         if c.cpu_affinity is not None else None for pc in pcs]
                archive = into.create(c, runs) if isinstance(into, NewArchive) else into
                for pair in pairs:
                    existing.same_as_measured(archive.manifest["runs"], pair.existing)
                pairs = preparation.prepare(c, archive, pairs)
                prepared = True
                failures = _Pairs(c, archive, pcs, pairs, cores, progress).measure(runs,
                                                                                  stopping)
                # The end facts describe the hosts as the campaign leaves them: restored.
                preparation.restore(archive, hosts.connections)
                preparation.end_facts(archive, pairs)
                restored = True
            finally:
                _clean_up(c, hosts, pairs, tags, None if restored else archive, prepared)
        assert archive is not None  # opened, or an exception went past this line
        if failures:
            raise BenchError(f"{len(failures)} of {len(c.pairs)} node pairs were not measured "
                             "to the end: " + "; ".join(failures),
                             f"the other pairs are in {archive.root}; `invoke collect --resume "
                             f"{archive.root}` measures what is missing once the hosts answer")
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


@dataclass
class _Pairs:
    """Every pair's runs: one pair after the other, or (concurrent) rounds of disjoint pairs
    at once, in step. A pair that fails leaves the rest going; a host that no longer answers
    after it failed is left out of the pairs still to come."""

    c: Campaign
    archive: Archive
    pcs: list[Campaign]
    pairs: list[Pair]
    cores: list[pinning.Cores | None]
    progress: Progress

    def measure(self, runs: list[plan.Run], stopping: adaptive.RuleFactory) -> list[str]:
        per_pair = list(plan.by_pair(self.c, runs).values())
        counter = _Counter(sum(self.archive.finished(r) for r in self.archive.manifest["runs"]))
        stop = threading.Event()
        failures: list[str] = []
        lost: set[str] = set()
        indices = {p: i for i, p in enumerate(self.c.pairs)}
        groups = ([[indices[p] for p in group] for group in node_pairs.rounds(self.c.pairs)]
                  if self.c.concurrent else [[i] for i in range(len(self.pcs))])
        for group in groups:
            skipped = [i for i in group if lost & set(self.c.pairs[i].hosts)]
            failures += [f"{self.c.pairs[i].label}: not measured, "
                         f"{', '.join(sorted(lost & set(self.c.pairs[i].hosts)))} did not "
                         "answer" for i in skipped]
            group = [i for i in group if i not in skipped]
            if not group:
                continue
            step: Lockstep | Alone = Lockstep(len(group)) if len(group) > 1 else Alone()

            def one(i: int, step: Lockstep | Alone = step) -> BenchError | None:
                builds = _Builds(self.pcs[i], self.archive, self.pairs[i], self.progress,
                                 counter, preparation.tuner(self.pcs[i], self.archive,
                                                            self.pairs[i]),
                                 self.cores[i], step, stop, Ports(taken=counter.done))
                try:
                    builds.measure(per_pair[i], stopping)
                except BenchError as exc:
                    if not self.c.several_pairs:
                        raise  # a two-host campaign stops at its error, as it always did
                    return exc
                return None

            for i, problem in zip(group, _in_threads(one, group, stop), strict=True):
                if problem is not None:
                    failures.append(f"{self.c.pairs[i].label}: {problem.message}")
                    lost |= _unanswering(self.pairs[i])
        return failures


def _in_threads(work: Callable[[int], BenchError | None], group: list[int],
                stop: threading.Event) -> list[BenchError | None]:
    """``work`` on each pair of the group: here when alone (Ctrl-C as ever), else a thread
    each; Ctrl-C then stops every pair after its current run."""
    if len(group) == 1:
        return [work(group[0])]
    with ThreadPoolExecutor(max_workers=len(group)) as pool:
        futures = [pool.submit(work, i) for i in group]
        try:
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            stop.set()
            raise


def _unanswering(pair: Pair) -> set[str]:
    """The pair's hosts that no longer run a command."""
    def silent(conn: Connection) -> bool:
        try:
            return not conn.remote.run(["true"], timeout=15).ok
        except BenchError:
            return True

    return {conn.name for conn in pair.connections[:2] if silent(conn)}


def restore_hosts(c: Campaign, archive: Archive) -> list[str]:
    """What a campaign stopped before its clean-up (kill -9, a lost collector) left on the
    hosts, given back without measuring: its servers stopped, its configurations torn down,
    every setting the archive recorded from before restored (MTUs, forwarding, the interface
    defaults, the tuning profiles' sysctls and offloads, the modules), its work dirs removed.
    The names of the hosts and VMs whose settings were restored."""
    with fleet.connected(c, archive.root.name) as hosts:
        pcs, tags = _pair_campaigns(c), preparation.pair_tags(c, archive.root.name)
        pairs = [preparation.pair(pc, tag, hosts.of(pc)) for pc, tag in zip(pcs, tags,
                                                                           strict=True)]
        _clean_up(c, hosts, pairs, tags, archive, prepared=False)
        return [conn.name for conn in hosts.connections
                if conn.name in archive.manifest["host_state"]]
