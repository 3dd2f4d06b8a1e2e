"""Where a site goes (`--out`): a new or empty folder, or a site this tool built before,
recognised by its marker file. Anything else is refused before any work, and nothing in an
existing site that this tool did not write is deleted: a site is made in a fresh folder beside
``out`` and then takes its place, and whatever the old one held that the tool did not write
(a .git, a CNAME, a file the user added) moves into the new one.

The marker lists the top-level entries the build wrote, so the next build knows which of the
old site's entries are its own. A site from before the marker (it has parts.STATE) counts as
the tool's where an entry's name is one a site has."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from collector.errors import UsageError

from . import parts

MARKER = ".dataplane-bench-site"
MAX_MARKER_BYTES = 1024 * 1024
SCRATCH_MARK = ".dataplane-bench-scratch"  # inside the folders a build makes beside ``out``
# A site's own top-level names, for a site built before the marker existed.
LEGACY_NAMES = ("assets", "charts", "data", "raw", "search", "sitemap.xml", "sitemap.xml.gz",
                parts.STATE)


def check(out: Path, archives: list[Path]) -> None:
    """Refuse ``out`` before any work: a link, a file, a folder that is neither empty nor a
    site of ours, a place inside an archive, a parent that cannot be written."""
    if os.path.islink(out):
        raise UsageError(f"--out {out}: is a symbolic link; nothing was written",
                         "give the real folder it points to, or a new one")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: a file is in the way of the site",
                         "give a folder (new, empty, or a site built before)")
    final = out.resolve()
    for root in archives:
        real = root.resolve()
        if final == real or final.is_relative_to(real):
            raise UsageError(f"--out {out}: is inside the archive {root}; nothing was written",
                             "give a folder outside every archive, e.g. --out site")
        if real.is_relative_to(final):
            raise UsageError(f"--out {out}: holds the archive {root}; nothing was written",
                             "give a folder of its own for the site, e.g. --out site")
    if final.is_dir() and not is_site(final):
        try:
            found = sorted(e.name for e in os.scandir(final))
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot be read ({exc.strerror})") from exc
        if found:
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5
                                            else "")
            raise UsageError(f"--out {out}: holds files that are not a dataplane-bench site "
                             f"({shown}); nothing was written or deleted",
                             "give a new or empty folder, or a site that `invoke report` "
                             f"built (it has a {MARKER} file)")
    # The site is made beside ``out`` and renamed into place: try that, instead of
    # guessing from permission bits (root, read-only mounts, /proc).
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{final.name}.probe-", dir=final.parent))
        if final.is_dir() and not os.access(final, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc}); nothing "
                         "was written", "give a folder you can write, or run as its owner"
                         ) from exc


def is_site(folder: Path) -> bool:
    return any(os.path.isfile(folder / name) and not os.path.islink(folder / name)
               for name in (MARKER, parts.STATE))


def own_entries(site: Path) -> set[str] | None:
    """The top-level entries the build of ``site`` wrote (None: a site from before the
    marker)."""
    try:
        fd = os.open(site / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            state = json.loads(f.read(MAX_MARKER_BYTES))
        entries = state.get("entries") if isinstance(state, dict) else None
        return {e for e in entries if isinstance(e, str)} if isinstance(entries, list) else None
    except (OSError, ValueError, RecursionError):
        return None


def _ours(name: str, entries: set[str] | None) -> bool:
    if entries is not None:
        return name in entries
    return name in LEGACY_NAMES or name.endswith(".html")


def write_marker(site: Path) -> None:
    entries = sorted(e.name for e in os.scandir(site) if e.name != MARKER)
    (site / MARKER).write_text(json.dumps({"tool": "dataplane-bench", "entries": entries},
                                          indent=0))


def sweep_scratch(final: Path) -> None:
    """Folders an interrupted build of ours left beside ``final`` (they hold SCRATCH_MARK)."""
    prefix = f".{final.name}."
    try:
        entries = list(os.scandir(final.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        if (folder / SCRATCH_MARK).is_file() or \
                (entry.name.startswith(prefix + "old-") and is_site(folder)):
            shutil.rmtree(folder, ignore_errors=True)


def scratch_beside(final: Path, kind: str) -> Path:
    """A new folder of ours beside ``final`` (same file system: it can take final's place)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{final.name}.{kind}-", dir=final.parent))
    (folder / SCRATCH_MARK).touch()
    return folder


@contextmanager
def scratch_folders(final: Path, *kinds: str) -> Iterator[list[Path]]:
    sweep_scratch(final)
    made: list[Path] = []
    try:
        made = [scratch_beside(final, k) for k in kinds]
        yield made
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


def swap_in(fresh: Path, final: Path) -> None:
    """``fresh`` (a finished site) takes the place of ``final``. What the old site held that
    this tool did not write moves into the new one first."""
    (fresh / SCRATCH_MARK).unlink(missing_ok=True)
    write_marker(fresh)  # before anything of the user's joins it
    if final.is_dir():
        entries = own_entries(final)
        theirs = [e.name for e in os.scandir(final)
                  if e.name != MARKER and not _ours(e.name, entries)]
        # Every name checked before one moves: the fresh folder is deleted on an error, and
        # nothing of the user's may be in it then.
        for name in theirs:
            if os.path.lexists(fresh / name):
                raise UsageError(f"--out {final}: its {name!r} was not written by "
                                 "dataplane-bench, and the new site has one of that name; the "
                                 "old site was left as it was",
                                 f"move {final / name} away, then build again")
        for name in theirs:
            os.replace(final / name, fresh / name)
        # Renamed over an empty folder of ours; an interruption here leaves it a site of
        # ours, which sweep_scratch recognises.
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        os.replace(final, old)
        os.replace(fresh, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(fresh, final)
