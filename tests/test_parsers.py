"""Parsers on fixtures captured from the real tools (tests/fixtures/capture.sh made them)."""

import json
from pathlib import Path

import pytest

from reporter import synthetic
from reporter.archive import load
from reporter.parsers import ParseError, csrc, iperf3, procstat, qperf, tcpstat
from reporter.tidy import flows, table

FIX = Path(__file__).resolve().parent / "fixtures"


def text(name: str) -> str:
    return (FIX / name).read_text()


def test_qperf_tcp_bw_unified_units() -> None:
    r = qperf.parse(text("qperf-tcp_bw-uu-vv.txt"))
    assert r["msg_size"] == (20000, "bytes")
    assert qperf.throughput_bps(r) > 1e8
    assert r["send_cpus_used"][1] == "%"
    assert r["time"][0] == pytest.approx(1.0, rel=0.05)


def test_qperf_scaled_units_agree_with_their_magnitude() -> None:
    scaled = qperf.parse(text("qperf-tcp_bw-v-scaled.txt"))
    assert scaled["msg_size"] == (65536, "bytes")  # printed as "64 KiB (65,536)"
    assert 1e8 < qperf.throughput_bps(scaled) < 1e12
    lat = qperf.latency_s(qperf.parse(text("qperf-tcp_lat-scaled.txt")))
    assert 1e-7 < lat < 1e-2


def test_qperf_latency_is_one_way_seconds() -> None:
    r = qperf.parse(text("qperf-tcp_lat-uu-vv.txt"))
    assert 1e-7 < qperf.latency_s(r) < 1e-2
    with pytest.raises(ParseError, match="no bw line"):
        qperf.throughput_bps(r)


def test_qperf_error_output() -> None:
    with pytest.raises(ParseError, match="failed to connect"):
        qperf.parse(text("qperf-failed-to-connect.txt"))


def test_iperf3_stream_and_reverse_mapping() -> None:
    fwd = iperf3.parse(text("iperf3-stream.json"))
    assert fwd["goodput_bps"] > 1e8 and fwd["reverse"] is False
    rev = iperf3.parse(text("iperf3-reverse.json"))
    assert rev["reverse"] is True
    import json

    doc = json.loads(text("iperf3-reverse.json"))
    cpu = doc["end"]["cpu_utilization_percent"]
    assert rev["iperf3_sender_cpu_pct"] == cpu["remote_total"]  # the server sent


def test_iperf3_error_json() -> None:
    with pytest.raises(ParseError, match="unable to connect"):
        iperf3.parse(text("iperf3-error-refused.json"))


def test_csrc_outputs() -> None:
    rx = csrc.stream_receiver(text("csrc-stream-receiver.json"))
    assert rx["goodput_bps"] > 1e8 and rx["ended_early"] is False
    pp = csrc.pingpong_client(text("csrc-pingpong-client.json"))
    assert 0 < pp["lat_p50_us"] <= pp["lat_p99_us"]
    assert pp["rtt_p50_us"] == pytest.approx(2 * pp["lat_p50_us"], rel=1e-6)
    with pytest.raises(ParseError, match="expected dpb-stream receiver"):
        csrc.stream_receiver(text("csrc-stream-sender.json"))


def test_several_flows_each_tool() -> None:
    """csrc --streams 4 and iperf3 -P 4 (captured on the lab): each flow's goodput, summing to
    the total; a single-flow output (before --streams) has no list and one flow in iperf3's."""
    rx = csrc.stream_receiver(text("csrc-stream-4flows-receiver.json"))
    assert len(rx["flows_bps"]) == 4 and all(f > 1e8 for f in rx["flows_bps"])
    assert sum(rx["flows_bps"]) == pytest.approx(rx["goodput_bps"], rel=1e-6)
    ip = iperf3.parse(text("iperf3-stream-4flows.json"))
    assert len(ip["flows_bps"]) == 4
    assert sum(ip["flows_bps"]) == pytest.approx(ip["goodput_bps"], rel=1e-6)
    assert csrc.stream_receiver(text("csrc-stream-receiver.json"))["flows_bps"] == []
    assert len(iperf3.parse(text("iperf3-stream.json"))["flows_bps"]) == 1


def test_udp_receivers_of_each_tool() -> None:
    """dpb-udp and iperf3 -u at 64 B (captured on the lab): datagrams received per second,
    loss and goodput, each as its receiver counted them."""
    ours = csrc.udp_receiver(text("csrc-udp-receiver.json"))
    doc = json.loads(text("csrc-udp-receiver.json"))
    assert ours["packets_per_s"] == doc["window_datagrams"] / doc["window_s"]
    assert ours["loss_pct"] == doc["loss_pct"] and ours["ended_early"] is False
    assert ours["goodput_bps"] == pytest.approx(ours["packets_per_s"] * 64 * 8, rel=1e-6)
    theirs = iperf3.udp(text("iperf3-udp.json"))
    got = json.loads(text("iperf3-udp.json"))["end"]["sum_received"]
    assert theirs["packets_per_s"] == pytest.approx(
        (got["packets"] - got["lost_packets"]) / got["seconds"])
    assert 0 <= theirs["loss_pct"] < 100 and theirs["goodput_bps"] > 1e6
    with pytest.raises(ParseError, match="expected dpb-udp receiver"):
        csrc.udp_receiver(text("csrc-udp-sender.json"))
    with pytest.raises(ParseError, match="sum_received"):
        iperf3.udp(text("iperf3-stream.json").replace("sum_received", "sum_elsewhere"))


