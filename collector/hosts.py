"""The two hosts a campaign runs on: how to reach each over SSH and which address carries data."""

import ipaddress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import BenchError

HOSTS_FILE_VERSION = 1


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
    port = raw.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise BenchError(f"{where}.port: {port!r} is not a TCP port (1-65535)")
    return Host(name=str(raw["name"]), ssh_host=str(raw["ssh_host"]),
                data_address=str(raw["data_address"]), user=str(raw.get("user", "root")),
                port=port, key=_opt_str(raw.get("key")),
                known_hosts=_opt_str(raw.get("known_hosts")), sudo=bool(raw.get("sudo", False)))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def save_hosts(path: Path, hosts: list[Host]) -> None:
    document = {"version": HOSTS_FILE_VERSION, "hosts": [asdict(h) for h in hosts]}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(document, sort_keys=False))
    tmp.replace(path)


def load_hosts(path: Path) -> list[Host]:
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
    return [host_from_mapping(h, f"{path}: hosts[{i}]") for i, h in enumerate(document["hosts"])]
