"""CPU snapshots (the collector's sampler and dpb-cpusnap): marker, wall clock, /proc/uptime,
optionally `monotonic S`, then /proc/stat lines. CPU % of one CPU between two snapshots =
100 · Δbusy ÷ (USER_HZ · Δt), Δt from a clock that does not step (CLOCK_MONOTONIC, else
/proc/uptime; the wall clock only when neither is there, since NTP may step it);
busy = user + nice + system + irq + softirq + steal (guest time is already inside user and
nice; iowait is idle)."""

import math
from dataclasses import dataclass

from . import ParseError

MARK = "### dataplane-bench cpu snapshot"
COUNTER_DIGITS = 20  # a 64-bit counter
USER_HZ = 100  # Linux's fixed USER_HZ on every architecture the project supports
BUSY = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal
IDLE = (3, 4)  # idle iowait
# Where busy time goes (they add up to the busy total): which work limits a path.
CLASSES = {"user": (0, 1), "system": (2,), "softirq": (6,), "irq": (5,), "steal": (7,)}


@dataclass(frozen=True)
class Snapshot:
    wall_s: float
    cpus: dict[str, tuple[int, ...]]  # "cpu" (aggregate), "cpu0", …
    # A clock that never steps: CLOCK_MONOTONIC (dpb-cpusnap) or /proc/uptime (the sampler,
    # 10 ms resolution); None when neither was captured (then the wall clock is used).
    steady_s: float | None = None


def parse(text: str) -> list[Snapshot]:
    snaps = []
    for block in text.split(MARK + "\n")[1:]:
        lines = block.splitlines()
        try:
            wall = float(lines[0])
        except (IndexError, ValueError) as exc:
            raise ParseError("procstat: a snapshot without a wall-clock line") from exc
        if not math.isfinite(wall):
            raise ParseError("procstat: the wall-clock line is out of range")
        cpus: dict[str, tuple[int, ...]] = {}
        uptime = monotonic = None
        for line in lines[1:]:
            if line.lstrip().startswith("cpu"):
                fields = line.split()
                if max(map(len, fields)) > COUNTER_DIGITS:
                    raise ParseError(f"procstat: a counter too long in {line[:80]!r}")
                try:
                    cpus[fields[0]] = tuple(map(int, fields[1:]))
                except ValueError as exc:
                    raise ParseError(f"procstat: bad line {line[:80]!r}") from exc
                continue
            # At most three parts: the intr line has a field per interrupt, thousands.
            head = line.split(None, 2)
            if len(head) == 2:
                if head[0] == "monotonic":
                    monotonic = _seconds(head[1])
                elif uptime is None:
                    uptime = _seconds(head[0])
        if "cpu" not in cpus or any(len(v) < 8 for v in cpus.values()):
            raise ParseError("procstat: a snapshot without complete cpu lines")
        snaps.append(Snapshot(wall, cpus, monotonic if monotonic is not None else uptime))
    if len(snaps) != 2:
        raise ParseError(f"procstat: expected 2 snapshots, found {len(snaps)}")
    return snaps


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _seconds_between(before: Snapshot, after: Snapshot) -> float:
    if before.steady_s is not None and after.steady_s is not None:
        dt = after.steady_s - before.steady_s
    else:
        dt = after.wall_s - before.wall_s
    if dt <= 0:
        raise ParseError("procstat: snapshots out of order")
    return dt


def busy_pct(before: Snapshot, after: Snapshot, cpu: str = "cpu",
             fields: tuple[int, ...] = BUSY) -> float:
    """Busy time between the snapshots as % of one CPU (100 = one CPU pegged); ``fields``
    picks the /proc/stat columns (a class of CPU time)."""
    dt = _seconds_between(before, after)
    a, b = before.cpus[cpu], after.cpus[cpu]
    busy = sum(b[i] - a[i] for i in fields)
    if busy < 0:
        raise ParseError("procstat: counters went backwards (a reboot in between?)")
    return 100.0 * busy / (USER_HZ * dt)


def window_cpu(text: str) -> dict[str, float]:
    """Aggregate and busiest-single-CPU busy % over the window, and the aggregate split by
    class (``cpu_user_pct``, ``cpu_system_pct``, …; they add up to ``cpu_pct``)."""
    before, after = parse(text)
    per_cpu = [busy_pct(before, after, c) for c in before.cpus if c != "cpu" and c in after.cpus]
    return {"cpu_pct": busy_pct(before, after),
            "cpu_busiest_core_pct": max(per_cpu) if per_cpu else 0.0,
            "ncpu": float(len(per_cpu)),
            "window_start_s": before.wall_s, "window_end_s": after.wall_s,
            **{f"cpu_{name}_pct": busy_pct(before, after, fields=fields)
               for name, fields in CLASSES.items()}}
