"""Markdown pages → the published site: mkdocs' configuration, the Vega bundle and assets,
each campaign's raw files and data tables, the charts' scripts and SVGs, all made in a fresh
folder beside ``--out`` that then takes its place (reporter/outdir.py)."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from collector.errors import BenchError

from . import escaping, mkdocs_runner, outdir, parts, svg
from .archive import Campaign
from .rundata import cells_script, filed, runs_csv, runs_script, write_raw
from .tidy import RUN_COLUMNS

ASSETS = Path(__file__).resolve().parent / "assets"
# Not assets: Material's bundle names mermaid on unpkg, loaded only for pages with mermaid
# diagrams (none here); the Vega bundle holds its schema URLs as identifiers, never fetched (the
# browser test fails on any request leaving the origin).
PRIVACY_EXCLUDE = ["unpkg.com/mermaid@*", "vega.github.io/schema/*"]
VEGA_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"


@dataclass
class Contents:
    """What a site publishes beside its pages."""

    campaigns: list[Campaign]
    names: list[str]  # oldest first
    keys: dict[str, str | None]  # each campaign's cache key (reporter/tidycache.py)
    runs: pd.DataFrame  # the tidy table
    # the cells' statistics of the campaigns named (reporter/pages/statistics.py)
    cells: Callable[[set[str]], pd.DataFrame]
    specs: dict[str, dict[str, Any]]  # chart name → Vega-Lite spec


def spec_script(name: str, spec: dict[str, Any]) -> str:
    """The script that hands a chart's spec to the page (site.js draws it)."""
    return filed("DPB_SPECS", name.removesuffix(".svg"), json.dumps(spec))


def docs_folder(work: Path, pages: dict[str, str]) -> Path:
    """mkdocs' docs folder: the assets and each page's Markdown (``slug`` → text)."""
    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "assets" / "vega-bundle.js").write_text(vega_bundle())
    for asset in ASSETS.iterdir():
        shutil.copyfile(asset, docs / "assets" / asset.name)
    for slug, text in pages.items():
        (docs / f"{slug}.md").write_text(text)
    return docs


def mkdocs_yml(work: Path, docs: Path, title: str, nav: list[dict[str, str]]) -> Path:
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


def vega_bundle() -> str:
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


def assemble(out: Path, config: Path, drawer: svg.Drawer, contents: Contents) -> None:
    """The site is made in a fresh folder beside ``out`` and then takes its place: mkdocs turns
    the pages into HTML there while the parts of changed campaigns and the SVGs (drawn in
    their own process meanwhile) go into a staging folder (mkdocs empties its output folder
    when it starts); unchanged campaigns' parts move over from the previous site
    (reporter/parts.py)."""
    final = out.resolve()
    with outdir.scratch_folders(final, "next", "staging") as (fresh, staging):
        reuse = parts.reusable(final, contents.keys) if final.is_dir() else set()
        (staging / "data").mkdir()
        (staging / "charts").mkdir()
        with ThreadPoolExecutor(max_workers=1) as pool:
            built = pool.submit(mkdocs_build, config, fresh)
            _write_changed(contents, reuse, staging)
            for name, spec in contents.specs.items():
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
            parts.join_csv(fresh, kind, contents.names, fresh / "data" / f"{kind}.csv")
        parts.save_state(fresh, contents.keys)
        outdir.swap_in(fresh, final)


def _write_changed(contents: Contents, reuse: set[str], staging: Path) -> None:
    """The parts of every campaign the previous site does not hold as they are now."""
    changed = {c.name for c in contents.campaigns} - reuse
    df, stats = contents.runs, contents.cells(changed)
    runs_by = dict(tuple(df[df["campaign"].isin(changed)].groupby("campaign", sort=False))) \
        if not df.empty else {}
    stats_by = dict(tuple(stats.groupby("campaign", sort=False))) if not stats.empty else {}
    for c in contents.campaigns:
        if c.name not in reuse:
            _write_parts(c, runs_by.get(c.name, pd.DataFrame(columns=RUN_COLUMNS)),
                         stats_by.get(c.name, pd.DataFrame(columns=stats.columns)), staging)


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
