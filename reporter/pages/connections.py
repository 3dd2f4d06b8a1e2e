"""The Connection rate page: TCP connections per second when every request opens its own
connection (connect, one request and response, close — netperf's TCP_CRR) — where dataplanes
differ most, since the first packet of a connection takes the slow path (conntrack, NAT,
policy, an OVS flow miss) that bulk TCP pays once. With the connect() time, the whole
connection's time, the CPU per 1,000 connections/s, and the kernel's own count beside the
program's. Shown when a campaign ran the `crr` test."""

import pandas as pd

from .. import charts, numbers
from ..findings import KeyPoint
from ..views import Lookup, Table, in_path_order, mtus, ordered_tools, path_order, where
from .layout import PointsView, tabs_per_tool
from .model import Chart, Site
from .page import Page, Reads, from_site

CRR_TOOLS = ["csrc"]
KEYS = ("campaign", "configuration", "direction", "tool", "message_size", "mtu")
SHOWN = ("crr_connect_p50_us", "crr_p50_us", "crr_p99_us", "cpu_per_kcps", "kernel_cps")


def measured(site: Site) -> bool:
    return not site.metric("crr_cps").empty


def page(site: Site) -> PointsView:
    def build(at: pd.DataFrame, tool: str, mtu: int) -> tuple[Chart, Table]:
        return Chart(charts.path_bars(
            at, f"TCP connections per second, {tool}, MTU {mtu}", "connections/s",
            column="size_label", order=path_order(at["path"])),
            "Connections completed per second, one at a time (95 % CI whiskers)"), \
            _table(site, at, tool, mtu)
    point = key_point(site, site.latest)
    return PointsView(tabs_per_tool(site.metric("crr_cps"), CRR_TOOLS, build),
                      [point] if point else [])


def _table(site: Site, at: pd.DataFrame, tool: str, mtu: int) -> Table:
    several = at["campaign"].nunique() > 1
    looked = {m: Lookup(site.metric(m), KEYS) for m in (*SHOWN, "crr_failed")}
    rows = []
    for _, r in in_path_order(at, "campaign", "message_size").iterrows():
        match = {k: r[k] for k in KEYS}
        found = {m: lookup.mean_at(**match) for m, lookup in looked.items()}
        failed = found["crr_failed"]
        rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                     numbers.with_interval(r["mean"], r["ci_low"], r["ci_high"]),
                     numbers.num(r["ratio_to_bare"], 3) + "×"
                     if pd.notna(r.get("ratio_to_bare")) else "—",
                     shown(found[SHOWN[0]]), " / ".join(shown(found[m]) for m in SHOWN[1:3]),
                     *(shown(found[m]) for m in SHOWN[3:]),
                     numbers.num(failed) if failed else "0"])
    header = [*(["campaign"] if several else []), "path", "conn/s (95 % CI)", "÷ bare",
              "connect p50 µs", "connection p50 / p99 µs", "CPU per kconn/s",
              "kernel opens/s", "failed per run"]
    return Table(header, rows, title=f"{tool}, MTU {mtu}",
                 note="conn/s: connections completed per second, one at a time; connect: the "
                      "connect() call (SYN to SYN-ACK); connection: socket() to the server's "
                      "FIN; CPU per kconn/s: the higher side's CPU (% of one CPU) ÷ thousands "
                      "of connections/s; kernel opens/s: the client namespace's TCP "
                      "ActiveOpens over the same window, a count made apart from the program's; "
                      "failed per run: connections that failed in the window, mean over the "
                      "runs (never counted as connections).")


def shown(value: float | None) -> str:
    return numbers.num(value) if value is not None else "—"


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """One sentence for the Summary: bare metal's connection rate and the other paths'
    ratios to it, only for a campaign that ran `crr`."""
    cps = where(site.metric("crr_cps"), campaign=campaign)
    if cps.empty:
        return None
    tool = ordered_tools(cps, CRR_TOOLS)[0]
    at = where(cps, tool=tool, mtu=mtus(cps)[0])
    bare = where(at, configuration="bare")
    if bare.empty:
        return None
    others = at[at["configuration"] != "bare"].dropna(subset=["ratio_to_bare"])
    text = (f"Connection rate ({tool}, MTU {int(at['mtu'].iloc[0])}): bare metal completed "
            f"{numbers.num(bare['mean'].iloc[0])} connections/s")
    if not others.empty:
        worst = others.sort_values("ratio_to_bare").iloc[0]
        text += (f"; the slowest path, {worst['path']}, {worst['ratio_to_bare']:.2f}× that"
                 if len(others) > 1 else f"; {worst['path']} {worst['ratio_to_bare']:.2f}×")
    return KeyPoint(text + ".", "connections.md#connection-rate", "Connection rate")


PAGE = Page("connections", "Connection rate", from_site(page), Reads.FIGURES_EVERY_TEST,
            measured, key_point)
