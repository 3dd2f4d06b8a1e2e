"""wireguard: the routed containers behind a WireGuard tunnel between the hosts (Calico's and
Cilium's encryption; 60 B over IPv4). Each build makes a key pair on each host with `wg genkey`:
the private key goes from a 0600 file in /run into the kernel and the file is removed at once,
so it never leaves the host and is never archived; the public keys and the tunnel's settings
are kept in every run's record."""

import re

from ..errors import BenchError
from .base import Script, Side
from .container import container_address
from .netns import PREFIX
from .tunnel import Tunnel, tunnel_address

PORT = 51871  # not WireGuard's usual 51820, which a host's own tunnel may hold
PUBLIC_KEY = re.compile(r"[A-Za-z0-9+/]{43}=")


def key_dir(tag: str, i: int) -> str:
    return f"/run/dataplane-bench/wg-{tag}-{i}"


class Wireguard(Tunnel):
    name = "wireguard"
    ns_kind = "w"
    device = f"{PREFIX}twg"
    modules = ("wireguard",)
    tools = (("wg", "wireguard-tools"),)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.public_keys: dict[str, str] = {}

    def _device(self, side: Side) -> Script:
        d = key_dir(self.pair.tag, side.index)
        return [["ip", "link", "add", self.device, "type", "wireguard"],
                ["sh", "-c", f"umask 077 && mkdir -p {d} && wg genkey > {d}/private && "
                 f"wg set {self.device} listen-port {PORT} private-key {d}/private; rc=$?; "
                 f"rm -rf {d}; exit $rc"]]

    def _remove(self, side: Side) -> Script:
        return [["rm", "-rf", key_dir(self.pair.tag, side.index)]]  # a build cut short

    def _configure(self) -> None:
        for side in self.pair.sides:
            key = side.remote.check(["wg", "show", self.device, "public-key"]).strip()
            if not PUBLIC_KEY.fullmatch(key):
                raise BenchError(f"{side.remote.host.describe()}: `wg show {self.device} "
                                 f"public-key` gave no key: {key[:60]!r}")
            self.public_keys[side.remote.host.name] = key
        for side in self.pair.sides:
            peer = self.pair.peer(side)
            side.apply([["wg", "set", self.device, "peer",
                         self.public_keys[peer.remote.host.name],
                         "endpoint", f"{peer.data_address}:{PORT}", "allowed-ips",
                         f"{tunnel_address(peer.index)}/32,{container_address(peer.index)}/32"]],
                       "configuring the WireGuard peer")

    def details(self) -> dict[str, str]:
        peers = "; ".join(f"{host} public key {key}"
                          for host, key in sorted(self.public_keys.items()))
        return {**super().details(),
                "wireguard": f"listen-port {PORT}, a key pair per host made for this build; "
                             f"{peers}"}
