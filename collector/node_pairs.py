"""Which ordered host pairs a campaign measures (`pairs:`), and how disjoint pairs are grouped to
run at the same time (`concurrent: true`). A pair's first host is the sender (client) side."""

from dataclasses import dataclass
from typing import Any

from .errors import UsageError

SHAPES = ("all", "ring")
ID_SEPARATOR = "~"  # never in a host name (collector/hosts.py NAME): a pair id splits back


@dataclass(frozen=True)
class NodePair:
    sender: str
    receiver: str

    @property
    def pair_id(self) -> str:
        """How run ids and archive folders name the pair: ``lab-a~lab-b``."""
        return f"{self.sender}{ID_SEPARATOR}{self.receiver}"

    @property
    def label(self) -> str:
        return f"{self.sender} → {self.receiver}"

    @property
    def hosts(self) -> tuple[str, str]:
        return self.sender, self.receiver

    def shares(self, other: "NodePair") -> bool:
        return bool(set(self.hosts) & set(other.hosts))

    def to_json(self) -> list[str]:
        return [self.sender, self.receiver]


def parse(raw: Any, names: list[str], source: str) -> tuple[NodePair, ...]:
    """``all``, ``ring``, ``{star: HOST}`` or a list of ``[sender, receiver]``; absent: the one
    pair of a two-host campaign, the ring of a larger one."""
    def bad(got: Any) -> UsageError:
        return UsageError(f"{source}: pairs: {got!r} is not allowed",
                          "allowed: all, ring, {star: HOST}, or a list of [sender, receiver] "
                          f"of the campaign's hosts ({', '.join(names)})")

    if raw is None:
        return (NodePair(names[0], names[1]),) if len(names) == 2 else ring(names)
    if raw == "all":
        return tuple(NodePair(a, b) for a in names for b in names if a != b)
    if raw == "ring":
        return ring(names)
    if isinstance(raw, dict):
        if set(raw) != {"star"} or raw["star"] not in names:
            raise bad(raw)
        hub = str(raw["star"])
        return tuple(p for other in names if other != hub
                     for p in (NodePair(other, hub), NodePair(hub, other)))
    if not isinstance(raw, list) or not raw:
        raise bad(raw)
    pairs: list[NodePair] = []
    for i, item in enumerate(raw):
        if (not isinstance(item, list) or len(item) != 2
                or any(not isinstance(h, str) or h not in names for h in item)):
            raise UsageError(f"{source}: pairs[{i}]: {item!r} is not a pair of the campaign's "
                             "hosts", f"write [sender, receiver], each one of {', '.join(names)}")
        if item[0] == item[1]:
            raise UsageError(f"{source}: pairs[{i}]: {item[0]} with itself",
                             "a pair is two different hosts")
        pair = NodePair(item[0], item[1])
        if pair in pairs:
            raise UsageError(f"{source}: pairs[{i}]: {pair.label} is listed twice")
        pairs.append(pair)
    return tuple(pairs)


def ring(names: list[str]) -> tuple[NodePair, ...]:
    """Each host to the next, the last to the first: every host once as sender, once as
    receiver (with two hosts, both directions)."""
    return tuple(NodePair(a, names[(i + 1) % len(names)]) for i, a in enumerate(names))


def to_json(pairs: tuple[NodePair, ...]) -> list[list[str]]:
    return [p.to_json() for p in pairs]


def rounds(pairs: tuple[NodePair, ...]) -> list[list[NodePair]]:
    """The pairs in rounds of disjoint ones (no host in two pairs of a round), each pair in the
    first round it fits, so the list's order is kept within and across rounds."""
    out: list[list[NodePair]] = []
    for pair in pairs:
        for group in out:
            if not any(pair.shares(p) for p in group):
                group.append(pair)
                break
        else:
            out.append([pair])
    return out
