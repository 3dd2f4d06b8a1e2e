"""iperf3 3.x, always `-J`: `-l` bytes per write, `-w` both buffers on both sides (socket-buffer
mode), `-O` omits the warm-up from its figures, `-P N` runs N flows (before 3.16, all in one
thread: N flows share one core on each side). The server binds to the endpoint's address and
serves one test (`-1`). UDP runs have no `-O`: iperf3 3.12 then counts the omitted seconds'
datagrams as lost (more lost than sent); they run the duration alone, without warm-up (a
datagram flood has no slow start), and the CPU window brackets the same seconds."""

from ..endpoint import Endpoint
from ..plan import Cell
from .invocation import Invocation, ToolContext


def invocation(cell: Cell, client: Endpoint, server: Endpoint, ctx: ToolContext) -> Invocation:
    buffers = ["-w", str(cell.message_size)] if cell.socket_buffer == "message" else []
    flows = ["-P", str(cell.streams)] if cell.streams > 1 else []
    warmup = ["-O", str(ctx.warmup_s)]
    if cell.test == "udp":  # datagrams of the cell's size (-l) at an unlimited rate (-b 0)
        buffers, flows, warmup = [], ["-u", "-b", "0"], []
    return Invocation(
        server=["iperf3", "-s", "-1", "-J", "-B", server.address, "-p", str(ctx.port)],
        client=["iperf3", "-c", server.address, "-p", str(ctx.port), "-J",
                "-t", str(ctx.duration_s), *warmup,
                "-l", str(cell.message_size), *buffers, *flows],
        listen_port=ctx.port, window_offset_s=ctx.warmup_s if warmup else 0,
        server_exits=True)
