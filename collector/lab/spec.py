"""What an embedded lab is made of: names and addresses, all derived from a short id."""

import ipaddress
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import BenchError

BENCHMARK_RANGE = ipaddress.IPv4Network("198.18.0.0/15")  # RFC 2544
DEFAULT_STATE_ROOT = Path("/var/lib/dataplane-bench")
HOST_LETTERS = ("a", "b")  # a two-host lab's (and the machine lab's)
LETTERS = tuple("abcdefgh")  # `lab up --hosts N` takes the first N
MAX_HOSTS = len(LETTERS)
RATE = re.compile(r"[1-9][0-9]{0,5}(k|m|g)?bit")  # tc's notation: 200mbit, 1gbit
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
    hosts: int = 2  # namespace hosts; more than two are joined by a bridge, as by a switch
    slow_host: str = ""  # a host's letter whose data link is rate-limited (tc tbf), for tests
    slow_rate: str = ""  # that limit, in tc's notation (200mbit)

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
        if not 2 <= self.hosts <= MAX_HOSTS:
            raise BenchError(f"lab hosts {self.hosts}: use 2-{MAX_HOSTS}")
        if self.hosts > 2 and (self.vms or self.machines):
            raise BenchError(f"a lab of {self.hosts} hosts is made of namespaces only: VMs and "
                             "machines come two, one per host of a two-host lab",
                             "drop --vms/--machines, or use --hosts 2")
        if bool(self.slow_host) != bool(self.slow_rate):
            raise BenchError("a slow host needs both its letter and its rate",
                             "e.g. --slow-host c --slow-rate 200mbit")
        if self.slow_host:
            if self.hosts < 3 or self.slow_host not in self.letters:
                raise BenchError(f"slow host {self.slow_host!r}: one of the hosts of a lab of "
                                 "3 or more (with two, every pair crosses it)",
                                 f"a letter of {', '.join(self.letters)}, with --hosts 3+")
            if not RATE.fullmatch(self.slow_rate):
                raise BenchError(f"slow rate {self.slow_rate!r}: write it as tc does",
                                 "e.g. 200mbit, 1gbit, 500kbit")

    @property
    def letters(self) -> tuple[str, ...]:
        return LETTERS[:self.hosts]

    @property
    def switched(self) -> bool:
        """Whether the data wires meet on a bridge (more than two namespace hosts)."""
        return self.hosts > 2 and not self.machines

    def wire_port(self, letter: str) -> str:
        """The root-namespace end of a host's data veth, a port of the wire bridge."""
        return f"{self.lab_id}-w{letter}"

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
        offset = 11 + LETTERS.index(letter)
        return ipaddress.IPv4Interface(f"{net.network_address + offset}/{net.prefixlen}")

    def wire_address(self, letter: str) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.wire_subnet)
        offset = 1 + LETTERS.index(letter)
        return ipaddress.IPv4Interface(f"{net.network_address + offset}/{net.prefixlen}")

    def vm_name(self, letter: str) -> str:
        return f"lab-{letter}-vm"

    def vm_address(self, letter: str) -> str:
        """A guest's one address, a /32 routed to its tap (each host has a block, as in Calico)."""
        return f"198.19.{6 + HOST_LETTERS.index(letter)}.2"

    def tap(self, letter: str) -> str:
        return f"{self.lab_id}-t{letter}"

    def peer(self, letter: str) -> str:
        """The other host of two; of more, the next one (each host's default route's gateway:
        proxy ARP answers only for addresses routed out of another interface)."""
        letters = self.letters
        return letters[(letters.index(letter) + 1) % len(letters)]

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
