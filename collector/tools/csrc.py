"""Our own programs (csrc/): dpb-stream for `stream` (`--streams N` flows, a thread each, on
both sides), dpb-pingpong for `rr`, dpb-crr for `crr` (a connection per request, the server
closing first), dpb-udp for `udp` (datagrams as fast as one thread sends
them; the receiver counts them and the sequence numbers missing over its window).

dpb-stream's receiver reads `--recv-size` = the message size, as qperf's and iperf3's do.
Unlike qperf, the socket buffer is set on both sides; both servers serve one test, bind to the
endpoint's address and print the result (the receiver measures goodput; the ping-pong client
prints the RTT histogram). The window opens `warmup` seconds after the first byte."""

import shlex

from ..endpoint import Endpoint
from ..plan import Cell
from .invocation import Invocation, ToolContext

LOAD_MESSAGE = 65536  # bytes per send() of the bulk flows under which latency is measured


def invocation(cell: Cell, client: Endpoint, server: Endpoint, ctx: ToolContext) -> Invocation:
    srv_bin, cli_bin = server.runs_on.bindir, client.runs_on.bindir
    timing = ["--duration", str(ctx.duration_s), "--warmup", str(ctx.warmup_s)]
    port = ["--port", str(ctx.port)]
    if cell.test == "udp":
        return Invocation(
            server=[f"{srv_bin}/dpb-udp", "server", "--bind", server.address, *port, *timing],
            client=[f"{cli_bin}/dpb-udp", "client", "--host", server.address, *port,
                    "--size", str(cell.message_size), *timing],
            listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True,
            listen_protocol="udp")
    if cell.test == "rr-load":
        return _under_load(cell, server, ctx, srv_bin, cli_bin)
    if cell.test in ("rr", "crr"):
        size = ["--size", str(cell.message_size)]
        program = "dpb-pingpong" if cell.test == "rr" else "dpb-crr"
        return Invocation(
            server=[f"{srv_bin}/{program}", "server", "--bind", server.address, *port, *size],
            client=[f"{cli_bin}/{program}", "client", "--host", server.address, *port, *size,
                    *timing],
            listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True)
    buffers = ["--sockbuf", str(cell.message_size)] if cell.socket_buffer == "message" else []
    flows = ["--streams", str(cell.streams)] if cell.streams > 1 else []
    # The receiver reads message-sized pieces, as qperf and iperf3 do: with 64 KiB reads it
    # read 7 % low at 100 B (docs/benchmarks.md, bench.tools).
    reads = ["--recv-size", str(cell.message_size)]
    return Invocation(
        server=[f"{srv_bin}/dpb-stream", "server", "--bind", server.address, *port, *timing,
                *reads, *buffers, *flows],
        client=[f"{cli_bin}/dpb-stream", "client", "--host", server.address, *port,
                "--size", str(cell.message_size), *timing, *buffers, *flows],
        listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True)


def _under_load(cell: Cell, server: Endpoint, ctx: ToolContext, srv_bin: str,
                cli_bin: str) -> Invocation:
    """The 1-byte ping-pong while ``cell.streams`` bulk flows (dpb-stream) run on the same
    path: both start together and warm up together, so the bulk is running through the whole
    latency window. Each side is a shell running both programs and waiting for both; each
    program prints its own JSON line."""
    timing = ["--duration", str(ctx.duration_s), "--warmup", str(ctx.warmup_s)]
    ping, bulk = ["--port", str(ctx.port)], ["--port", str(ctx.port + 1)]
    flows = ["--streams", str(cell.streams)]
    servers = (shlex.join([f"{srv_bin}/dpb-stream", "server", "--bind", server.address, *bulk,
                           *timing, *flows]) + " & "
               + shlex.join([f"{srv_bin}/dpb-pingpong", "server", "--bind", server.address,
                             *ping, "--size", "1"]) + " & wait")  # servers serve one test
    clients = (shlex.join([f"{cli_bin}/dpb-stream", "client", "--host", server.address, *bulk,
                           "--size", str(LOAD_MESSAGE), *timing, *flows]) + " & bulk=$!; "
               + shlex.join([f"{cli_bin}/dpb-pingpong", "client", "--host", server.address,
                             *ping, "--size", "1", *timing])
               + '; s=$?; wait "$bulk" || exit $?; exit $s')
    return Invocation(server=["sh", "-c", servers], client=["sh", "-c", clients],
                      listen_port=ctx.port, window_offset_s=ctx.warmup_s, server_exits=True,
                      more_ports=(ctx.port + 1,))
