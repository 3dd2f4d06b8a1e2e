"""The Throughput page: goodput per path at each message size, a section per MTU and a tab
per tool, with the socket buffers the kernel applied and the TCP health of the runs."""

from typing import Any

import pandas as pd

from .. import charts, numbers, tcphealth
from ..metrics import unit
from ..views import STREAM_TOOLS, Table, auto_buffers, compact, path_order, path_rank, where
from .layout import FigureView, sections_per_mtu
from .model import Chart, Site, Tab
from .page import Page, Reads, from_site


def throughput(site: Site) -> FigureView:
    df = site.metric("gbps")
    tcp_cells = tcphealth.cells(site.tcp)

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        main = auto_buffers(at)
        t = Tab(tool, charts=[Chart(
            charts.path_bars(main, f"Throughput, {tool}, MTU {mtu}", unit("gbps"),
                             column="size_label", order=path_order(main["path"])),
            f"Goodput per path at each message size ({tool}, MTU {mtu}); whiskers: 95 % CI")],
            tables=[compact(at, unit("gbps"))])
        if set(at["socket_buffer"]) - {"auto"}:
            t.notes.append("The chart shows autotuned buffers; the table has both modes.")
            applied = where(site.buffers, tool=tool, mtu=mtu)
            if not applied.empty:
                t.tables.append(_buffers_table(applied))
        health = where(tcp_cells, tool=tool, mtu=mtu)
        if not health.empty:
            t.tables.append(tcphealth.table(health))
            flagged = tcphealth.flagged_table(where(site.tcp, tool=tool, mtu=mtu))
            if flagged.rows:
                t.tables.append(flagged)
        return t
    return FigureView(sections_per_mtu(df, STREAM_TOOLS, tab), site.emulated())


def _buffers_table(applied: pd.DataFrame) -> Table:
    def kib(value: Any) -> str:
        return "–" if pd.isna(value) else f"{float(value) / 1024:,.0f} KiB"

    several = applied["campaign"].nunique() > 1
    ranked = applied.assign(rank=path_rank(applied["path"])).sort_values(
        ["socket_buffer", "campaign", "message_size", "rank"])
    rows = [[*([str(r["campaign"])] if several else []), str(r["path"]),
             numbers.size(int(r["message_size"])), str(r["socket_buffer"]),
             kib(r.get("sndbuf_applied_bytes")), kib(r.get("rcvbuf_applied_bytes"))]
            for _, r in ranked.iterrows()]
    return Table([*(["campaign"] if several else []), "path", "message", "buffers",
                  "sender SO_SNDBUF applied", "receiver SO_RCVBUF applied"], rows,
                 title="Socket buffers applied",
                 note="What the kernel applied (getsockopt after setsockopt), median over the "
                      "runs: it doubles a request and clamps it to net.core.wmem_max / "
                      "rmem_max; with autotuning, the size the socket started with.")


PAGE = Page("throughput", "Throughput", from_site(throughput), Reads.FIGURES)
