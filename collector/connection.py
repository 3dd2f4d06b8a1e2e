"""One SSH connection of a campaign: a host's or a VM guest's, with the campaign's work dir on
it and the folder where csrc's programs were built there."""

from dataclasses import dataclass, replace
from typing import Literal

from .remote import Remote


@dataclass(frozen=True)
class Connection:
    remote: Remote
    role: Literal["host", "vm"]
    workdir: str
    bindir: str = ""  # "" until csrc is built there (or when the campaign does not use csrc)

    @property
    def name(self) -> str:
        return self.remote.host.name

    def with_bindir(self, bindir: str) -> "Connection":
        return replace(self, bindir=bindir)
