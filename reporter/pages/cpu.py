"""The CPU pages: each side's busy time and where it goes (CPU), and what a gigabit per
second costs on the busier side (CPU per Gb/s)."""

from dataclasses import dataclass

import pandas as pd

from .. import charts, numbers
from ..metrics import unit
from ..views import STREAM_TOOLS, Table, auto_buffers, compact, path_order, where
from .layout import FigureView, no_vm, only_vm, sections_per_mtu
from .model import Chart, Site, Tab
from .page import Page, Reads, from_site


@dataclass
class CpuView(FigureView):
    cpus: list[str]
    shared: bool  # both "hosts" share one kernel: sender and receiver CPU are one machine's
    guest: list[Table]


def cpu(site: Site) -> CpuView:
    sender, receiver = site.metric("cpu_sender_pct"), site.metric("cpu_receiver_pct")
    higher = site.metric("cpu_max_pct")
    stream = where(sender, test="stream")
    both = pd.concat([stream.assign(side="sender"),
                      where(receiver, test="stream").assign(side="receiver")],
                     ignore_index=True) if not stream.empty else stream

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        at = auto_buffers(at)
        order = path_order(at["path"])
        high = auto_buffers(where(higher, tool=tool, mtu=mtu, test="stream"))
        split = auto_buffers(where(site.classes, tool=tool, mtu=mtu))
        return Tab(tool, charts=[
            Chart(charts.sides(at, f"Sender and receiver CPU, {tool}, MTU {mtu}", order),
                  "Busy time over the window on each side's kernel, % of one CPU"),
            Chart(charts.path_bars(high, f"The study's CPU figure: the higher side, {tool}, "
                                   f"MTU {mtu}", "% of one CPU", column="size_label",
                                   order=order),
                  "The higher of sender and receiver per path"),
            *([Chart(charts.cpu_classes(split, f"Where the CPU time goes, {tool}, MTU {mtu}",
                                        order),
                     "Each side's CPU by class, stacked (user, system, softirq, irq, steal); "
                     "the black tick is its busiest single core, % of that CPU: a tick at "
                     "100 % is one core saturated, whatever the total")]
              if not split.empty else [])],
            tables=[compact(high, unit("cpu_max_pct"), with_ratio=False)])
    cpus = sorted({c for i in site.infos for c in i.host_fact("cpu-count") if c})
    guest_metrics = (("sender", "cpu_sender_guest_pct"), ("receiver", "cpu_receiver_guest_pct"))
    guest = [] if all(site.metric(m).empty for _, m in guest_metrics) else [
        Table(["path", "campaign", "side", "mean % of one guest CPU", "runs"],
              [[r["path"], r["campaign"], side, numbers.num(r["mean"]), str(r["n"])]
               for side, m in guest_metrics for _, r in site.metric(m).iterrows()])]
    return CpuView(sections_per_mtu(both, STREAM_TOOLS, tab), site.emulated(), cpus,
                   site.shared_kernel(), guest)


def cpu_per_gbps(site: Site) -> FigureView:
    df = site.metric("cpu_per_gbps")
    axis = "% of one CPU per Gb/s"

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        main = auto_buffers(at)
        t = Tab(tool)
        rest, vms = no_vm(main), only_vm(main)
        if not rest.empty:
            t.charts.append(Chart(charts.path_bars(
                rest, f"CPU per Gb/s, {tool}, MTU {mtu}", axis,
                column="size_label", order=path_order(rest["path"])),
                "What a gigabit per second costs on the busier side; lower is better"))
        if not vms.empty:
            t.charts.append(Chart(charts.path_bars(
                vms, f"CPU per Gb/s, VMs, {tool}, MTU {mtu}", axis,
                column="size_label", order=path_order(vms["path"])),
                "VMs on their own scale, so they do not flatten the rest"))
        t.tables.append(compact(at, unit("cpu_per_gbps")))
        return t
    return FigureView(sections_per_mtu(df, STREAM_TOOLS, tab), site.emulated())


PAGE = Page("cpu", "CPU", from_site(cpu), Reads.FIGURES)
PER_GBPS = Page("cpu-per-gbps", "CPU per Gb/s", from_site(cpu_per_gbps), Reads.FIGURES)
