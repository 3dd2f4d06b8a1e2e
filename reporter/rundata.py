"""The Runs page's data and the raw files, written straight into the site (not through mkdocs):
every run as one row of a script the page's table reads (a file:// page cannot fetch JSON),
and every raw file hard-linked where the archive and the site share a file system, copied
otherwise — each through the archive's safe reader."""

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd

from collector.errors import BenchError

from .archive import MAX_RAW_BYTES, Campaign
from .tidy import CELL_COLUMNS

RESULT_COLUMNS = (("gbps", "Gb/s"), ("lat_mean_us", "µs one-way"))


def site_name(relative: str) -> str:
    """Where a raw file goes in the site: its own name, with .txt added unless it has it, so
    any web server shows it as text instead of offering a download."""
    return relative if relative.endswith(".txt") else relative + ".txt"


def _result(row: dict[Any, Any]) -> str:
    for column, unit in RESULT_COLUMNS:
        value = row.get(column)
        if isinstance(value, float) and not math.isnan(value):
            return f"{value:.3g} {unit}"
    return ""


def runs_script(campaigns: list[Campaign], df: pd.DataFrame) -> str:
    wanted = ["campaign", "run_id", *CELL_COLUMNS, "status", "reason",
              *(c for c, _ in RESULT_COLUMNS if c in df.columns)]
    by_run = {(r["campaign"], r["run_id"]): r for r in df[wanted].to_dict("records")} \
        if not df.empty else {}
    rows = []
    for c in campaigns:
        for run_id, rec in sorted(c.manifest["runs"].items()):
            row = by_run.get((c.name, run_id), {})
            files = rec.get("files") if isinstance(rec, dict) else None
            links = [[str(rel).rsplit("/", 1)[-1], f"raw/{c.name}/{site_name(str(rel))}"]
                     for _, rel in sorted(files.items())] if isinstance(files, dict) else []
            rows.append([c.name, run_id, *(str(row.get(k, "")) for k in CELL_COLUMNS),
                         str(row.get("status", "")), str(row.get("reason", ""))[:200],
                         _result(row), links])
    payload = {"columns": ["campaign", "run", *CELL_COLUMNS, "status", "reason", "result",
                           "files"], "rows": rows}
    return "window.DPB_RUNS = " + json.dumps(payload).replace("</", "<\\/") + ";\n"


def write_raw(campaigns: list[Campaign], out: Path) -> int:
    """Every raw file a record names, once; a link out of the archive, a special file or an
    oversized one is skipped (its run is listed under Problems by the tidy table)."""
    written = 0
    for c in campaigns:
        made: set[str] = set()
        known = c.regular_files
        root, dest_root = str(c.root), str(out / c.name)
        for rec in c.manifest["runs"].values():
            files = rec.get("files") if isinstance(rec, dict) else None
            for rel in (files.values() if isinstance(files, dict) else ()):
                rel = str(rel)
                entry = known.get(rel)
                try:
                    # A name the archive's walk found is a regular file reached through real
                    # folders; anything else goes through the careful check.
                    src = f"{root}/{rel}" if entry is not None else str(c.path(rel))
                    size = entry[0] if entry is not None else os.stat(src).st_size
                except (BenchError, OSError):
                    continue
                if size > MAX_RAW_BYTES:
                    continue
                dest = f"{dest_root}/{site_name(rel)}"
                folder = os.path.dirname(dest)
                if folder not in made:
                    os.makedirs(folder, exist_ok=True)
                    made.add(folder)
                try:
                    os.link(src, dest, follow_symlinks=False)
                    if not stat.S_ISREG(os.lstat(dest).st_mode):  # swapped for a link since
                        os.unlink(dest)
                        continue
                except FileExistsError:
                    continue
                except OSError:
                    try:
                        Path(dest).write_bytes(c.read_bytes(rel))
                    except (BenchError, OSError):
                        continue
                written += 1
    return written
