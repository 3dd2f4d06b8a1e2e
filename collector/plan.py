"""Expand a campaign into cells and runs, order them, and estimate how long they take."""

import random
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from . import node_pairs
from .campaign import TOOL_TESTS, Campaign
from .encapsulation import inner_mtu
from .tuning import UNTUNED

LONG_ESTIMATE_S = 3600.0  # a plan of several pairs longer than this is warned about
SETUP_ESTIMATE_S = 0.4  # server start, readiness, CPU snapshots, fetching output: per run
IP_UDP_HEADERS = 28
MIN_DATAGRAM = 8  # dpb-udp's sequence number


@dataclass(frozen=True)
class Cell:
    configuration: str
    direction: str
    tool: str
    test: str
    message_size: int
    socket_buffer: str
    mtu: int
    streams: int = 1  # concurrent TCP flows (stream tests)
    tuning: str = UNTUNED  # the tuning profile in force
    pair: str = ""  # the node pair's id (sender~receiver); "" in a two-host campaign

    @property
    def cell_id(self) -> str:
        # One flow, the study's case, the hosts untuned and a two-host campaign keep the ids
        # campaigns had before those axes existed.
        flows = f".{self.streams}flows" if self.streams > 1 else ""
        tuned = f".tuning-{self.tuning}" if self.tuning != UNTUNED else ""
        paired = f".pair-{self.pair}" if self.pair else ""
        return (f"{self.configuration}.{self.direction}.{self.tool}.{self.test}."
                f"{self.message_size}B.sb-{self.socket_buffer}.mtu{self.mtu}{flows}{tuned}"
                f"{paired}")


@dataclass(frozen=True)
class Run:
    cell: Cell
    repetition: int

    @property
    def run_id(self) -> str:
        return f"{self.cell.cell_id}.r{self.repetition:02d}"


def cells(c: Campaign) -> list[Cell]:
    if c.pair is None and c.several_pairs:  # every pair's matrix, one pair after the other
        return [cell for p in c.pairs for cell in cells(c.for_pair(p))]
    out = []
    for mtu in c.mtus:
        for cfg in c.configurations:
            for profile in (p.name for p in c.tuning):
                out += _cells_of(c, mtu, cfg, profile)
    return out


def _cells_of(c: Campaign, mtu: int, cfg: str, profile: str) -> list[Cell]:
    out = []
    for direction in c.directions[cfg]:
        for tool in c.tools:
            for test in (t for t in c.tests if t in TOOL_TESTS[tool]):
                # Latency is a 1-byte ping-pong with autotuned buffers, whatever the sizes;
                # a connection carries one request of request_size.
                sizes = ((1,) if test in ("rr", "rr-load") else (c.request_size,)
                         if test == "crr" else
                         datagram_sizes(c, mtu) if test == "udp" else c.message_sizes)
                modes = c.socket_buffer if test == "stream" else ("auto",)
                out += [Cell(cfg, direction, tool, test, size, mode, mtu, flows, profile,
                             c.pair.pair_id if c.pair else "")
                        for flows in flow_counts(c, tool, test)
                        for size in sizes for mode in modes]
    return out


def largest_datagram(c: Campaign, mtu: int) -> int:
    """The largest UDP payload that crosses every configuration's path unfragmented."""
    return min(inner_mtu(cfg, mtu) for cfg in c.configurations) - IP_UDP_HEADERS


def datagram_sizes(c: Campaign, mtu: int) -> tuple[int, ...]:
    """The message sizes as UDP datagrams: the same on every path, so that they compare."""
    top = largest_datagram(c, mtu)
    return tuple(dict.fromkeys(min(max(s, MIN_DATAGRAM), top) for s in c.message_sizes))


def flow_counts(c: Campaign, tool: str, test: str) -> tuple[int, ...]:
    """The streams axis of a tool's test: stream tests run each of the campaign's counts but
    qperf, which has no parallel streams, runs one; rr-load measures latency under each count
    of bulk flows; the other tests are one flow."""
    if test == "rr-load":  # the bulk flows under which latency is measured
        return c.streams
    if test != "stream":
        return (1,)
    if tool == "qperf":
        return (1,) if 1 in c.streams else ()
    return c.streams


