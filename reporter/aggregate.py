"""From the tidy table to one row per cell and metric, with statistics and ratios to bare metal.

A cell belongs to one campaign: the campaign is part of every cell's key, so statistics and
ratios never mix runs of two campaigns (different days, kernels or tunings are different
populations). Computed column-wise (pandas, scipy), so a history of 60,000 runs stays fast;
reporter/stats.py holds the same formulas for one cell and the tests hold both to each other."""

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from . import metrics
from .stats import MIN_RUNS_FOR_CI, NOISY_FRACTION, Summary, outlier_indices, ratio_arrays
from .tidy import CELL_COLUMNS

METRICS = {name: metrics.BY_NAME[name].meaning for name in metrics.PER_CELL}
BASELINE = ("bare", "host-host")
KEY = ["campaign", *CELL_COLUMNS]
# What a configuration is compared with bare metal on: the same campaign, tool, test, size,
# buffers, MTU, number of flows and tuning profile.
RATIO_MATCH = ["campaign", "tool", "test", "message_size", "socket_buffer", "mtu", "streams",
               "tuning", "pair"]


def path_of(df: pd.DataFrame) -> pd.Series:
    """The path a row measured: "configuration direction"."""
    return df["configuration"].astype(str) + " " + df["direction"].astype(str)


def _t975(df: Any) -> Any:
    return special.stdtrit(df, 0.975)  # scipy.stats.t.ppf(0.975, df), without loading scipy.stats


