"""One campaign's data in the site, written straight into it (not through mkdocs): its runs and
its cells' statistics as scripts the Runs and Statistics pages load (a file:// page cannot
fetch JSON) and as CSV, and every raw file hard-linked where the archive and the site share a
file system, copied otherwise — each through the archive's safe reader."""

import json
import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from collector.errors import BenchError

from .archive import MAX_RAW_BYTES, Campaign
from .tidy import CELL_COLUMNS, RUN_COLUMNS

RESULT_COLUMNS = (("gbps", "Gb/s"), ("lat_mean_us", "µs one-way"))
RUN_FIELDS = ["campaign", "run", *CELL_COLUMNS, "status", "reason", "result", "files"]


def site_name(relative: str) -> str:
    """Where a raw file goes in the site: its own name, with .txt added unless it has it, so
    any web server shows it as text instead of offering a download."""
    return relative if relative.endswith(".txt") else relative + ".txt"


def filed(registry: str, key: str, payload: str) -> str:
    """A script that files a JSON ``payload`` under ``key`` in ``window[registry]`` for the
    page that loads it (a file:// page cannot fetch JSON); "</" escaped so no payload can
    close a script element."""
    return (f"(window.{registry} = window.{registry} || {{}})[{json.dumps(key)}] = "
            f"{payload};\n").replace("</", "<\\/")


def part_script(kind: str, campaign: str, columns: list[str], rows: list[Any] | str) -> str:
    """A campaign's data part under ``kind:campaign``; ``rows`` as a list, or as JSON already
    written."""
    if not isinstance(rows, str):
        rows = json.dumps(rows, allow_nan=False)
    return filed("DPB_PARTS", f"{kind}:{campaign}",
                 f'{{"columns": {json.dumps(columns)}, "rows": {rows}}}')


def runs_script(campaign: Campaign, runs: pd.DataFrame) -> str:
    """The Runs page's rows of one campaign: the cell, status, result and raw-file links."""
    fields = ["run_id", *CELL_COLUMNS, "status", "reason"]
    by_run: dict[str, list[str]] = {}
    if not runs.empty:
        results = [_results(runs, column, unit) for column, unit in RESULT_COLUMNS
                   if column in runs.columns]
        texts = [next((r for r in found if r), "") for found in zip(*results, strict=True)] \
            if results else [""] * len(runs)
        columns = [_texts(runs[f]) if f in runs.columns else [""] * len(runs)
                   for f in fields]
        for run_id, *rest, result in zip(*columns, texts, strict=True):
            by_run[run_id] = [*rest[:-1], rest[-1][:200], result]
    empty = [""] * (len(CELL_COLUMNS) + 3)  # the cell, status, reason, result
    prefix = f"raw/{quote(campaign.name, safe='')}/"  # links: "#", "?", "%" in names too
    rows = []
    for run_id, rec in sorted(campaign.manifest["runs"].items()):
        files = rec.get("files") if isinstance(rec, dict) else None
        links = [[str(rel).rsplit("/", 1)[-1], prefix + quote(site_name(str(rel)))]
                 for _, rel in sorted(files.items())] if isinstance(files, dict) else []
        rows.append([campaign.name, run_id, *by_run.get(run_id, empty), links])
    return part_script("runs", campaign.name, RUN_FIELDS, rows)


def _text(value: Any) -> str:
    """A cell of the Runs table: empty when missing, 1500 (not 1500.0) for a whole number."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _texts(column: pd.Series) -> list[str]:
    return [_text(v) for v in column.tolist()]


def _results(runs: pd.DataFrame, column: str, unit: str) -> list[str]:
    return [f"{v:.3g} {unit}" if v == v else "" for v in runs[column].astype(float).tolist()]


def cells_script(campaign: str, stats: pd.DataFrame) -> str:
    rows = stats.to_json(orient="values", double_precision=6)
    return part_script("cells", campaign, [str(c) for c in stats.columns], rows)


def runs_csv(runs: pd.DataFrame) -> str:
    return runs.reindex(columns=RUN_COLUMNS).to_csv(index=False)


def write_raw(campaign: Campaign, out: Path) -> int:
    """Every raw file a record names, once, under ``out``; a link out of the archive, a
    special file or an oversized one is skipped (the tidy table lists its run under
    Problems)."""
    written = 0
    made: set[str] = set()
    known = campaign.regular_files
    root, dest_root = str(campaign.root), str(out)
    for rec in campaign.manifest["runs"].values():
        files = rec.get("files") if isinstance(rec, dict) else None
        for rel in (files.values() if isinstance(files, dict) else ()):
            rel = str(rel)
            entry = known.get(rel)
            try:
                # A name the archive's walk found is a regular file reached through real
                # folders; anything else goes through the careful check.
                src = f"{root}/{rel}" if entry is not None else str(campaign.path(rel))
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
                    Path(dest).write_bytes(campaign.read_bytes(rel))
                except (BenchError, OSError):
                    continue
            written += 1
    return written
