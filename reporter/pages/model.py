"""What the pages are made from (Site: the campaigns' cells and run tables) and what they are
made of (Chart, Tab, Section): the parts every page view holds."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..campaigns import CampaignInfo
from ..compare import Change
from ..views import Table


@dataclass
class Chart:
    spec: dict[str, Any]
    caption: str
    name: str = ""  # given by the site when it draws the SVG


@dataclass
class Tab:
    title: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A heading with an anchor and its tabs (one per tool)."""

    heading: str
    anchor: str
    tabs: list[Tab] = field(default_factory=list)


STUDY_TESTS = ("stream", "rr")
UNTUNED = "untuned"  # collector/tuning.py's: the hosts as they are


@dataclass
class Site:
    """Everything the pages are made from."""

    infos: list[CampaignInfo]
    cells: dict[str, pd.DataFrame]
    changes: list[Change]
    baseline: str
    tolerance_pct: float
    # CPU time by class per stream cell and side (aggregate.cpu_classes), newest campaigns'
    classes: pd.DataFrame = field(default_factory=pd.DataFrame)
    buffers: pd.DataFrame = field(default_factory=pd.DataFrame)  # aggregate.applied_buffers
    qperf_cpu: pd.DataFrame = field(default_factory=pd.DataFrame)  # agreement.qperf_cpu
    tcp: pd.DataFrame = field(default_factory=pd.DataFrame)  # tcphealth.runs
    # The node pair each campaign of several pairs is shown by on the figure pages (the
    # median pair, or the one asked for): campaign → pair id.
    pair_choice: dict[str, str] = field(default_factory=dict)
    # Every run's measurement window (node_pairs.overlaps), of the campaigns of several pairs
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def several(self) -> bool:
        return len(self.infos) > 1

    @property
    def latest(self) -> str:
        return self.infos[-1].name if self.infos else ""

    def metric(self, name: str) -> pd.DataFrame:
        return self.cells.get(name, pd.DataFrame())

    def _each(self, keep: Callable[[pd.DataFrame], pd.DataFrame]) -> "Site":
        """The same site with every table of it through ``keep``."""
        return Site(self.infos, {m: keep(df) for m, df in self.cells.items()}, self.changes,
                    self.baseline, self.tolerance_pct, keep(self.classes), keep(self.buffers),
                    keep(self.qperf_cpu), keep(self.tcp), self.pair_choice, self.windows)

    def one_pair(self) -> "Site":
        """Each campaign of several node pairs by its chosen pair (pair_choice); a two-host
        campaign's rows have no pair and stay."""
        if not self.pair_choice:
            return self

        def chosen(frame: pd.DataFrame) -> pd.DataFrame:
            if frame.empty or "pair" not in frame:
                return frame
            wanted = frame["campaign"].map(self.pair_choice).fillna("")
            return frame[(frame["pair"] == "") | (frame["pair"] == wanted)]

        return self._each(chosen)

    @property
    def paired(self) -> bool:
        """Whether a campaign measured more than one node pair."""
        return any(not df.empty and "pair" in df and bool((df["pair"] != "").any())
                   for df in self.cells.values())

    def one_flow(self) -> "Site":
        """The study's pages: its tests (stream, rr) at one TCP flow; several flows, UDP and
        latency under load have pages of their own."""
        def single(frame: pd.DataFrame) -> pd.DataFrame:
            if "streams" in frame:
                frame = frame[frame["streams"] == 1]
            return frame[frame["test"].isin(STUDY_TESTS)] if "test" in frame else frame

        return self._each(single)

    def untuned(self) -> "Site":
        """The hosts as they were: every figure page but Tuning's."""
        return self._each(lambda frame: frame[frame["tuning"] == UNTUNED]
                          if "tuning" in frame else frame)

    def tuned(self) -> bool:
        """Whether a campaign measured more than the untuned profile."""
        return any(not df.empty and "tuning" in df and bool((df["tuning"] != UNTUNED).any())
                   for df in self.cells.values())

    def newest(self, count: int) -> "Site":
        """The same site restricted to its newest ``count`` campaigns."""
        if len(self.infos) <= count:
            return self
        keep = self.infos[-count:]
        names = {i.name for i in keep}
        cells = {m: df[df["campaign"].isin(names)] if not df.empty else df
                 for m, df in self.cells.items()}
        classes, buffers, qperf_cpu, tcp = (
            frame[frame["campaign"].isin(names)] if not frame.empty else frame
            for frame in (self.classes, self.buffers, self.qperf_cpu, self.tcp))
        return Site(keep, cells, [c for c in self.changes if c.candidate in names],
                    self.baseline, self.tolerance_pct, classes, buffers, qperf_cpu, tcp,
                    self.pair_choice, self.windows)

    def emulated(self) -> str:
        """What ran emulated by QEMU TCG: "hosts" (the machine lab), "vms", or "" (nothing)."""
        if any(i.emulated_hosts for i in self.infos):
            return "hosts"
        return "vms" if any(i.emulated_vms for i in self.infos) else ""

    def shared_kernel(self) -> bool:
        return any("share one kernel" in w for i in self.infos for w in i.warnings)
