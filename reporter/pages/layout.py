"""The two shapes a figure page takes: a section per MTU with a tab per tool (the study's
pages), or a tab per tool with a chart per MTU (the pages a campaign adds)."""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..findings import KeyPoint
from ..views import Table, mtus, ordered_tools, where
from .model import Chart, Section, Tab
from .page import View


@dataclass
class FigureView(View):
    """A page of the study's: a section per MTU, a tab per tool."""

    sections: list[Section]
    emulated: str  # Site.emulated()


@dataclass
class PointsView(View):
    """A page a campaign adds: a tab per tool, and its key points said again on top."""

    tabs: list[Tab]
    points: list[KeyPoint]


def sections_per_mtu(df: pd.DataFrame, tools: list[str],
                     build: Callable[[pd.DataFrame, str, int], Tab]) -> list[Section]:
    """A section per MTU, a tab per tool: ``build(slice, tool, mtu) -> Tab``."""
    sections = []
    for mtu in mtus(df):
        tabs = [build(where(df, mtu=mtu, tool=tool), tool, mtu)
                for tool in ordered_tools(where(df, mtu=mtu), tools)]
        sections.append(Section(f"MTU {mtu}", f"mtu-{mtu}", tabs=[t for t in tabs if t]))
    return sections


def tabs_per_tool(df: pd.DataFrame, tools: list[str],
                  build: Callable[[pd.DataFrame, str, int], tuple[Chart, Table]]) -> list[Tab]:
    """A tab per tool, in it a chart and a table per MTU: ``build(slice, tool, mtu)``."""
    tabs = []
    for tool in ordered_tools(df, tools):
        tab = Tab(tool)
        for mtu in mtus(where(df, tool=tool)):
            chart, table = build(where(df, tool=tool, mtu=mtu), tool, mtu)
            tab.charts.append(chart)
            tab.tables.append(table)
        tabs.append(tab)
    return tabs


def no_vm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["configuration"] != "vm"] if not df.empty else df


def only_vm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["configuration"] == "vm"] if not df.empty else df
