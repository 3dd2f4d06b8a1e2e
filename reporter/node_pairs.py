"""Node pairs, read across: each pair's headline figures against the median pair's, the pairs
that stand out and the hosts they share, the spread across pairs, which pair the other pages
show, and how much the windows of pairs measured at the same time overlapped."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .metrics import BY_NAME, Better
from .views import RR_TOOLS, STREAM_TOOLS

SEPARATOR = "~"  # collector/node_pairs.py ID_SEPARATOR
OUTLIER = 0.10  # a pair more than 10 % worse than the median pair stands out
OUTLIER_TEXT = f"{OUTLIER * 100:.0f} %"


@dataclass(frozen=True)
class Headline:
    metric: str
    label: str
    tools: list[str]
    anchor: str


HEADLINES = [Headline("gbps", "goodput at the largest message", STREAM_TOOLS, "goodput"),
             Headline("lat_mean_us", "1-byte latency, one way", RR_TOOLS, "latency"),
             Headline("cpu_per_gbps", "CPU per Gb/s at the largest message", STREAM_TOOLS,
                      "cpu-per-gbps")]


def hosts_of(pair: str) -> tuple[str, str]:
    sender, _, receiver = pair.partition(SEPARATOR)
    return sender, receiver


def label(pair: str) -> str:
    sender, receiver = hosts_of(pair)
    return f"{sender} → {receiver}"


def headline_cells(cells: pd.DataFrame, h: Headline) -> pd.DataFrame:
    """A headline's cells of the pairs: one flow, autotuned buffers, untuned, the largest
    message for a stream figure, and per path and MTU the first tool of ``h.tools`` that
    measured it."""
    if cells.empty or "pair" not in cells:
        return pd.DataFrame()
    at = cells[(cells["pair"] != "") & (cells["streams"] == 1)
               & (cells["socket_buffer"] == "auto") & (cells["tuning"] == "untuned")]
    if h.metric != "lat_mean_us" and not at.empty:
        at = at[at["message_size"] == at.groupby(["campaign", "tool"])["message_size"]
                .transform("max")]
    kept = []
    for (_, _, _), group in at.groupby(["campaign", "path", "mtu"], sort=False):
        tool = next((t for t in h.tools if t in set(group["tool"])), None)
        if tool is not None:
            kept.append(group[group["tool"] == tool])
    return pd.concat(kept) if kept else pd.DataFrame()


def median_pair(group: pd.DataFrame, metric: str) -> str:
    """The pair at the median rank of one path's pairs; of an even number, the better of the
    middle two: a real pair, and with one bad host in half the pairs (four hosts, all pairs)
    a healthy one rather than a point between the two groups."""
    lower = BY_NAME[metric].better is Better.LOWER
    ranked = group.sort_values(["mean", "pair"], ascending=[not lower, True])
    return str(ranked["pair"].iloc[len(ranked) // 2])


def against_median(group: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One path's pairs (rows of one campaign, MTU and tool): sender, receiver, the mean, its
    ratio to the median pair's (median_pair), and goodness (above 1 is better)."""
    reference = median_pair(group, metric)
    median = float(group.loc[group["pair"] == reference, "mean"].iloc[0])
    out = group.assign(sender=[hosts_of(p)[0] for p in group["pair"]],
                       receiver=[hosts_of(p)[1] for p in group["pair"]],
                       ratio=group["mean"] / median if median else np.nan,
                       reference=group["pair"] == reference)
    lower = BY_NAME[metric].better is Better.LOWER
    return out.assign(goodness=1 / out["ratio"] if lower else out["ratio"])


@dataclass(frozen=True)
class Spread:
    median: float  # the median pair's
    median_pair: str
    p5: float
    p95: float
    pairs: int


def spread(rows: pd.DataFrame) -> Spread:
    """Of against_median's rows: the median pair's figure and the 5th and 95th percentile
    across the pairs (linear between ranks)."""
    values = rows["mean"].to_numpy(dtype=float)
    p5, p95 = np.percentile(values, [5, 95])
    reference = rows[rows["reference"]].iloc[0]
    return Spread(float(reference["mean"]), str(reference["pair"]), float(p5), float(p95),
                  len(values))


