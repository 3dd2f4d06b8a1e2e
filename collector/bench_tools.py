"""bench.tools: our csrc programs against qperf and sockperf on the lab, in alternating pairs.

The benchmark parses the tools' outputs itself (three numbers); the reporter's parsers are the
ones that turn archives into results."""

import json
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from . import lab
from .benchdoc import write_section
from .csrc_build import ship_and_build
from .endpoint import Endpoint
from .errors import BenchError
from .hosts import load_hosts
from .remote import Remote
from .runner import start_server, stop_server, wait_listening

SIZES = (100, 1000, 20000, 65536)
WORKDIR = "/run/dataplane-bench/bench-tools"


@dataclass(frozen=True)
class Pair:
    label: str
    ours: float
    theirs: float

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs


class Bench:
    def __init__(self, a: Remote, b: Remote, duration_s: int) -> None:
        self.a, self.b = a, b
        self.server = Endpoint("host", 1, b.host.name, b.host.data_address)
        self.duration = str(duration_s)
        self.port = 19600
        self.bins = ("", "")

    def build(self) -> None:
        dirs = []
        for remote in (self.a, self.b):
            wd = f"{WORKDIR}/{remote.host.name}"
            remote.check(["mkdir", "-p", wd])
            dirs.append(ship_and_build(remote, wd)[0])
        self.bins = (dirs[0], dirs[1])

    def measure(self, server: list[str], client: list[str], exits: bool) -> tuple[str, str]:
        self.port += 2
        wd = f"{WORKDIR}/{self.b.host.name}"
        pid = start_server(self.b, wd, self.server, server)
        problem = wait_listening(self.b, self.server, self.port, pid)
        if problem:
            raise BenchError(f"bench.tools: {server[0]}: {problem}")
        res = self.a.run(client, timeout=60)
        out, _ = stop_server(self.b, wd, pid, 3.0 if exits else 0.0)
        if not res.ok:
            raise BenchError(f"bench.tools: {client[0]} failed: {res.stderr or res.stdout}")
        return res.stdout, out

    def ours_stream(self, size: int) -> float:
        p = str(self.port + 2)
        _, out = self.measure(
            [f"{self.bins[1]}/dpb-stream", "server", "--bind", self.server.address, "--port", p,
             "--duration", self.duration, "--warmup", "0.5"],
            [f"{self.bins[0]}/dpb-stream", "client", "--host", self.server.address, "--port", p,
             "--size", str(size), "--duration", self.duration, "--warmup", "0.5"], True)
        return float(json.loads(out)["goodput_bps"])

    def qperf(self, test: list[str]) -> str:
        p = str(self.port + 2)
        out, _ = self.measure(["qperf", "-lp", p],
                              ["qperf", self.server.address, "-lp", p, "-ip", str(int(p) + 1),
                               "-uu", "-e", "6", "-t", self.duration, *test], False)
        return out

    def qperf_stream(self, size: int) -> float:
        return 8 * _number(r"^\s*bw\s*=\s*(\S+) bytes/sec", self.qperf(["-m", str(size),
                                                                           "tcp_bw"]))

    def ours_latency(self, size: int) -> float:
        p = str(self.port + 2)
        out, _ = self.measure(
            [f"{self.bins[1]}/dpb-pingpong", "server", "--bind", self.server.address,
             "--port", p, "--size", str(size)],
            [f"{self.bins[0]}/dpb-pingpong", "client", "--host", self.server.address,
             "--port", p, "--size", str(size), "--duration", self.duration,
             "--warmup", "0.5"], True)
        return float(json.loads(out)["one_way_ns"]["p50"])

    def qperf_latency(self) -> float:
        return _number(r"^\s*latency\s*=\s*(\S+) ns", self.qperf(["-m", "1", "tcp_lat"]))

    def sockperf_latency(self, size: int) -> float:
        p = str(self.port + 2)
        out, _ = self.measure(["sockperf", "sr", "--tcp", "-i", self.server.address, "-p", p],
                              ["sockperf", "pp", "--tcp", "-i", self.server.address, "-p", p,
                               "-t", self.duration, "-m", str(size)], False)
        return 1000 * _number(r"percentile 50\.000 =\s*(\S+)", out)  # µs, half round trip


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text, re.M)
    if not match:
        raise BenchError(f"bench.tools: no match for {pattern!r} in:\n{text[-500:]}")
    return float(match.group(1))


