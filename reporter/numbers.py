"""How numbers are printed on the site: three significant digits, trailing zeros kept, so that
12.1, 5.50 and 0.888 line up in a column."""

import math
from typing import Any


def num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    x = float(f"{float(value):.{digits}g}")  # rounded first: 9.999 is 10.0, not 10.00
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{decimals}f}"


def ratio(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{num(value)}×"


def interval(low: Any, high: Any) -> str:
    """A 95 % interval, or the reason there is none."""
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return "too few runs"
    return f"{num(low)} – {num(high)}"


def with_interval(mean: Any, low: Any, high: Any) -> str:
    """A mean and its 95 % interval in brackets: "7,870 (7,700 – 8,040)"."""
    return f"{num(mean)} ({interval(low, high)})"


def pct(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.1f} %" if signed else f"{value:.1f} %"


def size(value: Any) -> str:
    return f"{int(value):,} B"
