"""csrc programs built with AddressSanitizer + UBSan, run for real on loopback."""

import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
CSRC = REPO / "csrc"
SCHEMA = json.loads((CSRC / "schema.json").read_text())
SANITIZE = "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
PORTS = iter(range(19700, 19800))


@pytest.fixture(scope="module")
def bindir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("csrc-san")
    proc = subprocess.run(["make", f"-j{os.cpu_count() or 1}", "-C", str(CSRC), f"OUT={out}",
                           f"CFLAGS={SANITIZE}"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def run(argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def validate(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    jsonschema.validate(doc, SCHEMA)
    return doc


@pytest.fixture
def port() -> str:
    return str(next(PORTS))


def _bound(port: int, udp: bool) -> bool:
    """Whether a socket listens on (TCP) or is bound to (UDP) the port: /proc/net, as `ss`."""
    state = "07" if udp else "0A"  # UDP's "close" (bound), TCP's LISTEN
    for table in ("udp", "udp6") if udp else ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == state:
                return True
    return False


def start_server(argv: list[str]) -> subprocess.Popen[str]:
    """The server, once its socket is ready (polled, as the collector does; at most 5 s)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port, udp = int(argv[argv.index("--port") + 1]), Path(argv[0]).name == "dpb-udp"
    for _ in range(500):
        if proc.poll() is not None or _bound(port, udp):
            break
        time.sleep(0.01)
    return proc


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_stream_measures_goodput_with_buffers_on_both_sides(
        bindir: Path, port: str, servers: list[subprocess.Popen[str]]) -> None:
    servers.append(start_server([str(bindir / "dpb-stream"), "server", "--bind", "127.0.0.1",
                                 "--port", port, "--duration", "0.5", "--warmup", "0.2",
                                 "--sockbuf", "65536"]))
    client = run([str(bindir / "dpb-stream"), "client", "--host", "127.0.0.1", "--port", port,
                  "--size", "20000", "--duration", "0.5", "--warmup", "0.2", "--sockbuf", "65536"])
    assert client.returncode == 0, client.stderr
    out, err = servers[0].communicate(timeout=10)
    assert servers[0].returncode == 0, err
    sender, receiver = validate(client.stdout), validate(out)
    assert sender["messages"] > 0 and sender["bytes"] >= sender["messages"] * 20000
    assert receiver["bytes"] == sender["bytes"]
    assert 0 < receiver["window_bytes"] < receiver["bytes"]
    assert receiver["window_s"] == pytest.approx(0.5, abs=0.05)
    assert receiver["goodput_bps"] == pytest.approx(
        receiver["window_bytes"] * 8 / receiver["window_s"], rel=1e-6)
    # Linux doubles the requested buffer; both sides report what the kernel applied.
    for side in (sender, receiver):
        assert side["sockbuf_requested"] == 65536
        assert side["sndbuf_applied"] == side["rcvbuf_applied"] == 131072


def test_stream_with_several_flows_sums_them_over_one_window(
        bindir: Path, port: str, servers: list[subprocess.Popen[str]]) -> None:
    timing = ["--duration", "0.5", "--warmup", "0.2", "--streams", "3"]
    servers.append(start_server([str(bindir / "dpb-stream"), "server", "--bind", "127.0.0.1",
                                 "--port", port, *timing]))
    client = run([str(bindir / "dpb-stream"), "client", "--host", "127.0.0.1", "--port", port,
                  "--size", "8000", *timing])
    assert client.returncode == 0, client.stderr
    out, err = servers[0].communicate(timeout=10)
    assert servers[0].returncode == 0, err
    sender, receiver = validate(client.stdout), validate(out)
    assert sender["streams"] == receiver["streams"] == 3
    assert len(sender["flows"]) == len(receiver["flows"]) == 3
    assert sum(f["bytes"] for f in sender["flows"]) == sender["bytes"] == receiver["bytes"]
    assert sum(f["window_bytes"] for f in receiver["flows"]) == receiver["window_bytes"]
    assert all(f["goodput_bps"] > 0 for f in receiver["flows"])
    assert sum(f["goodput_bps"] for f in receiver["flows"]) == pytest.approx(
        receiver["goodput_bps"], rel=1e-6)
    assert receiver["window_s"] == pytest.approx(0.5, abs=0.05)


def test_udp_counts_datagrams_and_the_ones_lost(
        bindir: Path, port: str, servers: list[subprocess.Popen[str]]) -> None:
    timing = ["--duration", "0.5", "--warmup", "0.2"]
    servers.append(start_server([str(bindir / "dpb-udp"), "server", "--bind", "127.0.0.1",
                                 "--port", port, *timing]))
    client = run([str(bindir / "dpb-udp"), "client", "--host", "127.0.0.1", "--port", port,
                  "--size", "64", *timing])
    assert client.returncode == 0, client.stderr
    out, err = servers[0].communicate(timeout=10)  # it stops on its own after the window
    assert servers[0].returncode == 0, err
    sender, receiver = validate(client.stdout), validate(out)
    assert sender["datagram_size"] == receiver["datagram_size"] == 64
    assert 0 < receiver["window_datagrams"] <= receiver["datagrams"] <= sender["datagrams"]
    assert receiver["window_s"] == pytest.approx(0.5, abs=0.05)
    assert receiver["packets_per_s"] == pytest.approx(
        receiver["window_datagrams"] / receiver["window_s"], rel=1e-6)
    assert receiver["expected"] == receiver["window_datagrams"] + receiver["lost"]
    assert receiver["loss_pct"] == pytest.approx(
        100 * receiver["lost"] / receiver["expected"], abs=1e-4)


def test_pingpong_reports_rtt_and_one_way(bindir: Path, port: str,
                                          servers: list[subprocess.Popen[str]]) -> None:
    servers.append(start_server([str(bindir / "dpb-pingpong"), "server", "--bind", "127.0.0.1",
                                 "--port", port]))
    client = run([str(bindir / "dpb-pingpong"), "client", "--host", "127.0.0.1", "--port", port,
                  "--count", "2000", "--warmup", "0.1"])
    assert client.returncode == 0, client.stderr
    out, _ = servers[0].communicate(timeout=10)
    result, server = validate(client.stdout), validate(out)
    rtt, one_way = result["rtt_ns"], result["one_way_ns"]
    assert rtt["count"] == one_way["count"] == 2000
    assert server["exchanges"] >= 2000
    assert rtt["min"] <= rtt["p50"] <= rtt["p90"] <= rtt["p99"] <= rtt["p99.9"] <= rtt["max"]
    for key in ("mean", "p50", "p99", "max"):
        assert one_way[key] == pytest.approx(rtt[key] / 2, rel=1e-6)
    assert result["one_way_is"] == "rtt / 2"


def test_cpusnap_prints_stat_lines_with_timestamps(bindir: Path) -> None:
    proc = run([str(bindir / "dpb-cpusnap"), "--count", "2", "--interval", "0.1"])
    assert proc.returncode == 0, proc.stderr
    snaps = proc.stdout.split("### dataplane-bench cpu snapshot\n")[1:]
    assert len(snaps) == 2
    walls = [float(s.splitlines()[0]) for s in snaps]
    monos = [float(s.splitlines()[2].split()[1]) for s in snaps]
    assert 0.09 < monos[1] - monos[0] < 1.0 and walls[1] > walls[0]
    ncpu = len([line for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("cpu")])
    assert all(sum(line.startswith("cpu") for line in s.splitlines()) == ncpu for s in snaps)


@pytest.mark.parametrize("program", ["dpb-stream", "dpb-pingpong", "dpb-udp", "dpb-crr",
                                     "dpb-cpusnap", "dpb-histtest"])
def test_help_and_bad_arguments(bindir: Path, program: str) -> None:
    help_ = run([str(bindir / program), "--help"])
    assert help_.returncode == 0 and help_.stdout.startswith("usage:")
    bad = run([str(bindir / program), "--no-such-option"])
    assert bad.returncode == 2 and bad.stderr.startswith("usage:") and not bad.stdout


@pytest.mark.parametrize("argv", [
    ["dpb-stream", "client", "--host", "127.0.0.1", "--port", "1"],          # no --size
    ["dpb-stream", "server", "--port", "5000"],                             # no --bind
    ["dpb-stream", "client", "--host", "127.0.0.1", "--port", "0", "--size", "1"],
    ["dpb-stream", "client", "--host", "127.0.0.1", "--port", "1", "--size", "20k"],
    ["dpb-stream", "client", "--host", "127.0.0.1", "--port", "1", "--size", "1",
     "--streams", "0"],
    ["dpb-stream", "server", "--bind", "any", "--port", "1", "--streams", "65"],
    ["dpb-udp", "client", "--host", "127.0.0.1", "--port", "1", "--size", "7"],  # < 8 B
    ["dpb-udp", "client", "--host", "127.0.0.1", "--port", "1", "--size", "65508"],
    ["dpb-pingpong", "client", "--host", "127.0.0.1", "--port", "1", "--duration", "-1"],
    ["dpb-crr", "client", "--host", "127.0.0.1", "--port", "1", "--size", "0"],
    ["dpb-crr", "server", "--port", "5000"],                                # no --bind
    ["dpb-cpusnap", "--count", "0"],
])
def test_invalid_values_are_usage_errors(bindir: Path, argv: list[str]) -> None:
    proc = run([str(bindir / argv[0]), *argv[1:]])
    assert proc.returncode == 2, proc.stderr
    assert "usage:" in proc.stderr


def test_bad_address_is_a_usage_error(bindir: Path) -> None:
    proc = run([str(bindir / "dpb-stream"), "client", "--host", "not-an-ip", "--port", "9",
                "--size", "1"])
    assert proc.returncode == 2 and "bad address not-an-ip" in proc.stderr


@pytest.mark.parametrize("program", ["dpb-stream", "dpb-pingpong", "dpb-crr"])
def test_refused_connection_is_a_clear_error(bindir: Path, program: str, port: str) -> None:
    proc = run([str(bindir / program), "client", "--host", "127.0.0.1", "--port", port,
                "--size", "100"])
    assert proc.returncode == 1
    assert f"{program}: connect to 127.0.0.1 port {port}: Connection refused" in proc.stderr


@pytest.mark.parametrize("program", ["dpb-stream", "dpb-pingpong", "dpb-crr"])
def test_peer_killed_mid_test_is_a_clear_error(bindir: Path, program: str, port: str,
                                                servers: list[subprocess.Popen[str]]) -> None:
    servers.append(start_server([str(bindir / program), "server", "--bind", "127.0.0.1",
                                 "--port", port]))
    client = subprocess.Popen([str(bindir / program), "client", "--host", "127.0.0.1",
                               "--port", port, "--size", "1000", "--duration", "20",
                               "--warmup", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.15)  # connected and sending: the server was ready before the client ran
        servers[0].send_signal(signal.SIGKILL)
        _, err = client.communicate(timeout=20)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert client.returncode == 1
    assert "went away" in err


def test_server_binds_only_the_given_address(bindir: Path, port: str,
                                             servers: list[subprocess.Popen[str]]) -> None:
    servers.append(start_server([str(bindir / "dpb-stream"), "server", "--bind", "127.0.0.2",
                                 "--port", port]))
    refused = run([str(bindir / "dpb-stream"), "client", "--host", "127.0.0.1", "--port", port,
                   "--size", "1", "--duration", "0.1", "--warmup", "0"])
    assert refused.returncode == 1 and "Connection refused" in refused.stderr


def test_a_signal_stops_a_waiting_server(bindir: Path, port: str) -> None:
    server = start_server([str(bindir / "dpb-pingpong"), "server", "--bind", "127.0.0.1",
                           "--port", port])
    server.send_signal(signal.SIGTERM)
    _, err = server.communicate(timeout=10)
    assert server.returncode == 1 and "stopped by a signal" in err


def reference_percentile(values: list[int], p: float) -> int:
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 300), st.integers(0, 10**7),
                          st.integers(0, 2**62)), min_size=1, max_size=400))
def test_histogram_percentiles_within_its_relative_error(bindir: Path,
                                                         values: list[int]) -> None:
    proc = subprocess.run([str(bindir / "dpb-histtest")], input="".join(f"{v}\n" for v in values),
                          capture_output=True, text=True, timeout=30, check=True)
    summary = json.loads(proc.stdout)
    assert summary["count"] == len(values)
    # Printed as doubles: exact below 2**53, the ns range that matters.
    assert summary["min"] == pytest.approx(min(values), rel=1e-15)
    assert summary["max"] == pytest.approx(max(values), rel=1e-15)
    assert summary["mean"] == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-3)
    for key, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)):
        ref = reference_percentile(values, p)
        if ref < 256:
            assert summary[key] == ref
        else:
            assert abs(summary[key] - ref) <= ref * 0.01, (key, ref, summary[key])


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace of its own (loopback up): its TCP counters count only this test."""
    name = f"dpbt-crr-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=10)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=10)


def _tcp_opens(ns: str) -> tuple[int, int]:
    """The namespace's Tcp: ActiveOpens and PassiveOpens (/proc/net/snmp)."""
    snmp = run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"]).stdout
    names, values = [line.split()[1:] for line in snmp.splitlines() if line.startswith("Tcp:")]
    row = dict(zip(names, map(int, values), strict=True))
    return row["ActiveOpens"], row["PassiveOpens"]


def test_crr_counts_every_connection_the_kernel_opened(bindir: Path, port: str,
                                                       netns: str) -> None:
    """The kernel is the cross-check: every connection the client counts is one the kernel
    opened on both sides; the only others are the one the timer cut and the end-of-test one."""
    inside = ["ip", "netns", "exec", netns]
    before = _tcp_opens(netns)
    server = subprocess.Popen([*inside, str(bindir / "dpb-crr"), "server", "--bind",
                               "127.0.0.1", "--port", port, "--size", "100"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(500):
            if "LISTEN" in run([*inside, "ss", "-Htln", f"sport = :{port}"]).stdout:
                break
            time.sleep(0.01)
        client = run([*inside, str(bindir / "dpb-crr"), "client", "--host", "127.0.0.1",
                      "--port", port, "--duration", "1", "--warmup", "0.3", "--size", "100"])
        assert client.returncode == 0, client.stderr
        out, err = server.communicate(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    result, served = validate(client.stdout), validate(out)
    active, passive = (a - b for a, b in zip(_tcp_opens(netns), before, strict=True))
    assert active == passive
    assert result["failed"] == 0 and served["broken"] <= 1
    # The one the timer cut is the server's (served or broken), never the client's.
    cut = served["connections"] + served["broken"] - result["attempts"]
    assert cut in (0, 1)
    assert active == served["connections"] + served["broken"] + 1  # + the end-of-test one
    assert 0 < result["connections"] < result["attempts"]  # the warm-up's are not counted
    assert result["connections_per_s"] == pytest.approx(
        result["connections"] / result["seconds"], rel=1e-3)
    assert 0.9 < result["seconds"] <= 1.0 + 1e-3
    for name in ("connect_ns", "transaction_ns"):
        d = result[name]
        assert d["count"] == result["connections"]
        assert d["min"] <= d["p50"] <= d["p90"] <= d["p99"] <= d["p99.9"] <= d["max"]
    assert result["connect_ns"]["p50"] < result["transaction_ns"]["p50"]


def test_crr_against_a_second_implementation(bindir: Path, port: str,
                                             servers: list[subprocess.Popen[str]]) -> None:
    """A client written apart (Python, same protocol) against our server, and our client
    against a server written apart: each side counts what the other did."""
    servers.append(start_server([str(bindir / "dpb-crr"), "server", "--bind", "127.0.0.1",
                                 "--port", port, "--size", "3"]))
    for _ in range(200):
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
            s.sendall(b"\0\0\0")
            assert s.recv(3, socket.MSG_WAITALL) == b"\0\0\0" and s.recv(1) == b""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
        s.sendall(b"\xff\0\0")  # the end of the test
    out, _ = servers[0].communicate(timeout=10)
    assert validate(out)["connections"] == 200 and validate(out)["broken"] == 0

    served = {"n": 0}
    listener = socket.create_server(("127.0.0.1", 0))
    other_port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with conn:
                request = conn.recv(2, socket.MSG_WAITALL)
                if request[:1] == b"\xff":
                    return
                if len(request) == 2:
                    conn.sendall(request)
                    served["n"] += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        client = run([str(bindir / "dpb-crr"), "client", "--host", "127.0.0.1", "--port",
                      str(other_port), "--duration", "0.5", "--warmup", "0", "--size", "2"])
        thread.join(timeout=10)
    finally:
        listener.close()
    assert client.returncode == 0, client.stderr
    result = validate(client.stdout)
    assert result["failed"] == 0 and result["attempts"] > 0
    assert served["n"] - result["attempts"] in (0, 1)  # 1: the one the timer cut, served
