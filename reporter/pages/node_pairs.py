"""The Node pairs page: with more than two hosts, does every pair get the same dataplane? Per
headline figure and path, a sender × receiver matrix coloured by each pair's ratio to the
median pair, the pairs that stand out and the hosts they share (a host in every slow pair is
the suspect), the median and 5th/95th percentile across pairs; and, for pairs measured at the
same time, how much their windows overlapped. Shown when a campaign measured several pairs."""

from dataclasses import dataclass

import pandas as pd

from .. import node_pairs as analysis
from .. import numbers
from ..charts.pairs import pair_matrix
from ..findings import KeyPoint
from ..metrics import BY_NAME
from ..views import Table, path_order, where
from .model import Chart, Section, Site, Tab
from .page import Page, Reads, View, from_site


@dataclass
class NodePairsView(View):
    campaign: str
    hosts: list[str]
    pairs: int
    shown_pair: str    # the pair the other pages show
    measured_how: str  # one after the other, or at the same time and how much they overlapped
    findings: list[str]
    sections: list[Section]


def measured(site: Site) -> bool:
    return site.paired


def page(site: Site) -> NodePairsView:
    campaign = _campaign(site)
    cells = {h.metric: where(analysis.headline_cells(site.metric(h.metric), h),
                             campaign=campaign) for h in analysis.HEADLINES}
    pairs = sorted({str(p) for df in cells.values() if not df.empty for p in df["pair"]})
    hosts = sorted({h for p in pairs for h in analysis.hosts_of(p)})
    findings: list[str] = []
    sections = []
    for h in analysis.HEADLINES:
        tabs = []
        for path in path_order(cells[h.metric]["path"]) if not cells[h.metric].empty else []:
            tab = Tab(path)
            for (mtu, tool), group in where(cells[h.metric], path=path).groupby(
                    ["mtu", "tool"], sort=True):
                rows = analysis.against_median(group, h.metric)
                what = f"{path}, {h.label} ({tool}, MTU {mtu})"
                tab.charts.append(Chart(
                    pair_matrix(rows, f"{_upper_first(h.label)}, {path}, {tool}, MTU {mtu}",
                                hosts, BY_NAME[h.metric].unit),
                    f"Each pair's {BY_NAME[h.metric].meaning}, sender by row and receiver by "
                    "column; colour and ×: its ratio to the median pair (orange worse, blue "
                    "better)"))
                tab.tables.append(_table(rows, h.metric, str(tool), int(str(mtu))))
                findings.append(_finding(what, rows, h.metric, pairs))
            tabs.append(tab)
        if tabs:
            sections.append(Section(_upper_first(h.label), h.anchor, tabs=tabs))
    choice = site.pair_choice.get(campaign, "")
    return NodePairsView(campaign, hosts, len(pairs),
                         analysis.label(choice) if choice else "", _how(site, campaign),
                         findings, sections)


def _campaign(site: Site) -> str:
    """The newest campaign of several pairs."""
    paired = [i.name for i in site.infos
              if not where(site.metric("gbps"), campaign=i.name).empty
              and bool((where(site.metric("gbps"), campaign=i.name)["pair"] != "").any())]
    return paired[-1] if paired else site.latest


def _table(rows: pd.DataFrame, metric: str, tool: str, mtu: int) -> Table:
    unit = BY_NAME[metric].unit
    body = [[analysis.label(str(r["pair"])),
             numbers.with_interval(r["mean"], r["ci_low"], r["ci_high"]) if r["n"] >= 3
             else numbers.num(r["mean"]),
             f"{r['ratio']:.2f}×", str(int(r["n"]))]
            for _, r in rows.sort_values(["goodness", "pair"]).iterrows()]
    return Table(["pair (sender → receiver)", f"{unit} (95 % CI)", "÷ median pair", "runs"],
                 body, title=f"{tool}, MTU {mtu}",
                 note="Worst first. ÷ median pair: the pair's mean over the median of every "
                      "pair's mean (lower latency and CPU per Gb/s are better).")


def _finding(what: str, rows: pd.DataFrame, metric: str, pairs: list[str]) -> str:
    s = analysis.spread(rows)
    unit = BY_NAME[metric].unit
    text = (f"{what}: the median pair, {analysis.label(s.median_pair)}, "
            f"{numbers.num(s.median)} {unit}; 5th–95th percentile over the {s.pairs} pairs "
            f"{numbers.num(s.p5)}–{numbers.num(s.p95)}")
    slow = analysis.outliers(rows)
    if slow.empty:
        return text + f"; no pair more than {analysis.OUTLIER_TEXT} worse than the median pair."
    named = ", ".join(f"{analysis.label(str(p))} ({g:.2f}×)" for p, g in
                      zip(slow["pair"], slow["ratio"], strict=True))
    text += f"; {len(slow)} more than {analysis.OUTLIER_TEXT} worse: {named}"
    suspects = analysis.suspects([str(p) for p in slow["pair"]], pairs)
    if suspects:
        text += "; " + " and ".join(f"{h} is in all {len(slow)} (of its {total} pairs)"
                                    for h, total in suspects) + " — the common factor"
    elif len(slow) > 1:
        text += "; no host is in all of them"
    return text + "."


def _how(site: Site, campaign: str) -> str:
    overlap = analysis.overlaps(site.windows, campaign)
    if overlap is None:
        return ("The pairs were measured one after the other: no two pairs' windows "
                "overlapped.")
    return (f"Pairs were measured at the same time, in step: {overlap.groups} times, "
            f"{overlap.pairs_per_group:.1f} pairs on average made the same run at once; the "
            f"windows they shared covered {overlap.median * 100:.0f} % of their span "
            f"(median; lowest {overlap.lowest * 100:.0f} %), by the sender kernels' wall "
            "clocks.")


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """Bare metal's goodput across the pairs, and who the slow pairs share."""
    h = analysis.HEADLINES[0]
    found = where(analysis.headline_cells(site.metric(h.metric), h), campaign=campaign)
    if found.empty:
        return None
    bare = where(found, path="bare host-host")
    at = bare if not bare.empty else found
    at = analysis.reference_rows(at)
    rows = analysis.against_median(at, h.metric)
    s = analysis.spread(rows)
    text = (f"Node pairs: {s.pairs} pairs, {at['path'].iloc[0]} goodput of the median pair "
            f"{numbers.num(s.median)} Gb/s (5th–95th percentile {numbers.num(s.p5)}–"
            f"{numbers.num(s.p95)})")
    slow = analysis.outliers(rows)
    suspects = analysis.suspects([str(p) for p in slow["pair"]], list(rows["pair"]))
    if slow.empty:
        text += f"; no pair more than {analysis.OUTLIER_TEXT} below the median pair"
    elif suspects:
        text += (f"; the {len(slow)} pairs more than {analysis.OUTLIER_TEXT} below it all "
                 "include " + " and ".join(h for h, _ in suspects))
    else:
        text += f"; {len(slow)} pairs more than {analysis.OUTLIER_TEXT} below it"
    return KeyPoint(text + ".", "node-pairs.md#goodput", "Node pairs")


PAGE = Page("node-pairs", "Node pairs", from_site(page), Reads.PAIRS, measured, key_point)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
