"""One parser per raw format the collector archives. Each raises ParseError on bad input."""

import math
from typing import Any

from collector import strictjson

MAX_JSON_CHARS = 16 * 1024 * 1024  # one tool's JSON; a real one is at most a few hundred KB
MAX_SAID_CHARS = 300               # what a tool's own error text may add to a reason


class ParseError(ValueError):
    """A raw file that cannot be read as what it should be; the message says what is wrong."""


def field(doc: object, *path: str, tool: str) -> object:
    """doc[path[0]][path[1]]…, or ParseError naming the path."""
    node = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ParseError(f"{tool}: no field {'.'.join(path)}")
        node = node[key]
    return node


def number(doc: object, *path: str, tool: str) -> float:
    """A finite, non-negative number at ``path`` (a measured rate, time or percentage)."""
    value = field(doc, *path, tool=tool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{tool}: {'.'.join(path)} is not a number ({value!r:.40})")
    if not math.isfinite(value) or value < 0:
        raise ParseError(f"{tool}: {'.'.join(path)} is {value!r}, not a measurement")
    return float(value)


def optional_number(doc: object, *path: str, tool: str) -> float | None:
    """Like number(), but None when the field is absent."""
    try:
        field(doc, *path, tool=tool)
    except ParseError:
        return None
    return number(doc, *path, tool=tool)


def load_json(text: str, tool: str) -> Any:
    try:
        return strictjson.loads(text, MAX_JSON_CHARS)
    except strictjson.JsonError as exc:
        raise ParseError(f"{tool}: {exc}") from exc


def said(value: object) -> str:
    """A tool's own words (an error it printed), bounded: a reason quotes them, never whole."""
    text = str(value)
    return text if len(text) <= MAX_SAID_CHARS else text[:MAX_SAID_CHARS] + "…"
