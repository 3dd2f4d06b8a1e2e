"""Command lines of the measurement tools, one module per tool."""

from collections.abc import Callable

from ..endpoint import Endpoint
from ..plan import Cell
from . import iperf3, qperf
from .invocation import Invocation

Builder = Callable[[Cell, Endpoint, Endpoint, int, int, int], Invocation]
TOOLS: dict[str, Builder] = {"qperf": qperf.invocation, "iperf3": iperf3.invocation}

__all__ = ["TOOLS", "Invocation"]
