"""Archives → view models (reporter/pages.py) → Markdown pages (Jinja2, templates/) →
`mkdocs build --strict` → a static site that works offline, behind any web server or from
file://. Charts are drawn by a Vega bundle shipped with the site (plus a static SVG of each);
raw files and the large data tables go straight into the output, not through mkdocs."""

import functools
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from altair.utils.schemapi import debug_mode
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from collector.errors import BenchError, UsageError

from . import (
    aggregate,
    agreement,
    convergence,
    escaping,
    facts,
    loaded,
    mkdocs_runner,
    numbers,
    outdir,
    pages,
    parts,
    streams,
    svg,
    tcphealth,
    tidycache,
    udp,
)
from .archive import Campaign, walk_all
from .campaigns import in_time_order
from .compare import compare_all
from .escaping import Md
from .rundata import cells_script, filed, runs_csv, runs_script, write_raw
from .tidy import RUN_COLUMNS, table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"
# (page, title); Compare and History only with several campaigns.
PAGES = [("index", "Summary"), ("throughput", "Throughput"), ("cpu", "CPU"),
         ("cpu-per-gbps", "CPU per Gb/s"), ("latency", "Latency"),
         ("mtu", "MTU 1500 vs 9000"), ("veth-control", "veth control"),
         ("tools", "Tool cross-check"), ("streams", "Parallel streams"),
         ("udp", "UDP packet rate"), ("loaded", "Latency under load"),
         ("compare", "Compare"), ("history", "History"), ("statistics", "Statistics"),
         ("environment", "Environment"), ("methodology", "Methodology"), ("runs", "Runs"),
         ("problems", "Problems")]
MULTI_ONLY = ("compare", "history")
# What a campaign may add to the study's questions: a page only when some campaign measured it.
MEASURED_ONLY: dict[str, Callable[[pages.Site], bool]] = {
    "streams": streams.measured, "udp": udp.measured, "loaded": loaded.measured}
# Not assets: Material's bundle names mermaid on unpkg, loaded only for pages with mermaid
# diagrams (none here); the Vega bundle holds its schema URLs as identifiers, never fetched (the
# browser test fails on any request leaving the origin).
PRIVACY_EXCLUDE = ["unpkg.com/mermaid@*", "vega.github.io/schema/*"]
VEGA_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
DEFAULT_TOLERANCE_PCT = 5.0
FIGURE_CAMPAIGNS = 3  # campaigns side by side on the figure pages (the newest)


