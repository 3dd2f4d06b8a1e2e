"""A lab VM: one qemu guest per lab host, on a tap in the host's namespace, routed the way Calico
routes OpenStack VMs (a /32 route to the tap, proxy ARP with proxy_delay 0 on it, the guest's
default route via 169.254.1.1). Emulated with TCG: KVM guests hang on the machines this lab was
made on, so lab VM figures measure emulation, not a hypervisor.

The guest boots the cached image (guest_image.py) plus a small archive of its own: its dropbear
host key (pinned in its known_hosts file) and the lab's client key. Reached over SSH through its
host (an SSH jump), as the collector reaches any VM that only its host can route to.
"""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .. import local
from ..errors import BenchError
from . import cpio, guest_image, iproute, qemu
from .credentials import authorized_keys_path, guest_known_hosts_path
from .iproute import ip
from .spec import LabSpec

GATEWAY = "169.254.1.1"
MEMORY_MB = 256
BOOT_TIMEOUT_S = 60.0
# Waits inside the host's namespace until the guest's SSH server greets; prints the wait.
_PROBE = """
import socket, sys, time
addr, limit = sys.argv[1], float(sys.argv[2])
start = time.monotonic()
while time.monotonic() - start < limit:
    try:
        with socket.create_connection((addr, 22), timeout=1) as s:
            s.settimeout(2)
            if s.recv(64).startswith(b"SSH-2.0-"):
                print(f"{time.monotonic() - start:.3f}")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
"""


def guest_dir(spec: LabSpec, letter: str) -> Path:
    return spec.state_dir / letter / "vm"


def boot_record_path(spec: LabSpec, letter: str) -> Path:
    return guest_dir(spec, letter) / "boot.json"


def ssh_greets(spec: LabSpec, letter: str, wait_s: float) -> float | None:
    """Seconds until the guest's SSH server greeted (None: not within wait_s)."""
    proc = subprocess.run(["ip", "netns", "exec", spec.netns(letter), sys.executable, "-c",
                           _PROBE, spec.vm_address(letter), str(wait_s)],
                          capture_output=True, text=True, timeout=wait_s + 15, check=False)
    return float(proc.stdout) if proc.returncode == 0 else None


