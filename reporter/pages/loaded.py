"""The Latency under load page: the 1-byte ping-pong measured while bulk TCP flows run on the
same path (the `rr-load` test), beside the same path's idle latency (`rr`) — what a busy
dataplane does to a request's latency, flent's RRUL question — with the bulk throughput
achieved meanwhile. Shown when a campaign ran `rr-load`."""

from typing import Any

import pandas as pd

from .. import charts, numbers
from ..findings import KeyPoint, Ratio, lowest_and_highest
from ..views import Lookup, Table, in_path_order, mtus, path_order, where
from .layout import PointsView, tabs_per_tool
from .model import Chart, Site
from .page import Page, Reads, from_site

PERCENTILES = (("lat_p50_us", "p50"), ("lat_p99_us", "p99"), ("lat_p99_9_us", "p99.9"))
LOADED_TOOLS = ["csrc"]  # the only tool that runs rr-load
SAME_PATH = ("campaign", "configuration", "direction", "tool", "mtu")


def measured(site: Site) -> bool:
    return not where(site.metric("lat_p99_us"), test="rr-load").empty


def _idle(site: Site, metric: str) -> Lookup:
    """The idle (rr) cells of ``metric`` by path: the figure a loaded row is set against."""
    return Lookup(where(site.metric(metric), test="rr"), SAME_PATH)


def _same_path(row: pd.Series) -> dict[str, Any]:
    return {k: row[k] for k in SAME_PATH}


def _pairs(site: Site, loaded: pd.DataFrame) -> pd.DataFrame:
    """p99 cells idle and under load, labelled, for the chart."""
    rows = []
    for _, r in loaded.iterrows():
        idle = where(site.metric("lat_p99_us"), test="rr", **_same_path(r))
        flows = f"{int(r['streams'])} bulk flow{'s' if r['streams'] > 1 else ''}"
        rows.append({**r.to_dict(), "state": "under load", "flows_label": flows})
        if not idle.empty:
            rows.append({**idle.iloc[0].to_dict(), "state": "idle", "flows_label": flows})
    return pd.DataFrame(rows)


def page(site: Site) -> PointsView:
    def build(at: pd.DataFrame, tool: str, mtu: int) -> tuple[Chart, Table]:
        return Chart(charts.idle_and_loaded(
            _pairs(site, at), f"p99 one-way latency idle and under load, {tool}, MTU {mtu}",
            "p99 one-way latency (µs)", path_order(at["path"])),
            "Each path's p99 latency alone (grey) and while bulk flows ran on the same path; "
            "95 % CI whiskers"), _table(site, at, tool, mtu)
    point = key_point(site, site.latest)
    return PointsView(tabs_per_tool(where(site.metric("lat_p99_us"), test="rr-load"),
                                    LOADED_TOOLS, build), [point] if point else [])


def _table(site: Site, at: pd.DataFrame, tool: str, mtu: int) -> Table:
    several = at["campaign"].nunique() > 1
    keys = (*SAME_PATH, "test", "streams")
    loaded = {m: Lookup(site.metric(m), keys) for m, _ in PERCENTILES}
    idle_at = {m: _idle(site, m) for m, _ in PERCENTILES}
    bulk_gbps = Lookup(site.metric("load_gbps"), keys)
    rows = []
    for _, r in in_path_order(at, "campaign", "streams").iterrows():
        match = {k: r[k] for k in keys}
        cells = []
        for metric, _ in PERCENTILES:
            idle = idle_at[metric].mean_at(**_same_path(r))
            value = loaded[metric].mean_at(**match)
            cells.append(f"{numbers.num(idle) if idle is not None else '—'} → "
                         f"{numbers.num(value) if value is not None else '—'}")
        bulk = bulk_gbps.mean_at(**match)
        rows.append([*([str(r["campaign"])] if several else []), str(r["path"]),
                     str(int(r["streams"])), *cells,
                     numbers.num(bulk) if bulk is not None else "—"])
    header = [*(["campaign"] if several else []), "path", "bulk flows",
              *(f"{name} idle → loaded (µs)" for _, name in PERCENTILES), "bulk Gb/s"]
    return Table(header, rows, title=f"{tool}, MTU {mtu}",
                 note="One-way latency (RTT ÷ 2) of the 1-byte ping-pong, means over the runs "
                      "of each percentile: idle from the rr test, loaded from rr-load; bulk "
                      "Gb/s: the flows' summed goodput meanwhile.")


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """One sentence for the Summary: how far bulk traffic pushed bare metal's p99 and the
    worst path's, only for a campaign that ran `rr-load`."""
    p99 = where(site.metric("lat_p99_us"), test="rr-load", campaign=campaign)
    if p99.empty:
        return None
    at = where(p99, mtu=mtus(p99)[0])
    at = where(at, streams=int(at["streams"].max()))
    growth: list[Ratio] = []
    idle_p99 = _idle(site, "lat_p99_us")
    for _, r in at.iterrows():
        idle = idle_p99.mean_at(**_same_path(r))
        if idle:
            growth.append((float(r["mean"]) / idle, str(r["path"]), float(r["mean"])))
    ends = lowest_and_highest(growth)
    if ends is None:
        return None
    least, worst = ends
    flows = int(at["streams"].iloc[0])
    return KeyPoint(
        f"Under {flows} bulk flow{'s' if flows > 1 else ''}, p99 one-way latency grew "
        f"{least[0]:.1f}–{worst[0]:.1f}× over idle (most: {worst[1]}, "
        f"{numbers.num(worst[2])} µs).", "loaded.md#latency-under-load", "Latency under load")


PAGE = Page("loaded", "Latency under load", from_site(page), Reads.FIGURES_EVERY_TEST,
            measured, key_point)
