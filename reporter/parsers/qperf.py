"""qperf 0.4.x text output: `test:` then `    name  =  value unit` lines.

With `-uu` units are unified (bytes/sec, ns, …); without it qperf scales them (KB/sec, us, …),
prints thousands commas and sizes as `64 KiB (65,536)`. Lines whose value is ≤ 0 are omitted by
qperf itself. Errors go to stdout (`HOST: failed to connect`)."""

import math
import re

from . import ParseError

LINE = re.compile(r"^\s+(\w+)\s+=\s+([-+0-9.,eE]+)\s*(.*?)\s*$")
# Factors to the base unit of each family: bytes/sec, bytes, seconds, /sec, %.
UNITS: dict[str, tuple[str, float]] = {
    "bytes/sec": ("bytes/sec", 1), "KB/sec": ("bytes/sec", 1e3), "MB/sec": ("bytes/sec", 1e6),
    "GB/sec": ("bytes/sec", 1e9), "TB/sec": ("bytes/sec", 1e12),
    "bits/sec": ("bytes/sec", 1 / 8), "Kb/sec": ("bytes/sec", 1e3 / 8),
    "Mb/sec": ("bytes/sec", 1e6 / 8), "Gb/sec": ("bytes/sec", 1e9 / 8),
    "bytes": ("bytes", 1), "KB": ("bytes", 1e3), "MB": ("bytes", 1e6), "GB": ("bytes", 1e9),
    "KiB": ("bytes", 1024), "MiB": ("bytes", 1024**2), "GiB": ("bytes", 1024**3),
    "ns": ("sec", 1e-9), "us": ("sec", 1e-6), "ms": ("sec", 1e-3), "sec": ("sec", 1),
    "ns/GB": ("sec/GB", 1e-9), "us/GB": ("sec/GB", 1e-6), "ms/GB": ("sec/GB", 1e-3),
    "sec/GB": ("sec/GB", 1),
    "/sec": ("/sec", 1), "K/sec": ("/sec", 1e3), "M/sec": ("/sec", 1e6),
    "% cpus": ("%", 1), "": ("", 1),
}


def parse(text: str) -> dict[str, tuple[float, str]]:
    """name → (value in the family's base unit, base unit). Raises ParseError."""
    results: dict[str, tuple[float, str]] = {}
    test_seen = False
    for line in text.splitlines():
        if re.match(r"^\w+:\s*$", line):
            test_seen = True
            continue
        m = LINE.match(line)
        if not m:
            continue
        name, number, unit = m.groups()
        unit = re.sub(r"\s*\([0-9,]+\)$", "", unit)  # "64 KiB (65,536)" → "KiB"
        if unit not in UNITS:
            raise ParseError(f"qperf: unknown unit {unit!r} for {name}")
        base, factor = UNITS[unit]
        try:
            value = float(number.replace(",", ""))
        except ValueError as exc:
            raise ParseError(f"qperf: {name}: {number[:40]!r} is not a number") from exc
        if not math.isfinite(value):
            raise ParseError(f"qperf: {name}: {number[:40]!r} is out of range")
        results[name] = (value * factor, base)
    if not test_seen or not results:
        said = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.endswith(":")]
        raise ParseError(f"qperf: no results: {said[0][:200] if said else '(empty output)'}")
    return results


def throughput_bps(results: dict[str, tuple[float, str]]) -> float:
    value, unit = results.get("bw", (0.0, ""))
    if unit != "bytes/sec" or value <= 0:
        raise ParseError("qperf: no bw line")
    return value * 8


def latency_s(results: dict[str, tuple[float, str]]) -> float:
    """qperf tcp_lat's `latency`: one-way, = mean RTT / 2."""
    value, unit = results.get("latency", (0.0, ""))
    if unit != "sec" or value <= 0:
        raise ParseError("qperf: no latency line")
    return value