class Guest:
    def __init__(self, spec: LabSpec, letter: str, say: Callable[[str], None] = print) -> None:
        self.spec = spec
        self.letter = letter
        self.ns = spec.netns(letter)
        self.tap = spec.tap(letter)
        self.address = spec.vm_address(letter)
        self.dir = guest_dir(spec, letter)
        self.pid_path = self.dir / "qemu.pid"
        self.console = self.dir / "console.log"
        self.qemu_name = f"dataplane-bench-{spec.lab_id}-{letter}"
        self.name = f"VM {spec.vm_name(letter)} (qemu, TCG) on {spec.host_name(letter)}"
        self.say = say

    def _pid(self) -> int | None:
        return qemu.running_pid(self.pid_path, self.qemu_name)

    def problem(self) -> str | None:
        if self.ns not in iproute.namespaces():
            return "missing"
        if self._pid() is None:
            return "qemu is not running"
        if iproute.link(self.tap, self.ns) is None:
            return f"tap {self.tap} missing"
        forward = local.run(["ip", "netns", "exec", self.ns, "sysctl", "-n", "net.ipv4.ip_forward"])
        if forward.stdout.strip() != "1":
            return f"ip_forward is off in {self.ns}: the host does not route its VM"
        if ssh_greets(self.spec, self.letter, 3.0) is None:
            return f"no SSH server answers on {self.address}"
        return None

    def build(self) -> None:
        image = guest_image.build(self.say)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = self._host_key(image)
        initrd = self.dir / "initrd.cpio.gz"
        initrd.write_bytes(image.initrd.read_bytes() + cpio.archive([
            cpio.file("etc/dropbear/host_key", key.read_bytes(), 0o600),
            cpio.file("root/.ssh/authorized_keys",
                      authorized_keys_path(self.spec).read_bytes(), 0o600)]))
        self._plumb_tap()
        started = time.monotonic()
        self._start_qemu(image, initrd)
        ready = ssh_greets(self.spec, self.letter, BOOT_TIMEOUT_S)
        if ready is None:
            tail = self.console.read_text(errors="replace")[-1500:] if self.console.exists() else ""
            raise BenchError(f"{self.name}: no SSH server on {self.address} within "
                             f"{BOOT_TIMEOUT_S:g} s of boot; console ends:\n{tail}",
                             f"the whole console log is {self.console}")
        boot_s = time.monotonic() - started
        boot_record_path(self.spec, self.letter).write_text(json.dumps(
            {"boot_to_ssh_s": round(boot_s, 3), "kernel": image.kernel_version,
             "accel": "tcg"}) + "\n")
        self.say(f"{self.spec.vm_name(self.letter)}: SSH ready {boot_s:.2f} s after qemu started")

    def _host_key(self, image: guest_image.Image) -> Path:
        key = self.dir / "dropbear_ed25519_host_key"
        if not key.is_file():
            local.run([*image.dropbearkey(), "-t", "ed25519", "-f", str(key)])
        public = local.run([*image.dropbearkey(), "-y", "-f", str(key)]).stdout
        line = next(x for x in public.splitlines() if x.startswith("ssh-ed25519 "))
        guest_known_hosts_path(self.spec, self.letter).write_text(
            f"{self.address} {' '.join(line.split()[:2])}\n")
        return key

    def _plumb_tap(self) -> None:
        ip("tuntap", "add", "dev", self.tap, "mode", "tap", netns=self.ns)
        ip("link", "set", "dev", self.tap, "up", netns=self.ns)
        # A host that routes its VMs forwards; Linux also answers proxy ARP only on an
        # interface that forwards (and ip_forward sets every interface's forwarding).
        for key, value in (("net.ipv4.ip_forward", "1"),
                           (f"net.ipv4.conf.{self.tap}.proxy_arp", "1"),
                           (f"net.ipv4.neigh.{self.tap}.proxy_delay", "0")):
            local.run(["ip", "netns", "exec", self.ns, "sysctl", "-qw", f"{key}={value}"])
        ip("route", "replace", f"{self.address}/32", "dev", self.tap, "scope", "link",
           netns=self.ns)

    def _start_qemu(self, image: guest_image.Image, initrd: Path) -> None:
        index = ("a", "b").index(self.letter)
        append = (f"console=ttyS0 quiet panic=-1 dpb.addr={self.address} "
                  f"dpb.name={self.spec.vm_name(self.letter)}")
        self.console.unlink(missing_ok=True)
        self.pid_path.unlink(missing_ok=True)
        argv = ["ip", "netns", "exec", self.ns, "qemu-system-x86_64",
                "-name", f"guest={self.qemu_name}", "-accel", "tcg", "-cpu", "max",
                "-smp", "1", "-m", str(MEMORY_MB), "-nodefaults", "-no-user-config",
                "-display", "none", "-kernel", str(image.kernel), "-initrd", str(initrd),
                "-append", append, "-serial", f"file:{self.console}",
                "-netdev", f"tap,id=data,ifname={self.tap},script=no,downscript=no",
                "-device", f"virtio-net-pci,netdev=data,mac=52:54:00:d9:be:{index + 1:02x}",
                "-device", "virtio-rng-pci",
                "-pidfile", str(self.pid_path), "-daemonize"]
        qemu.start(argv, self.name)

    def remove(self) -> None:
        qemu.stop(self.pid_path, self.qemu_name, grace_s=5.0)
        if self.ns in iproute.namespaces() and iproute.link(self.tap, self.ns) is not None:
            ip("link", "del", "dev", self.tap, netns=self.ns)


def describe_boot(spec: LabSpec, letter: str) -> str:
    return qemu.describe_boot(boot_record_path(spec, letter))
