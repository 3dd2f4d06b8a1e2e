"""The headline figure of each tool's output, for a caller that measures without an archive
(bench.tools): the same parsers a campaign's runs go through."""

from collector.bench_tools import Figures

from . import csrc, iperf3, qperf


def bench_figures() -> Figures:
    return Figures(
        csrc_stream_bps=lambda out: float(csrc.stream_receiver(out)["goodput_bps"]),
        csrc_udp_pps=lambda out: float(csrc.udp_receiver(out)["packets_per_s"]),
        csrc_latency_ns=lambda out: 1000 * float(csrc.pingpong_client(out)["lat_p50_us"]),
        iperf3_stream_bps=lambda out: float(iperf3.parse(out)["goodput_bps"]),
        iperf3_udp_pps=lambda out: float(iperf3.udp(out)["packets_per_s"]),
        qperf_stream_bps=lambda out: qperf.throughput_bps(qperf.parse(out)),
        qperf_latency_ns=lambda out: 1e9 * qperf.latency_s(qperf.parse(out)))
