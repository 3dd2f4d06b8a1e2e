"""The UDP packet rate page: datagrams per second each path delivers when a sender pushes
small or path-sized datagrams as fast as it can — the per-packet cost of a virtual interface,
which bulk TCP with its large segments hides — with the loss, and the CPU per million
datagrams per second. Shown when a campaign ran the `udp` test."""

import pandas as pd

from .. import charts, numbers
from ..findings import KeyPoint
from ..views import Lookup, Table, in_path_order, mtus, ordered_tools, path_order, where
from .layout import PointsView, tabs_per_tool
from .model import Chart, Site
from .page import Page, Reads, from_site

UDP_TOOLS = ["csrc", "iperf3"]


def measured(site: Site) -> bool:
    return not site.metric("udp_mpps").empty


def page(site: Site) -> PointsView:
    def build(at: pd.DataFrame, tool: str, mtu: int) -> tuple[Chart, Table]:
        return Chart(charts.path_bars(
            at, f"UDP datagrams received, {tool}, MTU {mtu}", "million datagrams/s",
            column="size_label", order=path_order(at["path"])),
            "Datagrams per second the receiver counted over its window (95 % CI "
            "whiskers), per datagram size"), _table(site, at, tool, mtu)
    point = key_point(site, site.latest)
    return PointsView(tabs_per_tool(site.metric("udp_mpps"), UDP_TOOLS, build),
                      [point] if point else [])


def _table(site: Site, at: pd.DataFrame, tool: str, mtu: int) -> Table:
    several = at["campaign"].nunique() > 1
    keys = ("campaign", "configuration", "direction", "tool", "message_size", "mtu")
    lost, carried, cpu = (Lookup(site.metric(m), keys)
                          for m in ("udp_loss_pct", "udp_gbps", "cpu_per_mpps"))
    rows = []
    for _, r in in_path_order(at, "campaign", "message_size").iterrows():
        match = {k: r[k] for k in keys}
        loss, gbps, cpm = (lookup.mean_at(**match) for lookup in (lost, carried, cpu))
        rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                     numbers.size(r["message_size"]),
                     numbers.with_interval(r["mean"], r["ci_low"], r["ci_high"]),
                     numbers.num(r["ratio_to_bare"], 3) + "×"
                     if pd.notna(r.get("ratio_to_bare")) else "—",
                     numbers.num(loss) + " %" if loss is not None else "—",
                     numbers.num(gbps) if gbps is not None else "—",
                     numbers.num(cpm) if cpm is not None else "—"])
    header = [*(["campaign"] if several else []), "path", "datagram", "M/s (95 % CI)",
              "÷ bare", "lost", "Gb/s", "CPU per Mpps"]
    return Table(header, rows, title=f"{tool}, MTU {mtu}",
                 note="M/s: million datagrams the receiver counted per second over its window; "
                      "lost: the "
                      "sequence numbers (csrc) or iperf3's count missing over the window; CPU "
                      "per Mpps: the higher side's CPU (% of one CPU) ÷ million datagrams/s.")


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """One sentence for the Summary: the smallest datagrams' rate on each configuration
    against bare metal, only for a campaign that ran `udp`."""
    mpps = where(site.metric("udp_mpps"), campaign=campaign)
    if mpps.empty:
        return None
    tool = ordered_tools(mpps, UDP_TOOLS)[0]
    at = where(mpps, tool=tool, mtu=mtus(mpps)[0])
    at = where(at, message_size=int(at["message_size"].min()))
    others = at[at["configuration"] != "bare"].dropna(subset=["ratio_to_bare"])
    bare = where(at, configuration="bare")
    if bare.empty:
        return None
    text = (f"UDP at {numbers.size(at['message_size'].iloc[0])} ({tool}): bare metal received "
            f"{numbers.num(bare['mean'].iloc[0])} million datagrams/s")
    if not others.empty:
        low, high = others["ratio_to_bare"].min(), others["ratio_to_bare"].max()
        text += f"; the other paths {low:.2f}–{high:.2f}× that"
    return KeyPoint(text + ".", "udp.md#udp-packet-rate", "UDP packet rate")


PAGE = Page("udp", "UDP packet rate", from_site(page), Reads.FIGURES_EVERY_TEST,
            measured, key_point)
