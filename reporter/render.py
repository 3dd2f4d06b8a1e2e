"""Page views → Markdown: the Jinja environment (every value escaped by one rule,
reporter/escaping.py), the chart's HTML and the fenced code block the templates use."""

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from . import convergence, escaping, numbers
from .escaping import Md
from .pages.model import Chart, Section, Tab
from .pages.page import View

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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


def chart_html(chart: Chart) -> Md:
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


@functools.cache  # a process building several sites (a fuzz run, the tests) compiles once
def environment() -> Environment:
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


def fields(view: View) -> dict[str, Any]:
    """A view's fields as the template's variables (not deep-copied, unlike asdict)."""
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}


def charts_in(value: Any) -> list[Chart]:
    """Every chart in a view, in order."""
    if isinstance(value, Chart):
        return [value]
    if isinstance(value, dict):
        return [c for v in value.values() for c in charts_in(v)]
    if isinstance(value, list | tuple):
        return [c for v in value for c in charts_in(v)]
    if isinstance(value, View | Section | Tab):
        return charts_in([getattr(value, f.name) for f in dataclasses.fields(value)])
    return []


def page(slug: str, view: View, common: dict[str, Any]) -> str:
    """The page's Markdown: templates/SLUG.md.j2 given what every page gets and its view;
    under its title, on a figure page of a campaign of several node pairs, which pair it
    shows and the pair picker (templates/_pair_note.md.j2)."""
    text = environment().get_template(f"{slug}.md.j2").render(**common, **fields(view))
    if not common.get("pair_shown") or not text.startswith("# "):
        return text
    title, _, rest = text.partition("\n")
    note = environment().get_template("_pair_note.md.j2").render(**common)
    return f"{title}\n\n{note}\n{rest}"
