"""A campaign's hosts, connected once each (and their measured VMs), shared by the node pairs
that use them; work on every host fanned out in threads, one per host."""

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TypeVar

from .campaign import Campaign
from .connection import Connection
from .errors import BenchError
from .remote import Remote, vm_gateway

REMOTE_WORKDIR = "/var/lib/dataplane-bench/work"
MAX_THREADS = 16
T = TypeVar("T")
R = TypeVar("R")


def workdir(archive_name: str, remote: Remote) -> str:
    return f"{REMOTE_WORKDIR}/{archive_name}/{remote.host.name}"


@dataclass(frozen=True)
class Fleet:
    hosts: dict[str, Connection]   # by host name, in the campaign's order
    guests: dict[str, Connection]  # by the name of the host the VM runs on

    def of(self, pc: Campaign) -> tuple[Connection, ...]:
        """A pair's connections as its campaign (Campaign.for_pair) has them: its two hosts,
        then the VMs it measures on them."""
        hosts = tuple(self.hosts[h.name] for h in pc.hosts)
        guests = (tuple(self.guests[h.name] for h in pc.hosts)
                  if "vm" in pc.configurations else ())
        return (*hosts, *guests)

    @property
    def connections(self) -> tuple[Connection, ...]:
        return (*self.hosts.values(), *self.guests.values())


def paired_hosts(c: Campaign) -> list[str]:
    names = {n for p in c.pairs for n in p.hosts}
    return [h.name for h in c.hosts if h.name in names]


@contextmanager
def connected(c: Campaign, archive_name: str) -> Iterator[Fleet]:
    """Every host a pair measures, then its VM when `vm` is measured (through its host when
    it says jump); connected in parallel."""
    with ExitStack() as stack:
        names = paired_hosts(c)
        remotes = _opened(stack, [Remote(c.host(name)) for name in names])
        vms = [vm for vm in c.vms if vm.host in names] if "vm" in c.configurations else []
        guests = _opened(stack, [Remote(vm.target, gateway=vm_gateway(vm, remotes))
                                 for vm in vms])
        yield Fleet({r.host.name: Connection(r, "host", workdir(archive_name, r))
                     for r in remotes},
                    {vm.host: Connection(r, "vm", workdir(archive_name, r))
                     for vm, r in zip(vms, guests, strict=True)})


def _opened(stack: ExitStack, remotes: list[Remote]) -> list[Remote]:
    """Every remote opened at once; those that opened are closed with ``stack`` also when
    another could not be (whose error is raised)."""
    def attempt(remote: Remote) -> BenchError | None:
        try:
            remote.open()
        except BenchError as exc:
            return exc
        return None

    problems = fan_out(attempt, remotes)
    for remote, problem in zip(remotes, problems, strict=True):
        if problem is None:
            stack.callback(remote.close)
    for problem in problems:
        if problem is not None:
            raise problem
    return remotes


def fan_out(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``work`` on every item at once (a thread each, up to MAX_THREADS), results in order; the
    first item's exception, in order, is raised once all are done (none is left running)."""
    if len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), MAX_THREADS)) as pool:
        futures = [pool.submit(work, item) for item in items]
        for future in futures:
            future.exception()  # wait for all before raising any
        return [future.result() for future in futures]
