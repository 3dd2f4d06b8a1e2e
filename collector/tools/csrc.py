"""Our own programs (csrc/): dpb-stream for `stream` (`--streams N` flows, a thread each, on
both sides), dpb-pingpong for `rr`.

Unlike qperf, the socket buffer is set on both sides; both servers serve one test, bind to the
endpoint's address and print the result (the receiver measures goodput; the ping-pong client
prints the RTT histogram). The window opens `warmup` seconds after the first byte."""

from ..endpoint import Endpoint
from ..plan import Cell
from .invocation import Invocation, ToolContext


def invocation(cell: Cell, client: Endpoint, server: Endpoint, ctx: ToolContext) -> Invocation:
    srv_bin, cli_bin = server.runs_on.bindir, client.runs_on.bindir
    timing = ["--duration", str(ctx.duration_s), "--warmup", str(ctx.warmup_s)]
    port = ["--port", str(ctx.port)]
    if cell.test == "rr":
        size = ["--size", str(cell.message_size)]
        return Invocation(
            server=[f"{srv_bin}/dpb-pingpong", "server", "--bind", server.address, *port, *size],
            client=[f"{cli_bin}/dpb-pingpong", "client", "--host", server.address, *port, *size,
                    *timing],
            listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True)
    buffers = ["--sockbuf", str(cell.message_size)] if cell.socket_buffer == "message" else []
    flows = ["--streams", str(cell.streams)] if cell.streams > 1 else []
    return Invocation(
        server=[f"{srv_bin}/dpb-stream", "server", "--bind", server.address, *port, *timing,
                *buffers, *flows],
        client=[f"{cli_bin}/dpb-stream", "client", "--host", server.address, *port,
                "--size", str(cell.message_size), *timing, *buffers, *flows],
        listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True)
