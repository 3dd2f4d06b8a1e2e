"""The tools against each other: where a path and size was measured by more than one tool,
each tool's mean as a ratio to the median of the tools' means, with the tool's own 95 % CI on
the same scale; a tool more than 10 % off is flagged with what differs between the tools. And
qperf's own CPU figures (`-vv`: send_/recv_cpus_used) against ours for the same runs."""

from typing import Any

import numpy as np
import pandas as pd

from . import numbers
from .aggregate import KEY, path_of
from .escaping import Md
from .views import Table, path_rank

DISAGREEMENT = 0.10
GROUP = ["campaign", "configuration", "direction", "test", "message_size", "socket_buffer",
         "mtu"]
# What each tool measures differently (collector/tools/*.py, shared methodology).
HOW: dict[str, dict[str, str | Md]] = {
    "csrc": {"window": "after its warm-up, to the end of the duration",
             "side": "the receiver's bytes",
             "buffers": "autotuned, or set on both sockets (message mode)"},
    "iperf3": {"window": Md("after `-O` omits the warm-up"),
               "side": "the receiver's bytes (sum_received)",
               "buffers": Md("autotuned, or `-w` on both sockets (message mode)")},
    "qperf": {"window": "the whole run: no warm-up, connection set-up included, 10 ms ticks",
              "side": "the receiver's bytes",
              "buffers": Md("autotuned, or `-sb` on the server's socket only "
                                        "(message mode)")},
}


def ratios(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per cell measured by a tool among others in its group: ``ratio`` of its mean to
    the median of the tools' means, ``low``/``high`` its own CI on that scale, ``off``."""
    if cells.empty:
        return pd.DataFrame()
    counts = cells.groupby(GROUP)["tool"].transform("nunique")
    shared = cells[counts > 1].copy()
    if shared.empty:
        return pd.DataFrame()
    median = shared.groupby(GROUP)["mean"].transform("median").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        shared["ratio"] = shared["mean"].to_numpy(dtype=float) / median
        shared["low"] = shared["ci_low"].to_numpy(dtype=float) / median
        shared["high"] = shared["ci_high"].to_numpy(dtype=float) / median
    shared["off"] = (shared["ratio"] - 1).abs() > DISAGREEMENT
    return shared


def qperf_cpu(df: pd.DataFrame, campaigns: list[str]) -> pd.DataFrame:
    """Per qperf stream cell of ``campaigns`` and side: our /proc/stat CPU and qperf's own, mean
    over the same runs, and their difference in points of one CPU."""
    columns = {"sender": ("cpu_sender_pct", "qperf_sender_cpu_pct"),
               "receiver": ("cpu_receiver_pct", "qperf_receiver_cpu_pct")}
    needed = {c for pair in columns.values() for c in pair}
    if df.empty or not needed <= set(df.columns):
        return pd.DataFrame()
    ok = df[(df["status"] == "ok") & (df["tool"] == "qperf") & (df["test"] == "stream")
            & df["campaign"].isin(campaigns)]
    ok = ok.dropna(subset=["qperf_sender_cpu_pct", "qperf_receiver_cpu_pct"])
    if ok.empty:
        return pd.DataFrame()
    frames = []
    for side, (ours, theirs) in columns.items():
        means = ok.astype({ours: float, theirs: float}).groupby(KEY)[[ours, theirs]].agg(
            ["mean", "count"])
        part = pd.DataFrame({"ours": means[(ours, "mean")], "qperf": means[(theirs, "mean")],
                             "runs": means[(ours, "count")]}).reset_index()
        frames.append(part.assign(side=side))
    out = pd.concat(frames, ignore_index=True)
    out["difference"] = out["qperf"] - out["ours"]
    out["path"] = path_of(out)
    return out


def qperf_cpu_table(site: Any) -> Table:
    """qperf's CPU against ours, a row per cell with both sides, for the site's campaigns; the
    note gives the median difference per side."""
    cpu = site.qperf_cpu
    if cpu.empty:
        return Table([], [])
    several = cpu["campaign"].nunique() > 1
    cpu = cpu.assign(rank=path_rank(cpu["path"]))
    wide = cpu.pivot_table(index=["campaign", "mtu", "rank", "path", "message_size"],
                           columns="side", values=["ours", "qperf"]).reset_index()
    rows = []
    for _, r in wide.sort_values(["campaign", "mtu", "rank", "message_size"]).iterrows():
        rows.append([*([str(r[("campaign", "")])] if several else []), str(r[("path", "")]),
                     numbers.size(int(r[("message_size", "")])), f"MTU {int(r[('mtu', '')])}",
                     *(f"{numbers.num(r[('ours', side)])} % / {numbers.num(r[('qperf', side)])} %"
                       for side in ("sender", "receiver"))])
    medians = cpu.groupby("side")["difference"].median()
    said = "; ".join(f"{side}: qperf {medians[side]:+.0f} points" for side in
                     ("sender", "receiver") if side in medians)
    return Table([*(["campaign"] if several else []), "path", "message", "MTU",
                  "sender: ours / qperf", "receiver: ours / qperf"], rows,
                 note=f"Median difference over the cells — {said}. Both are system-wide "
                      "/proc/stat busy time in % of one CPU; qperf counts iowait as busy and "
                      "its window has no warm-up (it opens with the connection), ours is the "
                      "measuring window only.")