def test_latency_under_load_reads_each_programs_line() -> None:
    """rr-load's outputs (captured on the lab) hold one JSON line per program: the ping-pong's
    latency from the client side, the bulk flows' goodput from the server side."""
    client, server = text("csrc-rr-load-client.txt"), text("csrc-rr-load-server.txt")
    pp = csrc.pingpong_client(csrc.line_of(client, "dpb-pingpong", "client"))
    assert 0 < pp["lat_p50_us"] <= pp["lat_p99_us"]
    bulk = csrc.stream_receiver(csrc.line_of(server, "dpb-stream", "receiver"))
    assert len(bulk["flows_bps"]) == 2 and bulk["goodput_bps"] > 1e8
    with pytest.raises(ParseError, match="no dpb-stream receiver output"):
        csrc.line_of(client, "dpb-stream", "receiver")


def test_fairness_is_jains_index_over_the_flows() -> None:
    even = flows([2e9, 2e9, 2e9, 2e9])
    assert even["fairness"] == pytest.approx(1.0) and even["flow_gbps_min"] == 2.0
    hog = flows([4e9, 0.0, 0.0, 0.0])
    assert hog["fairness"] == pytest.approx(0.25) and hog["flow_gbps_max"] == 4.0
    assert flows([3e9]) == {}  # one flow: nothing to share


@pytest.mark.parametrize("name", ["cpu-sampler.txt", "cpu-dpb-cpusnap.txt"])
def test_cpu_snapshots(name: str) -> None:
    cpu = procstat.window_cpu(text(name))
    assert 0 <= cpu["cpu_pct"] <= 100 * cpu["ncpu"] * 1.05
    assert 0 <= cpu["cpu_busiest_core_pct"] <= 105
    classes = [cpu[f"cpu_{c}_pct"] for c in procstat.CLASSES]
    assert all(c >= 0 for c in classes)
    assert sum(classes) == pytest.approx(cpu["cpu_pct"], abs=1e-9)  # the split adds up


def test_cpu_classes_come_from_their_proc_stat_columns() -> None:
    """user+nice, system, softirq, irq, steal: each class from its own column of the real
    snapshot, edited by a known number of ticks."""
    original = text("cpu-dpb-cpusnap.txt")
    head, mark, last = original.rpartition(procstat.MARK)
    lines = last.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("cpu "))
    fields = lines[i].split()
    added = {1: 10, 2: 5, 3: 20, 6: 7, 7: 30, 8: 3}  # user nice system irq softirq steal
    for column, ticks in added.items():
        fields[column] = str(int(fields[column]) + ticks)
    lines[i] = " ".join(fields)
    edited = head + mark + "\n".join(lines) + "\n"
    before, after = procstat.window_cpu(original), procstat.window_cpu(edited)
    (b0, b1) = procstat.parse(original)
    dt = (b1.steady_s or 0) - (b0.steady_s or 0)
    per_tick = 100.0 / (procstat.USER_HZ * dt)
    for name, ticks in (("user", 15), ("system", 20), ("irq", 7), ("softirq", 30),
                        ("steal", 3)):
        assert after[f"cpu_{name}_pct"] - before[f"cpu_{name}_pct"] == pytest.approx(
            ticks * per_tick), name


@pytest.mark.parametrize(("name", "parse"), [
    ("qperf-tcp_bw-uu-vv.txt", qperf.parse), ("iperf3-stream.json", iperf3.parse),
    ("csrc-stream-receiver.json", csrc.stream_receiver),
    ("csrc-stream-4flows-receiver.json", csrc.stream_receiver),
    ("iperf3-stream-4flows.json", iperf3.parse),
    ("csrc-udp-receiver.json", csrc.udp_receiver), ("iperf3-udp.json", iperf3.udp),
    ("csrc-pingpong-client.json", csrc.pingpong_client),
    ("cpu-sampler.txt", procstat.window_cpu), ("tcp-sender.txt", tcpstat.window_deltas)])
