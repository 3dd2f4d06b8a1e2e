"""One parser per raw format the collector archives. Each raises ParseError on bad input."""

import math


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
