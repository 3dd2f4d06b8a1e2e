"""TCP counter snapshots (collector/tcp_counters.py): a marker, /proc/uptime, then
/proc/net/snmp and /proc/net/netstat — pairs of lines `Proto: Name1 Name2 …` and
`Proto: v1 v2 …`. Two snapshots bracket the measurement window inside one endpoint's network
namespace; the counters are the namespace's, so any other TCP traffic there counts too."""

import itertools

from . import ParseError

MARK = "### dataplane-bench tcp snapshot"
# The counters kept, by protocol line and name in the kernel's files.
COUNTERS = {
    "retrans_segs": ("Tcp", "RetransSegs"),          # segments retransmitted
    "out_segs": ("Tcp", "OutSegs"),                  # segments sent
    "lost_retransmits": ("TcpExt", "TCPLostRetransmit"),  # a retransmission lost again
    "ofo_queued": ("TcpExt", "TCPOFOQueue"),         # packets queued out of order
    "rcv_pruned": ("TcpExt", "PruneCalled"),         # receive queue pruned (buffer overrun)
    "rcv_collapsed": ("TcpExt", "TCPRcvCollapsed"),  # packets collapsed to save buffer space
    "out_octets": ("IpExt", "OutOctets"),            # IP bytes sent, headers included
}


def _snapshot(block: str) -> dict[str, int]:
    lines = [line.split() for line in block.splitlines() if line.strip()]
    values: dict[str, int] = {}
    for names, numbers in itertools.pairwise(lines):
        if (len(names) < 2 or not names[0].endswith(":") or names[0] != numbers[0]
                or len(names) != len(numbers) or not names[1][:1].isalpha()):
            continue
        proto = names[0].removesuffix(":")
        for name, text in zip(names[1:], numbers[1:], strict=True):
            try:
                values[f"{proto}.{name}"] = int(text)
            except ValueError as exc:
                raise ParseError(f"tcpstat: {proto}.{name} is {text[:40]!r}, not a "
                                 "counter") from exc
    if "Tcp.RetransSegs" not in values:
        raise ParseError("tcpstat: a snapshot without the Tcp lines of /proc/net/snmp")
    return values


def window_deltas(text: str) -> dict[str, int | None]:
    """Each of COUNTERS' change over the window (None when the kernel does not have it)."""
    blocks = text.split(MARK + "\n")[1:]
    if len(blocks) != 2:
        raise ParseError(f"tcpstat: expected 2 snapshots, found {len(blocks)}")
    before, after = (_snapshot(b) for b in blocks)
    out: dict[str, int | None] = {}
    for key, (proto, name) in COUNTERS.items():
        full = f"{proto}.{name}"
        if full not in before or full not in after:
            out[key] = None
            continue
        delta = after[full] - before[full]
        if delta < 0:
            raise ParseError(f"tcpstat: {full} went backwards (another namespace, or a "
                             "reboot in between?)")
        out[key] = delta
    return out
