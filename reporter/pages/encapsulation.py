"""The Encapsulation and encryption page: today's dataplanes (IP-in-IP, VXLAN, Geneve, OVS +
VXLAN, WireGuard, IPsec) beside bare metal and the routed containers — goodput, CPU per Gb/s and
1-byte latency, each as a ratio to bare metal, where the busier side's CPU goes, and the
line-rate ceiling each encapsulation's headers leave at the campaign's MTUs. Shown when a
campaign measured one of the tunnels."""

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from collector.encapsulation import (
    ENCAPSULATIONS,
    ceiling_ratio,
    goodput_ceiling_gbps,
    inner_mtu,
)

from .. import charts, numbers
from ..aggregate import BUSIEST
from ..escaping import Md
from ..findings import CONFIG_NAMES, KeyPoint
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
from .layout import sections_per_mtu
from .model import Chart, Section, Site, Tab
from .page import Page, Reads, View, from_site

TUNNELS = ("ipip", "geneve", "wireguard", "ipsec")
SHOWN = ("bare", "container", "ipip", "overlay", "geneve", "overlay-ovs", "wireguard", "ipsec")
LINKS_GBPS = (10, 25, 100)
FIGURES = ["goodput", "CPU per Gb/s", "latency"]
RANKED_DIRECTION = "container-container"
Cells = dict[tuple[str, str], dict[Any, Any]]  # (campaign, path) → the cell's row


@dataclass
class EncapsulationView(View):
    sections: list[Section]
    ceilings: Table
    headers: list[Md]  # what each encapsulation's headers are
    points: list[KeyPoint]
    emulated: str  # Site.emulated()
    link_gbps: float | None  # the NICs' own speed, when they report one


def measured(site: Site) -> bool:
    return any(not df.empty and bool(set(df["configuration"]) & set(TUNNELS))
               for df in (site.metric("gbps"), site.metric("lat_mean_us")))


def _shown(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["configuration"].isin(SHOWN)] if not df.empty else df


def _cells(df: pd.DataFrame) -> Cells:
    return {(str(r["campaign"]), str(r["path"])): r
            for r in df.to_dict("records")} if not df.empty else {}


def _rr_tool(site: Site, tool: str) -> str | None:
    lat = site.metric("lat_mean_us")
    present = ordered_tools(lat, RR_TOOLS)
    return tool if tool in present else (present[0] if present else None)


def _busier_softirq(site: Site, tool: str, mtu: int, size: int) -> dict[tuple[str, str], float]:
    """Per (campaign, path): the share of the busier side's CPU time spent in softirq."""
    split = where(auto_buffers(site.classes), tool=tool, mtu=mtu, message_size=size)
    if split.empty:
        return {}
    split = split[split["class"] != BUSIEST]
    out = {}
    for (campaign, path), group in split.groupby(["campaign", "path"]):
        totals = group.groupby("side")["mean"].sum()
        side = str(totals.idxmax())
        softirq = group[(group["side"] == side) & (group["class"] == "softirq")]["mean"].sum()
        if totals.max() > 0:
            out[(str(campaign), str(path))] = float(softirq) / float(totals.max())
    return out


def _figures(site: Site, tool: str, mtu: int, size: int) -> tuple[pd.DataFrame, Cells, Cells]:
    """Goodput cells at the size, and CPU per Gb/s and latency by (campaign, path)."""
    gbps = _shown(where(auto_buffers(site.metric("gbps")), tool=tool, mtu=mtu,
                        message_size=size))
    cpg = _cells(_shown(where(auto_buffers(site.metric("cpu_per_gbps")), tool=tool, mtu=mtu,
                              message_size=size)))
    rr = _rr_tool(site, tool)
    lat = _cells(_shown(where(site.metric("lat_mean_us"), tool=rr, mtu=mtu))) if rr else {}
    return gbps, cpg, lat


def _ratio(cell: dict[Any, Any] | None) -> tuple[float, float, float]:
    if cell is None:
        return math.nan, math.nan, math.nan
    return (float(cell["ratio_to_bare"]), float(cell["ratio_low"]), float(cell["ratio_high"]))


def _ceiling(configuration: str, mtu: int) -> float | None:
    return ceiling_ratio(configuration, mtu) if configuration in ENCAPSULATIONS else None


