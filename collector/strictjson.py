"""JSON from files someone else may have written (archives, raw outputs): bounded, and every
way it can be malformed one exception. Python's json reads `NaN`, `Infinity` and integers of
any length (a 400-digit one overflows the float it becomes later; over 4,300 digits it raises
a plain ValueError) and raises RecursionError on deep nesting; here each of these is a
JsonError saying what was wrong."""

import json
import math
import re
from typing import Any

MAX_INT_DIGITS = 24  # a 64-bit counter has 20; nanoseconds since 1970 have 19


class JsonError(ValueError):
    """Malformed or out-of-bounds JSON; the message says what."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonError(f"an integer of {len(text):,} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> float:
    raise JsonError(f"{name} is not a JSON number")


def loads(data: str | bytes, limit: int) -> Any:
    """The document in ``data`` (at most ``limit`` bytes or characters). A lone surrogate
    (`"\\ud800"`: JSON allows it, UTF-8 cannot hold it) reads as U+FFFD."""
    if len(data) > limit:
        raise JsonError(f"{len(data):,} bytes, over the {limit:,} this file may hold")
    try:
        doc = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
        escaped = (b"\\ud", b"\\uD") if isinstance(data, bytes) else ("\\ud", "\\uD")
        return _whole(doc) if any(e in data for e in escaped) else doc  # type: ignore[operator]
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(f"not JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise JsonError(f"not UTF-8 text ({exc.reason})") from exc
    except RecursionError as exc:
        raise JsonError("nested too deeply") from exc
    except ValueError as exc:
        raise JsonError(str(exc)) from exc


_LONE = re.compile("[\ud800-\udfff]")


def _whole(doc: Any) -> Any:
    """``doc`` with every lone surrogate, in keys and strings, replaced by U+FFFD."""
    if isinstance(doc, str):
        return _LONE.sub("\ufffd", doc)
    if isinstance(doc, list):
        return [_whole(v) for v in doc]
    if isinstance(doc, dict):
        return {_whole(k): _whole(v) for k, v in doc.items()}
    return doc
