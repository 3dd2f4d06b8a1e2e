"""The embedded lab: two "hosts" made of network namespaces on this machine, real sshd in each."""

from .lab import Check, LabStatus, down, require_up, status, up
from .spec import LabSpec

__all__ = ["Check", "LabSpec", "LabStatus", "down", "require_up", "status", "up"]
