"""The two hosts a campaign runs on: how to reach each over SSH and which address carries data."""

import ipaddress
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import BenchError

HOSTS_FILE_VERSION = 1
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
INTERFACE = re.compile(r"[A-Za-z0-9_.:-]{1,15}")  # what Linux allows, less '/' and spaces


@dataclass(frozen=True)
class Host:
    """An SSH-reachable machine: management address for SSH, data address for measurements."""

    name: str
    ssh_host: str
    data_address: str
    user: str = "root"
    port: int = 22
    key: str | None = None
    known_hosts: str | None = None
    sudo: bool = False

    def describe(self) -> str:
        return f"{self.name} ({self.user}@{self.ssh_host}:{self.port})"


_REQUIRED = ("name", "ssh_host", "data_address")
_ALLOWED = {f for f in Host.__dataclass_fields__}


def host_from_mapping(raw: Any, where: str) -> Host:
    """Build a Host from a YAML mapping; ``where`` names the file and key for error messages."""
    if not isinstance(raw, dict):
        raise BenchError(f"{where}: expected a mapping with keys {', '.join(_REQUIRED)}, "
                         f"got {type(raw).__name__}")
    unknown = sorted(set(raw) - _ALLOWED)
    if unknown:
        raise BenchError(f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"allowed keys: {', '.join(sorted(_ALLOWED))}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise BenchError(f"{where}: missing key(s) {', '.join(missing)}")
    try:
        ipaddress.ip_address(str(raw["data_address"]))
    except ValueError as exc:
        raise BenchError(f"{where}.data_address: {raw['data_address']!r} is not an IP address",
                         "give the address the host uses on the data network") from exc
    name = str(raw["name"])
    if not NAME.fullmatch(name):
        raise BenchError(f"{where}.name: {name!r} is not allowed",
                         "use 1-64 letters, digits, '.', '_' or '-' (it names folders in the "
                         "archive and on the host)")
    port = raw.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise BenchError(f"{where}.port: {port!r} is not a TCP port (1-65535)")
    return Host(name=name, ssh_host=str(raw["ssh_host"]),
                data_address=str(raw["data_address"]), user=str(raw.get("user", "root")),
                port=port, key=_opt_str(raw.get("key")),
                known_hosts=_opt_str(raw.get("known_hosts")), sudo=bool(raw.get("sudo", False)))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Vm:
    """A VM the campaign measures: its own SSH target, and the host it runs on."""

    target: Host                       # how to reach it; its data_address is the VM's own
    host: str                          # the name of the host it runs on
    jump: bool = False                 # SSH through that host (a VM only the host can route to)
    routed: bool = False               # the host routes to it (Calico style: /32 route to a tap)
    host_interface: str | None = None  # the host's end of the VM's NIC (a tap), when known

    @property
    def name(self) -> str:
        return self.target.name

    def describe(self) -> str:
        via = f" via {self.host}" if self.jump else ""
        return f"VM {self.target.describe()}{via} on {self.host}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self.target), "host": self.host, "jump": self.jump,
                "routed": self.routed, "host_interface": self.host_interface}


_VM_KEYS = {"host", "jump", "routed", "host_interface"}


def vm_from_mapping(raw: Any, where: str) -> Vm:
    """A VM from YAML: a host's keys plus `host` (where it runs), `jump`, `host_interface`."""
    if not isinstance(raw, dict):
        raise BenchError(f"{where}: expected a mapping with keys {', '.join(_REQUIRED)}, host")
    if "host" not in raw:
        raise BenchError(f"{where}: missing key host",
                         "name the host (from hosts) this VM runs on")
    target = host_from_mapping({k: v for k, v in raw.items() if k not in _VM_KEYS}, where)
    flags = {}
    for key in ("jump", "routed"):
        flags[key] = raw.get(key, False)
        if not isinstance(flags[key], bool):
            raise BenchError(f"{where}.{key}: {flags[key]!r} is not true or false")
    interface = _opt_str(raw.get("host_interface"))
    if interface is not None and not INTERFACE.fullmatch(interface):
        raise BenchError(f"{where}.host_interface: {interface!r} is not an interface name",
                         "give the host-side interface's name, e.g. tap0 or vnet3")
    return Vm(target=target, host=str(raw["host"]), jump=flags["jump"],
              routed=flags["routed"], host_interface=interface)


def hosts_text(hosts: list[Host], vms: list[Vm] | None = None) -> str:
    """A hosts file's YAML."""
    document: dict[str, Any] = {"version": HOSTS_FILE_VERSION, "hosts": [asdict(h) for h in hosts]}
    if vms:
        document["vms"] = [vm.to_json() for vm in vms]
    return yaml.safe_dump(document, sort_keys=False)


def save_hosts(path: Path, hosts: list[Host], vms: list[Vm] | None = None) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(hosts_text(hosts, vms))
    tmp.replace(path)


def load_hosts(path: Path) -> list[Host]:
    return [host_from_mapping(h, f"{path}: hosts[{i}]")
            for i, h in enumerate(_document(path)["hosts"])]


def load_vms(path: Path) -> list[Vm]:
    raw = _document(path).get("vms") or []
    if not isinstance(raw, list):
        raise BenchError(f"{path}: vms: expected a list of VMs")
    return [vm_from_mapping(v, f"{path}: vms[{i}]") for i, v in enumerate(raw)]


def _document(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise BenchError(f"{path}: no such hosts file",
                         "bring the lab up with `invoke lab.up`, or name your hosts in a "
                         "campaign file") from exc
    except yaml.YAMLError as exc:
        raise BenchError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("hosts"), list):
        raise BenchError(f"{path}: expected a mapping with a `hosts` list")
    return document
