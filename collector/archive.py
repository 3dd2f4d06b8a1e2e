"""The archive: the contract between collector and reporter (docs/archive-format.md).

archive/<campaign>-<UTC>/
  manifest.json            schema_version, harness, campaign, plan, per-run records, host state
  campaign.yaml            the campaign as given (when it came from a file)
  facts/<host>/<phase>-<UTC>.txt
  runs/<run id>/           client.stdout, client.stderr, server.stdout, server.stderr,
                           cpu-<host>.txt, tcp-client.txt, tcp-server.txt
  incomplete/<run id>-<UTC>/   what an interrupted attempt of a run left (kept, never deleted)
  SHA256SUMS

Every file is written atomically (temporary file, fsync, rename); the manifest is rewritten
after every run, so a kill -9 at any moment leaves a consistent, resumable archive.
"""

import contextlib
import hashlib
import json
import os
import subprocess
import tarfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__, strictjson
from .errors import BenchError
from .records import Manifest, RunRecord, manifest_problem, validated

# 2: campaign.repetitions may be the adaptive mapping; a run may have tcp-*.txt; every record
# is a records.RunRecord. A reader refuses versions above its own and migrates older ones.
SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
# A run's record is ~2 KB: 32 MiB holds campaigns of over 10,000 runs, and keeps a hostile
# manifest from costing gigabytes of memory before it is refused.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
SUMS = "SHA256SUMS"
FINAL_STATUSES = ("ok", "failed", "timeout")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temporary file, then rename: a reader sees the old file or the new, never a
    part (a full disk or a crash leaves the previous version in place)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise unwritable(path, exc) from exc


def unwritable(path: Path, exc: OSError) -> BenchError:
    return BenchError(f"cannot write {path}: {exc.strerror or exc}",
                      "free space on (or fix) the archive's filesystem, then "
                      "`invoke collect --resume` the archive: what was written is kept")


def harness() -> dict[str, str]:
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=5,
                                check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=5,
                               check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit, dirty = "", ""
    return {"name": "dataplane-bench", "version": __version__, "commit": commit or "unknown",
            "dirty": "yes" if dirty else "no"}


