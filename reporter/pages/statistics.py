"""The Statistics page (every cell's statistics, a table the browser filters) and the cells
export it reads (data/cells/<campaign>.csv and .js): per campaign with adaptive repetitions,
which cells reached the target."""

from dataclasses import dataclass

import pandas as pd

from .. import convergence
from ..views import Table
from .model import Site
from .page import Page, View, from_site

STAT_COLUMNS = ["campaign", "metric", "configuration", "direction", "tool", "test",
                "message_size", "socket_buffer", "mtu", "n", "mean", "ci_low", "ci_high",
                "ratio_to_bare", "ratio_low", "ratio_high", "noisy", "median", "sd", "cv", "min",
                "max", "outliers"]


@dataclass
class Adaptive:
    name: str
    summary: str
    table: Table


@dataclass
class StatisticsView(View):
    adaptive: list[Adaptive]


def statistics(site: Site) -> StatisticsView:
    """Per campaign with adaptive repetitions: how many cells reached the target, and which
    did not."""
    adaptive = []
    for info in reversed(site.infos):
        judged = convergence.judge(site.cells, info.name, info.parameters.get("repetitions"))
        if judged:
            adaptive.append(Adaptive(info.name, judged[0], convergence.table(judged[1])))
    return StatisticsView(adaptive)


def statistics_table(site: Site, campaigns: set[str] | None = None) -> pd.DataFrame:
    """Every cell's statistics, one row per metric (``campaigns``: only theirs)."""
    frames = []
    for df in site.cells.values():
        if campaigns is not None and not df.empty:
            df = df[df["campaign"].isin(campaigns)]
        if df.empty:
            continue
        out = df.copy()
        out["outliers"] = [len(x) for x in out["outlier_runs"]]
        frames.append(out.reindex(columns=STAT_COLUMNS))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=STAT_COLUMNS)


PAGE = Page("statistics", "Statistics", from_site(statistics))