def _pairs(label: str, ours: Callable[[], float], theirs: Callable[[], float],
           n: int) -> list[Pair]:
    out = []
    for k in range(n):  # alternate which goes first, so drifts cancel
        if k % 2 == 0:
            o, t = ours(), theirs()
        else:
            t, o = theirs(), ours()
        out.append(Pair(label, o, t))
    return out


def run(spec: lab.LabSpec, pairs: int = 7, duration_s: int = 2) -> dict[str, list[Pair]]:
    lab.up(spec, say=lambda _: None)
    hosts = load_hosts(spec.hosts_file)
    with Remote(hosts[0]) as a, Remote(hosts[1]) as b:
        bench = Bench(a, b, duration_s)
        bench.build()
        results: dict[str, list[Pair]] = {}
        for size in SIZES:
            results[f"throughput {size} B: dpb-stream ÷ qperf tcp_bw"] = _pairs(
                "stream", partial(bench.ours_stream, size), partial(bench.qperf_stream, size),
                pairs)
        results["p50 one-way latency 1 B: dpb-pingpong ÷ qperf tcp_lat (mean)"] = _pairs(
            "rr", partial(bench.ours_latency, 1), bench.qperf_latency, pairs)
        results["p50 one-way latency 14 B: dpb-pingpong ÷ sockperf ping-pong"] = _pairs(
            "rr", partial(bench.ours_latency, 14), partial(bench.sockperf_latency, 14), pairs)
        a.run(["rm", "-rf", WORKDIR])
    return results


def summary(results: dict[str, list[Pair]]) -> list[tuple[str, float, float, float, str]]:
    rows = []
    for name, pairs in results.items():
        ratios = sorted(p.ratio for p in pairs)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        median = statistics.median(ratios)
        target_ok = median >= 1.0 if name.startswith("throughput") else median <= 1.0
        rows.append((name, median, q[0], q[2], "met" if target_ok else "MISSED"))
    return rows


def section(results: dict[str, list[Pair]], machine: str, when: str, pairs: int,
            duration_s: int) -> str:
    lines = [
        "## bench.tools — our programs against qperf and sockperf",
        "",
        "Reproduce: `.venv/bin/invoke bench.tools` (as root; brings the lab up).",
        "",
        f"Lab `bare` host → host over the veth wire, {pairs} alternating pairs per row (the "
        f"order flips every pair), {duration_s} s per run. Throughput: ratio ≥ 1.00 is the "
        "target (ours measures at the receiver, after a 0.5 s warm-up; qperf has none). "
        "Latency: ratio ≤ 1.00 is the target (one-way = RTT / 2 for every tool; qperf prints "
        "only a mean, sockperf's minimum message is 14 B so that row uses 14 B on both sides).",
        "",
        f"| measured {when} on {machine} | median ratio | IQR | target |",
        "| --- | --- | --- | --- |",
    ]
    for name, median, q1, q3, verdict in summary(results):
        lines.append(f"| {name} | **{median:.3f}** | {q1:.3f} to {q3:.3f} | {verdict} |")
    lines += ["", "Raw pairs (ours, theirs):", ""]
    for name, pairs_ in results.items():
        unit = "Gb/s" if name.startswith("throughput") else "µs"
        scale = 1e9 if unit == "Gb/s" else 1e3
        values = ", ".join(f"({p.ours / scale:.3g}, {p.theirs / scale:.3g})" for p in pairs_)
        lines.append(f"- {name} [{unit}]: {values}")
    return "\n".join(lines) + "\n"


def write(results: dict[str, list[Pair]], path: Path, machine: str, when: str, pairs: int,
          duration_s: int) -> None:
    write_section("bench.tools", section(results, machine, when, pairs, duration_s), path)
