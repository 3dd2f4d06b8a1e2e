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
class Side:
    """One end of the pair: a host and its data interface, and what the campaign measures
    there — its VM with the guest's connection and data interface, its existing endpoint."""

    index: int  # 0 for side a, 1 for side b: names the side's namespaces and addresses
    host: Connection
    data_if: str
    vm: Vm | None = None
    guest: Connection | None = None
    guest_if: str = ""
    existing: FoundEndpoint | None = None

    @property
    def remote(self) -> Remote:
        return self.host.remote

    @property
    def data_address(self) -> str:
        return self.remote.host.data_address

    @property
    def endpoint(self) -> Endpoint:
        """The host itself as an endpoint."""
        return Endpoint("host", self.host, self.data_address)

    def apply(self, script: Script, what: str) -> None:
        """Run commands on the host in one SSH round trip; stop at the first that fails."""
        line = " && ".join(shlex.join(argv) for argv in script)
        res = self.remote.run(["sh", "-c", line], timeout=60)
        if not res.ok:
            raise BenchError(f"{self.remote.host.describe()}: {what} failed: "
                             f"{(res.stderr or res.stdout).strip()}",
                             "the configuration is torn down; the archive can be resumed")

    def apply_tolerant(self, script: Script) -> None:
        """Run commands on the host, ignoring failures (teardown of what may not exist), and
        a lost host too: the other host is still cleaned, and every build starts with a
        teardown, so a host that comes back is cleaned then."""
        if script:
            line = "; ".join(shlex.join(argv) + " 2>/dev/null" for argv in script) + "; true"
            with contextlib.suppress(BenchError):
                self.remote.run(["sh", "-c", line], timeout=60)

    def vm_on(self) -> Vm:
        if self.vm is None:
            raise BenchError(f"{self.remote.host.describe()}: no VM measured on this host")
        return self.vm

    def guest_on(self) -> Connection:
        if self.guest is None:
            raise BenchError(f"{self.remote.host.describe()}: no VM guest connected")
        return self.guest

    def found(self) -> FoundEndpoint:
        if self.existing is None:
            raise BenchError(f"{self.remote.host.describe()}: no existing endpoint found")
        return self.existing


@dataclass(frozen=True)
class Pair:
    """The two sides of a campaign, connected, with what the collector learned about them."""

    a: Side
    b: Side
    # Namespace names are global to a kernel (and both lab hosts share one): a campaign's own
    # tag keeps two campaigns on one machine apart, and stays the same when it is resumed.
    tag: str = "0000"

    @property
    def sides(self) -> tuple[Side, Side]:
        return self.a, self.b

    def peer(self, side: Side) -> Side:
        return self.b if side.index == self.a.index else self.a

    @property
    def remotes(self) -> tuple[Remote, Remote]:
        return self.a.remote, self.b.remote

    @property
    def connections(self) -> tuple[Connection, ...]:
        """The hosts', then the guests'."""
        return (self.a.host, self.b.host,
                *(s.guest for s in self.sides if s.guest is not None))

    @property
    def interfaces(self) -> tuple[tuple[Connection, str], ...]:
        """Every connection with its data interface: the hosts', then the guests'."""
        return ((self.a.host, self.a.data_if), (self.b.host, self.b.data_if),
                *((s.guest, s.guest_if) for s in self.sides if s.guest is not None))

    @property
    def existing(self) -> tuple[FoundEndpoint, ...]:
        return tuple(s.existing for s in self.sides if s.existing is not None)

    def with_bindirs(self, bindirs: Sequence[str]) -> "Pair":
        """The same pair, each connection knowing where csrc was built on it (``bindirs`` in
        the order of ``connections``)."""
        built = iter(bindirs)
        hosts = [s.host.with_bindir(next(built)) for s in self.sides]
        guests = [s.guest.with_bindir(next(built)) if s.guest is not None else None
                  for s in self.sides]
        a, b = (replace(s, host=h, guest=g) for s, h, g in zip(self.sides, hosts, guests,
                                                                strict=True))
        return replace(self, a=a, b=b)


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
        return [(side.host, None, side.data_if) for side in self.pair.sides]

    def verify(self, directions: Sequence[str]) -> None:
        """Every client endpoint reaches its server's address (and back, with
        ``verify_both_ways``: a path the collector did not build may be one-way)."""
        for direction in directions:
            client, server = self.endpoints(direction)
            self._reach(direction, client, server)
            if self.verify_both_ways:
                self._reach(direction, server, client)

    verify_both_ways = False

    def _reach(self, direction: str, client: Endpoint, server: Endpoint,
               size: int | None = None) -> None:
        """A ping from client to server; with ``size``, of that payload, not fragmented."""
        # A few tries: the first packet waits for neighbour resolution on every hop, which
        # an emulated guest can make slower than one ping's wait.
        sized = ["-M", "do", "-s", str(size)] if size is not None else []
        for _ in range(VERIFY_TRIES):
            res = client.runs_on.remote.run(
                client.wrap(["ping", "-c", "1", "-W", "2", *sized, server.address]), timeout=15)
            if res.ok:
                return
        what = f" with {size} B unfragmented" if size is not None else ""
        raise BenchError(f"{self.name} {direction}: {client.label} cannot reach "
                         f"{server.label} at {server.address}{what}: "
                         f"{(res.stdout + res.stderr).strip()[-300:]}", self.unreachable_hint)

    unreachable_hint = ("check the hosts' firewalls and routes; the configuration is torn down "
                        "and the archive can be resumed")
