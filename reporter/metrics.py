"""Every figure a run yields, declared once: its name (a column of data/runs.csv), what it
means, its unit, which way is better, whether the report aggregates it per cell and whether
the regression gate judges it. The tidy table, the cells, the comparison, the page tables and
the docs' column list (tests/test_docs.py) all read this list."""

from dataclasses import dataclass
from enum import IntEnum

from .parsers import procstat


class Better(IntEnum):
    LOWER = -1
    NEITHER = 0
    HIGHER = 1


@dataclass(frozen=True)
class Metric:
    name: str
    meaning: str
    unit: str = ""
    better: Better = Better.NEITHER
    per_cell: bool = True  # statistics per cell (reporter/aggregate.py); else a run's figure only
    compared: str = ""  # the gate's label for it (reporter/compare.py); empty: not judged

    @property
    def judged(self) -> bool:
        return bool(self.compared)


_H, _L = Better.HIGHER, Better.LOWER
TCP = ("tcp_retrans_segs", "tcp_retrans_per_gb", "tcp_lost_retransmits", "tcp_ofo_queued",
       "tcp_rcv_pruned", "tcp_rcv_collapsed")

# In data/runs.csv's column order.
DECLARED: tuple[Metric, ...] = (
    Metric("gbps", "throughput (Gb/s)", "Gb/s", _H, compared="throughput"),
    Metric("flow_gbps_min", "the slowest flow's goodput (Gb/s)", "Gb/s", _H, per_cell=False),
    Metric("flow_gbps_max", "the fastest flow's goodput (Gb/s)", "Gb/s", _H, per_cell=False),
    Metric("fairness", "fairness of the flows (Jain's index)", "", _H),
    Metric("udp_mpps", "UDP datagrams received (millions per second)", "Mpps", _H),
    Metric("udp_loss_pct", "UDP datagrams lost (%)", "%", _L),
    Metric("udp_gbps", "UDP goodput received (Gb/s)", "Gb/s", _H),
    Metric("cpu_per_mpps", "CPU per million datagrams per second (% of one CPU ÷ Mpps)",
           "%/Mpps", _L),
    Metric("crr_cps", "TCP connections per second (connect, request, response, close)",
           "conn/s", _H, compared="connection rate"),
    Metric("crr_connect_p50_us", "connect() time, p50 (µs)", "µs", _L),
    Metric("crr_connect_p99_us", "connect() time, p99 (µs)", "µs", _L),
    Metric("crr_mean_us", "a whole connection's time, mean (µs)", "µs", _L),
    Metric("crr_p50_us", "a whole connection's time, p50 (µs)", "µs", _L),
    Metric("crr_p99_us", "a whole connection's time, p99 (µs)", "µs", _L),
    Metric("crr_p99_9_us", "a whole connection's time, p99.9 (µs)", "µs", _L),
    Metric("crr_failed", "connections that failed in the window", "", _L),
    Metric("kernel_cps", "the client kernel's TCP ActiveOpens per second over the window",
           "conn/s", _H),
    Metric("cpu_per_kcps", "CPU per 1,000 connections/s (% of one CPU ÷ kconn/s)",
           "%/kconn/s", _L),
    Metric("send_calls_per_s", "the sender's send() calls per second (csrc)", "calls/s"),
    Metric("load_gbps", "bulk throughput while latency was measured (Gb/s)", "Gb/s", _H),
    Metric("lat_mean_us", "one-way latency, mean (µs)", "µs", _L, compared="latency"),
    Metric("lat_p50_us", "one-way latency, p50 (µs)", "µs", _L),
    Metric("lat_p90_us", "one-way latency, p90 (µs)", "µs", _L),
    Metric("lat_p99_us", "one-way latency, p99 (µs)", "µs", _L),
    Metric("lat_p99_9_us", "one-way latency, p99.9 (µs)", "µs", _L),
    Metric("rtt_mean_us", "round-trip time, mean (µs)", "µs", _L),
    Metric("rtt_p50_us", "round-trip time, p50 (µs)", "µs", _L, per_cell=False),
    Metric("cpu_sender_pct", "sender CPU (% of one CPU)", "%", _L),
    Metric("cpu_receiver_pct", "receiver CPU (% of one CPU)", "%", _L),
    Metric("cpu_sender_busiest_core_pct", "sender's busiest core (% of that CPU)", "%", _L),
    Metric("cpu_receiver_busiest_core_pct", "receiver's busiest core (% of that CPU)", "%", _L),
    Metric("cpu_sender_guest_pct", "sender CPU inside its VM (% of one guest CPU)", "%", _L),
    Metric("cpu_receiver_guest_pct", "receiver CPU inside its VM (% of one guest CPU)", "%",
           _L),
    Metric("cpu_max_pct", "CPU, the higher side (% of one CPU)", "%", _L),
    Metric("cpu_per_gbps", "CPU per Gb/s (% of one CPU ÷ Gb/s)", "%/Gb/s", _L,
           compared="CPU per Gb/s"),
    *(Metric(f"cpu_{side}_{name}_pct", f"{side} CPU in {name} (% of one CPU)", "%", _L,
             per_cell=False) for side in ("sender", "receiver") for name in procstat.CLASSES),
    Metric("iperf3_sender_cpu_pct", "iperf3's own sender process CPU (%)", "%", _L,
           per_cell=False),
    Metric("iperf3_receiver_cpu_pct", "iperf3's own receiver process CPU (%)", "%", _L,
           per_cell=False),
    Metric("qperf_sender_cpu_pct", "qperf's sender CPU (%)", "%", _L, per_cell=False),
    Metric("qperf_receiver_cpu_pct", "qperf's receiver CPU (%)", "%", _L, per_cell=False),
    Metric("iperf3_retransmits", "retransmissions iperf3 counted", "", _L, per_cell=False),
    Metric("sndbuf_applied_bytes", "the sender's SO_SNDBUF as applied (bytes)", "B",
           per_cell=False),
    Metric("rcvbuf_applied_bytes", "the receiver's SO_RCVBUF as applied (bytes)", "B",
           per_cell=False),
    *(Metric(name, f"kernel TCP counter {name}", "", _L, per_cell=False) for name in TCP),
    Metric("window_start_s", "when the measurement window opened (Unix time, the sender "
                             "kernel's wall clock)", "s", per_cell=False),
    Metric("window_end_s", "when it closed (Unix time, the sender kernel's wall clock)", "s",
           per_cell=False),
)
BY_NAME = {m.name: m for m in DECLARED}
RUN_FIGURES = [m.name for m in DECLARED]
PER_CELL = [m.name for m in DECLARED if m.per_cell]
JUDGED = [m for m in DECLARED if m.judged]


def unit(name: str) -> str:
    return BY_NAME[name].unit
