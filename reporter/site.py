"""Archives → view models (reporter/pages/) → Markdown pages (reporter/render.py) →
`mkdocs build --strict` and the site's data (reporter/publish.py) → a static site that works
offline, behind any web server or from file://."""

import functools
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from altair.utils.schemapi import debug_mode

from collector.errors import UsageError

from . import (
    aggregate,
    agreement,
    metrics,
    mkdocs_runner,
    node_pairs,
    outdir,
    publish,
    render,
    svg,
    tcphealth,
    tidycache,
)
from .archive import Campaign, walk_all
from .campaigns import in_time_order
from .compare import compare_all
from .pages import NAV
from .pages.model import Site
from .pages.page import Context, Page, Problem, Reads, View
from .pages.statistics import statistics_table
from .tidy import table

DEFAULT_TOLERANCE_PCT = 5.0
FIGURE_CAMPAIGNS = 3  # campaigns side by side on the figure pages (the newest)


def build(campaigns: list[Campaign], out: Path, work: Path, baseline: str = "",
          tolerance_pct: float = DEFAULT_TOLERANCE_PCT, pair: str = "") -> dict[str, Any]:
    """Write the site into ``out``; return what it contains (counts, problems)."""
    outdir.check(out, [c.root for c in campaigns])  # said before any work, not after it
    mkdocs_runner.start()
    # The build makes millions of short-lived objects and few cycles: the cyclic collector,
    # rescanning a heap that grows to a 60,000-run table, cost a third of a history's build.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with svg.Drawer() as drawer:  # charts go to it as each page makes them
            return _build(campaigns, out, work, baseline, tolerance_pct, drawer, pair)
    finally:
        if collecting:
            gc.enable()


def campaigns_read(model: Site, reads: Reads) -> Site:
    """The campaigns a kind of page reads. Figures put campaigns side by side: a long history
    shows its newest few there, and every campaign on History, Compare and Statistics; the
    study's pages show its tests at one TCP flow with the hosts untuned, and what a campaign
    adds (several flows, UDP, latency under load, tuning profiles) has pages of its own."""
    if reads is Reads.EVERY:
        return model
    if reads is Reads.PAIRS:
        return model.newest(FIGURE_CAMPAIGNS).one_flow().untuned()
    model = model.one_pair()  # a campaign of several node pairs: its chosen pair
    if reads is Reads.TUNING:
        return model.newest(FIGURE_CAMPAIGNS).one_flow()
    if reads is Reads.NEWEST:
        return model.newest(1).one_flow().untuned()
    newest = model.newest(FIGURE_CAMPAIGNS).untuned()
    return newest.one_flow() if reads is Reads.FIGURES else newest


def views(model: Site, problems: list[Problem]) -> Iterator[tuple[Page, View]]:
    """Each page shown for these campaigns, in NAV order, with its view (made as asked, so
    a page's charts can be drawn while the next is made)."""
    shown = [p for p in NAV if p.shown(model)]
    read = functools.cache(functools.partial(campaigns_read, model))
    points = [point for p in shown if p.key_point
              and (point := p.key_point(read(p.reads), model.latest))]
    for p in shown:
        # Altair checks each object it makes against the schema unless told not to (a
        # tenth of a build); tests/test_site_views.py validates every finished spec instead.
        with debug_mode(False):
            view = p.make(Context(read(p.reads), problems, points))
        yield p, view


def _build(campaigns: list[Campaign], out: Path, work: Path, baseline: str,
           tolerance_pct: float, drawer: svg.Drawer, pair: str = "") -> dict[str, Any]:
    walk_all(campaigns)
    infos = in_time_order(campaigns)
    names = [i.name for i in infos]
    if baseline and baseline not in names:
        raise UsageError(f"--baseline {baseline}: no such campaign among {', '.join(names)}")
    baseline = baseline or names[0]
    problems: list[Problem] = []
    keys = {c.name: tidycache.key(c) for c in campaigns}
    df = table(campaigns, lambda c, r, why: problems.append(
        {"campaign": c, "run_id": r, "reason": why}), keys=keys)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in metrics.PER_CELL}
    base = next(i for i in infos if i.name == baseline)
    changes = compare_all(cells, base, [i for i in infos if i.name != baseline], tolerance_pct)
    figured = names[-FIGURE_CAMPAIGNS:]
    model = Site(infos, cells, changes, baseline, tolerance_pct,
                 aggregate.cpu_classes(df, figured), aggregate.applied_buffers(df, figured),
                 agreement.qperf_cpu(df, figured), tcphealth.runs(df, figured),
                 *pairs_shown(df, cells, pair))
    made: dict[Page, View] = {}
    specs: dict[str, dict[str, Any]] = {}
    charts = 0
    for page, view in views(model, problems):
        made[page] = view
        drawn = render.charts_in(view)
        # Each page's charts go to the drawing processes as soon as they exist.
        for chart, name in zip(drawn, drawer.submit([c.spec for c in drawn]), strict=True):
            chart.name = name
            specs[name] = chart.spec
        charts += len(drawn)
    common = {"infos": infos, "several": model.several,
              "pair_shown": {c: node_pairs.label(p) for c, p in model.pair_choice.items()},
              "pair_asked": bool(pair),
              "older": names[:-FIGURE_CAMPAIGNS],  # not on the figure pages
              "emulated_vms": sorted({vm for i in infos for vm in i.emulated_vms}),
              "newest_first": names[::-1]}
    docs = publish.docs_folder(work, {
        p.slug: render.page(p.slug, view, common, p.reads not in (Reads.EVERY, Reads.PAIRS))
        for p, view in made.items()})
    config = publish.mkdocs_yml(work, docs, "dataplane-bench: " + ", ".join(names),
                                [{p.title: f"{p.slug}.md"} for p in made])
    publish.assemble(out, config, drawer, publish.Contents(
        campaigns, names, keys, df, lambda changed: statistics_table(model, changed), specs))
    return {"runs": len(df), "ok": int((df["status"] == "ok").sum()) if not df.empty else 0,
            "problems": len(problems), "charts": charts, "site": out}


def pairs_shown(df: Any, cells: dict[str, Any], asked: str) -> tuple[dict[str, str], Any]:
    """Per campaign of several node pairs, the pair the figure pages show (``asked``, as
    "sender~receiver" or "sender,receiver", else the median pair), and the runs' windows."""
    chosen = node_pairs.median_pairs(cells.get("gbps", df.iloc[0:0]))
    measured: dict[str, set[str]] = {}
    if not df.empty and "pair" in df:
        for campaign, pair in df.loc[df["pair"] != "", ["campaign", "pair"]].drop_duplicates(
                ).itertuples(index=False):
            measured.setdefault(str(campaign), set()).add(str(pair))
    if asked:
        wanted = asked.replace(" ", "").replace("→", node_pairs.SEPARATOR).replace(
            ",", node_pairs.SEPARATOR)
        missing = [c for c, pairs in measured.items() if wanted not in pairs]
        if not measured or missing:
            known = ", ".join(sorted({p for pairs in measured.values() for p in pairs})[:12])
            raise UsageError(f"--pair {asked}: not a node pair of "
                             + (", ".join(missing) if missing else "any campaign"),
                             f"the pairs measured: {known}" if known else
                             "no campaign here measured more than one pair")
        chosen = dict.fromkeys(measured, wanted)
    columns = [*node_pairs.WINDOW_KEY, "pair", "status", "window_start_s", "window_end_s"]
    windows = (df.loc[df["pair"] != "", [c for c in columns if c in df.columns]]
               if measured else df.iloc[0:0])
    return chosen, windows
