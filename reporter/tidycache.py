"""Parsed runs cached per archive, so a history of many campaigns is re-parsed only where an
archive changed. The key is the archive's name, manifest and SHA256SUMS (which covers every raw
file), every file's size and modification time, and the parsing code itself; an archive
without SHA256SUMS (still running, or not from dataplane-bench) is never cached. Entries are
JSON in the user's cache folder."""

import hashlib
import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

from collector.archive import MANIFEST, MAX_MANIFEST_BYTES, SUMS
from collector.errors import BenchError

from .archive import Campaign
from .cachedir import cache_root

# What turns an archive into rows: the reader, the tidy table, every parser, and the record
# model and migrations that decide which records are valid.
REPORTER = Path(__file__).resolve().parent
CODE = (REPORTER / "tidy.py", REPORTER / "archive.py", *sorted((REPORTER / "parsers").glob("*.py")),
        REPORTER.parent / "collector" / "records.py", REPORTER.parent / "collector" / "archive.py")


@cache
def _code_hash() -> str:
    h = hashlib.sha256()
    for path in CODE:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def folder() -> Path:
    return cache_root() / "tidy"


def key(campaign: Campaign) -> str | None:
    """The cache key of a campaign's parsed runs; None for an archive without SHA256SUMS."""
    try:
        sums = campaign.read_bytes(SUMS)
        manifest = campaign.read_bytes(MANIFEST, limit=MAX_MANIFEST_BYTES)
    except (BenchError, OSError):
        return None
    h = hashlib.sha256(_code_hash().encode())
    for part in (campaign.name.encode(), manifest, sums):
        h.update(hashlib.sha256(part).digest())
    # A file edited without updating SHA256SUMS, or made unreadable, must not be served from
    # the cache: every file's size, modification time and mode are part of the key (from the
    # archive's one walk).
    h.update("".join(f"{name}\0{size}\0{mtime}\0{mode}\n" for name, (size, mtime, mode)
                     in sorted(campaign.regular_files.items())).encode())
    return h.hexdigest()


def load(k: str | None) -> list[dict[str, Any]] | None:
    if k is None:
        return None
    try:
        rows: list[dict[str, Any]] = json.loads((folder() / f"{k}.json").read_text())
    except (OSError, ValueError):
        return None
    return rows  # JSON null for NaN: pandas reads a missing figure back as NaN


def store(k: str | None, rows: list[dict[str, Any]]) -> None:
    if k is None:
        return
    target = folder() / f"{k}.json"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_text(json.dumps(_nan_free(rows), default=str, allow_nan=False))
        tmp.replace(target)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _nan_free(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in r.items()}
            for r in rows]
