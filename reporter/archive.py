"""Read campaign archives: folders or .tar.gz, schema version checked, never modified.

An archive is untrusted input. A .tar.gz is extracted into a temporary folder member by member:
only regular files and folders, only relative paths that stay inside it (no `..`, no absolute
paths, no links or devices), within size limits read from the headers before anything is
written. A folder may hold anything a copy can carry, links included: every file read from it is
resolved inside the folder's real root, must be a regular file, and is read up to a bound."""

import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from collector.archive import MANIFEST, MAX_MANIFEST_BYTES, read_manifest, regular_files
from collector.errors import BenchError

MAX_RAW_BYTES = 64 * 1024 * 1024       # one raw output; a real one is at most a few MB
READ_CHUNK = 64 * 1024  # what a file that grew since it was measured is read on in
MAX_MEMBER_BYTES = max(MAX_RAW_BYTES, MAX_MANIFEST_BYTES)
MAX_TARBALL_BYTES = 8 * 1024 * 1024 * 1024  # everything a .tar.gz unpacks to, at most
MIN_UNPACK_BUDGET = 256 * 1024 * 1024
MAX_PACK_RATIO = 50
MAX_MEMBERS = 2_000_000
MAX_NAME_BYTES = 200  # a campaign's name names files in the site (NAME.csv, NAME.js)
TAR_HEADER_BYTES = 512


@dataclass(frozen=True)
class Campaign:
    root: Path
    manifest: dict[str, Any]
    label: str = ""  # what the user named (a .tar.gz), when root is a scratch folder
    real_root: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "real_root", self.root.resolve())

    @cached_property
    def name(self) -> str:
        # "x/.." names the real folder, never "..": a name is a path part in the site.
        return self.root.name if self.root.name not in ("", ".", "..") else self.real_root.name

    @property
    def vm_names(self) -> frozenset[str]:
        """The campaign's VMs (their facts sit beside the hosts')."""
        vms = self.manifest.get("campaign", {}).get("vms") or []
        return frozenset(str(v.get("name")) for v in vms if isinstance(v, dict))

    @cached_property
    def regular_files(self) -> dict[str, tuple[int, int, int]]:
        """Every regular file reached from the root without following a link: relative name →
        (size, modification time in ns, mode). One walk of the folder."""
        return regular_files(self.root)

    def subset(self, names: list[str]) -> "Campaign":
        """The same archive for a worker process: a stub manifest, and the walk's answer for
        these files only (so the worker does not walk the folder again)."""
        part = Campaign(self.root, {"schema_version": self.manifest.get("schema_version"),
                                    "runs": {}}, self.label)
        known = self.regular_files
        part.__dict__["regular_files"] = {n: known[n] for n in names if n in known}
        return part

    def path(self, relative: str) -> Path:
        """The path of a regular file of the archive. Refuses names that could leave it
        (absolute, `..`), links (in the name or any folder above it) that resolve outside its
        real root, and anything not a regular file (a folder, a device, a FIFO).
        FileNotFoundError when it does not exist."""
        return Path(self.checked(relative))

    def checked(self, relative: str) -> str:
        """path() as a string: the parse asks this for ~10 files a run, and most are names
        the walk found, which need no Path object."""
        if relative in self.regular_files:  # a name the walk found: real folders, a file
            return os.path.join(self.root, relative)
        parts = PurePosixPath(relative).parts
        if not parts or relative.startswith("/") or ".." in parts or "\0" in relative:
            raise BenchError(f"archive file {relative!r} points outside the archive")
        real = (self.root / relative).resolve(strict=True)
        if not real.is_relative_to(self.real_root):
            raise BenchError(f"archive file {relative!r} is a link that leaves the archive",
                             "archives from dataplane-bench contain no links; it was not read")
        mode = real.stat().st_mode
        if not stat.S_ISREG(mode):
            raise BenchError(f"archive file {relative!r} is not a regular file")
        return str(real)

    def read_bytes(self, relative: str, limit: int = MAX_RAW_BYTES) -> bytes:
        """A file's bytes, through checked() and without following a link swapped in since."""
        real = self.checked(relative)
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                raise BenchError(f"archive file {relative!r} is not a regular file")
            # Its size first (a read of the bound itself maps 64 MiB for a 3 KiB file, four
            # times the cost of the read), then on to one byte past the bound if it grew.
            parts, left = [], limit + 1
            ask = min(found.st_size, limit) + 1
            while left > 0 and (part := os.read(fd, min(left, max(ask, READ_CHUNK)))):
                parts.append(part)
                left -= len(part)
            data = b"".join(parts)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise BenchError(f"archive file {relative!r} is larger than {limit:,} bytes",
                             "a raw output of dataplane-bench is far smaller; it was not read")
        return data

    def read(self, relative: str) -> str:
        return self.read_bytes(relative).decode(errors="replace")


