"""The Compare page: every campaign against the baseline, verdicts per cell metric, a forest
plot per metric for the newest candidates, and what differs between the campaigns."""

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from .. import charts, numbers
from ..campaigns import CampaignInfo, differences
from ..compare import BETTER, COMPARED, NOT_COMPARABLE, SAME, TOO_FEW, WITHIN, WORSE, Change
from ..escaping import code, shorten
from ..metrics import Better
from ..views import CONFIG_ORDER, DIRECTION_ORDER, Table
from .model import Chart, Section, Site, Tab
from .page import Page, View, from_site, several_campaigns

VERDICT_ORDER = [WORSE, BETTER, WITHIN, SAME, TOO_FEW, NOT_COMPARABLE]
COMPARE_SECTIONS = 3  # candidates with their own forest plots (the newest)
DIFFERENCE_CHARS = 120


@dataclass
class CompareView(View):
    sections: list[Section]
    differences: Table
    compared: list[CampaignInfo]
    overview: Table
    baseline: str
    tolerance: float


def _cell_order(c: Change) -> tuple[int, int, str, int, int, str]:
    cfg, direction, tool, _, size, buffers, mtu = c.cell
    return (CONFIG_ORDER.index(cfg) if cfg in CONFIG_ORDER else 99,
            DIRECTION_ORDER.index(direction) if direction in DIRECTION_ORDER else 99, tool,
            size, mtu, buffers)


def _forest_rows(site: Site, detailed: set[str]) -> pd.DataFrame:
    return pd.DataFrame([{
        "candidate": c.candidate, "metric": c.metric, "label": f"{c.path} · {c.cell[2]} · "
        f"{numbers.size(c.cell[4])} · MTU {c.cell[6]}" + (f" · {c.cell[5]}" if c.cell[5] !=
                                                          "auto" else ""),
        "delta_pct": c.delta_pct, "low_pct": c.low_pct, "high_pct": c.high_pct,
        "p_adjusted": c.p_adjusted, "verdict": c.verdict, "tolerance": site.tolerance_pct,
        "ci_text": numbers.interval(c.low_pct, c.high_pct),
        "configuration": c.cell[0], "order": _cell_order(c)} for c in site.changes
        if c.candidate in detailed])


def _tab(site: Site, info: CampaignInfo, metric: str, at: pd.DataFrame) -> Tab:
    judged = COMPARED[metric]
    label, unit = judged.compared, judged.unit
    direction = "more is better" if judged.better == Better.HIGHER else "less is better"
    mine = [c for c in site.changes if c.candidate == info.name and c.metric == metric]
    return Tab(label, charts=[Chart(charts.forest(
        at.sort_values("order").drop(columns=["order"]),
        f"{label}: {info.name} against {site.baseline}"),
        f"Change of the mean per cell, % ({direction}); whiskers: 95 % CI; band: "
        f"the ±{site.tolerance_pct:g} % tolerance")],
        tables=[Table(["cell", f"{site.baseline} ({unit})", f"{info.name} ({unit})", "Δ %",
                       "95 % CI", "p (BH)", "verdict"],
                      [[c.cell_id, numbers.num(c.baseline_mean), numbers.num(c.candidate_mean),
                        numbers.pct(c.delta_pct, True), numbers.interval(c.low_pct, c.high_pct),
                        numbers.num(c.p_adjusted, 2), c.verdict + (f": {c.why}" if c.why else "")]
                       for c in mine])])


def _differences(compared: list[CampaignInfo]) -> Table:
    return Table(["", "what", *(i.name for i in compared)], [
        [d["kind"], code(d["what"]), *(shorten(v, DIFFERENCE_CHARS) for v in d["values"])]
        for d in differences(compared)], text=True)


def compare(site: Site) -> CompareView:
    candidates = [i for i in site.infos if i.name != site.baseline]
    newest = candidates[-COMPARE_SECTIONS:]
    counts = Counter((c.candidate, c.verdict) for c in site.changes)
    overview = Table(["campaign", *VERDICT_ORDER], [
        [i.name, *(str(counts[(i.name, v)]) for v in VERDICT_ORDER)] for i in candidates])
    frame = _forest_rows(site, {i.name for i in newest})
    sections = []
    for info in newest:
        if frame.empty:
            continue
        mine = frame[frame["candidate"] == info.name]
        tabs = [_tab(site, info, metric, at) for metric in COMPARED
                if not (at := mine[mine["metric"] == metric]).empty]
        sections.append(Section(f"{info.name} against {site.baseline}",
                                f"vs-{info.name}".lower(), tabs=tabs))
    compared = [i for i in site.infos if i.name == site.baseline] + newest
    return CompareView(sections, _differences(compared), compared, overview, site.baseline,
                       site.tolerance_pct)


PAGE = Page("compare", "Compare", from_site(compare), shown=several_campaigns)
