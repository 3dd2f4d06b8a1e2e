"""TCP counter snapshots: the kernel's /proc/net/snmp and /proc/net/netstat (retransmitted
segments, lost retransmits, out-of-order queueing, receive-queue pruning and collapsing, IP
octets) read inside an endpoint's network namespace — the counters are per namespace — at the
start and the end of the measurement window, beside the CPU snapshots. Stored raw; the
reporter computes the deltas."""

import shlex

MARK = "### dataplane-bench tcp snapshot"


def sampler_command(offset_s: float, window_s: float) -> list[str]:
    """A command (to run inside the endpoint's namespace) that sleeps until the window opens,
    snapshots, sleeps through it, snapshots.

    Each snapshot: a marker line, `cat /proc/uptime` (the same clock as the CPU snapshots'),
    then /proc/net/snmp and /proc/net/netstat (header line, value line, per protocol)."""
    snap = f"echo {shlex.quote(MARK)}; cat /proc/uptime /proc/net/snmp /proc/net/netstat"
    return ["sh", "-c", f"sleep {offset_s:g}; {snap}; sleep {window_s:g}; {snap}"]
