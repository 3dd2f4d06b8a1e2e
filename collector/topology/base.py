"""What every configuration shares: the two hosts, their data interfaces, scripted changes."""

import contextlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..connection import Connection
from ..endpoint import Endpoint
from ..errors import BenchError
from ..existing import FoundEndpoint
from ..hosts import Vm
from ..namespace import Namespace
from ..remote import Remote

Script = list[list[str]]
VERIFY_TRIES = 3


@dataclass(frozen=True)
class Pair:
    """The two hosts of a campaign, connected, with what the collector learned about them."""

    hosts: tuple[Connection, Connection]
    data_ifs: tuple[str, str]
    # Namespace names are global to a kernel (and both lab hosts share one): a campaign's own
    # tag keeps two campaigns on one machine apart, and stays the same when it is resumed.
    tag: str = "0000"
    # The VMs on host 0 and host 1 (when the campaign measures the vm configuration), their
    # guests' connections, and the interface that holds each one's data address.
    vms: tuple[Vm, ...] = ()
    guests: tuple[Connection, ...] = ()
    guest_ifs: tuple[str, ...] = ()
    # The endpoints of the existing configuration on host 0 and host 1, as found there.
    existing: tuple[FoundEndpoint, ...] = ()

    @property
    def remotes(self) -> tuple[Remote, Remote]:
        return self.hosts[0].remote, self.hosts[1].remote

    @property
    def connections(self) -> tuple[Connection, ...]:
        return self.hosts + self.guests

    @property
    def interfaces(self) -> tuple[tuple[Connection, str], ...]:
        """Every connection with its data interface: the hosts', then the guests'."""
        return tuple(zip(self.connections, self.data_ifs + self.guest_ifs, strict=True))

    def with_bindirs(self, bindirs: Sequence[str]) -> "Pair":
        """The same pair, each connection knowing where csrc was built on it."""
        built = [conn.with_bindir(b) for conn, b in zip(self.connections, bindirs, strict=True)]
        return replace(self, hosts=(built[0], built[1]), guests=tuple(built[2:]))

    def host(self, i: int) -> Endpoint:
        return Endpoint("host", self.hosts[i], self.hosts[i].remote.host.data_address)

    def data_address(self, i: int) -> str:
        return self.remotes[i].host.data_address

    def apply(self, i: int, script: Script, what: str) -> None:
        """Run commands on host i in one SSH round trip; stop at the first that fails."""
        line = " && ".join(shlex.join(argv) for argv in script)
        res = self.remotes[i].run(["sh", "-c", line], timeout=60)
        if not res.ok:
            raise BenchError(f"{self.remotes[i].host.describe()}: {what} failed: "
                             f"{(res.stderr or res.stdout).strip()}",
                             "the configuration is torn down; the archive can be resumed")

    def apply_tolerant(self, i: int, script: Script) -> None:
        """Run commands on host i, ignoring failures (teardown of what may not exist), and a
        lost host too: the other host is still cleaned, and every build starts with a
        teardown, so a host that comes back is cleaned then."""
        if script:
            line = "; ".join(shlex.join(argv) + " 2>/dev/null" for argv in script) + "; true"
            with contextlib.suppress(BenchError):
                self.remotes[i].run(["sh", "-c", line], timeout=60)


class Topology:
    """One configuration: build it for an MTU, verify it, give endpoints, tear it down."""

    name = ""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair

    def build(self, mtu: int) -> None:
        """Create the configuration (after a teardown of any leftovers)."""

    def teardown(self) -> None:
        """Remove everything build() may have created; safe to call at any time."""

    def endpoints(self, direction: str) -> tuple[Endpoint, Endpoint]:
        """(client, server): the client sends, the server receives."""
        raise NotImplementedError

    def details(self) -> dict[str, str]:
        """Facts about the build worth keeping in every run's record (e.g. the OVS datapath)."""
        return {}

    def path_interfaces(self) -> list[tuple[Connection, Namespace | None, str]]:
        """(connection, netns, device) of every interface on the path, for MTU read-back."""
        return [(self.pair.hosts[i], None, self.pair.data_ifs[i]) for i in (0, 1)]

    def verify(self, directions: Sequence[str]) -> None:
        """Every client endpoint reaches its server's address (and back, with
        ``verify_both_ways``: a path the collector did not build may be one-way)."""
        for direction in directions:
            client, server = self.endpoints(direction)
            self._reach(direction, client, server)
            if self.verify_both_ways:
                self._reach(direction, server, client)

    verify_both_ways = False

    def _reach(self, direction: str, client: Endpoint, server: Endpoint) -> None:
        # A few tries: the first packet waits for neighbour resolution on every hop, which
        # an emulated guest can make slower than one ping's wait.
        for _ in range(VERIFY_TRIES):
            res = client.runs_on.remote.run(
                client.wrap(["ping", "-c", "1", "-W", "2", server.address]), timeout=15)
            if res.ok:
                return
        raise BenchError(f"{self.name} {direction}: {client.label} cannot reach "
                         f"{server.label} at {server.address}: "
                         f"{(res.stdout + res.stderr).strip()[-300:]}", self.unreachable_hint)

    unreachable_hint = ("check the hosts' firewalls and routes; the configuration is torn down "
                        "and the archive can be resumed")