WALK_IN_WORKERS_FROM = 16  # campaigns; fewer are walked faster than workers start


def walk_all(campaigns: list[Campaign]) -> None:
    """Every campaign's walk (regular_files), shared between two worker processes when a
    history has many campaigns: the walk is system calls and a Python loop, one core each."""
    todo = [c for c in campaigns if "regular_files" not in c.__dict__]
    if len(todo) < WALK_IN_WORKERS_FROM or (os.cpu_count() or 1) < 2:
        return
    with ProcessPoolExecutor(max_workers=2) as pool:
        walks = pool.map(regular_files, [c.root for c in todo], chunksize=max(1, len(todo) // 8))
        for c, found in zip(todo, walks, strict=True):
            c.__dict__["regular_files"] = found


def safe_extract(tarball: Path, into: Path) -> Path:
    try:
        budget = unpack_budget(tarball.stat().st_size)
        # Member by member: each checked from its header, then written, before the next is
        # read ("r:gz" read lazily; its stream mode "r|gz" reads 10 KiB records, 20× slower).
        with tarfile.open(tarball, "r:gz") as tar:
            _extract_checked(tar, tarball, into, budget)
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise BenchError(f"{tarball}: not a readable .tar.gz ({exc})") from exc
    manifests = list(into.glob("*/" + MANIFEST))
    if len(manifests) != 1:
        raise BenchError(f"{tarball}: expected one campaign folder with a manifest.json")
    return manifests[0].parent


def unpack_budget(compressed: int) -> int:
    """How much a .tar.gz of ``compressed`` bytes may unpack to: a campaign's raw text packs
    about 15:1, a bomb 1000:1."""
    return min(MAX_TARBALL_BYTES, max(MIN_UNPACK_BUDGET, compressed * MAX_PACK_RATIO))


def _extract_checked(tar: tarfile.TarFile, tarball: Path, into: Path, budget: int) -> None:
    total = 0
    for count, member in enumerate(tar, start=1):
        tar.members = []  # type: ignore[attr-defined]  # else it keeps every header it read
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not name.parts:
            raise BenchError(f"{tarball}: member {member.name!r} would land outside the "
                             "extraction folder", "this archive is not from dataplane-bench")
        if not (member.isfile() or member.isdir()):
            raise BenchError(f"{tarball}: member {member.name!r} is a link or a device",
                             "archives from dataplane-bench contain files only")
        limit = MAX_MANIFEST_BYTES if name.name == MANIFEST else MAX_MEMBER_BYTES
        if member.size > limit:
            raise BenchError(f"{tarball}: member {member.name!r} is {member.size:,} bytes, "
                             f"over the {limit:,} a dataplane-bench archive holds",
                             "it was not extracted")
        total += member.size + TAR_HEADER_BYTES
        if count > MAX_MEMBERS:
            raise BenchError(f"{tarball}: holds more than {MAX_MEMBERS:,} members",
                             "it was not extracted")
        if total > budget:
            raise BenchError(f"{tarball}: unpacks to more than {budget:,} bytes (at most "
                             f"{MAX_PACK_RATIO}× its size, or {MIN_UNPACK_BUDGET:,})",
                             "a campaign's archive packs far less tightly: it was not "
                             "extracted; unpack it yourself and give the folder if you trust it")
        tar.extract(member, into, filter="data")


def load(path: Path, scratch: Path | None = None) -> Campaign:
    label = str(path)
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        made = scratch is None
        scratch = scratch or Path(tempfile.mkdtemp(prefix="dpb-report-"))
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            path = safe_extract(path, scratch)
        except BaseException:
            if made:  # a refused tarball leaves no folder of ours behind
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        label = f"{label} ({path.name}/)"
    manifest = read_manifest(path, label=label)
    campaign = Campaign(path, manifest, label)
    try:
        name_bytes = len(campaign.name.encode())
    except UnicodeEncodeError as exc:
        raise BenchError(f"{label!r}: the campaign's folder name is not UTF-8 text",
                         "rename the folder (the collector names it NAME-UTC)") from exc
    if name_bytes > MAX_NAME_BYTES:
        raise BenchError(f"{label}: the campaign's folder name is {name_bytes} bytes long, "
                         f"over the {MAX_NAME_BYTES} a site can name files after",
                         "rename the folder (the collector names it NAME-UTC, under 90 bytes)")
    return campaign
