"""Archives → view models (reporter/pages.py) → Markdown pages (Jinja2, templates/) →
`mkdocs build --strict` → a static site that works offline, behind any web server or from
file://. Charts are drawn by a Vega bundle shipped with the site (plus a static SVG of each);
raw files and the large data tables go straight into the output, not through mkdocs."""

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import vl_convert as vlc
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from collector.errors import BenchError, UsageError

from . import aggregate, facts, numbers, pages, svg
from .archive import Campaign
from .campaigns import in_time_order
from .compare import compare_pair
from .rundata import runs_script, write_raw
from .tidy import table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"
# (page, title); Compare and History only with several campaigns.
PAGES = [("index", "Summary"), ("throughput", "Throughput"), ("cpu", "CPU"),
         ("cpu-per-gbps", "CPU per Gb/s"), ("latency", "Latency"),
         ("mtu", "MTU 1500 vs 9000"), ("veth-control", "veth control"),
         ("compare", "Compare"), ("history", "History"), ("statistics", "Statistics"),
         ("environment", "Environment"), ("methodology", "Methodology"), ("runs", "Runs"),
         ("problems", "Problems")]
MULTI_ONLY = ("compare", "history")
# Not assets: Material's bundle names mermaid on unpkg, loaded only for pages with mermaid
# diagrams (none here); the Vega bundle holds its schema URLs as identifiers, never fetched (the
# browser test fails on any request leaving the origin).
PRIVACY_EXCLUDE = ["unpkg.com/mermaid@*", "vega.github.io/schema/*"]
VEGA_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
DEFAULT_TOLERANCE_PCT = 5.0
FIGURE_CAMPAIGNS = 3  # campaigns side by side on the figure pages (the newest)