@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage"])
def test_damaged_files_raise_parse_errors_only(name: str, parse: object, damage: str) -> None:
    original = text(name)
    bad = {"truncate": original[: len(original) // 3], "empty": "",
           "garbage": "\x00\xff<script>alert(1)</script>\n" * 3}[damage]
    with pytest.raises(ParseError):
        parse(bad)  # type: ignore[operator]


def test_cpu_time_comes_from_a_clock_that_does_not_step() -> None:
    """An NTP step of the wall clock between the snapshots changes nothing: Δt is read from
    CLOCK_MONOTONIC (dpb-cpusnap) or /proc/uptime (the sampler)."""
    for name in ("cpu-sampler.txt", "cpu-dpb-cpusnap.txt"):
        raw = text(name)
        blocks = raw.split(procstat.MARK + "\n")
        # The captured window was idle: give it 50 busy ticks (user) so that Δt matters.
        first_cpu = next(line for line in blocks[2].splitlines() if line.startswith("cpu "))
        fields = first_cpu.split()
        fields[1] = str(int(fields[1]) + 50)
        blocks[2] = blocks[2].replace(first_cpu, " ".join(fields), 1)
        raw = procstat.MARK + "\n" + blocks[1] + procstat.MARK + "\n" + blocks[2]
        before = procstat.window_cpu(raw)
        wall = blocks[2].splitlines()[0]
        stepped = procstat.MARK + "\n".join(["", blocks[1].rstrip("\n"), ""]) + procstat.MARK \
            + "\n" + blocks[2].replace(wall, str(float(wall) + 3600.0), 1)
        after = procstat.window_cpu(stepped)
        assert after["cpu_pct"] == pytest.approx(before["cpu_pct"]), name
        assert after["cpu_pct"] > 0


def test_a_stream_that_ended_early_or_carried_nothing_is_a_problem(tmp_path: Path) -> None:
    """Both kept out of every mean: the run is listed under Problems with the reason."""
    root = synthetic.generate(tmp_path, 60)
    manifest = json.loads((root / "manifest.json").read_text())
    runs = manifest["runs"]
    early = next(r for r in runs.values() if (r["tool"], r["test"]) == ("csrc", "stream"))
    zero = next(r for r in runs.values() if (r["tool"], r["test"]) == ("iperf3", "stream"))
    doc = json.loads((root / early["files"]["server_stdout"]).read_text())
    doc["ended_early"] = True
    (root / early["files"]["server_stdout"]).write_text(json.dumps(doc))
    doc = json.loads((root / zero["files"]["client_stdout"]).read_text())
    doc["end"]["sum_received"]["bits_per_second"] = 0
    (root / zero["files"]["client_stdout"]).write_text(json.dumps(doc))
    problems: list[tuple[str, str]] = []
    df = table([load(root)], lambda c, r, why: problems.append((r, why)), cache=False)
    found = dict(problems)
    assert "ended_early" in found[early["run_id"]]
    assert "goodput of 0" in found[zero["run_id"]]
    for run_id in (early["run_id"], zero["run_id"]):
        assert df.loc[df["run_id"] == run_id, "status"].item() == "unparseable"


def test_applied_socket_buffers_are_read_from_each_tool() -> None:
    forward = iperf3.parse(text("iperf3-stream.json"))
    assert (forward["sndbuf_applied"], forward["rcvbuf_applied"]) == (16384, None)
    reverse = iperf3.parse(text("iperf3-reverse.json"))
    assert (reverse["sndbuf_applied"], reverse["rcvbuf_applied"]) == (None, 131072)
    assert csrc.stream_sender(text("csrc-stream-sender.json"))["sndbuf_applied"] == 4194304
    assert csrc.stream_receiver(text("csrc-stream-receiver.json"))["rcvbuf_applied"] == 5374922


def test_tcp_counters_over_iperf3s_window() -> None:
    """Captured beside a real iperf3 run (tests/fixtures/capture.sh): the sender's namespace
    retransmitted what iperf3 says its socket did, within the windows' misalignment; the
    receiver queued out of order and sent (ACKs) but retransmitted nothing."""
    sender = tcpstat.window_deltas(text("tcp-sender.txt"))
    receiver = tcpstat.window_deltas(text("tcp-receiver.txt"))
    assert set(sender) == set(tcpstat.COUNTERS) and all(v is not None for v in sender.values())
    said = iperf3.parse(text("iperf3-stream-counted.json"))["retransmits"]
    assert said and sender["retrans_segs"] == pytest.approx(said, rel=0.10)
    sent, acked = sender["out_octets"], receiver["out_octets"]
    assert sent is not None and acked is not None and sent > 20 * acked  # data, ACKs back
    assert receiver["retrans_segs"] == 0 and (receiver["ofo_queued"] or 0) > 0


def test_tcp_counters_going_backwards_or_missing_are_errors() -> None:
    raw = text("tcp-sender.txt")
    first, second = raw.split(tcpstat.MARK + "\n")[1:]
    with pytest.raises(ParseError, match="went backwards"):
        tcpstat.window_deltas(tcpstat.MARK + "\n" + second + tcpstat.MARK + "\n" + first)
    with pytest.raises(ParseError, match="expected 2 snapshots"):
        tcpstat.window_deltas(tcpstat.MARK + "\n" + first)
    no_tcp = "\n".join(line for line in first.splitlines() if not line.startswith("Tcp:"))
    with pytest.raises(ParseError, match="without the Tcp lines"):
        tcpstat.window_deltas((tcpstat.MARK + "\n" + no_tcp + "\n") * 2)
    # A kernel without /proc/net/netstat's extended counters: those are None, not errors.
    plain = "\n".join(line for line in first.splitlines() if not line.startswith("TcpExt"))
    deltas = tcpstat.window_deltas((tcpstat.MARK + "\n" + plain + "\n") * 2)
    assert deltas["retrans_segs"] == 0 and deltas["ofo_queued"] is None
