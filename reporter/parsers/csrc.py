"""Our programs' JSON (csrc/schema.json): the stream receiver's goodput, the ping-pong client's
RTT and one-way distributions."""

from typing import Any

from . import ParseError, field, load_json, number


def _load(text: str, tool: str, role: str) -> dict[str, Any]:
    doc = load_json(text, "csrc")
    if not isinstance(doc, dict) or doc.get("tool") != tool or doc.get("role") != role:
        raise ParseError(f"csrc: expected {tool} {role} output")
    return doc


def line_of(text: str, tool: str, role: str) -> str:
    """The one JSON line ``tool`` printed as ``role`` in an output that holds several programs'
    lines (rr-load runs the ping-pong and the bulk flows side by side)."""
    for line in text.splitlines():
        if f'"tool": "{tool}"' in line and f'"role": "{role}"' in line:
            return line
    raise ParseError(f"csrc: no {tool} {role} output")


def stream_receiver(text: str) -> dict[str, Any]:
    doc = _load(text, "dpb-stream", "receiver")
    ended_early = field(doc, "ended_early", tool="csrc")
    if not isinstance(ended_early, bool):
        raise ParseError("csrc: ended_early is not true or false")
    flows = doc.get("flows", [])  # before --streams, one flow and no list
    if not isinstance(flows, list):
        raise ParseError("csrc: flows is not a list")
    return {"goodput_bps": number(doc, "goodput_bps", tool="csrc"), "ended_early": ended_early,
            "rcvbuf_applied": int(number(doc, "rcvbuf_applied", tool="csrc")),
            "flows_bps": [number(f, "goodput_bps", tool="csrc") for f in flows]}


def stream_sender(text: str) -> dict[str, Any]:
    """The sender's buffer as applied, and its send() calls per second over its run."""
    doc = _load(text, "dpb-stream", "sender")
    seconds = number(doc, "seconds", tool="csrc")
    return {"sndbuf_applied": int(number(doc, "sndbuf_applied", tool="csrc")),
            "send_calls_per_s": number(doc, "send_calls", tool="csrc") / seconds
            if seconds > 0 else None}


def crr_client(text: str) -> dict[str, float]:
    """dpb-crr's client: connections per second, the connect() and whole-connection latency
    percentiles (µs), and the connections that failed in the window."""
    doc = _load(text, "dpb-crr", "client")
    out = {"crr_cps": number(doc, "connections_per_s", tool="csrc"),
           "crr_failed": number(doc, "failed_in_window", tool="csrc")}
    for k in ("p50", "p99"):
        out[f"crr_connect_{k}_us"] = _us(doc, "connect_ns", k)
    for k in ("mean", "p50", "p99", "p99.9"):
        out[f"crr_{k.replace('.', '_')}_us"] = _us(doc, "transaction_ns", k)
    return out


def udp_receiver(text: str) -> dict[str, Any]:
    """dpb-udp's receiver: datagrams per second, goodput and loss over its window."""
    doc = _load(text, "dpb-udp", "receiver")
    ended_early = field(doc, "ended_early", tool="csrc")
    if not isinstance(ended_early, bool):
        raise ParseError("csrc: ended_early is not true or false")
    return {"packets_per_s": number(doc, "packets_per_s", tool="csrc"),
            "goodput_bps": number(doc, "goodput_bps", tool="csrc"),
            "loss_pct": number(doc, "loss_pct", tool="csrc"), "ended_early": ended_early}


def pingpong_client(text: str) -> dict[str, float]:
    doc = _load(text, "dpb-pingpong", "client")
    out: dict[str, float] = {}
    for k in ("mean", "p50", "p90", "p99", "p99.9"):
        out[f"lat_{k.replace('.', '_')}_us"] = _us(doc, "one_way_ns", k)
    out["rtt_mean_us"] = _us(doc, "rtt_ns", "mean")
    out["rtt_p50_us"] = _us(doc, "rtt_ns", "p50")
    return out


def _us(doc: dict[str, Any], *path: str) -> float:
    return number(doc, *path, tool="csrc") / 1e3