def cells(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Statistics of ``metric`` per cell, over the runs that measured it."""
    if df.empty or metric not in df.columns:
        return pd.DataFrame()
    ok = df.loc[(df["status"] == "ok") & df[metric].notna(), [*KEY, "run_id", metric]]
    if ok.empty:
        return pd.DataFrame()
    ok = ok.astype({metric: float}).sort_values([*KEY, "run_id"])
    grouped = ok.groupby(KEY, sort=True)[metric]
    out = grouped.agg(n="count", mean="mean", median="median", sd="std", min="min",
                      max="max").reset_index()
    n = out["n"].to_numpy(dtype=float)
    mean = out["mean"].to_numpy(dtype=float)
    sd = np.where(n > 1, out["sd"].fillna(0.0).to_numpy(dtype=float), 0.0)
    out["sd"] = sd
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean != 0, sd / np.abs(mean), np.nan)
        half = np.where(n >= MIN_RUNS_FOR_CI, _t975(np.maximum(n - 1, 1)) * sd / np.sqrt(n),
                        np.nan)
        spread = np.where(mean > 0, half / mean, np.nan)
        out["ci_low"] = np.where(mean > 0, mean * np.exp(-spread), mean - half)
        out["ci_high"] = np.where(mean > 0, mean * np.exp(spread), mean + half)
    out["cv"] = cv
    out["ci_half"] = half
    noisy_cv = np.nan_to_num(cv, nan=0.0) > NOISY_FRACTION
    noisy_ci = np.nan_to_num(half, nan=0.0) > NOISY_FRACTION * np.abs(mean)
    out["noisy"] = (n > 1) & (mean != 0) & (noisy_cv | noisy_ci)
    # Outliers need 4 runs or more; the rest (most cells of a short history) have none.
    outliers: list[list[str]] = [[] for _ in range(len(out))]
    without = list(mean)
    big = np.flatnonzero(n >= 4)
    if len(big):
        groups = ok.groupby(KEY, sort=True).indices
        keys = list(groups)
        values, runs = ok[metric].to_numpy(), ok["run_id"].to_numpy()
        for i in big:
            rows = groups[keys[i]]
            vals = [float(v) for v in values[rows]]
            idx = outlier_indices(vals)
            outliers[i] = [str(runs[rows[j]]) for j in idx]
            kept = [v for j, v in enumerate(vals) if j not in idx]
            without[i] = sum(kept) / len(kept) if kept else mean[i]
    out["outlier_runs"] = outliers
    out["mean_without_outliers"] = without
    out["metric"] = metric
    out["path"] = path_of(out)
    return out


def with_ratios(cell_df: pd.DataFrame) -> pd.DataFrame:
    """Add ratio_to_bare with its 95 % interval (ratio_low, ratio_high: NaN when either cell
    has too few runs), against bare metal of the same campaign, tool, test, size, buffers and
    MTU; the interval on the log scale as in stats.ratio."""
    if cell_df.empty:
        return cell_df
    base = cell_df[(cell_df["configuration"] == BASELINE[0])
                   & (cell_df["direction"] == BASELINE[1])]
    base = base[[*RATIO_MATCH, "n", "mean", "sd"]].rename(
        columns={"n": "b_n", "mean": "b_mean", "sd": "b_sd"})
    out = cell_df.merge(base, on=RATIO_MATCH, how="left")
    r, low, high = ratio_arrays(*(out[c].to_numpy(dtype=float) for c in (
        "n", "mean", "sd", "b_n", "b_mean", "b_sd")))
    out["ratio_to_bare"] = r
    out["ratio_low"] = low
    out["ratio_high"] = high
    # One block per dtype: the pages slice each frame hundreds of times, a block at a time.
    return out.drop(columns=["b_n", "b_mean", "b_sd"]).copy()


CPU_CLASSES = ("user", "system", "softirq", "irq", "steal")
BUSIEST = "busiest core"


def _stream_runs(df: pd.DataFrame, campaigns: list[str], columns: list[str]) -> pd.DataFrame:
    """The ok stream runs of ``campaigns``: the cell key and ``columns`` as floats."""
    ok = df.loc[(df["status"] == "ok") & (df["test"] == "stream")
                & df["campaign"].isin(campaigns), [*KEY, *columns]]
    return ok.astype({c: float for c in columns}) if not ok.empty else pd.DataFrame()


def cpu_classes(df: pd.DataFrame, campaigns: list[str]) -> pd.DataFrame:
    """Where each side's CPU time goes, for the stream cells of ``campaigns``: per cell, side
    and class (user, system, softirq, irq, steal — they add up to the side's total) the mean
    % of one CPU over the runs, and the mean busiest single core as class BUSIEST."""
    columns = [f"cpu_{side}_{name}_pct" for side in ("sender", "receiver")
               for name in (*CPU_CLASSES, "busiest_core")]
    if df.empty or not set(columns) <= set(df.columns):
        return pd.DataFrame()
    ok = _stream_runs(df, campaigns, columns)
    if ok.empty:
        return ok
    means = ok.groupby(KEY, sort=True)[columns].mean()
    long = means.reset_index().melt(id_vars=KEY, var_name="column", value_name="mean")
    parts = long["column"].str.extract(r"cpu_(sender|receiver)_(.+)_pct")
    long["side"] = parts[0]
    long["class"] = parts[1].str.replace("busiest_core", BUSIEST, regex=False)
    long["path"] = path_of(long)
    return long.drop(columns=["column"]).dropna(subset=["mean"])


BUFFER_COLUMNS = ("sndbuf_applied_bytes", "rcvbuf_applied_bytes")


def applied_buffers(df: pd.DataFrame, campaigns: list[str]) -> pd.DataFrame:
    """The socket buffers the kernel applied (getsockopt after setting them; the kernel
    doubles a request and clamps it to its limits), median per stream cell of ``campaigns``:
    the sender's SO_SNDBUF and the receiver's SO_RCVBUF where the tool reported them."""
    present = [c for c in BUFFER_COLUMNS if c in df.columns]
    if df.empty or not present:
        return pd.DataFrame()
    ok = _stream_runs(df, campaigns, present)
    if ok.empty:
        return ok
    out = ok.groupby(KEY, sort=True)[present].median()
    out = out.reset_index().dropna(how="all", subset=present)
    out["path"] = path_of(out)
    return out


def summary_of(row: Any) -> Summary:
    """A cell row's statistics back as a Summary."""
    half = float(row["ci_half"])
    return Summary(n=int(row["n"]), mean=float(row["mean"]), median=float(row["median"]),
                   sd=float(row["sd"]), cv=float(row["cv"]), min=float(row["min"]),
                   max=float(row["max"]), ci95_half=half if not math.isnan(half) else math.nan,
                   outliers=(), mean_without_outliers=float(row["mean_without_outliers"]),
                   noisy=bool(row["noisy"]))
