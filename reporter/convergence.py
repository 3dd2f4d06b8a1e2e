"""Adaptive repetitions in the report: per campaign that asked for them, which cells reached
the target (the 95 % CI half-width of the cell's mean within ``target_ci_pct`` % of it) — judged
on the figure the collector judged (collector/adaptive.py: goodput for stream cells, mean
one-way latency for rr cells) with the same statistics."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import numbers
from .views import Table, path_rank

METRIC = {"stream": "gbps", "rr": "lat_mean_us", "udp": "udp_mpps",
          "rr-load": "lat_mean_us", "crr": "crr_cps"}


def target_of(repetitions: Any) -> tuple[float, int] | None:
    """(target %, maximum runs) of a campaign's ``repetitions`` when adaptive, else None."""
    if not isinstance(repetitions, dict):
        return None
    target, high = repetitions.get("target_ci_pct"), repetitions.get("max")
    if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
        return None
    return float(target), int(high) if isinstance(high, int) else 0


def describe(repetitions: Any) -> str:
    """The campaign's repetitions as a reader says them."""
    if target_of(repetitions) is None:
        return f"{repetitions} repetitions"
    return (f"{repetitions.get('min')}–{repetitions.get('max')} repetitions per cell, until the "
            f"95 % CI is within ±{float(repetitions['target_ci_pct']):g} % of the mean")


def cells(all_cells: dict[str, pd.DataFrame], campaign: str, target_pct: float) -> pd.DataFrame:
    """The campaign's cells on their judged figure: runs, CI half-width in %, ``reached``."""
    frames = []
    for test, metric in METRIC.items():
        df = all_cells.get(metric, pd.DataFrame())
        if df.empty:
            continue
        mine = df[(df["campaign"] == campaign) & (df["test"] == test)]
        frames.append(mine)
    if not frames or all(f.empty for f in frames):
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    mean = out["mean"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ci_pct"] = 100 * out["ci_half"].to_numpy(dtype=float) / np.abs(mean)
    out["reached"] = out["ci_pct"].fillna(np.inf) <= target_pct
    return out


def summary(judged: pd.DataFrame, target_pct: float, maximum: int) -> str:
    reached = int(judged["reached"].sum())
    missed = len(judged) - reached
    return (f"adaptive repetitions: {reached} of {len(judged)} cells reached ±{target_pct:g} % "
            f"(95 % CI half-width of the mean)"
            + (f"; {missed} stopped at {maximum} runs without reaching it" if missed else "")
            + ".")


def judge(all_cells: dict[str, pd.DataFrame], campaign: str,
          repetitions: Any) -> tuple[str, pd.DataFrame] | None:
    """For a campaign with adaptive ``repetitions`` that has cells: the summary sentence and
    its judged cells (``cells``); None otherwise."""
    goal = target_of(repetitions)
    if goal is None:
        return None
    judged = cells(all_cells, campaign, goal[0])
    return (summary(judged, *goal), judged) if not judged.empty else None


def table(judged: pd.DataFrame) -> Table:
    """The cells that did not reach the target, widest interval first."""
    missed = judged[~judged["reached"]]
    if missed.empty:
        return Table([], [])
    missed = missed.assign(rank=path_rank(missed["path"])).sort_values(
        ["ci_pct", "rank"], ascending=[False, True], na_position="first")
    rows = [[str(r["path"]), str(r["tool"]), str(r["test"]),
             numbers.size(int(r["message_size"])), str(int(r["mtu"])), str(int(r["n"])),
             "–" if pd.isna(r["ci_pct"]) else f"±{r['ci_pct']:.1f} %"]
            for _, r in missed.iterrows()]
    return Table(["path", "tool", "test", "message", "MTU", "ok runs", "95 % CI"], rows,
                 title="Cells that did not reach the target",
                 note="Their means carry the wider interval shown; more runs, longer runs or a "
                      "quieter machine narrow it.")


def judge_archive(root: Path, target_ci_pct: float) -> tuple[list[int], int, float]:
    """One archive's cells as the report judges them (bench.adaptive): runs per cell, how many
    reached the target, the median CI half-width in % of the mean."""
    from . import aggregate
    from .archive import load
    from .tidy import table as tidy_table

    campaign = load(root)
    df = tidy_table([campaign], cache=False)
    judged = cells({m: aggregate.cells(df, m) for m in METRIC.values()}, campaign.name,
                   target_ci_pct)
    return ([int(n) for n in judged["n"].tolist()], int(judged["reached"].sum()),
            float(judged["ci_pct"].median()))
