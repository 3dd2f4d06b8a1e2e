"""iperf3 -J output. `sender` flags and host/remote CPU are relative to the client, so they are
mapped with start.test_start.reverse. Failures still print JSON, with an "error" key."""

from typing import Any

from . import ParseError, field, load_json, number, optional_number, said


def udp(text: str) -> dict[str, Any]:
    """iperf3 -u -J: what the receiver got, from end.sum_received (its `packets` are the
    datagrams it expected by sequence number; received = packets - lost_packets)."""
    doc = _document(text)
    seconds = number(doc, "end", "sum_received", "seconds", tool="iperf3")
    packets = number(doc, "end", "sum_received", "packets", tool="iperf3")
    lost = number(doc, "end", "sum_received", "lost_packets", tool="iperf3")
    if seconds <= 0 or lost > packets:
        raise ParseError("iperf3: end.sum_received is not a measurement")
    return {"packets_per_s": (packets - lost) / seconds,
            "goodput_bps": number(doc, "end", "sum_received", "bits_per_second", tool="iperf3"),
            "loss_pct": number(doc, "end", "sum_received", "lost_percent", tool="iperf3")}


def _document(text: str) -> dict[str, Any]:
    doc = load_json(text, "iperf3")
    if not isinstance(doc, dict):
        raise ParseError("iperf3: the JSON is not an object")
    if doc.get("error"):
        raise ParseError(f"iperf3: {said(doc['error'])}")
    return doc


def parse(text: str) -> dict[str, Any]:
    doc = _document(text)
    reverse = field(doc, "start", "test_start", tool="iperf3")
    if not isinstance(reverse, dict):
        raise ParseError("iperf3: start.test_start is not an object")
    reversed_ = bool(reverse.get("reverse", 0))
    received = number(doc, "end", "sum_received", "bits_per_second", tool="iperf3")
    host = optional_number(doc, "end", "cpu_utilization_percent", "host_total", tool="iperf3")
    remote = optional_number(doc, "end", "cpu_utilization_percent", "remote_total", tool="iperf3")
    retransmits = optional_number(doc, "end", "sum_sent", "retransmits", tool="iperf3")
    # The client's socket: the sender's send buffer, or (reversed) the receiver's receive one.
    sndbuf = optional_number(doc, "start", "sndbuf_actual", tool="iperf3")
    rcvbuf = optional_number(doc, "start", "rcvbuf_actual", tool="iperf3")
    streams = doc["end"].get("streams", []) if isinstance(doc["end"], dict) else []
    if not isinstance(streams, list):
        raise ParseError("iperf3: end.streams is not a list")
    flows = [number(s, "receiver", "bits_per_second", tool="iperf3") for s in streams]
    return {"goodput_bps": received, "reverse": reversed_, "flows_bps": flows,
            "sndbuf_applied": None if reversed_ else sndbuf,
            "rcvbuf_applied": rcvbuf if reversed_ else None,
            # getrusage of the iperf3 processes only: kept beside ours, never the CPU figure
            "iperf3_sender_cpu_pct": remote if reversed_ else host,
            "iperf3_receiver_cpu_pct": host if reversed_ else remote,
            "retransmits": retransmits}
