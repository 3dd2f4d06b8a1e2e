"""The two hosts a campaign runs on: how to reach each over SSH and which address carries data."""

import ipaddress
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from . import yamlfile
from .errors import UsageError

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
        raise UsageError(f"{where}: expected a mapping with keys {', '.join(_REQUIRED)}, "
                         f"got {type(raw).__name__}")
    unknown = sorted(set(raw) - _ALLOWED)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"allowed keys: {', '.join(sorted(_ALLOWED))}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise UsageError(f"{where}: missing key(s) {', '.join(missing)}")
    try:
        ipaddress.ip_address(str(raw["data_address"]))
    except ValueError as exc:
        raise UsageError(f"{where}.data_address: {raw['data_address']!r} is not an IP address",
                         "give the address the host uses on the data network") from exc
    name = str(raw["name"])
    if not NAME.fullmatch(name):
        raise UsageError(f"{where}.name: {name!r} is not allowed",
                         "use 1-64 letters, digits, '.', '_' or '-' (it names folders in the "
                         "archive and on the host)")
    port = raw.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise UsageError(f"{where}.port: {port!r} is not a TCP port (1-65535)")
    return Host(name=name, ssh_host=str(raw["ssh_host"]),
                data_address=str(raw["data_address"]), user=str(raw.get("user", "root")),
                port=port, key=_opt_str(raw.get("key")),
                known_hosts=_opt_str(raw.get("known_hosts")), sudo=_flag(raw, "sudo", where))


def _flag(raw: dict[str, Any], key: str, where: str) -> bool:
    """A YAML boolean (true/false): "false", 0 or "maybe" are refused, not guessed."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise UsageError(f"{where}.{key}: {value!r} is not true or false",
                         "write true or false, without quotes")
    return value


DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


def check_credentials(host: Host, source: str) -> None:
    """The files SSH will need, checked before anything connects: the key (when given) and the
    known_hosts file, each an existing, readable regular file."""
    files = [("key", host.key), ("known_hosts", host.known_hosts or str(DEFAULT_KNOWN_HOSTS))]
    for key, value in files:
        if value is None:
            continue
        path = Path(value).expanduser()
        problem = ("does not exist" if not path.exists() else
                   "is not a regular file" if not path.is_file() else
                   "cannot be read" if not os.access(path, os.R_OK) else "")
        if problem:
            hint = ("give the path of the private key that logs into this host"
                    if key == "key" else
                    "pin the host's key in a known_hosts file (ssh-keyscan, checked out of "
                    "band) and name it here")
            raise UsageError(f"{source}: host {host.name}: {key}: {path} {problem}", hint)


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
        raise UsageError(f"{where}: expected a mapping with keys {', '.join(_REQUIRED)}, host")
    if "host" not in raw:
        raise UsageError(f"{where}: missing key host",
                         "name the host (from hosts) this VM runs on")
    target = host_from_mapping({k: v for k, v in raw.items() if k not in _VM_KEYS}, where)
    flags = {key: _flag(raw, key, where) for key in ("jump", "routed")}
    interface = _opt_str(raw.get("host_interface"))
    if interface is not None and not INTERFACE.fullmatch(interface):
        raise UsageError(f"{where}.host_interface: {interface!r} is not an interface name",
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
        raise UsageError(f"{path}: vms: expected a list of VMs")
    return [vm_from_mapping(v, f"{path}: vms[{i}]") for i, v in enumerate(raw)]


def _document(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UsageError(f"{path}: no such hosts file",
                         "bring the lab up with `invoke lab.up`, or name your hosts in a "
                         "campaign file")
    document = yamlfile.load(path, "hosts file")
    if not isinstance(document, dict) or not isinstance(document.get("hosts"), list):
        raise UsageError(f"{path}: expected a mapping with a `hosts` list")
    return document