def notes(c: Campaign) -> list[str]:
    """What the streams axis, the path MTU, existing endpoints, pinning and tuning change, for
    the plan to say."""
    said = []
    many = [n for n in c.streams if n > 1]
    if many and "qperf" in c.tools and "stream" in c.tests:
        said.append(f"qperf stream at {', '.join(map(str, many))} flows: qperf has no parallel "
                    "streams (it runs at 1 flow only)")
    if "udp" in c.tests:
        for mtu in c.mtus:
            changed = [f"{s:,} → {d:,} B" for s in c.message_sizes
                       if (d := min(max(s, MIN_DATAGRAM), largest_datagram(c, mtu))) != s]
            if changed:
                said.append(f"udp datagrams at MTU {mtu}: {', '.join(changed)} (no "
                            "fragmentation on any configuration's path)")
    if "existing" in c.configurations:
        said.append("existing: the MTU axis sets the hosts' data NICs only; the endpoints' "
                    "own interfaces keep their MTUs (recorded in every run, not set)"
                    + (", and their path's overhead is not known in advance: datagrams may "
                       "fragment there" if "udp" in c.tests else ""))
    if c.cpu_affinity is not None:
        said.append(f"tools pinned with taskset: {c.cpu_affinity.describe()}; the CPUs are "
                    "checked on each host before anything changes (VM guests unpinned)")
    if len(c.tuning) > 1:
        said.append("tuning profiles, each a cell dimension, in blocks that change order every "
                    "repetition: " + "; ".join(f"{p.name} ({p.describe()})" for p in c.tuning))
    return said


def groups(c: Campaign) -> list[tuple[tuple[int, str], list[Cell]]]:
    """The cells by (MTU, configuration): each group is one build of a topology."""
    return [(key, list(grouped)) for key, grouped in
            groupby(cells(c), key=lambda cell: (cell.mtu, cell.configuration))]


def runs(c: Campaign) -> list[Run]:
    """Every run of the first round (all of them with fixed repetitions; ``minimum`` per cell
    with adaptive ones), by group and inside a group interleaved across cells: shuffled with
    the campaign's seed, or in order. With several node pairs, pair after pair, each in the
    same order (pairs measured at the same time make the same run at the same time)."""
    if c.pair is None and c.several_pairs:
        return [run for p in c.pairs for run in runs(c.for_pair(p))]
    rng = random.Random(c.seed)  # noqa: S311 -- a recorded, reproducible order, not a secret
    ordered: list[Run] = []
    for _, group in groups(c):
        if len(c.tuning) > 1:
            for rep in range(1, c.repetitions.minimum + 1):
                ordered += in_profile_blocks(c, [Run(cell, rep) for cell in group], rng)
            continue
        group_runs = [Run(cell, rep) for rep in range(1, c.repetitions.minimum + 1)
                      for cell in group]
        if c.order == "shuffled":
            rng.shuffle(group_runs)
        ordered += group_runs
    return ordered


def in_profile_blocks(c: Campaign, batch: list[Run], rng: random.Random) -> list[Run]:
    """One round of a group's runs with several tuning profiles: a block per profile (every
    change of profile sets values on every host, and a NIC may reset its link on an offload
    change), the blocks' order drawn anew each round so that drift over the campaign falls on
    every profile alike, and the runs inside a block shuffled as usual."""
    names = [p.name for p in c.tuning]
    if c.order == "shuffled":
        rng.shuffle(names)
    out = []
    for name in names:
        block = [r for r in batch if r.cell.tuning == name]
        if c.order == "shuffled":
            rng.shuffle(block)
        out += block
    return out