def code_block(text: str, indent: str = "", max_lines: int = 60) -> Markup:
    """Raw text as a fenced Markdown code block. Markdown escapes a code block's content
    itself, so the text goes in unescaped (escaping it here too would show `&lt;`); the fence
    is longer than any run of backticks in it, so no line can close the block early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = [f"{indent}{fence}text",
             *(f"{indent}{line}" for line in str(text).splitlines()[:max_lines]),
             f"{indent}{fence}"]
    return Markup("\n".join(lines))  # noqa: S704 — see the docstring


def chart_html(chart: pages.Chart) -> Markup:
    """A chart's HTML: the spec inline (file:// cannot fetch), a div Vega draws into inside a
    box that scrolls sideways on a narrow screen, its caption, and a link to the static SVG."""
    payload = json.dumps(chart.spec).replace("</", "<\\/")
    ident = chart.name.removesuffix(".svg")
    caption = Markup.escape(chart.caption)
    # Safe: the name is a hash, the caption is escaped, the spec is JSON with "</" escaped.
    return Markup(  # noqa: S704
        f'<figure class="dpb-figure">\n'
        f'<div class="dpb-scroll"><div class="dpb-chart" data-spec="c{ident}" role="img" '
        f'aria-label="{caption}"></div></div>\n'
        f'<script type="application/json" id="c{ident}">{payload}</script>\n'
        f'<figcaption>{caption} · <a href="charts/{chart.name}">static SVG</a></figcaption>\n'
        f'</figure>\n')


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = numbers.num
    env.filters["ratio"] = numbers.ratio
    env.filters["pct"] = numbers.pct
    env.filters["code_block"] = code_block
    env.globals["chart"] = chart_html
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
    config = {"site_name": title, "docs_dir": str(docs), "use_directory_urls": False,
              "strict": True, "theme": {"name": "material", "font": False,
                                        "features": ["content.tabs.link"]},
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
        tmp.write_text(vlc.javascript_bundle(VEGA_GLOBALS))
        tmp.replace(path)
    return path.read_text()


def build(campaigns: list[Campaign], out: Path, work: Path, baseline: str = "",
          tolerance_pct: float = DEFAULT_TOLERANCE_PCT) -> dict[str, Any]:
    """Write the site into ``out``; return what it contains (counts, problems)."""
    infos = in_time_order(campaigns)
    names = [i.name for i in infos]
    if baseline and baseline not in names:
        raise UsageError(f"--baseline {baseline}: no such campaign among {', '.join(names)}")
    baseline = baseline or names[0]
    problems: list[dict[str, str]] = []
    df = table(campaigns, lambda c, r, why: problems.append(
        {"campaign": c, "run_id": r, "reason": why}))
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    base = next(i for i in infos if i.name == baseline)
    changes = [ch for i in infos if i.name != baseline
               for ch in compare_pair(cells, base, i, tolerance_pct)]
    model = pages.Site(infos, cells, changes, baseline, tolerance_pct)
    # Figures put campaigns side by side: a long history shows its newest few there, and
    # every campaign on History, Compare and Statistics.
    recent = model.newest(FIGURE_CAMPAIGNS)
    shown = [(p, t) for p, t in PAGES if model.several or p not in MULTI_ONLY]
    views: dict[str, dict[str, Any]] = {
        "index": pages.summary(recent), "throughput": pages.throughput(recent),
        "cpu": pages.cpu(recent), "cpu-per-gbps": pages.cpu_per_gbps(recent),
        "latency": pages.latency(recent), "mtu": pages.mtu(recent),
        "veth-control": pages.veth_control(recent), "statistics": {},
        "environment": {"key_facts": facts.KEY_FACTS}, "methodology": {}, "runs": {},
        "problems": {}}
    if model.several:
        views["compare"] = pages.compare(model)
        views["history"] = pages.history(model)

    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "assets" / "vega-bundle.js").write_text(_vega_bundle())
    for asset in ASSETS.iterdir():
        shutil.copyfile(asset, docs / "assets" / asset.name)
    all_charts = _charts(list(views.values()))
    specs = [c.spec for c in all_charts]
    for chart, name in zip(all_charts, svg.names(specs), strict=True):
        chart.name = name
    env = _environment()
    common = {"infos": infos, "several": model.several, "problems": problems,
              "older": [i.name for i in infos if i not in recent.infos],
              "emulated_vms": sorted({vm for i in infos for vm in i.emulated_vms})}
    for page, _ in shown:
        text = env.get_template(f"{page}.md.j2").render(**common, **views[page])
        (docs / f"{page}.md").write_text(text)
    config = _mkdocs_yml(work, docs, "dataplane-bench: " + ", ".join(names),
                         [{title: f"{page}.md"} for page, title in shown])
    # mkdocs turns only the pages into HTML; meanwhile the SVGs, the data tables and the raw
    # files go into a staging folder beside the site (same file system), moved in afterwards:
    # mkdocs empties its output folder when it starts.
    staging = out.resolve().parent / f".{out.resolve().name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "data").mkdir(parents=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        built = pool.submit(mkdocs_build, config, out)
        svg.render_all(specs, staging / "charts")
        stats = pages.statistics_table(model)
        df.to_csv(staging / "data" / "runs.csv", index=False)
        stats.to_csv(staging / "data" / "cells.csv", index=False)
        (staging / "data" / "cells.js").write_text(_cells_script(stats))
        (staging / "data" / "runs.js").write_text(runs_script(campaigns, df))
        write_raw(campaigns, staging / "raw")
        built.result()
    for part in staging.iterdir():
        os.replace(part, out / part.name)
    staging.rmdir()
    return {"runs": len(df), "ok": int((df["status"] == "ok").sum()) if not df.empty else 0,
            "problems": len(problems), "charts": len(all_charts), "site": out}


def _cells_script(stats: pd.DataFrame) -> str:
    rows = json.loads(stats.to_json(orient="values", double_precision=6))
    return ("window.DPB_CELLS = " + json.dumps({"columns": list(stats.columns), "rows": rows})
            .replace("</", "<\\/") + ";\n")


def mkdocs_build(config: Path, out: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(config), "-d", str(out.resolve())], capture_output=True,
                          text=True, timeout=1800, check=False,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    if proc.returncode != 0:
        raise BenchError(f"mkdocs build failed:\n{proc.stderr[-3000:]}")
