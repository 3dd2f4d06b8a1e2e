"""Command lines of the measurement tools, one module per tool."""

from collections.abc import Callable

from ..endpoint import Endpoint
from ..plan import Cell
from . import csrc, iperf3, qperf
from .invocation import Invocation, ToolContext

Builder = Callable[[Cell, Endpoint, Endpoint, ToolContext], Invocation]
TOOLS: dict[str, Builder] = {"qperf": qperf.invocation, "iperf3": iperf3.invocation,
                             "csrc": csrc.invocation}

__all__ = ["TOOLS", "Invocation", "ToolContext"]
