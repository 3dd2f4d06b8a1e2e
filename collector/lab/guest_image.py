"""The lab guests' boot image, taken from Debian packages and cached.

A Debian cloud kernel and an initramfs holding busybox (init, utilities), dash (/bin/sh), dropbear,
qperf, iperf3, iproute2's ip and ss, coreutils' date and timeout (busybox's lack %N and
coreutils' exit codes), the virtio modules, and exactly the shared libraries those programs need
(found by following ELF NEEDED entries through the packages' lib* dependencies). Packages come from
`apt-get download` and are unpacked with `dpkg-deb -x`; both the packages and the built image are
kept in the user's cache, keyed by the package versions, so a second `lab up --vms` builds nothing.
"""

import fcntl
import glob
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import local
from ..errors import BenchError
from . import cpio

KERNEL_PACKAGE = "linux-image-cloud-amd64"
ARCH = "amd64"
LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib")
LOADER = "lib64/ld-linux-x86-64.so.2"
# Package → the files the guest takes from it.
PICKS: dict[str, tuple[str, ...]] = {
    "busybox-static": ("bin/busybox",),
    "dash": ("bin/dash",),
    "dropbear-bin": ("usr/sbin/dropbear",),
    "qperf": ("usr/bin/qperf",),
    "iperf3": ("usr/bin/iperf3",),
    "libiperf0": (),
    "iproute2": ("bin/ip", "bin/ss"),
    "coreutils": ("bin/date", "usr/bin/timeout"),
}
# The virtio drivers, in load order (the cloud kernel ships them as modules, without modules.dep).
MODULES = ("drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio.ko",
           "drivers/virtio/virtio_pci_modern_dev.ko", "drivers/virtio/virtio_pci_legacy_dev.ko",
           "drivers/virtio/virtio_pci.ko", "net/core/failover.ko", "drivers/net/net_failover.ko",
           "drivers/net/virtio_net.ko", "drivers/char/hw_random/virtio-rng.ko")
READY_MARK = "dataplane-bench guest ready"
GUEST_DIR = Path(__file__).with_name("guest")  # init scripts copied into the image


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dataplane-bench"


@dataclass(frozen=True)
class Image:
    kernel: Path
    initrd: Path           # the shared base; each guest appends its own small archive
    kernel_version: str
    tools_dir: Path        # unpacked packages, for running dropbearkey on this machine

    def dropbearkey(self) -> list[str]:
        libs = ":".join(str(p) for p in self._lib_dirs())
        return [str(self.tools_dir / LOADER), "--library-path", libs,
                str(self.tools_dir / "usr/bin/dropbearkey")]

    def _lib_dirs(self) -> list[Path]:
        return [self.tools_dir / d for d in LIB_DIRS if (self.tools_dir / d).is_dir()]


def _apt(argv: list[str], what: str, cwd: Path | None = None) -> str:
    proc = local.run(argv, check=False, timeout=600, cwd=None if cwd is None else str(cwd))
    if proc.returncode != 0:
        raise BenchError(f"{what} failed: {(proc.stderr or proc.stdout).strip()[-400:]}",
                         "run `apt-get update` (the guest image is made from Debian packages)")
    return proc.stdout


def versions(packages: list[str]) -> dict[str, str]:
    """The versions apt would install (from the local package lists, no network)."""
    out = _apt(["apt-cache", "show", "--no-all-versions", *packages], "apt-cache show")
    found = dict(re.findall(r"^Package: (\S+)\n(?:.+\n)*?Version: (\S+)$", out, re.M))
    missing = [p for p in packages if p not in found]
    if missing:
        raise BenchError(f"apt knows no version of {', '.join(missing)}", "run `apt-get update`")
    return found


def dependency_graph(roots: list[str]) -> dict[str, list[str]]:
    """package → the packages it depends on, for the roots and everything below them."""
    out = _apt(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *roots],
               "apt-cache depends")
    graph: dict[str, list[str]] = {}
    current: list[str] = []
    for line in out.splitlines():
        if not line.startswith(" "):
            current = graph.setdefault(line.strip(), [])
        elif (m := re.match(r"\s+\|?(?:Pre)?Depends: ([^<\s:]+)", line)):
            current.append(m.group(1))
    return graph


def kernel_package() -> str:
    names = [d for d in dependency_graph([KERNEL_PACKAGE]).get(KERNEL_PACKAGE, [])
             if d.startswith("linux-image-")]
    if not names:
        raise BenchError(f"{KERNEL_PACKAGE} depends on no kernel image", "run `apt-get update`")
    return names[0]


