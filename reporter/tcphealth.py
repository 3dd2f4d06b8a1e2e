"""TCP health of the stream runs, from the kernel's counters in each endpoint's namespace over
the measuring window (tidy.TCP_COLUMNS): retransmissions per GB the sender put on the wire,
the receiver's out-of-order queueing and receive-queue pruning, per cell; the runs that
retransmitted far more than their cell's median; and iperf3's own retransmission count beside
the kernel's for the same runs."""

import numpy as np
import pandas as pd

from . import numbers
from .aggregate import KEY, path_of
from .escaping import code
from .tidy import TCP_COLUMNS
from .views import Table, path_rank

# A run is flagged when its rate is over FLAG_FACTOR × its cell's median AND over the median
# by FLAG_FLOOR_PER_GB: the floor keeps a cell of near-zero rates from flagging every run that
# lost one segment (at MTU 1500, a GB is ~690,000 segments: 100 per GB is 0.015 %).
FLAG_FACTOR = 5.0
FLAG_FLOOR_PER_GB = 100.0
# iperf3 counts its data socket's retransmissions (TCP_INFO) after `-O`; the kernel counts the
# namespace's over the same window. Beyond this many segments and this share they disagree.
IPERF3_SLACK_SEGS = 5.0
IPERF3_SLACK_SHARE = 0.10
RUN_FIELDS = [*TCP_COLUMNS, "iperf3_retransmits"]


def runs(df: pd.DataFrame, campaigns: list[str]) -> pd.DataFrame:
    """The ok stream runs of ``campaigns`` that have counters: the cell key, run id, the TCP
    columns, the cell's median rate (``cell_median_per_gb``) and ``flagged``."""
    if df.empty or not set(TCP_COLUMNS) <= set(df.columns):
        return pd.DataFrame()
    present = [c for c in RUN_FIELDS if c in df.columns]
    ok = df.loc[(df["status"] == "ok") & (df["test"] == "stream")
                & df["campaign"].isin(campaigns), [*KEY, "run_id", *present]]
    ok = ok.astype({c: float for c in present}).dropna(subset=["tcp_retrans_per_gb"])
    if ok.empty:
        return pd.DataFrame()
    rate = ok["tcp_retrans_per_gb"]
    median = ok.groupby(KEY)["tcp_retrans_per_gb"].transform("median")
    ok = ok.assign(cell_median_per_gb=median,
                   flagged=(rate > FLAG_FACTOR * median) & (rate > median + FLAG_FLOOR_PER_GB))
    ok["path"] = path_of(ok)
    return ok.reset_index(drop=True)


def cells(tcp_runs: pd.DataFrame) -> pd.DataFrame:
    """Per cell: runs, mean retransmissions per GB and per run, the receiver's mean counters,
    flagged runs, and (iperf3) iperf3's mean count beside the kernel's with ``disagree``."""
    if tcp_runs.empty:
        return pd.DataFrame()
    group = tcp_runs.groupby([*KEY, "path"], sort=True)
    out = group[[c for c in RUN_FIELDS if c in tcp_runs.columns]].mean()
    out["runs"] = group.size()
    out["flagged_runs"] = group["flagged"].sum()
    out = out.reset_index()
    if "iperf3_retransmits" in out.columns:
        kernel = out["tcp_retrans_segs"].to_numpy(dtype=float)
        tool = out["iperf3_retransmits"].to_numpy(dtype=float)
        gap = np.abs(kernel - tool)
        with np.errstate(invalid="ignore"):
            out["disagree"] = ((gap > IPERF3_SLACK_SEGS)
                               & (gap > IPERF3_SLACK_SHARE * np.maximum(kernel, tool)))
    else:
        out["disagree"] = False
    return out


def table(at: pd.DataFrame) -> Table:
    """The cells of one tool and MTU (``cells`` rows): a row per campaign, path and size."""
    if at.empty:
        return Table([], [])
    several = at["campaign"].nunique() > 1
    iperf3 = "iperf3_retransmits" in at.columns and at["iperf3_retransmits"].notna().any()
    ranked = at.assign(rank=path_rank(at["path"])).sort_values(
        ["campaign", "socket_buffer", "message_size", "rank"])
    modes = at["socket_buffer"].nunique() > 1
    rows = []
    for _, r in ranked.iterrows():
        per_run = numbers.num(r["tcp_retrans_segs"])
        if iperf3:
            per_run += f" (iperf3 {numbers.num(r.get('iperf3_retransmits'))}" + (
                " ⚠)" if bool(r.get("disagree")) else ")")
        rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                     numbers.size(int(r["message_size"]))
                     + (f", {r['socket_buffer']}" if modes else ""),
                     numbers.num(r["tcp_retrans_per_gb"]), per_run,
                     " · ".join(numbers.num(r[c]) for c in
                                ("tcp_ofo_queued", "tcp_rcv_pruned", "tcp_rcv_collapsed")),
                     f"{int(r['flagged_runs'])}/{int(r['runs'])}"])
    header = [*(["campaign"] if several else []), "path", "message", "retx per GB",
              "retx per run", "receiver OFO · pruned · collapsed", "runs flagged"]
    return Table(header, rows, title="TCP health", note=(
        "TCP counters of each endpoint's network namespace (/proc/net/snmp, /proc/net/netstat) "
        "over the measuring window, mean per run. Retx: the sender's retransmitted segments, "
        "per 10⁹ IP bytes it sent and per run. OFO: packets the receiver queued out of order; "
        "pruned · collapsed: times its receive queue was pruned, and packets collapsed, for "
        "lack of buffer. A run is flagged when it retransmitted over "
        f"{FLAG_FACTOR:g}× its cell's median and {FLAG_FLOOR_PER_GB:g} per GB more."
        + (" In brackets, iperf3's own count (its data socket's TCP_INFO); ⚠ marks a cell where "
           "the two "
           f"differ by over {IPERF3_SLACK_SEGS:g} segments and {IPERF3_SLACK_SHARE:.0%}."
           if iperf3 else "")))


def flagged_table(tcp_runs: pd.DataFrame) -> Table:
    """The flagged runs: which, their rate and their cell's median."""
    if tcp_runs.empty:
        return Table([], [])
    flagged = tcp_runs[tcp_runs["flagged"]]
    if flagged.empty:
        return Table([], [])
    several = tcp_runs["campaign"].nunique() > 1
    rows: list[list[str]] = []  # Md is a str
    for _, r in flagged.sort_values(["campaign", "run_id"]).iterrows():
        rows.append([*([str(r["campaign"])] if several else []), code(r["run_id"]),
                     numbers.num(r["tcp_retrans_per_gb"]),
                     numbers.num(r["cell_median_per_gb"])])
    return Table([*(["campaign"] if several else []), "run", "retransmits per GB",
                  "its cell's median"], rows,
                 title="Runs that retransmitted far more than their cell",
                 note="Runs that retransmitted far more than the other runs of their cell: "
                      "still in the means (a loss is part of what the path does), but worth "
                      "a look in Runs — a burst of loss, a competing flow, a slow receiver.")