def outliers(rows: pd.DataFrame) -> pd.DataFrame:
    """The pairs worse than the median pair by more than OUTLIER, worst first."""
    return rows[rows["goodness"] < 1 - OUTLIER].sort_values("goodness")


def suspects(slow: list[str], every: list[str]) -> list[tuple[str, int]]:
    """The hosts in every one of the ``slow`` pairs (two or more: one pair has two hosts and
    says nothing about either), each with how many pairs it is in at all."""
    if len(slow) < 2:
        return []
    common = set.intersection(*(set(hosts_of(p)) for p in slow))
    return sorted((h, sum(h in hosts_of(p) for p in every)) for h in common)


BASIS = {"gbps": "bare-metal goodput", "lat_mean_us": "1-byte latency",
         "cpu_per_gbps": "CPU per Gb/s"}


def references(cells: dict[str, pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per campaign of several pairs, the headline its pairs are ranked by — goodput at the
    largest message, else (a campaign that measured no stream) 1-byte latency — and the rows
    of it they are ranked on (reference_rows)."""
    found: dict[str, tuple[str, pd.DataFrame]] = {}
    for h in HEADLINES:
        rows = headline_cells(cells.get(h.metric, pd.DataFrame()), h)
        for campaign, group in rows.groupby("campaign", sort=False) if not rows.empty else []:
            found.setdefault(str(campaign), (h.metric, reference_rows(group)))
    return found


def median_pairs(refs: dict[str, tuple[str, pd.DataFrame]]) -> dict[str, str]:
    """Per campaign of several pairs, the pair the other pages show: the median pair of its
    references() (bare metal's, any path's when bare metal was not measured; the smallest
    MTU; the first such pair in name order on a tie)."""
    return {c: median_pair(rows, metric) for c, (metric, rows) in refs.items()}


def reference_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Of one campaign's headline cells, those the median pair is chosen by: bare metal's (any
    path's when bare metal was not measured), at the smallest MTU."""
    bare = rows[rows["path"] == "bare host-host"]
    rows = bare if not bare.empty else rows
    kept: pd.DataFrame = rows[(rows["mtu"] == rows["mtu"].min())
                              & (rows["path"] == rows["path"].iloc[0])]
    return kept


WINDOW_KEY = ["campaign", "configuration", "direction", "tool", "test", "message_size",
              "socket_buffer", "mtu", "streams", "tuning", "repetition"]


@dataclass(frozen=True)
class Overlap:
    groups: int         # runs of one cell and repetition whose windows met
    pairs_per_group: float
    median: float       # the share of a group's span all its windows had in common
    lowest: float


def overlaps(runs: pd.DataFrame, campaign: str) -> Overlap | None:
    """How much the windows of the campaign's pairs measured at the same time overlapped:
    runs of one cell and repetition (one per pair) whose windows meet form a group; a group's
    overlap is the time all its windows share ÷ the time from the first opening to the last
    closing. None when no two windows met (the pairs ran one after the other)."""
    if runs.empty or "window_start_s" not in runs:
        return None
    at = runs[(runs["campaign"] == campaign) & (runs["status"] == "ok") & (runs["pair"] != "")]
    at = at.dropna(subset=["window_start_s", "window_end_s"])
    shares, sizes = [], []
    for _, group in at.groupby(WINDOW_KEY, sort=False):
        ordered = group.sort_values("window_start_s")
        starts = ordered["window_start_s"].to_numpy(dtype=float)
        ends = ordered["window_end_s"].to_numpy(dtype=float)
        first, end = 0, ends[0]
        for i in range(1, len(starts) + 1):
            if i < len(starts) and starts[i] < end:
                end = min(end, ends[i])
                continue
            if i - first >= 2:
                common = ends[first:i].min() - starts[first:i].max()
                span = ends[first:i].max() - starts[first:i].min()
                shares.append(max(common, 0.0) / span if span > 0 else 1.0)
                sizes.append(i - first)
            if i < len(starts):
                first, end = i, ends[i]
    if not shares:
        return None
    return Overlap(len(shares), float(np.mean(sizes)), float(np.median(shares)),
                   float(min(shares)))
