"""A gzip'd newc cpio archive, as the Linux kernel unpacks an initramfs: every entry root-owned,
written from Python so the image is the same bytes on every machine (no cpio binary needed).

Concatenated archives are one initramfs to the kernel: a guest's image is the shared base plus a
small archive of its own (keys, address).
"""

import gzip
import io
import stat
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    path: str              # inside the image, without a leading slash
    mode: int              # file type and permission bits, as in st_mode
    data: bytes = b""      # file content, or a symlink's target
    rdev: tuple[int, int] = (0, 0)


def directory(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, stat.S_IFDIR | perm)


def file(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def char_device(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _header(ino: int, entry: Entry, name: bytes) -> bytes:
    fields = [ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0, entry.rdev[0], entry.rdev[1],
              len(name) + 1, 0]
    return b"070701" + b"".join(f"{v:08x}".encode() for v in fields)


def archive(entries: list[Entry]) -> bytes:
    """The gzip'd archive; parents must come before their children in ``entries``."""
    out = io.BytesIO()
    for ino, entry in enumerate([*entries, Entry("TRAILER!!!", 0)], start=1):
        name = entry.path.lstrip("/").encode()
        head = _header(ino, entry, name) + name + b"\0"
        out.write(head + _pad(len(head)) + entry.data + _pad(len(entry.data)))
    return gzip.compress(out.getvalue(), compresslevel=6, mtime=0)
