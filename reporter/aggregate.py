"""From the tidy table to one row per cell and metric, with statistics and ratios to bare metal.

A cell belongs to one campaign: the campaign is part of every cell's key, so statistics and
ratios never mix runs of two campaigns (different days, kernels or tunings are different
populations)."""

import math
from typing import Any

import pandas as pd

from .stats import Summary, ratio, summarise
from .tidy import CELL_COLUMNS

METRICS = {
    "gbps": "throughput (Gb/s)",
    "lat_mean_us": "one-way latency, mean (µs)",
    "lat_p50_us": "one-way latency, p50 (µs)",
    "lat_p90_us": "one-way latency, p90 (µs)",
    "lat_p99_us": "one-way latency, p99 (µs)",
    "lat_p99_9_us": "one-way latency, p99.9 (µs)",
    "rtt_mean_us": "round-trip time, mean (µs)",
    "cpu_sender_pct": "sender CPU (% of one CPU)",
    "cpu_receiver_pct": "receiver CPU (% of one CPU)",
    "cpu_max_pct": "CPU, the higher side (% of one CPU)",
    "cpu_sender_busiest_core_pct": "sender's busiest core (% of that CPU)",
    "cpu_receiver_busiest_core_pct": "receiver's busiest core (% of that CPU)",
    "cpu_sender_guest_pct": "sender CPU inside its VM (% of one guest CPU)",
    "cpu_receiver_guest_pct": "receiver CPU inside its VM (% of one guest CPU)",
    "cpu_per_gbps": "CPU per Gb/s (% of one CPU ÷ Gb/s)",
}
BASELINE = ("bare", "host-host")
KEY = ["campaign", *CELL_COLUMNS]
# What a configuration is compared with bare metal on: the same campaign, tool, test, size,
# buffers and MTU.
RATIO_MATCH = ["campaign", "tool", "test", "message_size", "socket_buffer", "mtu"]


def cells(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Statistics of ``metric`` per cell, over the runs that measured it."""
    if df.empty or metric not in df.columns:
        return pd.DataFrame()
    ok = df[(df["status"] == "ok") & df[metric].notna()]
    rows: list[dict[str, Any]] = []
    for key, group in ok.groupby(KEY, sort=True):
        values = [float(v) for v in group[metric]]
        s = summarise(values)
        run_ids = list(group["run_id"])
        cell = dict(zip(KEY, key, strict=True))
        rows.append({**cell, "metric": metric,
                     "path": f"{cell['configuration']} {cell['direction']}", "n": s.n,
                     "mean": s.mean, "median": s.median, "sd": s.sd, "cv": s.cv, "min": s.min,
                     "max": s.max, "ci_half": s.ci95_half, "ci_low": s.ci95[0],
                     "ci_high": s.ci95[1], "outlier_runs": [run_ids[i] for i in s.outliers],
                     "mean_without_outliers": s.mean_without_outliers, "noisy": s.noisy,
                     "values": values})
    return pd.DataFrame(rows)


def with_ratios(cell_df: pd.DataFrame) -> pd.DataFrame:
    """Add ratio_to_bare with its 95 % interval (ratio_low, ratio_high: NaN when either cell
    has too few runs), against bare metal of the same campaign, tool, test, size, buffers, MTU."""
    if cell_df.empty:
        return cell_df
    out = cell_df.copy()
    base = out[(out["configuration"] == BASELINE[0]) & (out["direction"] == BASELINE[1])]
    index = {tuple(r[m] for m in RATIO_MATCH): r for _, r in base.iterrows()}
    values, lows, highs = [], [], []
    for _, row in out.iterrows():
        b = index.get(tuple(row[m] for m in RATIO_MATCH))
        r = ratio(summary_of(row), summary_of(b)) if b is not None else None
        values.append(r.value if r else math.nan)
        lows.append(r.low if r else math.nan)
        highs.append(r.high if r else math.nan)
    out["ratio_to_bare"] = values
    out["ratio_low"] = lows
    out["ratio_high"] = highs
    return out


def summary_of(row: Any) -> Summary:
    """A cell row's statistics back as a Summary."""
    return Summary(n=int(row["n"]), mean=float(row["mean"]), median=float(row["median"]),
                   sd=float(row["sd"]), cv=float(row["cv"]), min=float(row["min"]),
                   max=float(row["max"]), ci95_half=float(row["ci_half"]), outliers=(),
                   mean_without_outliers=float(row["mean_without_outliers"]),
                   noisy=bool(row["noisy"]))
