"""The CPU pages: each side's busy time and where it goes (CPU), and what a gigabit per
second costs on the busier side (CPU per Gb/s)."""

from dataclasses import dataclass

import pandas as pd

from .. import charts, numbers
from ..metrics import unit
from ..views import (
    STREAM_TOOLS,
    Lookup,
    Table,
    auto_buffers,
    compact,
    in_path_order,
    mtus,
    ordered_tools,
    path_order,
    where,
)
from .layout import FigureView, no_vm, only_vm, sections_per_mtu
from .model import Chart, Site, Tab
from .page import Page, Reads, from_site

BOUND_PCT = 95.0  # a core this busy is the bottleneck, whatever the total
SIDES = ("sender", "receiver")
KEYS = ("campaign", "configuration", "direction", "tool", "message_size", "socket_buffer",
        "mtu")


@dataclass
class CpuView(FigureView):
    cpus: list[str]
    shared: bool  # both "hosts" share one kernel: sender and receiver CPU are one machine's
    guest: list[Table]
    calls: list[Table]  # send calls per second and the busiest core per side
    bound_pct: float = BOUND_PCT


def send_calls(site: Site) -> list[Table]:
    """Per tool and MTU: each path's send() calls per second (csrc counts its own) beside each
    side's busiest core, marked where it was at BOUND_PCT or more — the study's explanation of
    its small-message figures, read off: many calls, one core pegged."""
    busiest = {side: Lookup(where(site.metric(f"cpu_{side}_busiest_core_pct"), test="stream"),
                            KEYS) for side in SIDES}
    calls = Lookup(site.metric("send_calls_per_s"), KEYS)
    stream = auto_buffers(where(site.metric("cpu_sender_busiest_core_pct"), test="stream"))
    tables = []
    for tool in ordered_tools(stream, STREAM_TOOLS):
        for mtu in mtus(where(stream, tool=tool)):
            at = where(stream, tool=tool, mtu=mtu)
            several = at["campaign"].nunique() > 1
            largest = int(at["message_size"].max())
            rows = []
            for _, r in in_path_order(at, "campaign", "message_size").iterrows():
                match = {k: r[k] for k in KEYS}
                rate = calls.mean_at(**match)
                top = calls.mean_at(**{**match, "message_size": largest})
                cores = [busiest[side].mean_at(**match) for side in SIDES]
                rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                             numbers.size(r["message_size"]),
                             f"{numbers.num(rate / 1e6)} M" if rate is not None else "—",
                             f"{numbers.num(rate / top)}×" if rate and top else "—",
                             *(_core(c) for c in cores)])
            tables.append(Table(
                [*(["campaign"] if several else []), "path", "message", "send() calls/s",
                 f"÷ at {numbers.size(largest)}", "sender's busiest core",
                 "receiver's busiest core"], rows,
                title=f"{tool}, MTU {mtu}",
                note="send() calls/s: csrc's own count over its run (the other tools do not "
                     "report theirs); ÷: against the same path's calls at the largest message "
                     "(the study: about 10×); busiest core: the busiest single CPU of that side's "
                     f"kernel over the window, mean of the runs; ■ at {BOUND_PCT:g} % or more: "
                     "CPU-bound at one core."))
    return tables


def _core(pct: float | None) -> str:
    if pct is None:
        return "—"
    return f"■ {numbers.num(pct)} %" if pct >= BOUND_PCT else f"{numbers.num(pct)} %"


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
                   site.shared_kernel(), guest, send_calls(site))


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
