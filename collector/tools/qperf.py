"""qperf 0.4.x: `tcp_bw` and `tcp_lat`, each in its own invocation.

`-m` applies to every test on a command line, so `tcp_lat` runs alone with `-m 1`. `-sb` sets
the socket buffer on the server's socket only. `-uu -e 6 -vv`: unified units, 6 significant
digits, and qperf's own CPU figures — parsed, never computed here. qperf has no warm-up.
"""

from ..endpoint import Endpoint
from ..plan import Cell
from .invocation import Invocation, ToolContext


def invocation(cell: Cell, client: Endpoint, server: Endpoint, ctx: ToolContext) -> Invocation:
    common = ["-lp", str(ctx.port), "-ip", str(ctx.port + 1)]
    if cell.test == "rr":
        test = ["-m", "1", "tcp_lat"]
    else:
        test = ["-m", str(cell.message_size)]
        if cell.socket_buffer == "message":
            test += ["-sb", str(cell.message_size)]
        test.append("tcp_bw")
    return Invocation(
        server=["qperf", "-lp", str(ctx.port)],
        client=["qperf", server.address, *common, "-uu", "-e", "6", "-vv",
                "-t", str(ctx.duration_s), *test],
        listen_port=ctx.port, window_offset_s=0)