class Packages:
    """Debian packages fetched into the cache and unpacked there, one folder each."""

    def __init__(self, root: Path, versions: dict[str, str]) -> None:
        self.debs = root / "debs"
        self.unpacked = root / "unpacked"
        self.versions = versions

    def unpack(self, package: str) -> Path:
        version = self.versions[package]
        base = f"{package}_{version}"
        target = self.unpacked / base.replace(":", "%3a")
        if (target / ".complete").is_file():
            return target
        found = sorted(self.debs.glob(f"{glob.escape(base.replace(':', '%3a'))}_*.deb"))
        if not found:
            self.debs.mkdir(parents=True, exist_ok=True)
            _apt(["apt-get", "download", f"{package}={version}"], f"apt-get download {package}",
                 cwd=self.debs)
            found = sorted(self.debs.glob(f"{glob.escape(base.replace(':', '%3a'))}_*.deb"))
            if not found:
                raise BenchError(f"apt-get download {package}={version} left no .deb in "
                                 f"{self.debs}")
        deb = found[0]
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        local.run(["dpkg-deb", "-x", str(deb), str(target)], timeout=300)
        (target / ".complete").write_text(deb.name + "\n")
        return target


def needed(path: Path) -> list[str]:
    """The shared libraries an ELF file names (readelf -d)."""
    out = local.run(["readelf", "-d", str(path)], timeout=30).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _libraries_in(tree: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in LIB_DIRS:
        folder = tree / d
        if folder.is_dir():
            for p in folder.iterdir():
                if ".so" in p.name and (p.is_file() or p.is_symlink()):
                    found.setdefault(p.name, p)
    return found


def library_packages(graph: dict[str, list[str]], roots: list[str]) -> list[str]:
    """The lib* packages below the roots, nearest first: where their libraries may come from."""
    order: list[str] = []
    queue = [d for r in roots for d in graph.get(r, [])]
    while queue:
        pkg = queue.pop(0)
        if (pkg in order or pkg in roots or not pkg.startswith(("lib", "zlib"))
                or pkg.endswith("-perl")):
            continue
        order.append(pkg)
        queue += graph.get(pkg, [])
    return order


def _resolve_libraries(packages: Packages, roots: dict[str, Path], candidates: list[str],
                       programs: list[Path]) -> dict[str, Path]:
    """soname → file, for every library the programs need, transitively."""
    provided: dict[str, Path] = {}
    for tree in roots.values():
        provided.update(_libraries_in(tree))
    queue = list(candidates)
    seen = set(roots)
    wanted = {"ld-linux-x86-64.so.2", *(n for p in programs for n in needed(p))}
    chosen: dict[str, Path] = {}
    while True:
        for name in sorted(wanted - set(chosen)):
            if name in provided:
                chosen[name] = provided[name]
                wanted |= set(needed(provided[name].resolve()))
        missing = wanted - set(chosen)
        if not missing:
            return chosen
        fetched = False
        while queue and not fetched:
            pkg = queue.pop(0)
            if pkg in seen:
                continue
            seen.add(pkg)
            tree = packages.unpack(pkg)
            roots[pkg] = tree
            provided.update({k: v for k, v in _libraries_in(tree).items() if k not in provided})
            fetched = True
        if not fetched:
            raise BenchError("guest image: no Debian package found for "
                             f"{', '.join(sorted(missing))}")


def _file_entry(dest: str, src: Path) -> cpio.Entry:
    real = src.resolve()
    perm = stat.S_IMODE(real.stat().st_mode)
    return cpio.file(dest, real.read_bytes(), perm)


def _base_entries(roots: dict[str, Path], libs: dict[str, Path], kernel_tree: Path,
                  kver: str) -> list[cpio.Entry]:
    dirs = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "lib", "lib64", "lib/x86_64-linux-gnu",
            "etc", "etc/dropbear", "etc/dpb", "dev", "proc", "sys", "run", "tmp", "var", "root",
            "root/.ssh", "lib/modules", f"lib/modules/{kver}"]
    entries = [cpio.directory(d) for d in dirs]
    entries[dirs.index("root")] = cpio.directory("root", 0o700)
    entries[dirs.index("root/.ssh")] = cpio.directory("root/.ssh", 0o700)
    entries[dirs.index("tmp")] = cpio.directory("tmp", 0o1777)
    entries += [cpio.char_device("dev/console", 5, 1), cpio.char_device("dev/null", 1, 3, 0o666),
                cpio.symlink("var/run", "/run"), cpio.symlink("init", "/bin/busybox"),
                cpio.symlink("bin/sh", "dash")]
    for pkg, files in PICKS.items():
        for rel in files:
            entries.append(_file_entry(rel, roots[pkg] / rel))
    # busybox for every command no package above provides (its ip, date and timeout differ;
    # its shell would run its own applets before PATH, so /bin/sh is dash)
    taken = {Path(e.path).name for e in entries} | {"sh"}
    busybox = roots["busybox-static"] / "bin/busybox"
    for applet in local.run([str(busybox), "--list-full"]).stdout.split():
        if Path(applet).name not in taken and applet.split("/")[0] in ("bin", "sbin", "usr"):
            entries.append(cpio.symlink(applet, "/bin/busybox"))
            taken.add(Path(applet).name)
    for name, path in sorted(libs.items()):
        dest = LOADER if name == "ld-linux-x86-64.so.2" else f"lib/x86_64-linux-gnu/{name}"
        entries.append(_file_entry(dest, path))
    for mod in MODULES:
        entries.append(_file_entry(f"lib/modules/{kver}/{Path(mod).name}",
                                   kernel_tree / f"lib/modules/{kver}/kernel/{mod}"))
    entries.append(cpio.file("etc/dpb/modules",
                             "".join(f"/lib/modules/{kver}/{Path(m).name}\n"
                                     for m in MODULES).encode()))
    for name in ("inittab", "rc", "passwd", "group", "shadow", "shells", "hosts",
                 "nsswitch.conf"):
        src = GUEST_DIR / name
        dest = "etc/dpb/rc" if name == "rc" else f"etc/{name}"
        entries.append(cpio.file(dest, src.read_bytes(), 0o755 if name == "rc" else
                                 0o600 if name == "shadow" else 0o644))
    for src in sorted((roots["iproute2"] / "etc/iproute2").rglob("*")):
        dest = src.relative_to(roots["iproute2"]).as_posix()
        entries.append(cpio.directory(dest) if src.is_dir() else _file_entry(dest, src))
    return entries


