"""The Tool cross-check page: where tools measured the same path and size, how far each is
from the others, why tools differ, and qperf's own CPU figures against ours."""

from dataclasses import dataclass

from .. import agreement, charts, numbers
from ..metrics import unit
from ..views import Table, mtus, path_rank, where
from .model import Chart, Section, Site, Tab
from .page import Page, Reads, View, from_site

HOW_HEADER = ["tool", "measuring window", "what is counted", "socket buffers"]


@dataclass
class ToolsView(View):
    sections: list[Section]
    how: Table
    flagged: Table
    band: str
    qperf_cpu: Table


def tools(site: Site) -> ToolsView:
    """Where tools measured the same path and size: how far each is from the others."""
    sections = []
    flagged = []
    for metric, test, label in (("gbps", "stream", "Throughput"),
                                ("lat_mean_us", "rr", "Latency")):
        shared = agreement.ratios(where(site.metric(metric), test=test))
        if shared.empty:
            continue
        shared["label"] = [f"{p} · {numbers.size(int(s))}" + (f" · {b}" if b != "auto" else "")
                           + (f" · {c}" if site.several else "") for p, s, b, c in zip(
            shared["path"], shared["message_size"], shared["socket_buffer"],
            shared["campaign"], strict=True)]
        shared = shared.assign(rank=path_rank(shared["path"])).sort_values(
            ["mtu", "rank", "message_size", "socket_buffer", "campaign"])
        tabs = [Tab(f"MTU {m}", charts=[Chart(
            charts.agreement(where(shared, mtu=m), f"{label}: the tools against each other, "
                             f"MTU {m}", agreement.DISAGREEMENT),
            f"Each tool's mean {unit(metric)} ÷ the median of the tools' means for the same "
            f"path and size; whiskers: the tool's own 95 % CI (cut at the chart's edge); "
            f"shaded: within {agreement.DISAGREEMENT:.0%}")]) for m in mtus(shared)]
        sections.append(Section(label, metric.replace("_", "-"), tabs))
        for _, r in shared[shared["off"]].iterrows():
            flagged.append([label, r["label"], f"MTU {int(r['mtu'])}", str(r["tool"]),
                            f"{numbers.num(r['mean'])} {unit(metric)}", f"{r['ratio']:.2f}"])
    how = Table(HOW_HEADER, [[tool, h["window"], h["side"], h["buffers"]]
                             for tool, h in agreement.HOW.items()], text=True)
    return ToolsView(sections, how,
                     Table(["metric", "cell", "MTU", "tool", "mean", "÷ median"], flagged),
                     f"{agreement.DISAGREEMENT:.0%}", agreement.qperf_cpu_table(site))


PAGE = Page("tools", "Tool cross-check", from_site(tools), Reads.NEWEST)
