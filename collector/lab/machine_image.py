"""The machine lab's disk image: a Debian userland from Debian packages, and its cloud kernel.

`mmdebstrap` installs the packages a real host of the study needs (OpenSSH, iproute2, procps,
ethtool, qperf, iperf3, sockperf, a C compiler and make, Open vSwitch, WireGuard's tools) and
the cloud kernel, whose modules include openvswitch, vxlan, geneve, ipip, wireguard and esp4,
from this machine's own apt sources. The tree becomes an ext4 image (`mke2fs -d`, no mount);
the kernel and the initramfs Debian made for it are copied beside it. Guests boot the image
read-only with a throwaway overlay (`snapshot=on`), so every boot starts from the same disk.
Cached in the user's cache keyed by the packages' versions and this recipe: a second
`lab up --machines` builds nothing.
"""

import fcntl
import hashlib
import json
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import local
from ..errors import BenchError
from .guest_image import cache_root, versions

PACKAGES = ("linux-image-cloud-amd64", "systemd-sysv", "udev", "kmod", "openssh-server",
            "iproute2", "procps", "ethtool", "iputils-ping", "qperf", "iperf3", "sockperf",
            "gcc", "make", "libc6-dev", "openvswitch-switch", "wireguard-tools")
# Units that would wake up during a measurement (or wait for a screen the guest has not), and
# the host's own Open vSwitch: installed, not running, as on a host that has OVS but does not
# use it (overlay-ovs runs a private OVS, and refuses hosts whose own one runs).
MASKED = ("openvswitch-switch.service", "ovs-vswitchd.service", "ovsdb-server.service",
          "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "fstrim.timer",
          "e2scrub_all.timer", "e2scrub_reap.service", "getty@tty1.service")
ENABLED = ("dpb-seed.service", "systemd-networkd.service")
EXCLUDED = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")
HEADROOM_BYTES = 1 << 30  # room to build csrc and write run files (sparse: costs nothing unused)
FILES_DIR = Path(__file__).with_name("machine")
# file in FILES_DIR → where it goes in the image, and its mode
INSTALLED = {"dpb-seed": ("usr/local/sbin/dpb-seed", 0o755),
             "dpb-seed.service": ("etc/systemd/system/dpb-seed.service", 0o644),
             "sshd.conf": ("etc/ssh/sshd_config.d/dataplane-bench.conf", 0o644)}


@dataclass(frozen=True)
class MachineImage:
    root: Path        # ext4, booted read-only with a per-boot overlay
    kernel: Path
    initrd: Path
    kernel_version: str

    @property
    def folder(self) -> Path:
        return self.root.parent


def suite() -> str:
    """This machine's Debian release: the image is the same release as the machine."""
    fields = platform.freedesktop_os_release()
    if fields.get("ID") != "debian" or not fields.get("VERSION_CODENAME"):
        raise BenchError(f"the machine lab's image is made with Debian's tools for Debian; this is "
                         f"{fields.get('PRETTY_NAME', 'an unknown system')}",
                         "run the machine lab on Debian 12, or use the namespace lab")
    return fields["VERSION_CODENAME"]


def apt_sources() -> list[Path]:
    """The apt sources this machine installs from: the image is made from the same ones."""
    files = [p for p in [Path("/etc/apt/sources.list")] if p.is_file() and _has_entries(p)]
    files += sorted(p for p in Path("/etc/apt/sources.list.d").glob("*")
                    if p.suffix in (".list", ".sources") and p.is_file() and _has_entries(p))
    if not files:
        raise BenchError("apt has no sources on this machine (/etc/apt/sources.list, "
                         "/etc/apt/sources.list.d/)", "configure a Debian mirror for apt")
    return files


def _has_entries(path: Path) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#")
               for line in path.read_text(errors="replace").splitlines())


