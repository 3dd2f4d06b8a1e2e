"""The embedded lab: two "hosts" — network namespaces of this machine with real sshd in each, or
(`--machines`) qemu guests with kernels of their own."""

from .lab import Check, LabStatus, down, status, up
from .spec import LabSpec

__all__ = ["Check", "LabSpec", "LabStatus", "down", "status", "up"]
