"""Read campaign archives: folders or .tar.gz, schema version checked, never modified.

A .tar.gz is extracted into a temporary folder member by member: only regular files and folders,
only relative paths that stay inside it (no `..`, no absolute paths, no links or devices)."""

import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from collector.archive import read_manifest
from collector.errors import BenchError


@dataclass(frozen=True)
class Campaign:
    root: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def vm_names(self) -> frozenset[str]:
        """The campaign's VMs (their facts sit beside the hosts')."""
        vms = self.manifest.get("campaign", {}).get("vms") or []
        return frozenset(str(v.get("name")) for v in vms if isinstance(v, dict))

    def path(self, relative: str) -> Path:
        """A raw file's path; refuses names that could leave the archive (checked by syntax:
        no absolute paths, no `..`; archives hold no links, and extraction refuses them)."""
        parts = PurePosixPath(relative).parts
        if not parts or relative.startswith("/") or ".." in parts or "\0" in relative:
            raise BenchError(f"{self.root}: {relative!r} points outside the archive")
        return self.root / relative

    def read(self, relative: str) -> str:
        return self.path(relative).read_text(errors="replace")


def safe_extract(tarball: Path, into: Path) -> Path:
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            _extract_checked(tar, tarball, into)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BenchError(f"{tarball}: not a readable .tar.gz ({exc})") from exc
    manifests = list(into.glob("*/manifest.json"))
    if len(manifests) != 1:
        raise BenchError(f"{tarball}: expected one campaign folder with a manifest.json")
    return manifests[0].parent


def _extract_checked(tar: tarfile.TarFile, tarball: Path, into: Path) -> None:
    for member in tar.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not name.parts:
            raise BenchError(f"{tarball}: member {member.name!r} would land outside the "
                             "extraction folder", "this archive is not from dataplane-bench")
        if not (member.isfile() or member.isdir()):
            raise BenchError(f"{tarball}: member {member.name!r} is a link or a device",
                             "archives from dataplane-bench contain files only")
    tar.extractall(into, filter="data")


def load(path: Path, scratch: Path | None = None) -> Campaign:
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        scratch = scratch or Path(tempfile.mkdtemp(prefix="dpb-report-"))
        scratch.mkdir(parents=True, exist_ok=True)
        path = safe_extract(path, scratch)
    manifest = read_manifest(path)
    return Campaign(path, manifest)
