"""The MTU page: throughput at the largest MTU over the smallest, per path and size, and
where the larger frames lost."""

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import charts, numbers
from ..views import STREAM_TOOLS, Table, auto_buffers, mtus, ordered_tools, path_order, where
from .model import Chart, Site, Tab
from .page import Page, Reads, View, from_site

LOST_BELOW = 0.9  # a ratio under this is a loss worth a sentence


@dataclass
class MtuView(View):
    tabs: list[Tab]
    mtus: list[int]
    drops: list[str]
    emulated: str  # Site.emulated()
    shared: bool


def _ratios(at: pd.DataFrame, low: int, high: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for (campaign, path, size), group in at.groupby(["campaign", "path", "message_size"]):
        a, b = where(group, mtu=low), where(group, mtu=high)
        if a.empty or b.empty:
            continue
        ga, gb = float(a["mean"].iloc[0]), float(b["mean"].iloc[0])
        rows.append({"campaign": campaign, "path": path, "message_size": size,
                     "configuration": a["configuration"].iloc[0], "low_gbps": ga,
                     "high_gbps": gb, "ratio": gb / ga if ga else math.nan})
    return rows


def _drops(tool: str, rows: list[dict[str, Any]]) -> list[str]:
    lost = [r for r in rows if r["ratio"] < LOST_BELOW]
    out = []
    for size in sorted({r["message_size"] for r in lost}):
        at_size = [r for r in rows if r["message_size"] == size]
        worst = min((r for r in lost if r["message_size"] == size), key=lambda r: r["ratio"])
        out.append(f"{tool} at {numbers.size(size)}: {sum(r in lost for r in at_size)} of "
                   f"{len(at_size)} paths, down to {numbers.ratio(worst['ratio'])} for "
                   f"{worst['path']} ({numbers.num(worst['low_gbps'])} → "
                   f"{numbers.num(worst['high_gbps'])} Gb/s)")
    return out


def mtu(site: Site) -> MtuView:
    df = auto_buffers(site.metric("gbps"))
    found = mtus(df)
    tabs: list[Tab] = []
    drops: list[str] = []
    if len(found) > 1:
        low, high = found[0], found[-1]
        for tool in ordered_tools(df, STREAM_TOOLS):
            rows = _ratios(where(df, tool=tool), low, high)
            table = pd.DataFrame(rows)
            if table.empty:
                continue
            order = path_order(table["path"])
            t = Tab(tool, charts=[Chart(charts.mtu_ratio(
                table, f"MTU {high} ÷ MTU {low}, {tool}", order),
                f"Throughput at MTU {high} over MTU {low}: above 1, the larger frames help")])
            rows.sort(key=lambda r: (order.index(r["path"]), r["message_size"]))
            t.tables.append(Table(
                ["path", *(["campaign"] if site.several else []), "size", f"MTU {low} (Gb/s)",
                 f"MTU {high} (Gb/s)", f"{high} ÷ {low}"],
                [[r["path"], *([r["campaign"]] if site.several else []),
                  numbers.size(r["message_size"]), numbers.num(r["low_gbps"]),
                  numbers.num(r["high_gbps"]), numbers.ratio(r["ratio"])] for r in rows]))
            drops += _drops(tool, rows)
            tabs.append(t)
    return MtuView(tabs, found, drops, site.emulated(), site.shared_kernel())


PAGE = Page("mtu", "MTU 1500 vs 9000", from_site(mtu), Reads.FIGURES)
