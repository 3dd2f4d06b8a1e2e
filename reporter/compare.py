"""Campaigns against a baseline: for every cell measured in both, the change of the mean in %
with its 95 % CI, Welch's p-value corrected for the number of comparisons (Benjamini–Hochberg),
and a direction-aware verdict. Cells measured differently (tool version, duration, warm-up) are
"not comparable" rather than compared."""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from .campaigns import CampaignInfo
from .stats import adjust_bh, ratio_arrays, welch_arrays

ALPHA = 0.05
COMPARED = {m.name: m for m in metrics.JUDGED}  # what the gate judges
TOOL_VERSION_FACT = {"qperf": "version-qperf", "iperf3": "version-iperf3"}
CELL = ["configuration", "direction", "tool", "test", "message_size", "socket_buffer", "mtu"]
# Absent: frames made before the axis.
AXES: dict[str, int | str] = {"streams": 1, "tuning": "untuned", "pair": ""}

BETTER, WORSE, WITHIN, SAME = "better", "worse", "within tolerance", "no significant change"
NOT_COMPARABLE, TOO_FEW = "not comparable", "too few runs"


@dataclass(frozen=True)
class Change:
    baseline: str
    candidate: str
    metric: str
    cell: tuple[str, str, str, str, int, str, int]  # as CELL
    baseline_mean: float
    candidate_mean: float
    n_baseline: int
    n_candidate: int
    delta_pct: float
    low_pct: float   # NaN: too few runs for an interval
    high_pct: float
    p: float
    p_adjusted: float
    verdict: str
    why: str = ""
    streams: int = 1
    tuning: str = "untuned"
    pair: str = ""  # the node pair, sender~receiver; "" for a two-host campaign

    @property
    def cell_id(self) -> str:
        """As the collector names the cell (collector/plan.py)."""
        c, d, tool, test, size, sb, mtu = self.cell
        flows = f".{self.streams}flows" if self.streams > 1 else ""
        tuned = f".tuning-{self.tuning}" if self.tuning != "untuned" else ""
        paired = f".pair-{self.pair}" if self.pair else ""
        return f"{c}.{d}.{tool}.{test}.{size}B.sb-{sb}.mtu{mtu}{flows}{tuned}{paired}"

    @property
    def path(self) -> str:
        return f"{self.cell[0]} {self.cell[1]}"

    @property
    def significant(self) -> bool:
        return self.verdict in (BETTER, WORSE, WITHIN)


def _incomparable(base: CampaignInfo, cand: CampaignInfo, tool: str) -> str:
    """Why a tool's cells of two campaigns were measured differently ('' when they were not)."""
    for key in ("duration_s", "warmup_s"):
        if base.parameters.get(key) != cand.parameters.get(key):
            return (f"{key} differs ({base.parameters.get(key)} vs "
                    f"{cand.parameters.get(key)})")
    fact = TOOL_VERSION_FACT.get(tool)
    if fact and base.host_fact(fact) != cand.host_fact(fact):
        return f"{tool} version differs"
    return ""


def compare_pair(cells: dict[str, pd.DataFrame], base: CampaignInfo, cand: CampaignInfo,
                 tolerance_pct: float) -> list[Change]:
    """Every cell and compared metric measured in both campaigns."""
    return compare_all(cells, base, [cand], tolerance_pct)


def compare_all(cells: dict[str, pd.DataFrame], base: CampaignInfo,
                candidates: list[CampaignInfo], tolerance_pct: float) -> list[Change]:
    """Each candidate against the baseline, cell by cell — column-wise over all candidates at
    once (a history of 200 campaigns compares 90,000 cell metrics); the correction for the
    number of comparisons is per candidate (each is its own question)."""
    names = {c.name for c in candidates} - {base.name}
    frames = []
    key = [*CELL, *AXES]
    columns = [*key, "n", "mean", "sd"]
    for metric in COMPARED:
        df = cells.get(metric, pd.DataFrame())
        if df.empty:
            continue
        df = df.assign(**{k: v for k, v in AXES.items() if k not in df.columns})
        others = df.loc[df["campaign"].isin(names), ["campaign", *columns]]
        pair = others.merge(df.loc[df["campaign"] == base.name, columns], on=key,
                            suffixes=("_c", "_b"))
        frames.append(pair.assign(metric=metric))
    if not frames:
        return []
    m = pd.concat(frames, ignore_index=True)
    stats = [m[c].to_numpy(dtype=float) for c in ("n_c", "mean_c", "sd_c", "n_b", "mean_b",
                                                  "sd_b")]
    r, low, high = ratio_arrays(*stats)
    by_name = {c.name: c for c in candidates}
    why_of = {(c, t): _incomparable(base, by_name[c], str(t))
              for c, t in set(zip(m["campaign"], m["tool"], strict=True))}
    why = [why_of[k] for k in zip(m["campaign"], m["tool"], strict=True)]
    p = np.where([bool(w) for w in why], np.nan, welch_arrays(*stats))
    adjusted = np.full(len(m), np.nan)
    for rows in m.groupby("campaign", sort=False).indices.values():
        adjusted[rows] = adjust_bh([float(x) for x in p[rows]])
    delta = (r - 1) * 100
    out = []
    keys: list[list[Any]] = m[["campaign", *key, "metric"]].to_numpy().tolist()
    for i, (cand, cfg, direction, tool, test, size, buffers, mtu, streams, tuning, pair,
            metric) in enumerate(keys):
        out.append(Change(
            baseline=base.name, candidate=cand, metric=metric,
            cell=(str(cfg), str(direction), str(tool), str(test), int(size), str(buffers),
                  int(mtu)),
            baseline_mean=float(stats[4][i]), candidate_mean=float(stats[1][i]),
            n_baseline=int(stats[3][i]), n_candidate=int(stats[0][i]),
            delta_pct=float(delta[i]), low_pct=float((low[i] - 1) * 100),
            high_pct=float((high[i] - 1) * 100), p=float(p[i]),
            p_adjusted=float(adjusted[i]),
            verdict=_verdict(metric, float(delta[i]), float(adjusted[i]), why[i],
                             tolerance_pct),
            why=why[i], streams=int(streams), tuning=str(tuning), pair=str(pair)))
    order = {c.name: i for i, c in enumerate(candidates)}
    return sorted(out, key=lambda ch: order[ch.candidate])  # stable: cells keep their order


def _verdict(metric: str, delta_pct: float, p_adjusted: float, why: str,
             tolerance_pct: float) -> str:
    if why:
        return NOT_COMPARABLE
    if math.isnan(p_adjusted):
        return TOO_FEW
    if p_adjusted >= ALPHA:
        return SAME
    if abs(delta_pct) < tolerance_pct:
        return WITHIN
    return BETTER if delta_pct * COMPARED[metric].better > 0 else WORSE
