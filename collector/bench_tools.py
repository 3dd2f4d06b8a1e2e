"""bench.tools: our csrc programs against qperf, iperf3 and sockperf on the lab, in alternating
pairs.

Command lines come from the collector's tool modules and outputs go through the reporter's
parsers, as in a campaign — handed in as Figures by tasks.py, which composes the two halves
(the collector imports nothing of the reporter's); only sockperf, which campaigns do not use,
is read here."""

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from . import lab
from .affinity import Affinity
from .connection import Connection
from .csrc_build import ship_and_build
from .endpoint import Endpoint
from .errors import BenchError
from .hosts import load_hosts
from .pinning import Cores, pin, resolve
from .plan import Cell
from .ports import BENCH_BASE, Ports
from .preparation import REMOTE_WORKDIR
from .remote import Remote
from .runner import start_server, stop_server, wait_listening
from .tools import TOOLS, Invocation, ToolContext

SIZES = (100, 1000, 20000, 65536)
WORKDIR = f"{REMOTE_WORKDIR}/bench-tools"
WARMUP_S = 1
FLOWS = 4  # the several-flow row: csrc --streams against iperf3 -P
UDP_SIZES = (64, 1400)


@dataclass(frozen=True)
class Pair:
    label: str
    ours: float
    theirs: float

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs


@dataclass(frozen=True)
class Figures:
    """How a run's figure is read from a tool's output (the report's parsers)."""

    csrc_stream_bps: Callable[[str], float]     # dpb-stream receiver's output → goodput
    csrc_udp_pps: Callable[[str], float]        # dpb-udp receiver's output → datagrams/s
    csrc_latency_ns: Callable[[str], float]     # dpb-pingpong client → p50 one-way
    iperf3_stream_bps: Callable[[str], float]   # iperf3 -J client → goodput
    iperf3_udp_pps: Callable[[str], float]      # iperf3 -u -J client → datagrams/s received
    qperf_stream_bps: Callable[[str], float]    # qperf tcp_bw → throughput
    qperf_latency_ns: Callable[[str], float]    # qperf tcp_lat → one-way latency


class Bench:
    """Host A's root namespace sends to host B's over the lab wire (the `bare` path)."""

    def __init__(self, a: Remote, b: Remote, duration_s: int, figures: Figures,
                 pinned: bool = True) -> None:
        self.figures = figures
        self.cores: Cores | None = None
        self.pinned = pinned
        self.client = Endpoint("host", Connection(a, "host", f"{WORKDIR}/{a.host.name}"),
                               a.host.data_address)
        self.server = Endpoint("host", Connection(b, "host", f"{WORKDIR}/{b.host.name}"),
                               b.host.data_address)
        self.duration_s = duration_s
        self.ports = Ports(BENCH_BASE)

    def build(self) -> None:
        built = []
        for ep in (self.client, self.server):
            ep.host.remote.check(["mkdir", "-p", ep.host.workdir])
            built.append(Endpoint(ep.role, ep.host.with_bindir(
                ship_and_build(ep.host.remote, ep.host.workdir)[0]), ep.address))
        self.client, self.server = built
        if self.pinned:  # every tool alike, as `cpu_affinity: auto` pins a campaign's
            self.cores = resolve(Affinity(), [self.client.host, self.server.host])

    @property
    def placement(self) -> str:
        """Where the tools ran, for the section."""
        if self.cores is None:
            return "unpinned"
        client = self.cores.of("client", self.client)
        server = self.cores.of("server", self.server)
        return f"every tool pinned with taskset: client CPU {client}, server CPU {server}"

    def invocation(self, tool: str, test: str, size: int, flows: int = 1) -> Invocation:
        cell = Cell("bare", "host-host", tool, test, size, "auto", 1500, flows)
        return TOOLS[tool](cell, self.client, self.server,
                           ToolContext(self.duration_s, WARMUP_S, self.ports.next()))

    def measure(self, inv: Invocation) -> tuple[str, str]:
        """(client's output, server's output) of one run."""
        if self.cores is not None:
            inv = pin(inv, self.cores.of("client", self.client),
                      self.cores.of("server", self.server))
        srv = self.server.host
        pid = start_server(srv.remote, srv.workdir, self.server, inv.server)
        problem = wait_listening(srv.remote, self.server, inv.listen_port, pid,
                                 inv.listen_protocol, inv.more_ports)
        if problem:
            stop_server(srv.remote, srv.workdir, pid, 0.0)  # it must not outlive the bench
            raise BenchError(f"bench.tools: {inv.server[0]}: {problem}")
        res = self.client.host.remote.run(inv.client, timeout=60)
        out, _ = stop_server(srv.remote, srv.workdir, pid, 3.0 if inv.server_exits else 0.0)
        if not res.ok:
            raise BenchError(f"bench.tools: {inv.client[0]} failed: {res.stderr or res.stdout}")
        return res.stdout, out

    def ours_stream(self, size: int, flows: int = 1) -> float:
        _, out = self.measure(self.invocation("csrc", "stream", size, flows))
        return self.figures.csrc_stream_bps(out)

    def ours_udp(self, size: int) -> float:
        _, out = self.measure(self.invocation("csrc", "udp", size))
        return self.figures.csrc_udp_pps(out)

    def iperf3_udp(self, size: int) -> float:
        out, _ = self.measure(self.invocation("iperf3", "udp", size))
        return self.figures.iperf3_udp_pps(out)

    def iperf3_stream(self, size: int, flows: int) -> float:
        out, _ = self.measure(self.invocation("iperf3", "stream", size, flows))
        return self.figures.iperf3_stream_bps(out)

    def qperf_stream(self, size: int) -> float:
        out, _ = self.measure(self.invocation("qperf", "stream", size))
        return self.figures.qperf_stream_bps(out)

    def ours_latency(self, size: int) -> float:
        out, _ = self.measure(self.invocation("csrc", "rr", size))
        return self.figures.csrc_latency_ns(out)

    def qperf_latency(self) -> float:
        out, _ = self.measure(self.invocation("qperf", "rr", 1))
        return self.figures.qperf_latency_ns(out)

    def sockperf_latency(self, size: int) -> float:
        port = self.ports.next()
        p, address = str(port), self.server.address
        inv = Invocation(["sockperf", "sr", "--tcp", "-i", address, "-p", p],
                         ["sockperf", "pp", "--tcp", "-i", address, "-p", p,
                          "-t", str(self.duration_s), "-m", str(size)], port, 0)
        out, _ = self.measure(inv)
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


