"""Synthetic campaign archives for the report benchmark: the collector's manifest layout with
raw files made from outputs the real tools printed (tests/fixtures), figures varied per run."""

import json
import random
import re
from functools import partial
from pathlib import Path
from typing import Any

from collector.archive import SCHEMA_VERSION, write_atomic

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PATHS = [("bare", "host-host"), ("container", "container-container"),
         ("container", "container-host"), ("container", "host-container"),
         ("veth-control", "host-host"), ("overlay", "container-container"),
         ("overlay-ovs", "container-container")]
TESTS = [("qperf", "stream"), ("qperf", "rr"), ("iperf3", "stream"), ("csrc", "stream"),
         ("csrc", "rr")]
SIZES = [100, 1000, 8000, 20000, 65536]
MTUS = [1500, 9000]


def _cells() -> list[tuple[str, str, str, str, int, int]]:
    return [(cfg, d, tool, test, 1 if test == "rr" else size, mtu)
            for mtu in MTUS for cfg, d in PATHS for tool, test in TESTS
            for size in (SIZES if test == "stream" else [1])]


def _scale(match: re.Match[str], factor: float) -> str:
    return match.group(1) + str(int(int(match.group(2)) * factor))


def generate(out: Path, runs: int, seed: int = 1) -> Path:
    """An archive with exactly ``runs`` runs (cells × repetitions, the last cells fewer)."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic figures, not secrets
    raw = {name: (FIXTURES / name).read_text() for name in (
        "qperf-tcp_bw-uu-vv.txt", "qperf-tcp_lat-uu-vv.txt", "iperf3-stream.json",
        "csrc-stream-receiver.json", "csrc-pingpong-client.json", "cpu-sampler.txt")}
    root = out / f"synthetic-{runs}"
    cells = _cells()
    records: dict[str, Any] = {}
    for i in range(runs):
        cfg, direction, tool, test, size, mtu = cells[i % len(cells)]
        rep = i // len(cells) + 1
        run_id = f"{cfg}.{direction}.{tool}.{test}.{size}B.sb-auto.mtu{mtu}.r{rep:02d}"
        rel = f"runs/{run_id}"
        factor = rng.uniform(0.8, 1.2)
        if tool == "qperf":
            name = "qperf-tcp_bw-uu-vv.txt" if test == "stream" else "qperf-tcp_lat-uu-vv.txt"
            client = re.sub(r"(bw\s+=\s+)(\d+)", partial(_scale, factor=factor), raw[name])
        elif tool == "iperf3":
            client = raw["iperf3-stream.json"]
        else:
            client = raw["csrc-pingpong-client.json"] if test == "rr" else "{}"
        server = raw["csrc-stream-receiver.json"] if (tool, test) == ("csrc", "stream") else ""
        files = {"client_stdout": f"{rel}/client.stdout", "client_stderr": f"{rel}/client.stderr",
                 "server_stdout": f"{rel}/server.stdout", "server_stderr": f"{rel}/server.stderr",
                 "cpu:lab-a": f"{rel}/cpu-lab-a.txt", "cpu:lab-b": f"{rel}/cpu-lab-b.txt"}
        contents = {"client_stdout": client, "client_stderr": "", "server_stdout": server,
                    "server_stderr": "", "cpu:lab-a": raw["cpu-sampler.txt"],
                    "cpu:lab-b": raw["cpu-sampler.txt"]}
        (root / rel).mkdir(parents=True, exist_ok=True)
        for key, path in files.items():
            (root / path).write_text(contents[key])
        records[run_id] = {
            "run_id": run_id, "configuration": cfg, "direction": direction, "tool": tool,
            "test": test, "message_size": size, "socket_buffer": "auto", "mtu": mtu,
            "repetition": rep, "status": "ok", "reason": "", "files": files,
            "client": {"role": "host", "host": "lab-a", "address": "198.18.0.1",
                       "netns": None},
            "server": {"role": "host", "host": "lab-b", "address": "198.18.0.2",
                       "netns": None}}
    manifest = {"schema_version": SCHEMA_VERSION, "state": "complete",
                "harness": {"commit": "synthetic"}, "campaign": {"seed": seed},
                "plan": list(records), "runs": records}
    write_atomic(root / "manifest.json", json.dumps(manifest))
    return root
