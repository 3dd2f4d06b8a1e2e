"""`cpu_affinity:` — every tool process pinned to one CPU per side with `taskset -c`, so the
scheduler does not move the sender and the receiver between cores mid-run (the largest source of
scatter netperf `-T`, iperf3 `-A` and neper's pinning remove).

`{client: N, server: M}` pins the client's tool to CPU N of the host it runs on and the server's
to CPU M of its host. `auto` picks one fixed CPU per side, away from CPU 0 where a NIC's
interrupts usually land: the highest-numbered online CPU; when both sides share one kernel
(the namespace lab), the client takes the highest and the server the next one down, so they
never share a core. Unset: unpinned, as before. Tools in a VM guest are not pinned (the guest's
CPUs are not the host's; the record says so with a null)."""

from dataclasses import dataclass
from typing import Any

from .errors import UsageError

AUTO = "auto"
ROLES = ("client", "server")
MAX_CPU = 4095  # Linux's NR_CPUS ceiling on the distributions' kernels
HINT = ("cpu_affinity is `auto` or {client: N, server: M}, CPU numbers as `taskset -c` takes "
        "them (docs/campaign.md#cpu-affinity)")


@dataclass(frozen=True)
class Affinity:
    """The campaign's setting: explicit CPUs, or ``auto``."""

    client: int | None = None
    server: int | None = None

    def to_json(self) -> str | dict[str, int]:
        if self.client is None or self.server is None:
            return AUTO
        return {"client": self.client, "server": self.server}

    def describe(self) -> str:
        if self.client is None or self.server is None:
            return "auto (one fixed CPU per side, away from CPU 0)"
        return f"client on CPU {self.client}, server on CPU {self.server}"


def parse(raw: Any, source: str) -> Affinity | None:
    """None (unpinned) when the key is absent or null."""
    if raw is None:
        return None
    if raw == AUTO:
        return Affinity()
    if not isinstance(raw, dict):
        raise UsageError(f"{source}: cpu_affinity: {raw!r:.60} is not allowed", HINT)
    keys = sorted(map(str, raw))
    if keys != sorted(ROLES):
        raise UsageError(f"{source}: cpu_affinity: keys {', '.join(keys) or '(none)'}; "
                         "both client and server are needed, nothing else", HINT)
    cores = {}
    for role in ROLES:
        value = raw[role]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CPU:
            raise UsageError(f"{source}: cpu_affinity.{role}: {value!r:.40} is not allowed",
                             f"a CPU number 0-{MAX_CPU}; " + HINT)
        cores[role] = value
    return Affinity(cores["client"], cores["server"])
