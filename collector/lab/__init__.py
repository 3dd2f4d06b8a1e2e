"""The embedded lab: two "hosts" made of network namespaces on this machine, real sshd in each."""

from .lab import Check, LabStatus, down, status, up
from .spec import LabSpec

__all__ = ["Check", "LabSpec", "LabStatus", "down", "status", "up"]
