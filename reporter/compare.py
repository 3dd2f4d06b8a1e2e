"""Campaigns against a baseline: for every cell measured in both, the change of the mean in %
with its 95 % CI, Welch's p-value corrected for the number of comparisons (Benjamini–Hochberg),
and a direction-aware verdict. Cells measured differently (tool version, duration, warm-up) are
"not comparable" rather than compared."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .aggregate import summary_of
from .campaigns import CampaignInfo
from .stats import Ratio, adjust_bh, ratio, welch_p

ALPHA = 0.05
# metric → (label, unit, +1 when more is better, -1 when less is)
COMPARED: dict[str, tuple[str, str, int]] = {
    "gbps": ("throughput", "Gb/s", +1),
    "lat_mean_us": ("latency", "µs", -1),
    "cpu_per_gbps": ("CPU per Gb/s", "%/Gb/s", -1),
}
TOOL_VERSION_FACT = {"qperf": "version-qperf", "iperf3": "version-iperf3"}
CELL = ["configuration", "direction", "tool", "test", "message_size", "socket_buffer", "mtu"]

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

    @property
    def cell_id(self) -> str:
        c, d, tool, test, size, sb, mtu = self.cell
        return f"{c}.{d}.{tool}.{test}.{size}B.sb-{sb}.mtu{mtu}"

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


@dataclass(frozen=True)
class _Pairing:
    metric: str
    cell: tuple[str, str, str, str, int, str, int]
    base: pd.Series
    cand: pd.Series
    ratio: Ratio
    why: str
    p: float


def compare_pair(cells: dict[str, pd.DataFrame], base: CampaignInfo, cand: CampaignInfo,
                 tolerance_pct: float) -> list[Change]:
    """Every cell and compared metric measured in both campaigns."""
    pairings: list[_Pairing] = []
    for metric in COMPARED:
        df = cells.get(metric, pd.DataFrame())
        if df.empty:
            continue
        b = {_key(r): r for _, r in df[df["campaign"] == base.name].iterrows()}
        c = {_key(r): r for _, r in df[df["campaign"] == cand.name].iterrows()}
        for key in sorted(set(b) & set(c), key=str):
            why = _incomparable(base, cand, key[2])
            p = math.nan if why else welch_p(list(c[key]["values"]), list(b[key]["values"]))
            pairings.append(_Pairing(metric, key, b[key], c[key],
                                     ratio(summary_of(c[key]), summary_of(b[key])), why, p))
    adjusted = adjust_bh([x.p for x in pairings])
    out = []
    for x, p_adj in zip(pairings, adjusted, strict=True):
        delta = (x.ratio.value - 1) * 100
        out.append(Change(
            baseline=base.name, candidate=cand.name, metric=x.metric, cell=x.cell,
            baseline_mean=float(x.base["mean"]), candidate_mean=float(x.cand["mean"]),
            n_baseline=int(x.base["n"]), n_candidate=int(x.cand["n"]), delta_pct=delta,
            low_pct=(x.ratio.low - 1) * 100, high_pct=(x.ratio.high - 1) * 100, p=x.p,
            p_adjusted=p_adj, verdict=_verdict(x.metric, delta, p_adj, x.why, tolerance_pct),
            why=x.why))
    return out


def _key(row: pd.Series) -> tuple[str, str, str, str, int, str, int]:
    return (str(row["configuration"]), str(row["direction"]), str(row["tool"]),
            str(row["test"]), int(row["message_size"]), str(row["socket_buffer"]),
            int(row["mtu"]))


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
    return BETTER if delta_pct * COMPARED[metric][2] > 0 else WORSE


def regressions(changes: Iterable[Change]) -> list[Change]:
    return [c for c in changes if c.verdict == WORSE]