def build(say: Callable[[str], None] = print) -> Image:
    """The image for the packages apt offers now: from the cache, or built once and cached."""
    kpkg = kernel_package()
    kver = kpkg.removeprefix("linux-image-")
    graph = dependency_graph(list(PICKS))
    candidates = library_packages(graph, list(PICKS))
    known = versions([kpkg, *PICKS, *candidates])
    recipe = repr((sorted(known.items()), PICKS, MODULES,
                   sorted((p.name, p.read_bytes()) for p in GUEST_DIR.iterdir()),
                   Path(__file__).read_bytes(), Path(cpio.__file__).read_bytes()))
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    root = cache_root() / "guest"
    out = root / f"image-{key}"
    image = Image(out / "vmlinuz", out / "initrd-base.cpio.gz", kver, out / "tools")
    if (out / ".complete").is_file():
        return image
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two labs coming up at once build it once
        if not (out / ".complete").is_file():
            _build(image, out, root, kpkg, known, candidates, say)
    return image


def _build(image: Image, out: Path, root: Path, kpkg: str, known: dict[str, str],
           candidates: list[str], say: Callable[[str], None]) -> None:
    kver = image.kernel_version
    say(f"building the guest image from Debian packages (kernel {kver}; cached in {root})")
    packages = Packages(root, known)
    roots = {p: packages.unpack(p) for p in PICKS}
    kernel_tree = packages.unpack(kpkg)
    dropbear = packages.unpack("dropbear-bin")
    programs = [roots[p] / f for p, files in PICKS.items() for f in files]
    programs.append(dropbear / "usr/bin/dropbearkey")
    libs = _resolve_libraries(packages, dict(roots), candidates, programs)
    shutil.rmtree(out, ignore_errors=True)
    (out / "tools/usr/bin").mkdir(parents=True)
    shutil.copy2(kernel_tree / f"boot/vmlinuz-{kver}", image.kernel)
    image.initrd.write_bytes(cpio.archive(_base_entries(roots, libs, kernel_tree, kver)))
    # dropbearkey runs here (to make each guest's host key) with the image's own libraries.
    shutil.copy2(dropbear / "usr/bin/dropbearkey", out / "tools/usr/bin/dropbearkey")
    for name, path in libs.items():
        dest = out / "tools" / (LOADER if name == "ld-linux-x86-64.so.2"
                                else f"lib/x86_64-linux-gnu/{name}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path.resolve(), dest)
    (out / ".complete").write_text(f"{kver}\n")