def _chart_rows(gbps: pd.DataFrame, cpg: Cells, lat: Cells, mtu: int) -> pd.DataFrame:
    rows = []
    for r in gbps.to_dict("records"):
        key = (str(r["campaign"]), str(r["path"]))
        for figure, cell in (("goodput", r), ("CPU per Gb/s", cpg.get(key)),
                             ("latency", lat.get(key))):
            ratio, low, high = _ratio(cell)
            if math.isnan(ratio):
                continue
            rows.append({"campaign": key[0], "path": key[1], "figure": figure,
                         "configuration": r["configuration"], "ratio": ratio,
                         "low": low, "high": high,
                         "ci_text": numbers.interval(low, high),
                         "ceiling": _ceiling(str(r["configuration"]), mtu)
                         if figure == "goodput" else None})
    return pd.DataFrame(rows)


def _table(site: Site, gbps: pd.DataFrame, cpg: Cells, lat: Cells, softirq: dict[
        tuple[str, str], float], mtu: int) -> Table:
    header = [*(["campaign"] if site.several else []), "path", "goodput (Gb/s)",
              "÷ bare (headers allow)", "CPU per Gb/s (÷ bare)", "softirq, busier side",
              "latency (µs, ÷ bare)"]
    rows = []
    order = path_order(gbps["path"])
    for r in sorted(gbps.to_dict("records"), key=lambda r: (order.index(r["path"]),
                                                           str(r["campaign"]))):
        key = (str(r["campaign"]), str(r["path"]))
        c, ll = cpg.get(key), lat.get(key)
        ceiling = _ceiling(str(r["configuration"]), mtu)
        share = softirq.get(key)
        ci = ("" if pd.isna(r["ci_low"]) else
              f" ({numbers.interval(r['ci_low'], r['ci_high'])})")
        rows.append([*([key[0]] if site.several else []), key[1],
                     numbers.num(r["mean"]) + ci,
                     numbers.ratio(r["ratio_to_bare"])
                     + (f" ({numbers.ratio(ceiling)})" if ceiling is not None else ""),
                     f"{numbers.num(c['mean'])} ({numbers.ratio(c['ratio_to_bare'])})"
                     if c else "–",
                     f"{share * 100:.0f} %" if share is not None else "–",
                     f"{numbers.num(ll['mean'])} ({numbers.ratio(ll['ratio_to_bare'])})"
                     if ll else "–"])
    return Table(header, rows, note=(
        "Goodput with its 95 % CI where the cell has the runs for one; ÷ bare: against bare "
        "metal of the same tool, size and MTU, and in brackets the most the encapsulation's "
        "headers leave of it; CPU per Gb/s on the busier side (% of one CPU ÷ Gb/s); softirq: "
        "its share of that side's CPU time; latency: the 1-byte ping-pong's one-way mean."))


def _tab(site: Site, at: pd.DataFrame, tool: str, mtu: int) -> Tab:
    size = reference_size(at)
    if size is None:
        return Tab(tool)
    gbps, cpg, lat = _figures(site, tool, mtu, size)
    if gbps.empty:
        return Tab(tool)
    order = path_order(gbps["path"])
    tab = Tab(tool, charts=[Chart(charts.ratios_to_bare(
        _chart_rows(gbps, cpg, lat, mtu), f"Against bare metal, {tool}, "
        f"{numbers.size(size)}, MTU {mtu}", order, FIGURES),
        "Goodput, CPU per Gb/s and 1-byte latency as ratios to bare metal, with 95 % CIs; the "
        "black tick on goodput is the ceiling the encapsulation's headers alone leave")])
    split = _shown(where(auto_buffers(site.classes), tool=tool, mtu=mtu, message_size=size))
    if not split.empty:
        tab.charts.append(Chart(charts.cpu_classes(
            split, f"Where the CPU goes, {tool}, {numbers.size(size)}, MTU {mtu}", order),
            "Each side's CPU by class; encryption shows as system and softirq time, the "
            "tick is the busiest core"))
    tab.tables.append(_table(site, gbps, cpg, lat, _busier_softirq(site, tool, mtu, size),
                             mtu))
    return tab


