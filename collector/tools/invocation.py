"""One measurement: the server's and the client's command lines, and the port to wait for."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolContext:
    """What a tool's command lines depend on besides the cell and the endpoints."""

    duration_s: int
    warmup_s: int
    port: int


@dataclass(frozen=True)
class Invocation:
    server: list[str]
    client: list[str]
    listen_port: int
    window_offset_s: int  # where the measurement window starts after the client starts
    server_exits: bool = False  # serves one test and exits on its own (wait for its output)
    listen_protocol: str = "tcp"  # what the server's port is: "tcp" or "udp"
    more_ports: tuple[int, ...] = ()  # further ports the server listens on before it is ready
