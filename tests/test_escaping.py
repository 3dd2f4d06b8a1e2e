"""The one escaping rule (reporter/escaping.py): any string, rendered by Python-Markdown with
the site's extensions in any context a template puts one, comes out as its own text and no
element; and the templates use no way around the rule."""

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import markdown  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from reporter import escaping, render
from reporter.escaping import Md

EXTENSIONS = ["tables", "attr_list", "md_in_html", "admonition", "pymdownx.details",
              "pymdownx.superfences", "pymdownx.tabbed"]
NASTY = ["[x](javascript:alert(1))", "![x](data:x){: onerror=alert(1)}", "<img src=x>",
         "{: #a onclick=x }", "`code`", "**b** _i_", "| a | b |", "<!--", "&lt;", "&amp;#60;",
         "\\[x](y)", "1. list", "- item", "# head", "!!! note", "??? note", '=== "t"',
         "<https://x>", "a\nb\r\nc\u2028d", "\x1b[31m\x00", "x  \n", ":::", "~~s~~", "^^u^^"]
# Where the templates put a value.
CONTEXTS = ["{}", "text {} text", "| {} | x |\n| --- | --- |\n| {} | y |", "## {} {{: #h }}",
            '!!! note "{}"\n    body', '=== "{}"\n\n    body', "- {}", "**{}**",
            "1. {} → [link](x.md)", "<div markdown>\n\n{}\n\n</div>"]
SPECIALS = "&<>\"'`\\*_{}[]()!|#~^=$:.-+?\n\r\t\x00\x1b\u2028 a1<"


class Shape(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [f"{k}={v}" for k, v in attrs]

    def handle_data(self, data: str) -> None:
        self.text += data


def _render(source: str) -> Shape:
    shape = Shape()
    shape.feed(markdown.markdown(source, extensions=EXTENSIONS))
    return shape


def _check(value: str) -> None:
    shown = " ".join(html.unescape(escaping.text(value)).split())
    stand_in = "v" if shown else ""
    for context in CONTEXTS:
        plain = _render(context.format(stand_in, stand_in))
        got = _render(context.format(escaping.text(value), escaping.text(value)))
        assert got.tags == plain.tags, (value, context)
        assert got.attrs == plain.attrs or context.startswith("##"), (value, context)
        if shown:
            assert shown in " ".join(got.text.split()), (value, context)


def test_nasty_strings_stay_text_everywhere() -> None:
    for value in NASTY:
        _check(value)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(SPECIALS)), max_size=24))
def test_any_string_of_special_characters_stays_text(value: str) -> None:
    _check(value)


def test_md_escapes_what_is_formatted_into_it() -> None:
    made = Md("**{}** and `{}`").format("[x](javascript:y)", "a")
    assert made == "**&#91;x&#93;(javascript:y)** and `a`"
    assert Md("a ") + "<b>" == "a &#60;b&#62;"
    assert escaping.anchor("Camp One!") != escaping.anchor("camp-one")
    assert escaping.anchor("camp-one") == "camp-one"
    assert escaping.url("raw/a b/c#d") == "raw/a%20b/c#d"
    assert "<" not in escaping.plain_title('"><img>') and "\x1b" not in escaping.plain_title("\x1b")


TEMPLATES = Path(render.TEMPLATES)
# Ways a template could mark text safe without the rule: Jinja's own escaping (HTML only),
# `safe`, concatenation with `~` (it joins with HTML escaping alone when one part is markup),
# and a value in a backtick code span (where Markdown shows the references literally).
# (`tojson` stays: its JSON escapes <, >, & and ', and it fills raw HTML attributes only.)
BANNED = {"a safe/escape filter": re.compile(r"\|\s*(safe|e|escape|forceescape|urlize|xmlattr|"
                                             r"striptags)\b"),
          "~ concatenation": re.compile(r"{{[^}]*~[^}]*}}"),
          "a value in a code span": re.compile(r"`{{"),
          "a Markup() call": re.compile(r"Markup\(")}


def test_templates_use_no_way_around_the_rule() -> None:
    found = []
    for template in sorted(TEMPLATES.glob("*.j2")):
        for n, line in enumerate(template.read_text().splitlines(), 1):
            found += [f"{template.name}:{n}: {what}" for what, pattern in BANNED.items()
                      if pattern.search(line)]
    assert found == []


def test_every_table_goes_through_the_one_macro() -> None:
    """A table row written in a template would hold values the macro's join did not escape
    cell by cell; every table is a views.Table laid out by _macros.md.j2's `table`."""
    rows = [f"{t.name}:{n}" for t in sorted(TEMPLATES.glob("*.j2")) if t.name != "_macros.md.j2"
            for n, line in enumerate(t.read_text().splitlines(), 1)
            if line.lstrip().startswith("|")]
    assert rows == []


def test_the_environment_applies_the_rule_to_every_output() -> None:
    env = render.environment()
    out = env.from_string("{{ x }} {{ xs|join(', ') }} {{ x|replace('a', 'b') }} "
                          "{{ x|truncate(200) }}").render(x="[a](javascript:b)",
                                                          xs=["<i>", "*"])
    assert "[" not in out and "<i>" not in out and "*" not in out.replace("&#42;", "")
