"""`cpu_affinity` on the hosts: each role's CPU resolved and checked there, and the tools'
command lines run under `taskset -c` (collector/affinity.py says how the CPUs are chosen)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .affinity import HINT, Affinity
from .connection import Connection
from .endpoint import Endpoint
from .errors import BenchError
from .records import CpuAffinity
from .tools import Invocation


@dataclass(frozen=True)
class Cores:
    """The CPU each role's tool is pinned to, per host name (resolved on the hosts)."""

    client: dict[str, int]
    server: dict[str, int]

    def of(self, role: str, endpoint: Endpoint) -> int | None:
        if endpoint.guest is not None:
            return None  # a VM guest's CPUs are not its host's
        return (self.client if role == "client" else self.server).get(endpoint.host_name)


def online_cpus(text: str) -> list[int]:
    """/sys/devices/system/cpu/online ("0-3,6") as a list of CPU numbers."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"not a CPU list: {text.strip()[:60]!r}")
        cpus += range(int(low), int(high or low) + 1)
    return cpus


def resolve(affinity: Affinity, hosts: Sequence[Connection]) -> Cores:
    """Each host's CPUs for the two roles, checked there with `taskset` (present, the CPU
    online and allowed): refused before anything changes, naming host and CPU."""
    seen: dict[str, tuple[list[int], str]] = {}
    for conn in hosts:
        out = conn.remote.check(["sh", "-c", "cat /sys/devices/system/cpu/online; "
                                 "cat /proc/sys/kernel/random/boot_id"], timeout=30).split()
        try:
            seen[conn.name] = (online_cpus(out[0]), out[1])
        except (ValueError, IndexError) as exc:
            raise BenchError(f"{conn.remote.host.describe()}: cannot read its online CPUs "
                             f"({exc})",
                             "cpu_affinity needs /sys/devices/system/cpu/online") from exc
    shared = len({boot for _, boot in seen.values()}) < len(seen)
    client, server = {}, {}
    for conn in hosts:
        cpus = seen[conn.name][0]
        if affinity.client is not None and affinity.server is not None:
            client[conn.name], server[conn.name] = affinity.client, affinity.server
        else:
            top = cpus[-1]
            lower = [c for c in cpus if c < top]
            client[conn.name] = top
            server[conn.name] = lower[-1] if shared and lower else top
        for role, core in (("client", client[conn.name]), ("server", server[conn.name])):
            _check(conn, role, core, cpus)
    return Cores(client, server)


def _check(conn: Connection, role: str, core: int, cpus: list[int]) -> None:
    where = conn.remote.host.describe()
    if core not in cpus:
        raise BenchError(f"{where}: cpu_affinity.{role}: CPU {core} is not online there "
                         f"(online: {_ranges(cpus)})", HINT)
    res = conn.remote.run(["taskset", "-c", str(core), "true"], timeout=30)
    if not res.ok:
        said = (res.stderr or res.stdout).strip().splitlines()
        raise BenchError(f"{where}: `taskset -c {core}` failed: "
                         f"{said[0][:200] if said else f'exit code {res.exit_code}'}",
                         "install util-linux (taskset), or leave cpu_affinity out")


def _ranges(cpus: list[int]) -> str:
    return ", ".join(map(str, cpus)) if len(cpus) <= 8 else f"{cpus[0]}-{cpus[-1]}"


def pin(inv: Invocation, client_core: int | None, server_core: int | None) -> Invocation:
    """The invocation with each side's command run under `taskset -c CPU` (whatever the
    command starts inherits it: qperf's per-test child, rr-load's two programs)."""
    def pinned(argv: list[str], core: int | None) -> list[str]:
        return argv if core is None else ["taskset", "-c", str(core), *argv]
    return replace(inv, server=pinned(inv.server, server_core),
                   client=pinned(inv.client, client_core))


def recorded(cores: Cores | None, client: Endpoint, server: Endpoint) -> CpuAffinity | None:
    """What a run's record says of its pinning (None: the campaign pins nothing)."""
    if cores is None:
        return None
    return CpuAffinity(client=cores.of("client", client), server=cores.of("server", server))
