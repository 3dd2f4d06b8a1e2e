"""The lab's SSH trust: generated host and client keys, a pinned known_hosts, the hosts file.

Keys survive `lab down` so a known_hosts copied elsewhere stays valid; `lab down --purge`
removes them with the rest of the state folder.
"""

from pathlib import Path

from .. import local
from ..hosts import Host, Vm, hosts_text
from .spec import LabSpec


def host_key_path(spec: LabSpec, letter: str) -> Path:
    return spec.state_dir / letter / "ssh_host_ed25519_key"


def client_key_path(spec: LabSpec) -> Path:
    return spec.state_dir / "client_key"


def known_hosts_path(spec: LabSpec) -> Path:
    return spec.state_dir / "known_hosts"


def authorized_keys_path(spec: LabSpec) -> Path:
    return spec.state_dir / "authorized_keys"


def ssh_config_path(spec: LabSpec) -> Path:
    return spec.state_dir / "ssh_config"


def lab_hosts(spec: LabSpec) -> list[Host]:
    return [Host(name=spec.host_name(letter), ssh_host=str(spec.mgmt_address(letter).ip),
                 data_address=str(spec.wire_address(letter).ip), user="root", port=22,
                 key=str(client_key_path(spec)), known_hosts=str(known_hosts_path(spec)))
            for letter in spec.letters]


def guest_known_hosts_path(spec: LabSpec, letter: str) -> Path:
    return spec.state_dir / letter / "vm" / "known_hosts"


def lab_vms(spec: LabSpec) -> list[Vm]:
    """The lab's guests, reached through their hosts (only a host routes to its guest)."""
    if not spec.vms:
        return []
    return [Vm(Host(name=spec.vm_name(letter), ssh_host=spec.vm_address(letter),
                    data_address=spec.vm_address(letter), user="root", port=22,
                    key=str(client_key_path(spec)),
                    known_hosts=str(guest_known_hosts_path(spec, letter))),
               host=spec.host_name(letter), jump=True, routed=True,
               host_interface=spec.tap(letter))
            for letter in spec.letters]


def _keygen(path: Path, comment: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def _public(path: Path) -> str:
    return Path(f"{path}.pub").read_text().split()[1]


def _expected_files(spec: LabSpec) -> dict[Path, str]:
    known = "".join(f"{spec.mgmt_address(letter).ip} ssh-ed25519 "
                    f"{_public(host_key_path(spec, letter))}\n" for letter in spec.letters)
    client_pub = Path(f"{client_key_path(spec)}.pub").read_text()
    config = "".join(
        f"Host {spec.host_name(letter)}\n"
        f"  HostName {spec.mgmt_address(letter).ip}\n"
        f"  User root\n"
        f"  IdentityFile {client_key_path(spec)}\n"
        f"  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known_hosts_path(spec)}\n"
        f"  StrictHostKeyChecking yes\n"
        for letter in spec.letters)
    config += "".join(
        f"Host {vm.name}\n"
        f"  HostName {vm.target.ssh_host}\n"
        f"  ProxyJump {vm.host}\n"
        f"  User root\n"
        f"  IdentityFile {client_key_path(spec)}\n"
        f"  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {vm.target.known_hosts}\n"
        f"  StrictHostKeyChecking yes\n"
        for vm in lab_vms(spec))
    return {known_hosts_path(spec): known, authorized_keys_path(spec): client_pub,
            ssh_config_path(spec): config,
            spec.hosts_file: hosts_text(lab_hosts(spec), lab_vms(spec))}


class Credentials:
    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.name = f"SSH keys and pinned known_hosts in {spec.state_dir}"

    def _keys(self) -> list[Path]:
        return [client_key_path(self.spec),
                *(host_key_path(self.spec, x) for x in self.spec.letters)]

    def problem(self) -> str | None:
        missing = [p for p in self._keys() if not p.is_file() or not Path(f"{p}.pub").is_file()]
        if missing:
            return f"missing {', '.join(str(p) for p in missing)}"
        for path, text in _expected_files(self.spec).items():
            if not path.is_file() or path.read_text() != text:
                return f"{path} is missing or stale"
        return None

    def build(self) -> None:
        self.spec.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in self._keys():
            if not path.is_file() or not Path(f"{path}.pub").is_file():
                path.unlink(missing_ok=True)
                Path(f"{path}.pub").unlink(missing_ok=True)
                _keygen(path, f"dataplane-bench lab {self.spec.lab_id} {path.name}")
        for path, text in _expected_files(self.spec).items():
            path.write_text(text)
        self.spec.save()

    def remove(self) -> None:
        """Keys are kept on purpose; see the module docstring."""
