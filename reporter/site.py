"""Archives → Markdown pages (Jinja2 templates/) → `mkdocs build --strict` → a static site that
works offline, behind any web server or from file://: charts are drawn by a Vega bundle shipped
with the site (plus a static SVG of each), raw files are copied in, nothing is fetched."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import vl_convert as vlc
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from collector.errors import BenchError

from . import aggregate, charts, facts, findings
from .archive import Campaign
from .tidy import table

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGES = ["index", "throughput", "cpu", "cpu-per-gbps", "latency", "mtu", "veth-control",
         "environment", "methodology", "runs", "problems"]
# Not assets: Material's bundle names mermaid on unpkg, loaded only for pages with mermaid
# diagrams (none here); the Vega bundle holds its schema URLs as identifiers, never fetched (the
# browser test fails on any request leaving the origin).
PRIVACY_EXCLUDE = ["unpkg.com/mermaid@*", "vega.github.io/schema/*"]
VEGA_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
CHART_JS = """document.querySelectorAll('.dpb-chart').forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
  vegaEmbed(el, spec, {actions: false, renderer: 'svg'}).catch(function (e) {
    el.textContent = 'chart failed: ' + e;
  });
});
document.querySelectorAll('.dpb-filter').forEach(function (box) {
  var rows = document.getElementById(box.dataset.table).tBodies[0].rows;
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase();
      rows[i].hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    }
  });
});
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


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


class Renderer:
    def __init__(self, docs: Path) -> None:
        self.docs = docs
        self.charts = 0
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["fmt"] = _fmt
        self.env.filters["code_block"] = code_block
        self.env.globals["chart"] = self.chart
        self.env.globals["rows"] = rows
        self.env.globals["cells_for"] = cells_for

    def chart(self, spec: dict[str, Any], caption: str) -> Markup:
        """A chart's HTML: the spec inline (file:// cannot fetch), a div Vega draws into, and a
        link to the static SVG."""
        self.charts += 1
        name = f"chart-{self.charts}"
        (self.docs / "charts").mkdir(exist_ok=True)
        (self.docs / "charts" / f"{name}.svg").write_text(vlc.vegalite_to_svg(spec))
        payload = json.dumps(spec).replace("</", "<\\/")
        # Safe: the name is ours, the caption is escaped, the spec is JSON with "</" escaped.
        return Markup(  # noqa: S704
            f'<div class="dpb-chart" data-spec="{name}-spec" role="img" '
            f'aria-label="{Markup.escape(caption)}"></div>\n'
            f'<script type="application/json" id="{name}-spec">{payload}</script>\n'
            f'<p><a href="charts/{name}.svg">Static SVG of this chart</a></p>\n')

    def page(self, name: str, **context: Any) -> None:
        text = self.env.get_template(f"{name}.md.j2").render(**context)
        (self.docs / f"{name}.md").write_text(text)


def _mkdocs_yml(work: Path, docs: Path, title: str,
                nav: list[dict[str, str]] | None = None) -> Path:
    default = [{"Summary": "index.md"}, {"Throughput": "throughput.md"}, {"CPU": "cpu.md"},
           {"CPU per Gb/s": "cpu-per-gbps.md"}, {"Latency": "latency.md"},
           {"MTU 1500 vs 9000": "mtu.md"}, {"veth control": "veth-control.md"},
           {"Environment": "environment.md"}, {"Methodology": "methodology.md"},
           {"Runs": "runs.md"}, {"Problems": "problems.md"}]
    nav = nav if nav is not None else default
    config = {"site_name": title, "docs_dir": str(docs), "use_directory_urls": False,
              "strict": True, "theme": {"name": "material", "font": False},
              # privacy with assets_fetch off: any external asset is a warning, which --strict
              # turns into a failed build.
              "plugins": ["search", {"privacy": {"assets_fetch": False,
                                                 "assets_exclude": PRIVACY_EXCLUDE}}],
              "nav": nav,
              "extra": {"generator": False},
              "extra_javascript": ["assets/vega-bundle.js", "assets/charts.js"],
              "markdown_extensions": ["tables", "attr_list", "md_in_html", "admonition",
                                      "pymdownx.details", "pymdownx.superfences"]}
    path = work / "mkdocs.yml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


def _copy_raw(campaigns: list[Campaign], docs: Path) -> None:
    """Raw files as .txt, so that any web server shows them instead of offering a download.
    Each is read through the archive's safe reader: a link out of the archive, a special file
    or an oversized one is not copied (its run is listed under Problems by the tidy table)."""
    for c in campaigns:
        made: set[Path] = set()
        for rec in c.manifest["runs"].values():
            files = rec.get("files") if isinstance(rec, dict) else None
            for rel in (files.values() if isinstance(files, dict) else ()):
                try:
                    data = c.read_bytes(str(rel))
                except (BenchError, OSError):
                    continue
                dest = docs / "raw" / c.name / f"{rel}.txt"
                if dest.parent not in made:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    made.add(dest.parent)
                dest.write_bytes(data)


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


def build(campaigns: list[Campaign], out: Path, work: Path) -> dict[str, Any]:
    """Write the site into ``out``; return what it contains (counts, problems)."""
    problems: list[dict[str, str]] = []
    df = table(campaigns, lambda c, r, why: problems.append(
        {"campaign": c, "run_id": r, "reason": why}))
    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    (docs / "assets").mkdir(parents=True)
    (docs / "data").mkdir()
    (docs / "assets" / "vega-bundle.js").write_text(_vega_bundle())
    (docs / "assets" / "charts.js").write_text(CHART_JS)
    df.to_csv(docs / "data" / "runs.csv", index=False)
    _copy_raw(campaigns, docs)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    hosts = {c.name: facts.by_host(c) for c in campaigns}
    context = {"campaigns": campaigns, "df": df, "cells": cells, "hosts": hosts,
               "warnings": {c.name: facts.warnings(hosts[c.name], c.vm_names)
                            for c in campaigns},
               "emulated_vms": [vm for c in campaigns
                                for vm in facts.emulated_vms(hosts[c.name], set(c.vm_names))],
               "problems": problems, "metrics": aggregate.METRICS, "charts": charts,
               "key_facts": facts.KEY_FACTS, "study": charts.STUDY_LATENCY_US,
               "findings": findings.sentences(cells, emulated=any(
                   facts.emulated_vms(hosts[c.name], set(c.vm_names)) for c in campaigns)),
               "emulated": any(any(r.get("topology", {}).get("ovs_datapath") == "netdev"
                                   for r in c.manifest["runs"].values()) for c in campaigns)}
    renderer = Renderer(docs)
    for name in PAGES:
        renderer.page(name, **context)
    mkdocs_build(_mkdocs_yml(work, docs, "dataplane-bench: " + ", ".join(
        c.name for c in campaigns)), out)
    return {"runs": len(df), "ok": int((df["status"] == "ok").sum()) if not df.empty else 0,
            "problems": len(problems), "charts": renderer.charts, "site": out}


def mkdocs_build(config: Path, out: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(config), "-d", str(out.resolve())], capture_output=True,
                          text=True, timeout=1800, check=False,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    if proc.returncode != 0:
        raise BenchError(f"mkdocs build failed:\n{proc.stderr[-3000:]}")


def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [] if df.empty else [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]


def cells_for(cells: pd.DataFrame, **where: Any) -> pd.DataFrame:
    if cells.empty:
        return cells
    mask = pd.Series(True, index=cells.index)
    for key, value in where.items():
        mask &= cells[key] == value
    return cells[mask]
