"""What an embedded lab is made of: names and addresses, all derived from a short id."""

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import BenchError

BENCHMARK_RANGE = ipaddress.IPv4Network("198.18.0.0/15")  # RFC 2544
DEFAULT_STATE_ROOT = Path("/var/lib/dataplane-bench")
HOST_LETTERS = ("a", "b")
MGMT_IF = "mgmt0"
WIRE_IF = "wire0"


@dataclass(frozen=True)
class LabSpec:
    """A lab's identity. Every namespace, link and file it creates is named from this."""

    lab_id: str = "dpb"
    mgmt_subnet: str = "198.18.255.0/24"
    wire_subnet: str = "198.18.0.0/24"
    mtu: int = 1500
    state_root: str = str(DEFAULT_STATE_ROOT)
    vms: bool = False   # one qemu guest per host (`lab up --vms`)
    machines: bool = False  # the hosts are qemu guests with their own kernel (`lab up --machines`)

    def __post_init__(self) -> None:
        if not (self.lab_id.isascii() and self.lab_id.isalnum() and 1 <= len(self.lab_id) <= 6):
            raise BenchError(f"lab id {self.lab_id!r}: use 1-6 letters or digits",
                             "interface names are limited to 15 characters")
        for key in ("mgmt_subnet", "wire_subnet"):
            net = ipaddress.IPv4Network(getattr(self, key))
            if not net.subnet_of(BENCHMARK_RANGE) or net.prefixlen > 29:
                raise BenchError(f"lab {key} {net}: must be a /29 or larger inside "
                                 f"{BENCHMARK_RANGE} (RFC 2544, the benchmarking range)")
        if self.vms and self.machines:
            raise BenchError("a machine lab has no VMs: its hosts are qemu guests already, and "
                             "a guest inside a TCG guest would measure nothing but emulation",
                             "use `--machines` or `--vms`, not both")
        if not 576 <= self.mtu <= 9000:
            raise BenchError(f"lab MTU {self.mtu}: use 576-9000")

    @property
    def state_dir(self) -> Path:
        return Path(self.state_root) / f"lab-{self.lab_id}"

    def netns(self, letter: str) -> str:
        return f"{self.lab_id}-{letter}"

    def host_name(self, letter: str) -> str:
        return f"lab-{letter}"

    @property
    def bridge(self) -> str:
        return f"{self.lab_id}-mgmt"

    @property
    def wire_bridge(self) -> str:
        return f"{self.lab_id}-wire"

    def machine_tap(self, kind: str, letter: str) -> str:
        """A machine's tap: "mgmt" on the management bridge, "wire" on the wire bridge."""
        return f"{self.lab_id}-{kind[0]}t{letter}"

    @property
    def kind(self) -> str:
        return "machines" if self.machines else "namespaces"

    def mgmt_port(self, letter: str) -> str:
        """The root-namespace end of a host's management veth, enslaved to the bridge."""
        return f"{self.lab_id}-m{letter}"

    @property
    def mgmt_gateway(self) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.mgmt_subnet)
        return ipaddress.IPv4Interface(f"{net.network_address + 1}/{net.prefixlen}")

    def mgmt_address(self, letter: str) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.mgmt_subnet)
        offset = 11 + HOST_LETTERS.index(letter)
        return ipaddress.IPv4Interface(f"{net.network_address + offset}/{net.prefixlen}")

    def wire_address(self, letter: str) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.wire_subnet)
        offset = 1 + HOST_LETTERS.index(letter)
        return ipaddress.IPv4Interface(f"{net.network_address + offset}/{net.prefixlen}")

    def vm_name(self, letter: str) -> str:
        return f"lab-{letter}-vm"

    def vm_address(self, letter: str) -> str:
        """A guest's one address, a /32 routed to its tap (each host has a block, as in Calico)."""
        return f"198.19.{6 + HOST_LETTERS.index(letter)}.2"

    def tap(self, letter: str) -> str:
        return f"{self.lab_id}-t{letter}"

    def peer(self, letter: str) -> str:
        return HOST_LETTERS[1 - HOST_LETTERS.index(letter)]

    @property
    def spec_file(self) -> Path:
        return self.state_dir / "lab.json"

    @property
    def hosts_file(self) -> Path:
        return self.state_dir / "hosts.yaml"

    def save(self) -> None:
        self.spec_file.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def recorded(cls, lab_id: str = "dpb", state_root: str | None = None) -> "LabSpec":
        """The spec a previous `lab up` recorded, or the defaults for that id."""
        root = state_root or os.environ.get("DPB_STATE_ROOT", str(DEFAULT_STATE_ROOT))
        path = Path(root) / f"lab-{lab_id}" / "lab.json"
        if path.is_file():
            recorded = json.loads(path.read_text())
            return cls(**{k: v for k, v in recorded.items() if k in cls.__dataclass_fields__})
        return cls(lab_id=lab_id, state_root=root)
