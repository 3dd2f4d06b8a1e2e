"""Slices of the cell tables the pages share: which campaign, MTU, tool and sizes a figure
shows, the paths in reading order, and compact tables (path × size and MTU)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import numbers
from .escaping import Md

CONFIG_ORDER = ["bare", "veth-control", "container", "vm", "ipip", "overlay", "geneve",
                "overlay-ovs", "wireguard", "ipsec", "existing"]
DIRECTION_ORDER = ["host-host", "container-container", "container-host", "host-container",
                   "vm-vm", "vm-host", "host-vm"]
STREAM_TOOLS = ["csrc", "iperf3", "qperf"]   # preference when one tool speaks for the rest
RR_TOOLS = ["csrc", "qperf"]
REFERENCE_SIZE = 20000  # the study's large message


def path_order(paths: Iterable[str]) -> list[str]:
    def key(path: str) -> tuple[int, int, str]:
        cfg, _, direction = path.partition(" ")
        return (CONFIG_ORDER.index(cfg) if cfg in CONFIG_ORDER else 99,
                DIRECTION_ORDER.index(direction) if direction in DIRECTION_ORDER else 99, path)
    return sorted(set(paths), key=key)


def in_path_order(df: pd.DataFrame, *then: str) -> pd.DataFrame:
    """The rows by path in reading order (path_order), then by ``then`` within a path."""
    order = path_order(df["path"])
    return df.sort_values(list(then)).sort_values(
        "path", key=lambda s: s.map(order.index), kind="stable")


def path_rank(paths: Iterable[str]) -> list[int]:
    """Each path's place in reading order (path_order), to sort rows by."""
    paths = list(paths)
    rank = {p: i for i, p in enumerate(path_order(paths))}
    return [rank[p] for p in paths]


def where(df: pd.DataFrame, **equal: Any) -> pd.DataFrame:
    """The rows whose columns equal the values given (compared as numpy arrays: the pages
    slice this way a thousand times a build)."""
    if df.empty:
        return df
    mask = np.ones(len(df), dtype=bool)
    for column, value in equal.items():
        mask &= df[column].to_numpy() == value
    return df[mask]


def mean_at(df: pd.DataFrame, **equal: Any) -> float | None:
    """The mean of the cell whose columns equal the values given; None when there is none."""
    hit = where(df, **equal)
    return float(hit["mean"].iloc[0]) if not hit.empty else None


class Lookup:
    """A column of each cell of ``df`` by the values of ``keys``, found without slicing the
    frame: a table of N rows asking where() per row copied the frame N times. The first row
    of a key wins, as in mean_at."""

    def __init__(self, df: pd.DataFrame, keys: Iterable[str], column: str = "mean") -> None:
        self.keys = tuple(keys)
        self._by: dict[tuple[Any, ...], Any] = {}
        if not df.empty:
            columns = [df[k].tolist() for k in self.keys]
            for key, value in zip(zip(*columns, strict=True), df[column].tolist(),
                                  strict=True):
                self._by.setdefault(key, value)

    def at(self, **equal: Any) -> Any | None:
        """The value of the cell whose keys equal these (every key given); None if none."""
        return self._by.get(tuple(equal[k] for k in self.keys))

    def mean_at(self, **equal: Any) -> float | None:
        found = self.at(**equal)
        return float(found) if found is not None else None


def ordered_tools(df: pd.DataFrame, preference: list[str]) -> list[str]:
    present = set(df["tool"]) if not df.empty else set()
    return [t for t in preference if t in present] + sorted(present - set(preference))


def sizes(df: pd.DataFrame) -> list[int]:
    return sorted({int(s) for s in df["message_size"]}) if not df.empty else []


def reference_size(df: pd.DataFrame) -> int | None:
    found = sizes(df)
    return REFERENCE_SIZE if REFERENCE_SIZE in found else (found[-1] if found else None)


def small_size(df: pd.DataFrame) -> int | None:
    found = sizes(df)
    return found[0] if len(found) > 1 else None


def mtus(df: pd.DataFrame) -> list[int]:
    return sorted({int(m) for m in df["mtu"]}) if not df.empty else []


def auto_buffers(df: pd.DataFrame) -> pd.DataFrame:
    """Autotuned-buffer cells when there are any (the study's condition), else all."""
    if df.empty or "auto" not in set(df["socket_buffer"]):
        return df
    return df[df["socket_buffer"] == "auto"]


@dataclass(frozen=True)
class Table:
    """A compact table: a header row and rows of already formatted cells."""

    header: list[str]
    rows: list[list[str]]
    note: str = ""
    title: str = ""  # a caption above it, when a tab holds several tables
    text: bool = False  # every column is text (left-aligned); else figures after the first

    @property
    def rule(self) -> Md:
        """The Markdown row under the header, which sets each column's alignment."""
        figures = "---" if self.text else "---:"
        return Md("|" + "".join(" --- |" if i == 0 else f" {figures} |"
                                for i in range(len(self.header))))


def compact(cells: pd.DataFrame, unit: str, with_ratio: bool = True) -> Table:
    """Path as the row; message size × MTU (and campaign, when several) as columns; each cell
    the mean with its ratio to bare metal."""
    if cells.empty:
        return Table([], [])
    campaigns = list(dict.fromkeys(cells["campaign"]))
    columns = sorted({(c, int(m), int(s)) for c, m, s in
                      zip(cells["campaign"], cells["mtu"], cells["message_size"], strict=True)},
                     key=lambda k: (campaigns.index(k[0]), k[1], k[2]))
    several = len(campaigns) > 1
    header = ["path"] + [(f"{c}: " if several else "") + f"{numbers.size(s)}, MTU {m}"
                         for c, m, s in columns]
    index = {(r["campaign"], int(r["mtu"]), int(r["message_size"]), r["path"]): r
             for _, r in cells.iterrows()}
    rows = []
    for path in path_order(cells["path"]):
        row = [path]
        for c, m, s in columns:
            r = index.get((c, m, s, path))
            if r is None:
                row.append("")
                continue
            text = f"{numbers.num(r['mean'])} {unit}"
            if with_ratio and not pd.isna(r.get("ratio_to_bare")) and \
                    r["configuration"] != "bare":
                text += f" ({numbers.ratio(r['ratio_to_bare'])})"
            row.append(text)
        rows.append(row)
    return Table(header, rows)