def _key(known: dict[str, str], release: str, sources: list[Path]) -> str:
    recipe = repr((release, sorted(known.items()), MASKED, ENABLED, EXCLUDED, HEADROOM_BYTES,
                   sorted((p.name, p.read_bytes()) for p in FILES_DIR.iterdir()),
                   [p.read_bytes() for p in sources], Path(__file__).read_bytes()))
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def build(say: Callable[[str], None] = print) -> MachineImage:
    """The image for the packages apt offers now: from the cache, or built once and cached."""
    release, sources = suite(), apt_sources()
    if shutil.which("mmdebstrap") is None or shutil.which("mke2fs") is None:
        raise BenchError("the machine lab needs mmdebstrap and mke2fs to make its disk image",
                         "run ./bootstrap.sh (it installs mmdebstrap and e2fsprogs)")
    known = versions(list(PACKAGES))
    root = cache_root() / "machine"
    out = root / f"image-{_key(known, release, sources)}"
    if (out / ".complete").is_file():
        return _read(out)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two labs coming up at once build it once
        if not (out / ".complete").is_file():
            _build(out, release, sources, known, say)
            _prune(root, keep=out)
    return _read(out)


def _prune(root: Path, keep: Path) -> None:
    """Older images (other package versions): ours, and only ever rebuilt, never booted again
    (a guest still running on one keeps its open file)."""
    for old in root.glob("image-*"):
        if old != keep and old.is_dir():
            shutil.rmtree(old)


def _read(out: Path) -> MachineImage:
    kver = (out / ".complete").read_text().strip()
    return MachineImage(out / "root.img", out / "vmlinuz", out / "initrd.img", kver)


def _build(out: Path, release: str, sources: list[Path], known: dict[str, str],
           say: Callable[[str], None]) -> None:
    say(f"building the machine lab's disk image from Debian {release} packages "
        f"(kernel {known['linux-image-cloud-amd64']}; about a minute; cached in {out.parent})")
    shutil.rmtree(out, ignore_errors=True)
    tree = out / "tree"
    tree.parent.mkdir(parents=True)
    argv = ["mmdebstrap", "--mode=root", "--variant=apt", "--format=directory", "--quiet",
            f"--include={','.join(PACKAGES)}",
            *(f"--dpkgopt=path-exclude={p}" for p in EXCLUDED),
            release, str(tree), *(str(p) for p in sources)]
    proc = local.run(argv, check=False, timeout=1800)
    if proc.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        raise BenchError(f"mmdebstrap failed: {(proc.stderr or proc.stdout).strip()[-600:]}",
                         "check that apt can download from this machine's sources "
                         "(`apt-get update`)")
    _customize(tree)
    kernels = sorted((tree / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1 or not (tree / "boot" / f"initrd.img-{kernels[0].name[8:]}").is_file():
        raise BenchError(f"the image's /boot holds {[p.name for p in kernels]}, not one kernel "
                         "with its initramfs", f"remove {out} and try again")
    kver = kernels[0].name.removeprefix("vmlinuz-")
    shutil.copy2(kernels[0], out / "vmlinuz")
    shutil.copy2(tree / "boot" / f"initrd.img-{kver}", out / "initrd.img")
    size = _tree_bytes(tree) + HEADROOM_BYTES
    local.run(["mke2fs", "-q", "-t", "ext4", "-L", "dpbroot", "-d", str(tree), "-F",
               str(out / "root.img"), f"{size // 1024}k"], timeout=600)
    shutil.rmtree(tree)
    (out / "versions.json").write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    (out / ".complete").write_text(kver + "\n")


def _customize(tree: Path) -> None:
    for name, (dest, mode) in INSTALLED.items():
        target = tree / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FILES_DIR / name, target)
        target.chmod(mode)
    for key in tree.glob("etc/ssh/ssh_host_*"):
        key.unlink()  # each guest's host key comes from its seed disk, pinned by the lab
    local.run(["chroot", str(tree), "systemctl", "enable", "--quiet", *ENABLED], timeout=120)
    local.run(["chroot", str(tree), "systemctl", "mask", "--quiet", *MASKED], timeout=120)


def _tree_bytes(tree: Path) -> int:
    return sum(p.lstat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
