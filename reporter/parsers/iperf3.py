"""iperf3 -J output. `sender` flags and host/remote CPU are relative to the client, so they are
mapped with start.test_start.reverse. Failures still print JSON, with an "error" key."""

import json
from typing import Any

from . import ParseError


def parse(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"iperf3: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(doc, dict):
        raise ParseError("iperf3: the JSON is not an object")
    if doc.get("error"):
        raise ParseError(f"iperf3: {doc['error']}")
    try:
        end = doc["end"]
        reverse = bool(doc["start"]["test_start"].get("reverse", 0))
        received = float(end["sum_received"]["bits_per_second"])
        cpu = end.get("cpu_utilization_percent", {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ParseError(f"iperf3: missing field {exc}") from exc
    host, remote = cpu.get("host_total"), cpu.get("remote_total")
    return {"goodput_bps": received, "reverse": reverse,
            # getrusage of the iperf3 processes only: kept beside ours, never the CPU figure
            "iperf3_sender_cpu_pct": remote if reverse else host,
            "iperf3_receiver_cpu_pct": host if reverse else remote,
            "retransmits": end.get("sum_sent", {}).get("retransmits")}
