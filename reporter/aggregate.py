"""From the tidy table to one row per cell and metric, with statistics and ratios to bare metal."""

import math
from typing import Any

import pandas as pd

from .stats import Summary, ratio, summarise
from .tidy import CELL_COLUMNS

METRICS = {
    "gbps": "throughput (Gb/s)",
    "lat_mean_us": "one-way latency, mean (µs)",
    "lat_p50_us": "one-way latency, p50 (µs)",
    "lat_p99_us": "one-way latency, p99 (µs)",
    "cpu_sender_pct": "sender CPU (% of one CPU)",
    "cpu_receiver_pct": "receiver CPU (% of one CPU)",
    "cpu_max_pct": "CPU, the higher side (% of one CPU)",
    "cpu_sender_guest_pct": "sender CPU inside its VM (% of one guest CPU)",
    "cpu_receiver_guest_pct": "receiver CPU inside its VM (% of one guest CPU)",
    "cpu_per_gbps": "CPU per Gb/s (% of one CPU ÷ Gb/s)",
}
BASELINE = ("bare", "host-host")


def cells(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Statistics of ``metric`` per cell, over the runs that measured it."""
    if df.empty or metric not in df.columns:
        return pd.DataFrame()
    ok = df[(df["status"] == "ok") & df[metric].notna()]
    rows: list[dict[str, Any]] = []
    for key, group in ok.groupby(CELL_COLUMNS, sort=True):
        values = [float(v) for v in group[metric]]
        s = summarise(values)
        run_ids = list(group["run_id"])
        rows.append({**dict(zip(CELL_COLUMNS, key, strict=True)), "metric": metric,
                     "path": f"{key[0]} {key[1]}", "n": s.n, "mean": s.mean,
                     "median": s.median, "sd": s.sd, "cv": s.cv, "min": s.min, "max": s.max,
                     "ci_half": s.ci95_half, "ci_low": s.ci95[0], "ci_high": s.ci95[1],
                     "outlier_runs": [run_ids[i] for i in s.outliers],
                     "mean_without_outliers": s.mean_without_outliers, "noisy": s.noisy})
    return pd.DataFrame(rows)


def with_ratios(cell_df: pd.DataFrame) -> pd.DataFrame:
    """Add ratio_to_bare and its 95 % half-width (same tool, test, size, buffers, MTU)."""
    if cell_df.empty:
        return cell_df
    out = cell_df.copy()
    match = ["tool", "test", "message_size", "socket_buffer", "mtu"]
    base = out[(out["configuration"] == BASELINE[0]) & (out["direction"] == BASELINE[1])]
    index = {tuple(r[m] for m in match): r for _, r in base.iterrows()}
    ratios, halves = [], []
    for _, row in out.iterrows():
        b = index.get(tuple(row[m] for m in match))
        if b is None or not b["mean"]:
            ratios.append(math.nan)
            halves.append(math.nan)
            continue
        a_s, b_s = _summary_like(row), _summary_like(b)
        r, h = ratio(a_s, b_s)
        ratios.append(r)
        halves.append(h)
    out["ratio_to_bare"] = ratios
    out["ratio_half"] = halves
    return out


def _summary_like(row: Any) -> Summary:
    return Summary(n=int(row["n"]), mean=float(row["mean"]), median=float(row["median"]),
                   sd=float(row["sd"]), cv=float(row["cv"]), min=float(row["min"]),
                   max=float(row["max"]), ci95_half=float(row["ci_half"]), outliers=(),
                   mean_without_outliers=float(row["mean_without_outliers"]),
                   noisy=bool(row["noisy"]))