def run(spec: lab.LabSpec, figures: Figures, pairs: int = 7,
        duration_s: int = 2, pinned: bool = True) -> tuple[dict[str, list[Pair]], str]:
    """The pairs of every row, and where the tools ran."""
    lab.up(spec, say=lambda _: None)
    hosts = load_hosts(spec.hosts_file)
    with Remote(hosts[0]) as a, Remote(hosts[1]) as b:
        bench = Bench(a, b, duration_s, figures, pinned)
        bench.build()
        results: dict[str, list[Pair]] = {}
        for size in SIZES:
            results[f"throughput {size} B: dpb-stream ÷ qperf tcp_bw"] = _pairs(
                "stream", partial(bench.ours_stream, size), partial(bench.qperf_stream, size),
                pairs)
        results[f"throughput {FLOWS} flows, 20000 B: dpb-stream ÷ iperf3 -P {FLOWS}"] = _pairs(
            "stream", partial(bench.ours_stream, 20000, FLOWS),
            partial(bench.iperf3_stream, 20000, FLOWS), pairs)
        for size in UDP_SIZES:
            results[f"UDP datagrams received {size} B: dpb-udp ÷ iperf3 -u"] = _pairs(
                "udp", partial(bench.ours_udp, size), partial(bench.iperf3_udp, size), pairs)
        results["p50 one-way latency 1 B: dpb-pingpong ÷ qperf tcp_lat (mean)"] = _pairs(
            "rr", partial(bench.ours_latency, 1), bench.qperf_latency, pairs)
        results["p50 one-way latency 14 B: dpb-pingpong ÷ sockperf ping-pong"] = _pairs(
            "rr", partial(bench.ours_latency, 14), partial(bench.sockperf_latency, 14), pairs)
        a.run(["rm", "-rf", WORKDIR])
        return results, bench.placement


def summary(results: dict[str, list[Pair]]) -> list[tuple[str, float, float, float, str]]:
    rows = []
    for name, pairs in results.items():
        ratios = sorted(p.ratio for p in pairs)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        median = statistics.median(ratios)
        higher_is_better = not name.startswith("p50")  # rates; latency is the other way
        target_ok = median >= 1.0 if higher_is_better else median <= 1.0
        rows.append((name, median, q[0], q[2], "met" if target_ok else "MISSED"))
    return rows


def said(results: dict[str, list[Pair]]) -> list[str]:
    return [f"{name}: median {median:.3f} (IQR {q1:.3f}-{q3:.3f}) {verdict}"
            for name, median, q1, q3, verdict in summary(results)]


def section(results: dict[str, list[Pair]], machine: str, when: str, pairs: int,
            duration_s: int, placement: str) -> str:
    lines = [
        "## bench.tools — our programs against qperf, iperf3 and sockperf",
        "",
        "Reproduce: `.venv/bin/invoke bench.tools` (as root; brings the lab up).",
        "",
        f"Lab `bare` host → host over the veth wire, {pairs} alternating pairs per row (the "
        f"order flips every pair), {duration_s} s per run, {placement}"
        + (f" (so csrc's {FLOWS} flow threads share one CPU per side: the {FLOWS}-flow row "
           "measures that, not the tools)" if placement != "unpinned" else "")
        + ". Throughput: ratio "
        f"≥ 1.00 is the target (ours measures at the receiver, after a {WARMUP_S} s warm-up, "
        "as in a campaign; "
        f"qperf has none; iperf3 omits the same warm-up with -O; with {FLOWS} flows, iperf3 "
        "3.12 runs them all in one thread). "
        "UDP: datagrams per second the receiver counted, ratio ≥ 1.00 is the target. "
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
        unit, scale = (("Gb/s", 1e9) if name.startswith("throughput") else
                       ("Mdatagrams/s", 1e6) if name.startswith("UDP") else ("µs", 1e3))
        values = ", ".join(f"({p.ours / scale:.3g}, {p.theirs / scale:.3g})" for p in pairs_)
        lines.append(f"- {name} [{unit}]: {values}")
    return "\n".join(lines) + "\n"
