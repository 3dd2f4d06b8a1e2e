"""ipsec: the routed containers behind IPsec ESP in tunnel mode between the hosts (Cilium's IPsec
encryption; AES-GCM-128 as RFC 4106), route-based: an xfrm interface per host, and policies
that match only what is routed into it (its if_id), so no other traffic of the host is touched.

Keys and SPIs are drawn for each build by the collector, one pair per direction. They reach the
hosts only through a file in /run that a shell builtin writes (never a process's argv, which
other users can read) and `ip -batch` reads and removes; no message, record or archive file
carries them."""

import re
import secrets
import shlex

from ..errors import BenchError
from .base import Script, Side
from .netns import PREFIX
from .tunnel import Tunnel

IF_ID = "0xdb29"
REQID = "0xdb29"
SELECTOR = ["src", "198.19.0.0/16", "dst", "198.19.0.0/16"]  # the lab's inner addresses
ALGORITHM = "rfc4106(gcm(aes))"
KEY_BYTES = 20  # a 128-bit AES key and RFC 4106's 32-bit salt
ICV_BITS = 128
LONG_HEX = re.compile(r"(0x)?[0-9a-fA-F]{16,}")


class Ipsec(Tunnel):
    name = "ipsec"
    ns_kind = "e"
    device = f"{PREFIX}txf"
    modules = ("esp4", "xfrm_user", "xfrm_interface")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.spis: dict[str, str] = {}

    def _policies(self, side: Side) -> list[tuple[str, str, str]]:
        """(direction, template source, template destination) of the side's three policies."""
        me, you = side.data_address, self.pair.peer(side).data_address
        return [("out", me, you), ("in", you, me), ("fwd", you, me)]

    def _device(self, side: Side) -> Script:
        return [["ip", "link", "add", self.device, "type", "xfrm", "dev", side.data_if,
                 "if_id", IF_ID],
                *(["ip", "xfrm", "policy", "add", *SELECTOR, "dir", way, "if_id", IF_ID,
                   "tmpl", "src", src, "dst", dst, "proto", "esp", "reqid", REQID,
                   "mode", "tunnel"] for way, src, dst in self._policies(side))]

    def _remove(self, side: Side) -> Script:
        me, you = side.data_address, self.pair.peer(side).data_address
        return [*(["ip", "xfrm", "policy", "delete", *SELECTOR, "dir", way, "if_id", IF_ID]
                  for way, _, _ in self._policies(side)),
                *(["ip", "xfrm", "state", "deleteall", "src", src, "dst", dst, "proto", "esp",
                   "reqid", REQID] for src, dst in ((me, you), (you, me)))]

    def _configure(self) -> None:
        a, b = (s.data_address for s in self.pair.sides)
        states = []
        for src, dst in ((a, b), (b, a)):
            spi = f"{secrets.randbelow(0xFFFF_0000) + 0x1_0000:#x}"
            self.spis[f"{src}>{dst}"] = spi
            states.append(f"xfrm state add src {src} dst {dst} proto esp spi {spi} "
                          f"reqid {REQID} mode tunnel if_id {IF_ID} aead {ALGORITHM} "
                          f"0x{secrets.token_hex(KEY_BYTES)} {ICV_BITS}")
        for side in self.pair.sides:
            path = f"/run/dataplane-bench/ipsec-{self.pair.tag}-{side.index}.batch"
            line = (f"umask 077; mkdir -p /run/dataplane-bench && printf '%s\\n' "
                    f"{' '.join(shlex.quote(s) for s in states)} > {path} && "
                    f"ip -batch {path}; rc=$?; rm -f {path}; exit $rc")
            res = side.remote.run(line, timeout=60)  # not check(): its error quotes the line
            if not res.ok:
                said = LONG_HEX.sub("…", (res.stderr or res.stdout).strip())[-300:]
                raise BenchError(f"{side.remote.host.describe()}: installing the IPsec states "
                                 f"failed: {said}",
                                 "the host's kernel needs esp4 and AES-GCM (gcm, aes); the "
                                 "configuration is torn down and the archive can be resumed")

    def details(self) -> dict[str, str]:
        spis = ", ".join(f"{k} spi {v}" for k, v in sorted(self.spis.items()))
        return {**super().details(),
                "ipsec": f"ESP tunnel mode, {ALGORITHM} with a 128-bit key and a {ICV_BITS}-bit "
                         f"ICV, keys drawn for this build and never archived; {spis}"}
