"""The Summary: the newest campaign's key points (the study's, then what the other shown
pages add), the study's figures beside ours, two small charts, and what to keep in mind."""

from dataclasses import dataclass

import pandas as pd

from .. import charts, convergence, findings, numbers
from ..campaigns import CampaignInfo
from ..escaping import Md
from ..views import (
    RR_TOOLS,
    STREAM_TOOLS,
    Table,
    auto_buffers,
    mtus,
    ordered_tools,
    path_order,
    reference_size,
    where,
)
from .layout import no_vm
from .model import Chart, Site
from .page import Context, Page, Reads, View

STUDY_HEADER = ["configuration", "latency, ours", "latency, the study",
                "throughput at the large message, ours", "the study"]


@dataclass
class SummaryView(View):
    latest: CampaignInfo
    points: list[findings.KeyPoint]
    study: Table
    small_charts: list[Chart]
    caveats: list[str]
    verdicts: dict[str, int]
    unusable: int  # the newest campaign's runs the figures are made without


def caveats(site: Site) -> list[str]:
    """What a reader must keep in mind, said once."""
    out = []
    frames = [df[["campaign", "n", "noisy"]] for df in site.cells.values() if not df.empty]
    any_cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for info in site.infos:
        prefix = f"{info.name}: " if site.several else ""
        duration, warmup = info.parameters.get("duration_s"), info.parameters.get("warmup_s")
        if not any_cells.empty:
            mine = any_cells[any_cells["campaign"] == info.name]
            if not mine.empty:
                lo, hi = int(mine["n"].min()), int(mine["n"].max())
                runs = f"{lo}" if lo == hi else f"{lo}–{hi}"
                out.append(f"{prefix}{runs} runs per cell, each {duration} s long after a "
                           f"{warmup} s warm-up" + (": intervals need 3 runs or more, so none "
                                                    "is drawn" if hi < 3 else "")
                           + (" — short runs: their figures scatter more than long ones would"
                              if isinstance(duration, int) and duration < 10 else "") + ".")
        for w in info.warnings:
            out.append(prefix + w)
        adaptive = convergence.judge(site.cells, info.name, info.parameters.get("repetitions"))
        if adaptive:
            said, judged = adaptive
            missed = not judged["reached"].all()
            out.append(prefix + said[0].upper() + said[1:]
                       + (" The Statistics page lists those that did not." if missed else ""))
        if info.existing:
            out.append(f"{prefix}existing measured endpoints as they were found, built and "
                       f"changed by nothing here: {info.existing_label}.")
        if "netdev" in info.ovs_datapaths:
            out.append(Md("{}overlay-ovs ran on Open vSwitch's userspace `netdev` datapath "
                          "(the hosts' kernels had no openvswitch module): it measures that "
                          "datapath, not the kernel one the study used.").format(prefix))
    if not any_cells.empty:
        noisy = int(any_cells["noisy"].sum())
        share = noisy / len(any_cells)
        if share > 0.5:
            out.append(f"{noisy} of {len(any_cells)} cells are noisy (CV or CI half-width over "
                       "5 % of the mean): compare large differences only, or run longer and "
                       "more often.")
    return out


def _small_charts(site: Site, latest: CampaignInfo) -> list[Chart]:
    small: list[Chart] = []
    lat = where(site.metric("lat_mean_us"), campaign=latest.name)
    if not lat.empty:
        tool = ordered_tools(lat, RR_TOOLS)[0]
        at = where(lat, tool=tool, mtu=mtus(lat)[0])
        caption = "Our latency per path beside the study's published figures (grey)"
        if latest.emulated_vms and "vm" in set(at["configuration"]):
            at = no_vm(at)
            caption += "; the emulated VMs are on the Latency page, on their own axis"
        small.append(Chart(charts.latency(at, f"One-way latency, {tool}, MTU {mtus(lat)[0]}",
                                          path_order(at["path"])), caption))
    gbps = auto_buffers(where(site.metric("gbps"), campaign=latest.name))
    if not gbps.empty:
        tool = ordered_tools(gbps, STREAM_TOOLS)[0]
        size = reference_size(gbps)
        at = where(gbps, tool=tool, mtu=mtus(gbps)[0], message_size=size)
        small.append(Chart(charts.path_bars(
            at, f"Throughput at {numbers.size(size)}, {tool}, MTU {mtus(gbps)[0]}", "Gb/s",
            order=path_order(at["path"])),
            "The study's headline: configurations side by side at the large message"))
    return small


def summary(site: Site, more: list[findings.KeyPoint] | None = None,
            unusable: int = 0) -> SummaryView:
    """The Summary of the newest campaign; ``more``: key points other pages add (each only
    when the campaign measured what it is about)."""
    latest = site.infos[-1]
    verdicts: dict[str, int] = {}
    for c in site.changes:
        verdicts[c.verdict] = verdicts.get(c.verdict, 0) + 1
    return SummaryView(latest, findings.key_points(latest, site.cells) + list(more or []),
                       Table(STUDY_HEADER, findings.study_rows(latest, site.cells)),
                       _small_charts(site, latest), caveats(site), verdicts, unusable)


def make(ctx: Context) -> SummaryView:
    latest = ctx.site.latest
    return summary(ctx.site, ctx.points,
                   sum(p["campaign"] == latest for p in ctx.problems))


PAGE = Page("index", "Summary", make, Reads.FIGURES)
