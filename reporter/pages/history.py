"""The History page: the headline figures over the campaigns, oldest first, and the newest
campaign's largest changes against the one before it."""

from dataclasses import dataclass

from .. import charts, numbers
from ..compare import BETTER, WORSE, Change, compare_pair
from ..views import RR_TOOLS, STREAM_TOOLS, auto_buffers, mtus, ordered_tools, reference_size, where
from .model import Chart, Site
from .page import Page, View, from_site, several_campaigns

HISTORY_LISTED = 8  # the largest changes of the newest campaign, each way
HEADLINES = (("gbps", "Throughput", "Gb/s", STREAM_TOOLS),
             ("lat_mean_us", "Latency", "µs", RR_TOOLS),
             ("cpu_per_gbps", "CPU per Gb/s", "% of one CPU per Gb/s", STREAM_TOOLS))


@dataclass
class HistoryView(View):
    figures: list[Chart]
    last: str
    previous: str
    worse: list[Change]
    better: list[Change]
    counts: dict[str, int]


def _figures(site: Site) -> list[Chart]:
    order = [i.name for i in site.infos]
    figures = []
    for metric, label, axis, pick in HEADLINES:
        df = auto_buffers(site.metric(metric))
        if df.empty:
            continue
        tool = ordered_tools(df, pick)[0]
        size = reference_size(df) if metric != "lat_mean_us" else None
        at = where(df, tool=tool, mtu=mtus(df)[0])
        if size is not None:
            at = where(at, message_size=size)
        at = at.assign(last=at["campaign"] == order[-1],
                       rank=at["campaign"].map(order.index)).sort_values("rank")
        shown = f"{tool}, MTU {mtus(df)[0]}" + (f", {numbers.size(size)}" if size else "")
        figures.append(Chart(charts.history(at, f"{label} over the campaigns ({shown})", axis),
                             f"{label} per path, oldest campaign first; the last one larger"))
    return figures


def history(site: Site) -> HistoryView:
    order = [i.name for i in site.infos]
    last: list[Change] = []
    if len(site.infos) > 1:
        last = compare_pair(site.cells, site.infos[-2], site.infos[-1], site.tolerance_pct)
    worse = sorted((c for c in last if c.verdict == WORSE), key=lambda c: -abs(c.delta_pct))
    better = sorted((c for c in last if c.verdict == BETTER), key=lambda c: -abs(c.delta_pct))
    return HistoryView(_figures(site), order[-1], order[-2] if len(order) > 1 else "",
                       worse[:HISTORY_LISTED], better[:HISTORY_LISTED],
                       {WORSE: len(worse), BETTER: len(better)})


PAGE = Page("history", "History", from_site(history), shown=several_campaigns)
