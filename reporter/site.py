"""Archives → view models (reporter/pages/) → Markdown pages (reporter/render.py) →
`mkdocs build --strict` and the site's data (reporter/publish.py) → a static site that works
offline, behind any web server or from file://."""

import functools
import gc
from collections.abc import Callable, Iterator
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
    pair_pages,
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


def views(model: Site, problems: list[Problem],
          only: Callable[[Page], bool] = lambda _: True) -> Iterator[tuple[Page, View]]:
    """Each page shown for these campaigns (and ``only``), in NAV order, with its view (made
    as asked, so a page's charts can be drawn while the next is made)."""
    shown = [p for p in NAV if p.shown(model)]
    read = functools.cache(functools.partial(campaigns_read, model))
    points = [point for p in shown if p.key_point
              and (point := p.key_point(read(p.reads), model.latest))]
    for p in shown:
        if not only(p):
            continue
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
    refs = node_pairs.references(cells)
    measured = pair_pages.measured_pairs(df)
    model = Site(infos, cells, changes, baseline, tolerance_pct,
                 aggregate.cpu_classes(df, figured), aggregate.applied_buffers(df, figured),
                 agreement.qperf_cpu(df, figured), tcphealth.runs(df, figured),
                 *pairs_shown(df, refs, measured, pair))
    picker = pair_pages.picker(model, measured, figured, bool(pair), refs)
    specs: dict[str, dict[str, Any]] = {}

    def drawn(view: View) -> int:
        charts = render.charts_in(view)
        # Each page's charts go to the drawing processes as soon as they exist.
        for chart, name in zip(charts, drawer.submit([c.spec for c in charts]), strict=True):
            chart.name = name
            specs[name] = chart.spec
        return len(charts)

    common = {"infos": infos, "several": model.several,
              "pair_asked": bool(pair),
              "pair_basis": {c: node_pairs.BASIS[m] for c, (m, _) in refs.items()},
              "older": names[:-FIGURE_CAMPAIGNS],  # not on the figure pages
              "emulated_vms": sorted({vm for i in infos for vm in i.emulated_vms}),
              "newest_first": names[::-1]}
    made: dict[Page, View] = {}
    pages: dict[str, str] = {}
    charts = 0
    for p, view in views(model, problems):
        made[p] = view
        charts += drawn(view)
    # the figure pages, each also made per pair picked (site.js keeps a reader on the pair)
    common["pair_pages"] = [p.slug for p in made if _one_pair(p)] if picker.choices else []
    for p, view in made.items():
        pages[p.slug] = render.page(p.slug, view, _pair_common(common, model, picker, "", p))
    for choice in picker.others():
        shown = pair_pages.showing(model, choice, measured)
        for p, view in views(shown, problems, only=_one_pair):
            charts += drawn(view)
            pages[pair_pages.page_name(p.slug, choice.token)] = pair_pages.UNSEARCHED + \
                render.page(p.slug, view, _pair_common(common, shown, picker, choice.token, p))
    docs = publish.docs_folder(work, pages)
    config = publish.mkdocs_yml(work, docs, "dataplane-bench: " + ", ".join(names),
                                [{p.title: f"{p.slug}.md"} for p in made])
    publish.assemble(out, config, drawer, publish.Contents(
        campaigns, names, keys, df, lambda changed: statistics_table(model, changed), specs))
    return {"runs": len(df), "ok": int((df["status"] == "ok").sum()) if not df.empty else 0,
            "problems": len(problems), "charts": charts, "site": out}


def _one_pair(page: Page) -> bool:
    """Whether a page shows one node pair per campaign (the figure pages)."""
    return page.reads not in (Reads.EVERY, Reads.PAIRS)


def _pair_common(common: dict[str, Any], model: Site, picker: pair_pages.Picker, token: str,
                 page: Page) -> dict[str, Any]:
    """What every page gets, and on a figure page of a campaign of several pairs the pair it
    shows and the picker's links (templates/_pair_note.md.j2)."""
    one = _one_pair(page) and bool(model.pair_choice)
    picked = next((c.pair for c in picker.choices if c.token == token), "")
    return {**common,
            "pair_shown": {c: (node_pairs.label(p), "picked" if token and p == picked
                               else "asked" if common["pair_asked"] else "median")
                           for c, p in model.pair_choice.items()} if one else {},
            "pair_token": token,
            "pair_links": picker.links(page.slug, token) if one else [],
            "pairs_left_out": picker.left_out,
            # the Node pairs page: each pair offered, by its Summary
            "pair_summaries": picker.links("index", "") if page.reads is Reads.PAIRS else []}


def pairs_shown(df: Any, refs: dict[str, Any], measured: dict[str, set[str]],
                asked: str) -> tuple[dict[str, str], Any]:
    """Per campaign of several node pairs (``measured``), the pair the figure pages show
    (``asked``, as "sender~receiver" or "sender,receiver", else the median pair of ``refs``),
    and the runs' windows."""
    chosen = node_pairs.median_pairs(refs)
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
