"""A machine-lab host: a qemu guest (TCG, one vCPU) with its own Debian kernel and userland.

Two NICs, as a server of the study has: a management one (a tap on the lab's management bridge,
where the collector's SSH arrives) and a data one (a tap on the wire bridge, to the other host).
The guest boots the shared image read-only with a throwaway overlay, and a seed disk of its own
(a small ext4 image the lab writes) gives it its hostname, its pinned SSH host key, the lab's
client key and its systemd-networkd configuration; a unit in the image applies it before the
network and sshd start (machine/dpb-seed). Reached with the same hosts.yaml entry as a
namespace-lab host, so the collector meets it exactly as it meets a real server.
"""

import json
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .. import local
from ..errors import BenchError
from . import iproute, machine_image, qemu
from .credentials import authorized_keys_path, host_key_path
from .iproute import ip
from .spec import HOST_LETTERS, LabSpec

MEMORY_MB = 1024
BOOT_TIMEOUT_S = 240.0  # two guests booting at once under TCG on two cores: ~40 s each here
SEED_BYTES = 4 << 20
WIRE_MAX_MTU = 9000


def machine_dir(spec: LabSpec, letter: str) -> Path:
    return spec.state_dir / letter / "machine"


def boot_record_path(spec: LabSpec, letter: str) -> Path:
    return machine_dir(spec, letter) / "boot.json"


def mac(kind: str, letter: str) -> str:
    return f"52:54:00:d9:{'a0' if kind == 'mgmt' else 'b0'}:{HOST_LETTERS.index(letter) + 1:02x}"


def greets(address: str, wait_s: float) -> float | None:
    """Seconds until an SSH server on address:22 greeted (None: not within wait_s)."""
    start = time.monotonic()
    while time.monotonic() - start < wait_s:
        try:
            with socket.create_connection((address, 22), timeout=1) as sock:
                sock.settimeout(3)
                if sock.recv(64).startswith(b"SSH-2.0-"):
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.2)
    return None


def network_files(spec: LabSpec, letter: str) -> dict[str, str]:
    """systemd-networkd configuration: the management NIC, and the data NIC with the default
    route through the peer, as the namespace lab's hosts have (a container's 169.254.1.1 is
    answered by proxy ARP only where the host routes it out of another interface)."""
    peer = spec.wire_address(spec.peer(letter)).ip
    common = "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    return {
        "10-mgmt.network": (f"[Match]\nMACAddress={mac('mgmt', letter)}\n[Network]\n"
                            f"Address={spec.mgmt_address(letter)}\n{common}"),
        "20-wire.network": (f"[Match]\nMACAddress={mac('wire', letter)}\n"
                            f"[Link]\nMTUBytes={spec.mtu}\n[Network]\n"
                            f"Address={spec.wire_address(letter)}\nGateway={peer}\n{common}"),
    }


