"""A site's per-campaign parts: raw files, runs and cell statistics (data scripts and CSV).
Each is written once and, while the campaign's archive and the reporter's code are unchanged,
moved over from the previous site into the next one: adding one campaign to a history of 200
writes one campaign's parts, not 200. The previous site says what its parts were made from
in STATE; a part it does not vouch for is written again."""

import hashlib
import json
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

STATE = ".dpb-parts.json"
MAX_STATE_BYTES = 16 * 1024 * 1024
KINDS = ("runs", "cells")


def paths(campaign: str) -> list[str]:
    """A campaign's parts, relative to the site."""
    return [f"raw/{campaign}", *(f"data/{kind}/{campaign}.{ext}" for kind in KINDS
                                 for ext in ("js", "csv"))]


@cache
def code_hash() -> str:
    """The reporter's code: any change to it makes every part stale."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(here.rglob("*.py")):
        h.update(str(path.relative_to(here)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _state(site: Path) -> dict[str, str]:
    try:
        fd = os.open(site / STATE, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            state = json.loads(f.read(MAX_STATE_BYTES + 1)[:MAX_STATE_BYTES])
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(state, dict) or state.get("code") != code_hash() or \
            not isinstance(state.get("campaigns"), dict):
        return {}
    return {str(k): v for k, v in state["campaigns"].items() if isinstance(v, str)}


def _present(site: Path, relative: str) -> bool:
    """A part in place: the real thing, not a link someone put there."""
    return os.path.lexists(site / relative) and not os.path.islink(site / relative)


def reusable(site: Path, keys: dict[str, str | None]) -> set[str]:
    """The campaigns whose parts in ``site`` were made from the same archive (``keys``:
    campaign → archive key, None when it cannot have one) by the same code."""
    state = _state(site)
    return {name for name, key in keys.items()
            if key is not None and state.get(name) == key
            and all(_present(site, p) for p in paths(name))}


def move(campaign: str, old: Path, new: Path) -> None:
    for relative in paths(campaign):
        target = new / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old / relative, target)


def save_state(site: Path, keys: dict[str, str | None]) -> None:
    state = {"code": code_hash(),
             "campaigns": {name: key for name, key in keys.items() if key is not None}}
    (site / STATE).write_text(json.dumps(state, indent=0))


def join_csv(site: Path, kind: str, campaigns: Iterable[str], target: Path) -> None:
    """One CSV of every campaign's part, in the order given, with the header once."""
    with target.open("wb") as out:
        first = True
        for name in campaigns:
            with (site / "data" / kind / f"{name}.csv").open("rb") as part:
                header = part.readline()
                if first:
                    out.write(header)
                    first = False
                while chunk := part.read(1 << 20):
                    out.write(chunk)