def regular_files(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every regular file under ``root`` reached without following a link: relative name →
    (size, modification time in ns, mode: a file made unreadable is another file to a
    cache). A folder that cannot be listed is skipped."""
    found: dict[str, tuple[int, int, int]] = {}
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(root / folder))
        except OSError:
            continue
        for entry in entries:
            name = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append(name)
            elif entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                found[name] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return found


class Archive:
    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        # Node pairs measured at the same time record from several threads: the manifest is
        # changed and written under this lock.
        self.lock = threading.RLock()

    @staticmethod
    def new_name(campaign_name: str) -> str:
        """The folder name of a new campaign's archive: the campaign's name and the UTC start."""
        return f"{campaign_name}-{stamp()}"

    @classmethod
    def create(cls, out_dir: Path, folder: str, campaign_input: dict[str, Any],
               plan: list[str], campaign_text: str | None) -> "Archive":
        root = out_dir / folder
        if root.exists():
            raise BenchError(f"{root} already exists", "wait a second, or pick another --out")
        root.mkdir(parents=True)
        manifest = Manifest(schema_version=SCHEMA_VERSION, harness=harness(),
                            created_utc=utc_now(), updated_utc=utc_now(), state="running",
                            campaign=campaign_input, plan=plan, runs={})
        archive = cls(root, manifest.model_dump(mode="json"))
        if campaign_text is not None:
            write_atomic(root / "campaign.yaml", campaign_text)
        archive.save()
        return archive

    @classmethod
    def open(cls, root: Path) -> "Archive":
        return cls(root, read_manifest(root))

    def save(self) -> None:
        with self.lock:
            self.manifest["updated_utc"] = utc_now()
            text = json.dumps(self.manifest, indent=1, sort_keys=True)
            write_atomic(self.root / MANIFEST, text)

    def finished(self, run_id: str) -> bool:
        rec = self.manifest["runs"].get(run_id)
        return rec is not None and rec.get("status") in FINAL_STATUSES

    def run_dir(self, run_id: str) -> Path:
        """A clean folder for a run's raw files; an earlier unfinished attempt is moved aside."""
        path = self.root / "runs" / run_id
        try:
            if path.exists():
                aside = self.root / "incomplete" / f"{run_id}-{stamp()}"
                aside.parent.mkdir(exist_ok=True)
                path.rename(aside)
            path.mkdir(parents=True)
        except OSError as exc:
            raise unwritable(path, exc) from exc
        return path

    def write(self, relative: str, data: str) -> None:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise BenchError(f"refusing to write {relative!r} outside the archive {self.root}")
        write_atomic(target, data)

    def extend_plan(self, run_ids: list[str]) -> None:
        """Runs decided as the campaign goes (adaptive repetitions) join the plan."""
        with self.lock:
            planned = set(self.manifest["plan"])
            self.manifest["plan"] += [r for r in run_ids if r not in planned]
            self.save()

    def record(self, run_id: str, record: RunRecord | dict[str, Any]) -> None:
        """Store a run's record (a dict is checked against records.RunRecord first)."""
        stored = (record.model_dump(mode="json", exclude_unset=True)
                  if isinstance(record, RunRecord) else validated(record))
        with self.lock:
            self.manifest["runs"][run_id] = stored
            self.save()

    def set_state(self, state: str, reason: str = "") -> None:
        with self.lock:
            self.manifest["state"] = state
            self.manifest["state_reason"] = reason
            self.save()
            self.write_sums()

    def write_sums(self) -> None:
        """SHA256SUMS of every regular file but itself and hidden (temporary) ones, in path
        order; links are neither followed nor listed."""
        found = [rel for rel in regular_files(self.root)
                 if rel != SUMS and not rel.rpartition("/")[2].startswith(".")]
        lines = []
        for rel in sorted(found, key=lambda r: r.split("/")):  # as paths sort: by part
            with open(self.root / rel, "rb") as f:
                lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {rel}\n")
        write_atomic(self.root / SUMS, "".join(lines))


def _v1_to_v2(manifest: dict[str, Any]) -> dict[str, Any]:
    """Version 1 reads as version 2 unchanged but for records made before the collector
    recorded `topology` (overlay-ovs's datapath): they get an empty one. Its integer
    `repetitions` means what it meant; it has no TCP counter files (no TCP health)."""
    runs = manifest.get("runs")
    if isinstance(runs, dict):
        for rec in runs.values():
            if isinstance(rec, dict):
                rec.setdefault("topology", {})
    return {**manifest, "schema_version": 2}


# Each older version's step to the next, applied in turn when an archive is read (as asv
# migrates its result files): the reporter and `collect --resume` see the current version.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def read_manifest(root: Path, label: str = "") -> dict[str, Any]:
    """A campaign's manifest, checked: a regular file inside the folder (not a link out of it),
    at most MAX_MANIFEST_BYTES, JSON, an object, a known schema_version. ``label`` names the
    archive in errors when ``root`` is a scratch folder (an extracted .tar.gz)."""
    where = label or str(root)
    path = root / MANIFEST
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root.resolve()) or not real.is_file():
            raise BenchError(f"{where}: {MANIFEST} is a link out of the archive or not a file",
                             "archives from dataplane-bench contain files only")
        with open(real, "rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError as exc:
        raise BenchError(f"{where}: no {MANIFEST}", "name a campaign archive folder or .tar.gz "
                         "made by `invoke collect`") from exc
    except OSError as exc:
        raise BenchError(f"{where}: cannot read {MANIFEST} ({exc.strerror or exc})") from exc
    if len(data) > MAX_MANIFEST_BYTES:
        raise BenchError(f"{where}: {MANIFEST} is larger than {MAX_MANIFEST_BYTES:,} bytes",
                         "a real manifest is far smaller: this archive was not made by "
                         "dataplane-bench, or is damaged")
    try:
        manifest = strictjson.loads(data, MAX_MANIFEST_BYTES)
    except strictjson.JsonError as exc:
        raise BenchError(f"{where}: {MANIFEST} is not a manifest: {exc}",
                         "the archive is damaged or was not made by dataplane-bench: restore "
                         "this file from a copy") from exc
    if not isinstance(manifest, dict):
        raise BenchError(f"{where}: {MANIFEST} is not a JSON object")
    version = manifest.get("schema_version")
    while isinstance(version, int) and not isinstance(version, bool) and version in MIGRATIONS:
        manifest = MIGRATIONS[version](manifest)
        version = manifest["schema_version"]
    if version != SCHEMA_VERSION:
        raise BenchError(f"{where}: schema_version {version!r} is unknown to this "
                         f"dataplane-bench (it reads {SCHEMA_VERSION})",
                         "use the dataplane-bench version that wrote the archive")
    try:
        Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise BenchError(f"{where}: {MANIFEST}: {manifest_problem(exc)}",
                         "the archive is damaged or was edited: restore manifest.json from a "
                         "copy") from exc
    checked: dict[str, Any] = manifest
    return checked


def verify_sums(root: Path) -> list[str]:
    """Files whose checksum differs from SHA256SUMS, or that are missing."""
    bad = []
    for line in (root / SUMS).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        path = root / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            bad.append(rel)
    return bad


def pack(root: Path, out: Path | None = None) -> Path:
    """A .tar.gz of a campaign archive (members relative, no links, owner root)."""
    Archive.open(root)
    target = out or root.with_name(root.name + ".tar.gz")
    tmp = target.with_name(f".{target.name}.tmp")

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if info.issym() or info.islnk():
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(root, arcname=root.name, filter=clean)
    tmp.replace(target)
    return target


def newest(out_dir: Path) -> Path:
    candidates = sorted((p for p in out_dir.glob("*/" + MANIFEST)),
                        key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise BenchError(f"no campaign archive under {out_dir}", "run `invoke collect` first")
    return candidates[-1].parent
