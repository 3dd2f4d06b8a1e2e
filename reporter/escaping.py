"""The one rule for text that reaches a page: anything not built as Markdown here is text.

Pages are Markdown that mkdocs turns into HTML, and an archive is untrusted input: a campaign
name, a run's reason, a host's facts. HTML escaping alone stops `<script>` but not Markdown:
`[x](javascript:…)`, `![x](data:…){: onerror=…}` and an attribute list in a heading all become
live HTML. So a string from anywhere is turned into *text*: every character HTML or Markdown
(with this site's extensions: attr_list, tables, admonitions, tabs, details) gives a meaning
to is written as a numeric character reference, which both show as the character itself, and
line breaks become spaces (a value never starts a block). What is meant as Markdown is an `Md`
value: a template's own text, a macro's output, or `Md("…{}…").format(value)` in Python,
whose arguments are escaped by this rule. The Jinja environment applies it to every `{{ }}`
(site.py: `finalize`), and the built-in filters that would mark a string safe after HTML
escaping alone are replaced (FILTERS); tests/test_escaping.py checks the templates use no
other way out.

Raw text shown whole (facts, a tool's stderr) goes in a fenced code block instead
(render.code_block), where Markdown escapes the content itself."""

import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

# What HTML or Markdown (with this site's extensions) gives a meaning to anywhere in a line.
_SPECIAL = "&<>\"'`\\*_{}[]!|#~^=$"
# … and what means something only where a line starts (a list, a heading, an admonition, a
# tab, a details block): escaped as a value's first character, the one place a value can
# start a line (line breaks in it become spaces).
_AT_START = re.compile(r"^(?:[-+.:?()]|\d+[.)])")
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_TABLE = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}
_TABLE.update({ord(c): " " for c in _LINE_BREAKS + "\t"})
# Other control characters show as U+FFFD: they have no business on a page, and some are not
# allowed in HTML or XML at all.
_TABLE.update({c: "\ufffd" for c in [*range(0x20), 0x7F] if chr(c) not in _LINE_BREAKS + "\t"})
_TABLE.update({c: "\ufffd" for c in range(0xD800, 0xE000)})  # a lone surrogate: not text


class Md(Markup):
    """Markdown source that is meant as Markdown. Whatever is added to it, joined with it or
    formatted into it that is not `Md` (or another object that says it is markup) is escaped
    as text."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any, /) -> "Md":
        if isinstance(s, Md):
            return s
        if hasattr(s, "__html__"):
            # A macro's output (Jinja makes it Markup): the template's Markdown with its
            # values escaped by this rule already.
            return cls(s.__html__())
        return cls(text(s))


def text(value: Any) -> str:
    """``value`` as text that HTML and Markdown both show as it is (bar white space at its
    ends, which could start a code block or end emphasis)."""
    out = str(value).translate(_TABLE).strip(" ")
    start = _AT_START.match(out)
    if start:
        head = start.group(0)
        out = "".join(f"&#{ord(c)};" for c in head) + out[len(head):]
    return out


_CONTROLS = {c: "\ufffd" for c in [*range(0x20), 0x7F] if chr(c) not in "\n\r\t"}


def controls_shown(value: str) -> str:
    """Raw text for a code block: control characters but newline and tab as U+FFFD."""
    return value.translate(_CONTROLS)


def md(value: Any) -> Md:
    """The output filter of every `{{ }}` (Jinja's ``finalize``): Md as it is, the rest as
    text."""
    return Md.escape(value)


def code(value: Any) -> Md:
    """Inline code. Not a backtick span: Markdown shows a span's content literally, so the
    escaped text would show its references; a `<code>` element shows them as characters."""
    return Md("<code>{}</code>").format(value)


_SLUG_OK = re.compile(r"[^a-z0-9]+")


def anchor(value: Any) -> Md:
    """An id for a heading's attribute list (`{: #…}`): letters, digits and dashes only, with
    a short hash of the original when more than its case had to change, so two names never
    share one (bar names that differ only in case)."""
    raw = str(value)
    slug = _SLUG_OK.sub("-", raw.lower()).strip("-")[:60] or "x"
    if slug != raw.lower():
        slug += "-" + hashlib.sha256(raw.encode(errors="replace")).hexdigest()[:6]
    return Md(slug)


def join(items: Any, separator: str = "", attribute: Any = None) -> Md:
    """Jinja's `join`, each item as text unless it is Md. The separator is the template's own
    Markdown (templates pass a literal)."""
    if attribute is not None:
        items = [getattr(i, attribute) for i in items]
    return Md(separator).join(Md.escape(i) for i in items)


def replace(value: Any, old: str, new: str, count: int = -1) -> str:
    """Jinja's `replace` on the plain string: the result is text, escaped when it is output
    (the built-in one marks an autoescaped string safe with HTML escaping alone)."""
    if isinstance(value, Md):
        return Md(str.replace(value, old, new, count))
    return str(value).replace(old, new, count)


def shorten(value: Any, length: int, leeway: int = 5) -> str:
    """At most about ``length`` characters, cut at a word with "..." (Jinja's `truncate`):
    a table cell from an archive stays a table cell."""
    whole = str(value)
    if len(whole) <= length + leeway:
        return whole
    return whole[:length - 3].rsplit(" ", 1)[0] + "..."


def plain_title(value: Any) -> str:
    """The site's name for mkdocs' theme, which prints it escaped in some places (title
    attributes) and raw in others (<title>, aria-labels): no character either can misread.
    HTML's special characters and control characters show as U+FFFD; the pages name the
    campaigns exactly."""
    return str(value).translate(_TITLE_TABLE)


_TITLE_TABLE = {**{ord(c): "\ufffd" for c in "&<>\"'`"},
                **{k: v for k, v in _TABLE.items() if chr(k) not in _SPECIAL}}


def url(value: Any) -> Md:
    """A relative link target the code made (page.md#anchor, raw/…): percent-encoded, so no
    character of a name in it can end the link or start a scheme."""
    return Md(quote(str(value), safe="/#"))


def numeric(format_: Callable[..., str]) -> Callable[..., Md]:
    """A number filter: its output is digits and signs when given a number, text otherwise."""
    def filter_(value: Any, *args: Any) -> Md:
        out = format_(value, *args)
        plain = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        return Md(out) if plain else Md.escape(out)
    return filter_


# The built-in filters that return Markup from a string with HTML escaping alone, replaced;
# `safe`, `escape`/`e`, `format`, `urlize`, `xmlattr`, `forceescape` are refused by the
# template test instead.
def spaces(value: Any) -> Md:
    """A macro's indentation (text() would strip it: a value's spaces at its ends are not
    kept): only spaces pass, as many as given."""
    raw = str(value)
    if raw.strip(" "):
        raise ValueError(f"not an indentation: {raw[:20]!r}")
    return Md(raw)


FILTERS = {"join": join, "replace": replace, "code": code, "anchor": anchor, "url": url,
           "spaces": spaces}
