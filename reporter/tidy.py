"""One row per run: the cell, the status, and every figure with its unit in the column name.

A raw file that cannot be parsed marks its run `unparseable` (with the reason) and the rest
goes on: bad input never breaks the report."""

from collections.abc import Callable
from typing import Any

import pandas as pd

from .archive import Campaign
from .parsers import ParseError, csrc, iperf3, procstat, qperf

CELL_COLUMNS = ["configuration", "direction", "tool", "test", "message_size", "socket_buffer",
                "mtu"]


def _figures(campaign: Campaign, rec: dict[str, Any]) -> dict[str, Any]:
    files = rec.get("files", {})

    def raw(key: str) -> str:
        if key not in files:
            raise ParseError(f"no {key.replace('_', '.')} file")
        try:
            return campaign.read(files[key])
        except FileNotFoundError as exc:
            raise ParseError(f"{files[key]} is missing") from exc

    tool, test = rec["tool"], rec["test"]
    out: dict[str, Any] = {}
    if tool == "qperf":
        results = qperf.parse(raw("client_stdout"))
        if test == "stream":
            out["gbps"] = qperf.throughput_bps(results) / 1e9
        else:
            out["lat_mean_us"] = qperf.latency_s(results) * 1e6
            out["rtt_mean_us"] = out["lat_mean_us"] * 2
    elif tool == "iperf3":
        parsed = iperf3.parse(raw("client_stdout"))
        out["gbps"] = parsed["goodput_bps"] / 1e9
        out["iperf3_sender_cpu_pct"] = parsed["iperf3_sender_cpu_pct"]
        out["iperf3_receiver_cpu_pct"] = parsed["iperf3_receiver_cpu_pct"]
    elif tool == "csrc":
        if test == "stream":
            out["gbps"] = csrc.stream_receiver(raw("server_stdout"))["goodput_bps"] / 1e9
        else:
            out.update(csrc.pingpong_client(raw("client_stdout")))
    else:
        raise ParseError(f"unknown tool {tool!r}")
    client_host, server_host = rec["client"]["host"], rec["server"]["host"]
    for side, host in (("sender", client_host), ("receiver", server_host)):
        cpu = procstat.window_cpu(raw(f"cpu:{host}"))
        out[f"cpu_{side}_pct"] = cpu["cpu_pct"]
        out[f"cpu_{side}_busiest_core_pct"] = cpu["cpu_busiest_core_pct"]
    out["cpu_max_pct"] = max(out["cpu_sender_pct"], out["cpu_receiver_pct"])
    if out.get("gbps"):
        out["cpu_per_gbps"] = out["cpu_max_pct"] / out["gbps"]
    return out


def table(campaigns: list[Campaign],
          on_problem: Callable[[str, str, str], None] = lambda c, r, why: None) -> pd.DataFrame:
    rows = []
    for campaign in campaigns:
        for run_id, rec in sorted(campaign.manifest["runs"].items()):
            row: dict[str, Any] = {"campaign": campaign.name, "run_id": run_id,
                                   "repetition": rec.get("repetition"),
                                   "status": rec.get("status", "unknown"),
                                   "reason": rec.get("reason", ""),
                                   **{k: rec.get(k) for k in CELL_COLUMNS}}
            if row["status"] == "ok":
                try:
                    row.update(_figures(campaign, rec))
                except (ParseError, KeyError, TypeError, ValueError) as exc:
                    row["status"], row["reason"] = "unparseable", str(exc)
            if row["status"] != "ok":
                on_problem(campaign.name, run_id, f"{row['status']}: {row['reason']}")
            rows.append(row)
    return pd.DataFrame(rows)
