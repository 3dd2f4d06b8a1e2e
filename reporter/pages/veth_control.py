"""The veth control page: bare metal, one veth crossing and containers side by side, so the
containers' cost splits into the veth itself and the rest."""

from dataclasses import dataclass

from .. import charts
from ..metrics import unit
from ..views import STREAM_TOOLS, auto_buffers, compact, mtus, ordered_tools, path_order, where
from .model import Chart, Site, Tab
from .page import Page, Reads, View, from_site

SHOWN = ["bare", "veth-control", "container"]


@dataclass
class TabsView(View):
    tabs: list[Tab]


def veth_control(site: Site) -> TabsView:
    tabs = []
    for metric, label, axis in (("gbps", "Throughput", "Gb/s"),
                                ("cpu_per_gbps", "CPU per Gb/s", "% of one CPU per Gb/s")):
        df = auto_buffers(site.metric(metric))
        df = df[df["configuration"].isin(SHOWN)] if not df.empty else df
        if df.empty or "veth-control" not in set(df["configuration"]):
            continue
        for tool in ordered_tools(df, STREAM_TOOLS)[:1]:
            for m in mtus(df):
                at = where(df, tool=tool, mtu=m)
                tabs.append(Tab(f"{label}, MTU {m}", charts=[Chart(charts.path_bars(
                    at, f"{label}: bare metal, one veth, containers ({tool}, MTU {m})", axis,
                    column="size_label", order=path_order(at["path"])),
                    "The veth control sits between bare metal and containers: how much of the "
                    "containers' cost is the veth crossing itself")],
                    tables=[compact(at, unit(metric))]))
    return TabsView(tabs)


PAGE = Page("veth-control", "veth control", from_site(veth_control), Reads.FIGURES)
