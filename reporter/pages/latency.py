"""The Latency page: the 1-byte ping-pong's one-way latency per path beside the study's
figures, VMs on their own axis, and the percentiles dpb-pingpong records."""

import pandas as pd

from .. import charts, numbers
from ..views import RR_TOOLS, Lookup, Table, path_order, where
from .layout import FigureView, no_vm, only_vm, sections_per_mtu
from .model import Chart, Site, Tab
from .page import Page, Reads, from_site

PERCENTILES = [("lat_mean_us", "mean"), ("lat_p50_us", "p50"), ("lat_p90_us", "p90"),
               ("lat_p99_us", "p99"), ("lat_p99_9_us", "p99.9"), ("rtt_mean_us", "RTT mean")]


def latency(site: Site) -> FigureView:
    df = site.metric("lat_mean_us")

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        t = Tab(tool)
        rest, vms = no_vm(at), only_vm(at)
        if not rest.empty:
            t.charts.append(Chart(charts.latency(rest, f"One-way latency, {tool}, MTU {mtu}",
                                                 path_order(rest["path"])),
                                  "Mean one-way latency (RTT ÷ 2) per path with its 95 % CI; "
                                  "grey: the study's figures on 10 GbE"))
        if not vms.empty:
            t.charts.append(Chart(charts.latency(vms, f"One-way latency, VMs, {tool}, MTU {mtu}",
                                                 path_order(vms["path"])),
                                  "VMs on their own axis; grey: the study's figures"))
        t.tables.append(_percentiles(site, tool, mtu))
        return t
    return FigureView(sections_per_mtu(df, RR_TOOLS, tab), site.emulated())


def _percentiles(site: Site, tool: str, mtu: int) -> Table:
    found = {m: where(site.metric(m), tool=tool, mtu=mtu) for m, _ in PERCENTILES}
    base = found["lat_mean_us"]
    header = ["path", *(["campaign"] if site.several else []),
              *(f"{label} (µs)" for m, label in PERCENTILES if not found[m].empty), "runs"]
    keys = ("path", "campaign")
    means = {m: Lookup(found[m], keys) for m, _ in PERCENTILES if not found[m].empty}
    runs = Lookup(base, keys, "n")
    rows = []
    for path in path_order(base["path"]):
        for campaign in dict.fromkeys(base["campaign"]):
            row = [path, *([campaign] if site.several else [])]
            n = runs.at(path=path, campaign=campaign)
            if n is None:
                continue
            for lookup in means.values():
                value = lookup.mean_at(path=path, campaign=campaign)
                row.append(numbers.num(value) if value is not None else "–")
            row.append(str(int(n)))
            rows.append(row)
    note = ("One-way = RTT ÷ 2. qperf prints the mean only; dpb-pingpong records every round "
            "trip, hence the percentiles.")
    return Table(header, rows, note)


PAGE = Page("latency", "Latency", from_site(latency), Reads.FIGURES)