def ceilings(site: Site) -> tuple[Table, list[Md]]:
    """Each measured dataplane's goodput ceiling at each of the campaign's MTUs, per link
    speed (and the NICs' own, when they report one); and what each one's headers are."""
    df = _shown(site.metric("gbps"))
    configs = [c for c in SHOWN if not df.empty and c in set(df["configuration"])]
    link = site.infos[-1].link_gbps if site.infos else None
    speeds = [*LINKS_GBPS, *([link] if link and link not in LINKS_GBPS else [])]
    header = ["dataplane", "MTU (inner)", "headers (B)",
              *(f"{numbers.num(s)} GbE" + (" (the NICs')" if s == link else "")
                for s in speeds), "÷ bare"]
    rows = []
    for cfg in configs:
        for mtu in mtus(where(df, configuration=cfg)):
            inner = inner_mtu(cfg, mtu)
            rows.append([cfg, f"{mtu} ({inner})", str(mtu - inner),
                         *(numbers.num(goodput_ceiling_gbps(s, cfg, mtu)) for s in speeds),
                         numbers.ratio(ceiling_ratio(cfg, mtu))])
    what = [Md("`{}`, {}: {}").format(cfg, found.name, found.note) for cfg in configs
            if (found := ENCAPSULATIONS.get(cfg))]
    return Table(header, rows, note="Goodput in Gb/s with every TCP segment full-sized: link "
                 "× (inner MTU - 52) ÷ (MTU + 38) — 52 B of IPv4, TCP and timestamps in each "
                 "segment, 38 B of Ethernet framing, preamble and gap on the wire."), what


def page(site: Site) -> EncapsulationView:
    at = _shown(site.metric("gbps"))
    point = key_point(site, site.latest)
    link = site.infos[-1].link_gbps if site.infos else None
    table, what = ceilings(site)
    return EncapsulationView(sections_per_mtu(at, STREAM_TOOLS, lambda d, t, m: _tab(
        site, d, t, m)), table, what, [point] if point else [], site.emulated(), link)


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """The dataplanes ranked by goodput against bare metal (container to container, the
    first stream tool, the large message, the smallest MTU), with their CPU per Gb/s."""
    gbps = auto_buffers(where(_shown(site.metric("gbps")), campaign=campaign))
    if gbps.empty or not set(gbps["configuration"]) & set(TUNNELS):
        return None
    tool, mtu, size = ordered_tools(gbps, STREAM_TOOLS)[0], mtus(gbps)[0], reference_size(gbps)
    at = where(gbps, tool=tool, mtu=mtu, message_size=size, direction=RANKED_DIRECTION)
    cpg = _cells(where(auto_buffers(site.metric("cpu_per_gbps")), campaign=campaign,
                       tool=tool, mtu=mtu, message_size=size))
    ranked = sorted(((float(r["ratio_to_bare"]), str(r["configuration"]), str(r["path"]))
                     for r in at.to_dict("records") if not pd.isna(r["ratio_to_bare"])),
                    reverse=True)
    if not ranked:
        return None
    said = ", ".join(f"{CONFIG_NAMES.get(cfg, cfg)} {numbers.ratio(ratio)}"
                     for ratio, cfg, _ in ranked)
    ceilings_ = [ceiling_ratio(cfg, mtu) for _, cfg, _ in ranked if cfg in ENCAPSULATIONS]
    allow = (f" (their headers alone allow {numbers.ratio(min(ceilings_))}–"
             f"{numbers.ratio(max(ceilings_))})" if ceilings_ else "")
    costs: list[tuple[float, str]] = []
    for _, cfg, path in ranked:
        c = cpg.get((campaign, path))
        if c is not None and not pd.isna(c["ratio_to_bare"]):
            costs.append((float(c["ratio_to_bare"]), CONFIG_NAMES.get(cfg, cfg)))
    costs.sort()
    cost = (f"; per Gb/s they spend {numbers.ratio(costs[0][0])} ({costs[0][1]}) to "
            f"{numbers.ratio(costs[-1][0])} ({costs[-1][1]}) bare metal's CPU"
            if len(costs) > 1 else "")
    return KeyPoint(f"Encapsulation and encryption, ranked by goodput against bare metal "
                    f"({tool}, {numbers.size(size)}, MTU {mtu}, container to container): "
                    f"{said}{allow}{cost}.", "encapsulation.md#encapsulation",
                    "Encapsulation and encryption")


PAGE = Page("encapsulation", "Encapsulation and encryption", from_site(page), Reads.FIGURES,
            measured, key_point)
