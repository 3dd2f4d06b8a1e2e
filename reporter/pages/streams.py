"""The Parallel streams page: what N concurrent TCP flows between the same endpoints reach,
against one flow and against bare metal at the same N; how evenly the flows shared it; what
it cost in CPU per Gb/s. Shown when a campaign measured more than one flow."""

import pandas as pd

from .. import charts, numbers
from ..findings import KeyPoint, Ratio, lowest_and_highest
from ..views import Lookup, Table, in_path_order, mtus, ordered_tools, where
from .layout import PointsView, tabs_per_tool
from .model import Chart, Site
from .page import Page, Reads, from_site

STREAM_TOOLS = ["csrc", "iperf3"]  # qperf has no parallel streams


def measured(site: Site) -> bool:
    gbps = site.metric("gbps")
    return not gbps.empty and "streams" in gbps and bool((gbps["streams"] > 1).any())


def _several(gbps: pd.DataFrame) -> pd.DataFrame:
    """The cells of the paths, sizes and tools that ran at more than one flow count."""
    if gbps.empty:
        return gbps
    key = ["campaign", "configuration", "direction", "tool", "message_size", "socket_buffer",
           "mtu"]
    counts = gbps.groupby(key)["streams"].transform("nunique")
    return gbps[(counts > 1) & (gbps["socket_buffer"] == "auto")]


def page(site: Site) -> PointsView:
    def build(at: pd.DataFrame, tool: str, mtu: int) -> tuple[Chart, Table]:
        return Chart(charts.streams_lines(
            at, f"Aggregate throughput by number of flows, {tool}, MTU {mtu}"),
            "Each path's summed goodput at 1 to N flows (95 % CI whiskers); a line that "
            "keeps rising was not limited by one flow"), _table(site, at, tool, mtu)
    return PointsView(tabs_per_tool(_several(site.metric("gbps")), STREAM_TOOLS, build),
                      [p for i in site.infos if (p := key_point(site, i.name))])


def _table(site: Site, at: pd.DataFrame, tool: str, mtu: int) -> Table:
    keys = ("campaign", "configuration", "direction", "tool", "message_size", "socket_buffer",
            "mtu", "streams")
    same, fair, cpg = (Lookup(df, keys) for df in (at, site.metric("fairness"),
                                                     site.metric("cpu_per_gbps")))
    several = at["campaign"].nunique() > 1
    rows = []
    for _, r in in_path_order(at, "campaign", "message_size", "streams").iterrows():
        match = {k: r[k] for k in keys}
        one = same.mean_at(**{**match, "streams": 1})
        f, c = fair.mean_at(**match), cpg.mean_at(**match)
        rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                     numbers.size(r["message_size"]), str(int(r["streams"])),
                     numbers.with_interval(r["mean"], r["ci_low"], r["ci_high"]),
                     numbers.num(r["mean"] / one, 3) + "×" if one else "—",
                     numbers.num(r.get("ratio_to_bare"), 3) + "×"
                     if pd.notna(r.get("ratio_to_bare")) else "—",
                     numbers.num(f, 3) if f is not None else "—",
                     numbers.num(c) if c is not None else "—"])
    header = [*(["campaign"] if several else []), "path", "message", "flows",
              "Gb/s (95 % CI)", "÷ one flow", "÷ bare", "fairness (Jain)", "CPU per Gb/s"]
    return Table(header, rows, title=f"{tool}, MTU {mtu}",
                 note="Gb/s: the flows' summed goodput. ÷ bare: against bare metal at the same "
                      "number of flows. Fairness: Jain's index over the flows' goodputs, 1 when "
                      "every flow got the same share, 1/N when one flow took it all.")


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """One sentence for the Summary, only for a campaign that measured several flows: what the
    most flows reached against one flow, on bare metal and on the path that gained most."""
    gbps = where(_several(site.metric("gbps")), campaign=campaign)
    if gbps.empty:
        return None
    tool = ordered_tools(gbps, STREAM_TOOLS)[0]
    at = where(gbps, tool=tool, mtu=mtus(gbps)[0])
    size = int(at["message_size"].max())
    at = where(at, message_size=size)
    most = int(at["streams"].max())
    gains: list[Ratio] = []
    for path, cells in at.groupby("path"):
        one, many = where(cells, streams=1), where(cells, streams=most)
        if not one.empty and not many.empty and one["mean"].iloc[0]:
            gains.append((float(many["mean"].iloc[0] / one["mean"].iloc[0]), str(path),
                          float(many["mean"].iloc[0])))
    ends = lowest_and_highest(gains)
    if ends is None:
        return None
    low, high = ends
    return KeyPoint(
        f"With {most} flows ({tool}, {numbers.size(size)}), the paths reached "
        f"{low[0]:.2f}–{high[0]:.2f}× their single-flow throughput (most: {high[1]}, "
        f"{numbers.num(high[2])} Gb/s).", "streams.md#parallel-streams", "Parallel streams")


PAGE = Page("streams", "Parallel streams", from_site(page), Reads.FIGURES_EVERY_TEST,
            measured, key_point)
