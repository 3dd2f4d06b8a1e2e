"""CPU snapshots: /proc/stat (every line, per CPU too) with a timestamp, taken on a host at the
start and at the end of the measurement window. The collector stores them raw; the reporter
turns two snapshots into busy % of one CPU."""

import shlex

MARK = "### dataplane-bench cpu snapshot"


def sampler_command(offset_s: float, window_s: float) -> list[str]:
    """A command that sleeps until the window opens, snapshots, sleeps through it, snapshots.

    Each snapshot: a marker line, `date +%s.%N` (wall clock, ns), `cat /proc/uptime`, /proc/stat.
    """
    snap = f"echo {shlex.quote(MARK)}; date +%s.%N; cat /proc/uptime; cat /proc/stat"
    return ["sh", "-c", f"sleep {offset_s:g}; {snap}; sleep {window_s:g}; {snap}"]