def next_round(c: Campaign, group: list[Cell], made: dict[str, int],
               settled: set[str]) -> list[Run]:
    """Adaptive repetitions: one more run for each cell of the group that has not reached its
    target and has made fewer than ``maximum`` runs, interleaved like the first round (the
    order drawn from the seed, the group and the runs made, so a resume draws it again)."""
    more = [Run(cell, made.get(cell.cell_id, 0) + 1) for cell in group
            if cell.cell_id not in settled
            and made.get(cell.cell_id, 0) < c.repetitions.maximum]
    if not more:
        return more
    key = f"{c.seed}:{more[0].cell.mtu}:{more[0].cell.configuration}:{sum(made.values())}"
    rng = random.Random(key)  # noqa: S311 -- a reproducible order
    if len(c.tuning) > 1:
        return in_profile_blocks(c, more, rng)
    if c.order == "shuffled":
        rng.shuffle(more)
    return more


def by_pair(c: Campaign, plan: list[Run]) -> dict[str, list[Run]]:
    """The plan's runs of each node pair, in the campaign's pair order."""
    out: dict[str, list[Run]] = {p.pair_id if c.several_pairs else "": [] for p in c.pairs}
    for run in plan:
        out.setdefault(run.cell.pair, []).append(run)
    return out


def max_runs(c: Campaign) -> int:
    """Runs if no adaptive cell reaches its target before ``maximum``."""
    return len(cells(c)) * c.repetitions.maximum


def measuring_seconds(c: Campaign, run: Run) -> float:
    """Time the tool measures, warm-up included (qperf has no warm-up of its own)."""
    return c.duration_s + (0 if run.cell.tool == "qperf" else c.warmup_s)


def estimate_seconds(c: Campaign, plan: list[Run]) -> float:
    """Sequential pairs add up; concurrent ones take their slowest pair per round."""
    def serial(some: list[Run]) -> float:
        return sum(measuring_seconds(c, r) + SETUP_ESTIMATE_S for r in some)

    if not c.concurrent:
        return serial(plan)
    per_pair = by_pair(c, plan)
    return sum(max(serial(per_pair[p.pair_id]) for p in group)
               for group in node_pairs.rounds(c.pairs))


def estimate_max_seconds(c: Campaign) -> float:
    """The estimate when every cell makes ``maximum`` runs."""
    return estimate_seconds(c, [Run(cell, 1) for cell in cells(c)]) * c.repetitions.maximum


def figures(c: Campaign, runs: list[Run]) -> dict[str, Any]:
    """The figures of the plan whose first round is ``runs``; with adaptive repetitions
    ``runs`` and ``estimated_s`` are the first round's (``min`` per cell), and
    ``runs_max``/``estimated_max_s`` the ceiling."""
    out = {"campaign": c.name, "seed": c.seed, "hosts": [h.describe() for h in c.hosts],
           **({"pairs": f"{len(c.pairs)}: " + ", ".join(p.label for p in c.pairs)
               + (f"; concurrent, in {len(node_pairs.rounds(c.pairs))} rounds of disjoint "
                  "pairs" if c.concurrent else "; one after the other")}
              if c.several_pairs else {}),
           "cells": len(cells(c)), "runs": len(runs),
           "measuring_s": sum(measuring_seconds(c, r) for r in runs),
           "estimated_s": estimate_seconds(c, runs),
           "builds": len({(r.cell.pair, r.cell.mtu, r.cell.configuration) for r in runs})}
    if notes(c):
        out["notes"] = "; ".join(notes(c))
    estimated = estimate_seconds(c, runs)
    if c.several_pairs and estimated > LONG_ESTIMATE_S:
        out["warning"] = (f"about {estimated / 3600:.1f} h: every pair is a full "
                          f"matrix ({len(cells(c)) // len(c.pairs)} cells); fewer pairs "
                          "(ring, star) or concurrent: true shorten it")
    reps = c.repetitions
    if reps.adaptive:
        out.update(repetitions=f"{reps.minimum}-{reps.maximum} per cell, until the 95 % CI "
                               f"is within ±{reps.target_ci_pct:g} % of the mean",
                   runs_max=max_runs(c), estimated_max_s=estimate_max_seconds(c))
    return out
