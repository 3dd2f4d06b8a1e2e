"""Our programs' JSON (csrc/schema.json): the stream receiver's goodput, the ping-pong client's
RTT and one-way distributions."""

import json
from typing import Any

from . import ParseError


def _load(text: str, tool: str, role: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"csrc: not JSON ({exc.msg})") from exc
    if not isinstance(doc, dict) or doc.get("tool") != tool or doc.get("role") != role:
        raise ParseError(f"csrc: expected {tool} {role} output")
    return doc


def stream_receiver(text: str) -> dict[str, Any]:
    doc = _load(text, "dpb-stream", "receiver")
    try:
        return {"goodput_bps": float(doc["goodput_bps"]), "ended_early": bool(doc["ended_early"]),
                "rcvbuf_applied": int(doc["rcvbuf_applied"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise ParseError(f"csrc: bad receiver field {exc}") from exc


def pingpong_client(text: str) -> dict[str, float]:
    doc = _load(text, "dpb-pingpong", "client")
    try:
        rtt, one = doc["rtt_ns"], doc["one_way_ns"]
        out = {f"lat_{k.replace('.', '_')}_us": float(one[k]) / 1e3
               for k in ("mean", "p50", "p90", "p99", "p99.9")}
        out["rtt_mean_us"] = float(rtt["mean"]) / 1e3
        out["rtt_p50_us"] = float(rtt["p50"]) / 1e3
    except (KeyError, TypeError, ValueError) as exc:
        raise ParseError(f"csrc: bad ping-pong field {exc}") from exc
    return out
