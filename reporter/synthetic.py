"""Synthetic campaign archives for the report benchmark: the collector's manifest layout with
raw files made from outputs the real tools printed (tests/fixtures), figures varied per run."""

import json
import random
import re
from functools import partial
from pathlib import Path
from typing import Any

from collector.archive import SCHEMA_VERSION, Archive, write_atomic
from collector.records import Commands, EndpointRecord, ExitCodes, Manifest, RunRecord

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PATHS = [("bare", "host-host"), ("container", "container-container"),
         ("container", "container-host"), ("container", "host-container"),
         ("veth-control", "host-host"), ("overlay", "container-container"),
         ("overlay-ovs", "container-container")]
TESTS = [("qperf", "stream"), ("qperf", "rr"), ("iperf3", "stream"), ("csrc", "stream"),
         ("csrc", "rr")]
SIZES = [100, 1000, 8000, 20000, 65536]
MTUS = [1500, 9000]


Path_ = tuple[str, str]  # configuration, direction


def cells(mtus: tuple[int, ...] = tuple(MTUS), paths: tuple[Path_, ...] = tuple(PATHS)
          ) -> list[tuple[str, str, str, str, int, int]]:
    return [(cfg, d, tool, test, 1 if test == "rr" else size, mtu)
            for mtu in mtus for cfg, d in paths for tool, test in TESTS
            for size in (SIZES if test == "stream" else [1])]


def _scale(match: re.Match[str], factor: float) -> str:
    return match.group(1) + str(int(int(match.group(2)) * factor))


def _scaled_json(text: str, factor: float, *paths: tuple[str, ...]) -> str:
    doc = json.loads(text)
    for path in paths:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = node[path[-1]] * factor
    return json.dumps(doc)


def generate(out: Path, runs: int, seed: int = 1, scale: float = 1.0, name: str = "",
             created_utc: str = "2026-01-01T00:00:00.000000Z", spread: float = 0.2,
             mtus: tuple[int, ...] = tuple(MTUS), paths: tuple[Path_, ...] = tuple(PATHS)) -> Path:
    """An archive with exactly ``runs`` runs (the cells of ``paths`` at ``mtus`` ×
    repetitions, the last cells fewer).
    Each run's throughput is the fixture's × ``scale`` × a factor drawn uniformly within
    ±``spread`` (latency ÷ the same), so campaigns can differ by a known amount."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic figures, not secrets
    raw = {name: (FIXTURES / name).read_text() for name in (
        "qperf-tcp_bw-uu-vv.txt", "qperf-tcp_lat-uu-vv.txt", "iperf3-stream-counted.json",
        "csrc-stream-receiver.json", "csrc-pingpong-client.json", "cpu-sampler.txt",
        "tcp-sender.txt", "tcp-receiver.txt")}
    root = out / (name or f"synthetic-{runs}")
    cells_ = cells(mtus, paths)
    records: dict[str, Any] = {}
    for i in range(runs):
        cfg, direction, tool, test, size, mtu = cells_[i % len(cells_)]
        rep = i // len(cells_) + 1
        run_id = f"{cfg}.{direction}.{tool}.{test}.{size}B.sb-auto.mtu{mtu}.r{rep:02d}"
        rel = f"runs/{run_id}"
        factor = scale * rng.uniform(1 - spread, 1 + spread)
        server = ""
        if tool == "qperf":
            name_ = "qperf-tcp_bw-uu-vv.txt" if test == "stream" else "qperf-tcp_lat-uu-vv.txt"
            client = re.sub(r"(bw\s+=\s+)(\d+)", partial(_scale, factor=factor), raw[name_])
            client = re.sub(r"(latency\s+=\s+)(\d+)", partial(_scale, factor=1 / factor),
                            client)
        elif tool == "iperf3":
            client = _scaled_json(raw["iperf3-stream-counted.json"], factor,
                                  ("end", "sum_received", "bits_per_second"))
        elif test == "rr":
            client = _scaled_json(raw["csrc-pingpong-client.json"], 1 / factor,
                                  *((k, q) for k in ("one_way_ns", "rtt_ns")
                                    for q in ("mean", "p50", "p90", "p99", "p99.9")))
        else:
            client = "{}"
            server = _scaled_json(raw["csrc-stream-receiver.json"], factor, ("goodput_bps",))
        files = {"client_stdout": f"{rel}/client.stdout", "client_stderr": f"{rel}/client.stderr",
                 "server_stdout": f"{rel}/server.stdout", "server_stderr": f"{rel}/server.stderr",
                 "cpu:lab-a": f"{rel}/cpu-lab-a.txt", "cpu:lab-b": f"{rel}/cpu-lab-b.txt",
                 "tcp:client": f"{rel}/tcp-client.txt", "tcp:server": f"{rel}/tcp-server.txt"}
        contents = {"client_stdout": client, "client_stderr": "", "server_stdout": server,
                    "server_stderr": "", "cpu:lab-a": raw["cpu-sampler.txt"],
                    "cpu:lab-b": raw["cpu-sampler.txt"], "tcp:client": raw["tcp-sender.txt"],
                    "tcp:server": raw["tcp-receiver.txt"]}
        (root / rel).mkdir(parents=True, exist_ok=True)
        for key, path in files.items():
            (root / path).write_text(contents[key])
        cell_id = run_id.rpartition(".")[0]
        records[run_id] = RunRecord(
            run_id=run_id, cell_id=cell_id, configuration=cfg, direction=direction, tool=tool,
            test=test, message_size=size, socket_buffer="auto", mtu=mtu, repetition=rep,
            client=EndpointRecord(role="host", host="lab-a", address="198.18.0.1"),
            server=EndpointRecord(role="host", host="lab-b", address="198.18.0.2"),
            duration_s=1, warmup_s=0 if tool == "qperf" else 1, cpu_hosts=["lab-a", "lab-b"],
            status="ok", start_utc=created_utc, end_utc=created_utc, path_mtus={},
            commands=Commands(server="synthetic", client="synthetic"),
            exit_codes=ExitCodes(client=0), files=files).model_dump(mode="json")
    manifest = Manifest(schema_version=SCHEMA_VERSION, state="complete",
                        created_utc=created_utc, updated_utc=created_utc,
                        harness={"commit": "synthetic"},
                        campaign={"seed": seed, "duration_s": 1, "warmup_s": 1,
                                  "repetitions": -(-runs // len(cells_)),
                                  "tools": sorted({t for t, _ in TESTS}),
                                  "message_sizes": SIZES, "mtus": list(mtus)},
                        plan=list(records), runs=records).model_dump(mode="json")
    write_atomic(root / "manifest.json", json.dumps(manifest))
    Archive(root, manifest).write_sums()
    return root