def code_block(text: str, indent: str = "", max_lines: int = 60) -> Md:
    """Raw text as a fenced Markdown code block. Markdown escapes a code block's content
    itself, so the text goes in unescaped (escaping it here too would show `&lt;`); the fence
    is longer than any run of backticks in it, so no line can close the block early."""
    text = escaping.controls_shown(str(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = [f"{indent}{fence}text",
             *(f"{indent}{line}" for line in str(text).splitlines()[:max_lines]),
             f"{indent}{fence}"]
    return Md("\n".join(lines))


def chart_html(chart: pages.Chart) -> Md:
    """A chart's HTML: a div Vega draws into, inside a box that scrolls sideways on a narrow
    screen; the spec's script beside the static SVG (a file:// page cannot fetch JSON, and a
    spec inline would have mkdocs carry megabytes of JSON through its Markdown); its caption
    and a link to the static SVG."""
    ident = chart.name.removesuffix(".svg")
    caption = escaping.text(chart.caption)
    # Safe: the name is a hash and the caption is escaped.
    return Md(
        f'<figure class="dpb-figure">\n'
        f'<div class="dpb-scroll"><div class="dpb-chart" data-spec="{ident}" role="img" '
        f'aria-label="{caption}"></div></div>\n'
        f'<script src="charts/{ident}.js"></script>\n'
        f'<figcaption>{caption} · <a href="charts/{chart.name}">static SVG</a></figcaption>\n'
        f'</figure>\n')


def spec_script(name: str, spec: dict[str, Any]) -> str:
    """The script that hands a chart's spec to the page (site.js draws it)."""
    return filed("DPB_SPECS", name.removesuffix(".svg"), json.dumps(spec))


@functools.cache  # a process building several sites (a fuzz run, the tests) compiles once
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, finalize=escaping.md)
    env.filters.update(escaping.FILTERS)
    env.filters["num"] = escaping.numeric(numbers.num)
    env.filters["ratio"] = escaping.numeric(numbers.ratio)
    env.filters["pct"] = escaping.numeric(numbers.pct)
    env.filters["code_block"] = code_block
    env.globals["chart"] = chart_html
    env.globals["repetitions"] = convergence.describe
    return env


def _charts(value: Any) -> list[pages.Chart]:
    """Every chart in a view model, in order."""
    if isinstance(value, pages.Chart):
        return [value]
    if isinstance(value, dict):
        return [c for v in value.values() for c in _charts(v)]
    if isinstance(value, list | tuple):
        return [c for v in value for c in _charts(v)]
    if isinstance(value, pages.Section | pages.Tab):
        return _charts(value.__dict__)
    return []


def _mkdocs_yml(work: Path, docs: Path, title: str, nav: list[dict[str, str]]) -> Path:
    config = {"site_name": escaping.plain_title(title), "docs_dir": str(docs),
              "use_directory_urls": False, "strict": True,
              "theme": {"name": "material", "font": False, "features": ["content.tabs.link"]},
              # privacy with assets_fetch off: any external asset is a warning, which --strict
              # turns into a failed build.
              "plugins": ["search", {"privacy": {"assets_fetch": False,
                                                 "assets_exclude": PRIVACY_EXCLUDE}}],
              "nav": nav,
              "extra": {"generator": False},
              "extra_css": ["assets/site.css"],
              "extra_javascript": ["assets/vega-bundle.js", "assets/site.js"],
              "markdown_extensions": ["tables", "attr_list", "md_in_html", "admonition",
                                      "pymdownx.details", "pymdownx.superfences",
                                      {"pymdownx.tabbed": {"alternate_style": True}}]}
    path = work / "mkdocs.yml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


def _vega_bundle() -> str:
    """The Vega bundle, built once per vl-convert version and kept in the user's cache."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dataplane-bench"
    path = cache / f"vega-bundle-{version('vl-convert-python')}.js"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        # In a process of its own, like the drawing: vl-convert's runtime never starts in
        # this one, which forks workers (tidy.py, archive.walk_all).
        made = subprocess.run([sys.executable, "-c", "import sys, vl_convert; sys.stdout.write("
                               "vl_convert.javascript_bundle(sys.argv[1]))", VEGA_GLOBALS],
                              capture_output=True, text=True, timeout=600, check=False)
        if made.returncode != 0 or not made.stdout:
            raise BenchError(f"building the Vega bundle failed:\n{made.stderr[-2000:]}")
        tmp.write_text(made.stdout)
        tmp.replace(path)
    return path.read_text()


def build(campaigns: list[Campaign], out: Path, work: Path, baseline: str = "",
          tolerance_pct: float = DEFAULT_TOLERANCE_PCT) -> dict[str, Any]:
    """Write the site into ``out``; return what it contains (counts, problems)."""
    outdir.check(out, [c.root for c in campaigns])  # said before any work, not after it
    # The build makes millions of short-lived objects and few cycles: the cyclic collector,
    # rescanning a heap that grows to a 60,000-run table, cost a third of a history's build.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with svg.Drawer() as drawer:  # charts go to it as each page makes them
            return _build(campaigns, out, work, baseline, tolerance_pct, drawer)
    finally:
        if collecting:
            gc.enable()


def _build(campaigns: list[Campaign], out: Path, work: Path, baseline: str,
           tolerance_pct: float, drawer: svg.Drawer) -> dict[str, Any]:
    walk_all(campaigns)
    infos = in_time_order(campaigns)
    names = [i.name for i in infos]
    if baseline and baseline not in names:
        raise UsageError(f"--baseline {baseline}: no such campaign among {', '.join(names)}")
    baseline = baseline or names[0]
    problems: list[dict[str, str]] = []
    keys = {c.name: tidycache.key(c) for c in campaigns}
    df = table(campaigns, lambda c, r, why: problems.append(
        {"campaign": c, "run_id": r, "reason": why}), keys=keys)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    base = next(i for i in infos if i.name == baseline)
    changes = compare_all(cells, base, [i for i in infos if i.name != baseline], tolerance_pct)
    figured = names[-FIGURE_CAMPAIGNS:]
    model = pages.Site(infos, cells, changes, baseline, tolerance_pct,
                       aggregate.cpu_classes(df, figured), aggregate.applied_buffers(df, figured),
                       agreement.qperf_cpu(df, figured), tcphealth.runs(df, figured))
    # Figures put campaigns side by side: a long history shows its newest few there, and
    # every campaign on History, Compare and Statistics.
    # The study's pages show one TCP flow; several flows have a page of their own.
    newest = model.newest(FIGURE_CAMPAIGNS)
    recent = newest.one_flow()
    shown = [(p, t) for p, t in PAGES if (model.several or p not in MULTI_ONLY)
             and (p not in MEASURED_ONLY or MEASURED_ONLY[p](model))]
    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "index": lambda: pages.summary(recent, [p for p in (
            streams.key_point(newest, newest.infos[-1].name),
            udp.key_point(newest, newest.infos[-1].name),
            loaded.key_point(newest, newest.infos[-1].name)) if p]),
        "throughput": lambda: pages.throughput(recent),
        "cpu": lambda: pages.cpu(recent), "cpu-per-gbps": lambda: pages.cpu_per_gbps(recent),
        "latency": lambda: pages.latency(recent), "mtu": lambda: pages.mtu(recent),
        "veth-control": lambda: pages.veth_control(recent),
        "tools": lambda: pages.tools(model.newest(1).one_flow()),
        "streams": lambda: streams.page(newest), "udp": lambda: udp.page(newest),
        "loaded": lambda: loaded.page(newest),
        "statistics": lambda: pages.statistics(model),
        "environment": lambda: {"key_facts": facts.KEY_FACTS}, "methodology": dict,
        "runs": dict, "problems": dict,
        "compare": lambda: pages.compare(model), "history": lambda: pages.history(model)}
    views: dict[str, dict[str, Any]] = {}
    specs: dict[str, dict[str, Any]] = {}
    charts = 0
    for page, _ in shown:
        # Altair checks each object it makes against the schema unless told not to (a tenth
        # of a build); tests/test_site_views.py validates every finished spec instead.
        with debug_mode(False):
            views[page] = makers[page]()
        made = _charts(views[page])
        # Each page's charts go to the drawing processes as soon as they exist.
        for chart, name in zip(made, drawer.submit([c.spec for c in made]), strict=True):
            chart.name = name
            specs[name] = chart.spec
        charts += len(made)

    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "assets" / "vega-bundle.js").write_text(_vega_bundle())
    for asset in ASSETS.iterdir():
        shutil.copyfile(asset, docs / "assets" / asset.name)
    env = _environment()
    common = {"infos": infos, "several": model.several, "problems": problems,
              "older": [i.name for i in infos if i not in recent.infos],
              "emulated_vms": sorted({vm for i in infos for vm in i.emulated_vms}),
              "newest_first": names[::-1]}
    for page, _ in shown:
        text = env.get_template(f"{page}.md.j2").render(**common, **views[page])
        (docs / f"{page}.md").write_text(text)
    config = _mkdocs_yml(work, docs, "dataplane-bench: " + ", ".join(names),
                         [{title: f"{page}.md"} for page, title in shown])
    _assemble(out, config, drawer, specs, campaigns, keys, df, model, names)
    return {"runs": len(df), "ok": int((df["status"] == "ok").sum()) if not df.empty else 0,
            "problems": len(problems), "charts": charts, "site": out}


def _assemble(out: Path, config: Path, drawer: svg.Drawer, specs: dict[str, dict[str, Any]],
              campaigns: list[Campaign],
              keys: dict[str, str | None], df: pd.DataFrame, model: pages.Site,
              names: list[str]) -> None:
    """The site is made in a fresh folder beside ``out`` and then takes its place: mkdocs turns
    the pages into HTML there while the parts of changed campaigns and the SVGs (drawn in
    their own process meanwhile) go into a staging folder (mkdocs empties its output folder
    when it starts); unchanged campaigns' parts move over from the previous site
    (reporter/parts.py)."""
    final = out.resolve()
    with outdir.scratch_folders(final, "next", "staging") as (fresh, staging):
        reuse = parts.reusable(final, keys) if final.is_dir() else set()
        (staging / "data").mkdir()
        (staging / "charts").mkdir()
        changed = {c.name for c in campaigns} - reuse
        runs_by = dict(tuple(df[df["campaign"].isin(changed)].groupby("campaign", sort=False))) \
            if not df.empty else {}
        stats = pages.statistics_table(model, changed)
        stats_by = dict(tuple(stats.groupby("campaign", sort=False))) if not stats.empty else {}
        with ThreadPoolExecutor(max_workers=1) as pool:
            built = pool.submit(mkdocs_build, config, fresh)
            for c in campaigns:
                if c.name not in reuse:
                    _write_parts(c, runs_by.get(c.name, pd.DataFrame(columns=RUN_COLUMNS)),
                                 stats_by.get(c.name, pd.DataFrame(columns=pages.STAT_COLUMNS)),
                                 staging)
            for name, spec in specs.items():
                (staging / "charts" / f"{name.removesuffix('.svg')}.js").write_text(
                    spec_script(name, spec))
            drawer.finish(staging / "charts")
            built.result()
        (fresh / outdir.SCRATCH_MARK).touch()  # mkdocs emptied the folder
        for part in staging.iterdir():
            if part.name != outdir.SCRATCH_MARK:
                os.replace(part, fresh / part.name)
        for name in reuse:
            parts.move(name, final, fresh)
        for kind in parts.KINDS:
            parts.join_csv(fresh, kind, names, fresh / "data" / f"{kind}.csv")
        parts.save_state(fresh, keys)
        outdir.swap_in(fresh, final)


def _write_parts(c: Campaign, runs: pd.DataFrame, stats: pd.DataFrame, site: Path) -> None:
    write_raw(c, site / "raw" / c.name)
    (site / "raw" / c.name).mkdir(parents=True, exist_ok=True)
    for kind, script, csv in (
            ("runs", runs_script(c, runs), runs_csv(runs)),
            ("cells", cells_script(c.name, stats), stats.to_csv(index=False))):
        folder = site / "data" / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{c.name}.js").write_text(script)
        (folder / f"{c.name}.csv").write_text(csv)


def mkdocs_build(config: Path, out: Path) -> None:
    """`mkdocs build --strict`: in a process kept for the next build (reporter/mkdocs_runner)."""
    mkdocs_runner.build(config, out)
