"""TCP counter snapshots (collector/tcp_counters.py): a marker, /proc/uptime, then
/proc/net/snmp and /proc/net/netstat — pairs of lines `Proto: Name1 Name2 …` and
`Proto: v1 v2 …`. Two snapshots bracket the measurement window inside one endpoint's network
namespace; the counters are the namespace's, so any other TCP traffic there counts too."""

import functools

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
    "active_opens": ("Tcp", "ActiveOpens"),          # connect()s: SYN sent
    "passive_opens": ("Tcp", "PassiveOpens"),        # connections accepted: SYN received
}


MAX_NAMES_LINE = 8192  # a kernel's names line is ~3 KiB: a longer one is not kept in the cache
# Only these protocol lines are read, and only these counters converted: a snapshot has ~400.
WANTED: dict[str, tuple[str, ...]] = {}
for _proto, _name in COUNTERS.values():
    WANTED[_proto] = (*WANTED.get(_proto, ()), _name)


@functools.lru_cache(maxsize=64)
def _positions(proto: str, names: str) -> tuple[int, tuple[tuple[str, int], ...]]:
    """A names line's field count and where each wanted counter is in it (every snapshot of
    a kernel has the same names lines)."""
    fields = names.split()
    return len(fields), tuple((name, fields.index(name)) for name in WANTED[proto]
                              if name in fields)


def _snapshot(block: str) -> dict[str, int]:
    values: dict[str, int] = {}
    header: tuple[str, str] | None = None  # the last names line of a wanted protocol
    for line in block.splitlines():
        proto, sep, rest = line.partition(": ")
        if not sep or proto not in WANTED:
            header = None
            continue
        if header is None or header[0] != proto:
            header = (proto, rest) if rest.lstrip()[:1].isalpha() else None
            continue
        names = header[1]
        count, wanted = (_positions(proto, names) if len(names) <= MAX_NAMES_LINE
                         else _positions.__wrapped__(proto, names))
        header = None
        fields = rest.split()
        if count != len(fields):
            continue
        for name, i in wanted:
            text = fields[i]
            try:
                if len(text) > 20:  # a 64-bit counter
                    raise ValueError(text)
                values[f"{proto}.{name}"] = int(text)
            except ValueError as exc:
                raise ParseError(f"tcpstat: {proto}.{name} is {text[:40]!r}, not a "
                                 "counter") from exc
    if "Tcp.RetransSegs" not in values:
        raise ParseError("tcpstat: a snapshot without the Tcp lines of /proc/net/snmp")
    return values


def window_seconds(text: str) -> float | None:
    """The seconds between the two snapshots (their /proc/uptime lines), None when unreadable."""
    blocks = text.split(MARK + "\n")[1:]
    try:
        first, second = (float(b.split(None, 1)[0]) for b in blocks)
    except ValueError:
        return None
    span = second - first
    return span if 0 < span < 1e7 else None


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