class Machine:
    def __init__(self, spec: LabSpec, letter: str, say: Callable[[str], None] = print) -> None:
        self.spec = spec
        self.letter = letter
        self.address = str(spec.mgmt_address(letter).ip)
        self.taps = {"mgmt": (spec.machine_tap("mgmt", letter), spec.bridge),
                     "wire": (spec.machine_tap("wire", letter), spec.wire_bridge)}
        self.dir = machine_dir(spec, letter)
        self.pid_path = self.dir / "qemu.pid"
        self.console = self.dir / "console.log"
        self.qemu_name = f"dataplane-bench-{spec.lab_id}-{spec.host_name(letter)}"
        self.name = f"machine {spec.host_name(letter)} (qemu, TCG, own kernel)"
        self.say = say
        self._started = 0.0
        self._kernel = ""

    def _pid(self) -> int | None:
        return qemu.running_pid(self.pid_path, self.qemu_name)

    def problem(self) -> str | None:
        if self._pid() is None:
            return "missing" if not self.pid_path.exists() else "qemu is not running"
        for tap, bridge in self.taps.values():
            rec = iproute.link(tap)
            if rec is None or rec.get("master") != bridge or not iproute.is_up(rec):
                return f"tap {tap} is not an up port of {bridge}"
        if greets(self.address, 3.0) is None:
            return f"no SSH server answers on {self.address}"
        return None

    def build(self) -> None:
        """Start the guest; `wait()` waits for its SSH server (both guests boot at once)."""
        image = machine_image.build(self.say)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        seed = self._seed()
        for kind, (tap, bridge) in self.taps.items():
            ip("tuntap", "add", "dev", tap, "mode", "tap")
            # the wire carries every MTU a campaign may set (the guests' NICs set their own)
            mtu = ("mtu", str(WIRE_MAX_MTU)) if kind == "wire" else ()
            ip("link", "set", "dev", tap, *mtu, "master", bridge, "up")
        self._start_qemu(image, seed)
        self._kernel = image.kernel_version

    def wait(self) -> float:
        """Seconds from qemu's start until SSH greeted (also kept in boot.json)."""
        ready = greets(self.address, BOOT_TIMEOUT_S)
        if ready is None:
            tail = self.console.read_text(errors="replace")[-1500:] if self.console.exists() else ""
            raise BenchError(f"{self.name}: no SSH server on {self.address} within "
                             f"{BOOT_TIMEOUT_S:g} s of boot; console ends:\n{tail}",
                             f"the whole console log is {self.console}")
        boot_s = time.monotonic() - self._started
        boot_record_path(self.spec, self.letter).write_text(json.dumps(
            {"boot_to_ssh_s": round(boot_s, 3), "kernel": self._kernel, "accel": "tcg"}) + "\n")
        self.say(f"{self.spec.host_name(self.letter)}: SSH ready {boot_s:.1f} s after qemu started")
        return boot_s

    def _seed(self) -> Path:
        key = host_key_path(self.spec, self.letter)
        with tempfile.TemporaryDirectory(prefix="dpb-seed-") as tmp:
            folder = Path(tmp)
            (folder / "network").mkdir()
            (folder / "hostname").write_text(self.spec.host_name(self.letter) + "\n")
            shutil.copyfile(key, folder / "ssh_host_ed25519_key")
            shutil.copyfile(f"{key}.pub", folder / "ssh_host_ed25519_key.pub")
            shutil.copyfile(authorized_keys_path(self.spec), folder / "authorized_keys")
            for name, text in network_files(self.spec, self.letter).items():
                (folder / "network" / name).write_text(text)
            seed = self.dir / "seed.img"
            seed.unlink(missing_ok=True)
            local.run(["mke2fs", "-q", "-t", "ext4", "-L", "dpbseed", "-d", str(folder), "-F",
                       str(seed), f"{SEED_BYTES // 1024}k"], timeout=60)
        seed.chmod(0o600)  # it holds the guest's private host key
        return seed

    def _start_qemu(self, image: machine_image.MachineImage, seed: Path) -> None:
        self.console.unlink(missing_ok=True)
        self.pid_path.unlink(missing_ok=True)
        nics = []
        for kind, (tap, _bridge) in self.taps.items():
            nics += ["-netdev", f"tap,id={kind},ifname={tap},script=no,downscript=no",
                     "-device", f"virtio-net-pci,netdev={kind},mac={mac(kind, self.letter)}"]
        # TMPDIR: where qemu keeps the boot's overlay (inside the lab's state, not /var/tmp)
        argv = ["env", f"TMPDIR={self.dir}", "qemu-system-x86_64",
                "-name", f"guest={self.qemu_name}", "-accel", "tcg", "-cpu", "max",
                "-smp", "1", "-m", str(MEMORY_MB), "-nodefaults", "-no-user-config",
                "-display", "none",
                "-kernel", str(image.kernel), "-initrd", str(image.initrd),
                "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1",
                "-drive", f"file={image.root},format=raw,if=virtio,snapshot=on",
                "-drive", f"file={seed},format=raw,if=virtio,readonly=on",
                *nics, "-device", "virtio-rng-pci", "-serial", f"file:{self.console}",
                "-pidfile", str(self.pid_path), "-daemonize"]
        self._started = time.monotonic()
        qemu.start(argv, self.name)

    def remove(self) -> None:
        qemu.stop(self.pid_path, self.qemu_name, grace_s=10.0)
        for tap, _bridge in self.taps.values():
            iproute.delete_link(tap)


def describe_boot(spec: LabSpec, letter: str) -> str:
    return qemu.describe_boot(boot_record_path(spec, letter), kernel=True)
