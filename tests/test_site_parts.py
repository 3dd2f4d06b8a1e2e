"""A history's site is rebuilt campaign by campaign: an unchanged campaign's raw files and data
move over from the previous site (the same files, not rewritten), a changed archive or changed
reporter code writes its parts again, and what the previous site held besides (a .git) stays.
In a real Chromium, the Runs and Statistics pages load one campaign's data at a time, from
http:// and from file://."""

import html
import json
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reporter import archive, parts, site, synthetic
from reporter.tidy import RUN_COLUMNS, table

from .helpers import CHROMIUM

RUNS = 60  # per campaign: every path and tool, some cells twice


def _history(root: Path, count: int) -> list[Path]:
    return [synthetic.generate(root, RUNS, seed=i + 1, name=f"c{i}",
                               created_utc=f"2026-02-0{i + 1}T00:00:00.000000Z")
            for i in range(count)]


def _build(archives: list[Path], out: Path, work: Path) -> None:
    site.build([archive.load(a) for a in archives], out, work)


def _inodes(out: Path, campaign: str) -> dict[str, int]:
    """Each part's inode (a raw file is a hard link to the archive's: its folder tells)."""
    return {relative: (out / relative).stat().st_ino for relative in parts.paths(campaign)}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four campaigns' archives (the newest measured with socket buffers sized to the
    message) and the site of the first two, built once; each test changes a copy of its
    own."""
    root = tmp_path_factory.mktemp("made")
    archives = _history(root / "archives", 4)
    manifest = json.loads((archives[3] / "manifest.json").read_text())
    for rec in manifest["runs"].values():
        rec["socket_buffer"] = "message"
    (archives[3] / "manifest.json").write_text(json.dumps(manifest))
    _build(archives[:2], root / "site", root / "work")
    return root


def _copy(made: Path, tmp: Path) -> tuple[list[Path], Path, Path]:
    """The archives, the site built from the first two, and a work folder, in ``tmp``
    (modification times kept: they are part of an archive's key)."""
    shutil.copytree(made / "archives", tmp / "archives", symlinks=True)
    shutil.copytree(made / "site", tmp / "site", symlinks=True)
    return sorted((tmp / "archives").iterdir()), tmp / "site", tmp / "work"


@pytest.fixture(scope="module")
def grown(made: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The two-campaign site, with a .git the user keeps in it, rebuilt with two more
    campaigns; each part's inode before the rebuild."""
    tmp = tmp_path_factory.mktemp("grown")
    archives, out, work = _copy(made, tmp)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/pages\n")
    before = {c: _inodes(out, c) for c in ("c0", "c1")}
    _build(archives, out, work)
    return {"archives": archives, "site": out, "before": before, "tmp": tmp}


def test_new_campaigns_write_only_their_own_parts(grown: dict[str, Any]) -> None:
    archives, out, before = grown["archives"], grown["site"], grown["before"]
    for c in ("c0", "c1"):
        assert _inodes(out, c) == before[c], c  # moved over, not written again
    assert all((out / p).exists() for c in ("c2", "c3") for p in parts.paths(c))
    for c, source in zip(("c0", "c3"), (archives[0], archives[3]), strict=True):
        assert len(list((out / "raw" / c).rglob("*.txt"))) == 8 * RUNS  # 4 outputs, 2 CPU, 2 TCP
        for stdout in sorted(source.glob("runs/*/client.stdout"))[:3]:
            shown = out / "raw" / c / (str(stdout.relative_to(source)) + ".txt")
            assert shown.read_bytes() == stdout.read_bytes()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/pages\n"
    assert not list(grown["tmp"].glob(".site.*"))  # no scratch folder left beside the site
    runs = pd.read_csv(out / "data" / "runs.csv")
    assert list(runs.columns) == RUN_COLUMNS
    assert runs["campaign"].value_counts().to_dict() == {f"c{i}": RUNS for i in range(4)}
    cells = pd.read_csv(out / "data" / "cells.csv")
    assert set(cells["campaign"]) == {"c0", "c1", "c2", "c3"}
    assert (out / "data" / "cells.csv").read_text().count("campaign,metric") == 1


def test_a_changed_archive_or_reporter_writes_its_parts_again(
        made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archives, out, work = _copy(made, tmp_path)
    archives = archives[:2]
    kept = _inodes(out, "c1")
    victim = next(iter(sorted((archives[0] / "runs").rglob("client.stdout"))))
    victim.write_text(victim.read_text() + "\n")  # SHA256SUMS not updated: the walk sees it
    _build(archives, out, work)
    assert _inodes(out, "c1") == kept
    raw = out / "raw" / "c0" / (str(victim.relative_to(archives[0])) + ".txt")
    assert raw.read_text() == victim.read_text()

    monkeypatch.setattr(parts, "code_hash", lambda: "another reporter")
    _build(archives, out, work)
    assert all(_inodes(out, "c1")[p] != kept[p] for p in kept)


def test_a_part_the_previous_site_cannot_vouch_for_is_written_again(
        made: Path, tmp_path: Path) -> None:
    archives, out, work = _copy(made, tmp_path)
    outside = tmp_path / "outside.js"
    outside.write_text("alert('not from this archive')")
    part = out / "data" / "runs" / "c1.js"
    part.unlink()
    part.symlink_to(outside)
    (out / "data" / "cells" / "c0.csv").unlink()
    _build(archives[:2], out, work)
    assert not part.is_symlink() and "DPB_PARTS" in part.read_text()
    assert (out / "data" / "cells" / "c0.csv").read_text().startswith("campaign,metric")
    assert outside.read_text() == "alert('not from this archive')"


def test_every_figure_the_parsers_make_has_a_runs_csv_column(made: Path) -> None:
    df = table([archive.load(made / "archives" / "c0")], cache=False)
    assert set(df.columns) <= set(RUN_COLUMNS), set(df.columns) - set(RUN_COLUMNS)


def _note(errors: list[str], error: object) -> None:
    errors.append(str(error))


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium missing")
def test_runs_and_statistics_load_one_campaign_at_a_time(grown: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    history_site = grown["site"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(history_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                                                                        "--disable-gpu"])
            try:
                for base in (served, history_site.as_uri()):
                    page = browser.new_page()
                    errors: list[str] = []
                    page.on("pageerror", partial(_note, errors))
                    page.goto(f"{base}/runs.html", wait_until="load")
                    select = page.locator("#dpb-runs select")
                    assert select.locator("option").all_inner_texts() == [
                        "c3", "c2", "c1", "c0", "all 4 campaigns"]
                    assert select.input_value() == "c3"  # the newest first, alone
                    count = page.locator("#dpb-runs p").first
                    count.filter(has_text=f"of {RUNS} rows").wait_for(timeout=10000)
                    rows = page.locator("#dpb-runs tbody tr")
                    assert "c3" not in rows.first.inner_text()  # one campaign: no column
                    link = rows.first.locator("a").first.get_attribute("href")
                    assert link and link.startswith("raw/c3/")
                    assert (history_site / link).is_file()
                    select.select_option("")
                    count.filter(has_text=f"of {4 * RUNS} rows").wait_for(timeout=10000)
                    page.goto(f"{base}/statistics.html", wait_until="load")
                    cells = page.locator("#dpb-cells select")
                    assert cells.input_value() == "c3"
                    page.locator("#dpb-cells tbody tr").first.wait_for(timeout=10000)
                    assert errors == [], (base, errors)
                    page.close()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_message_mode_shows_the_buffers_the_kernel_applied(made: Path,
                                                            grown: dict[str, Any]) -> None:
    df = table([archive.load(made / "archives" / "c3")])  # the build read it: cached
    csrc_rows = df[(df["tool"] == "csrc") & (df["test"] == "stream")]
    assert not csrc_rows.empty and set(df["socket_buffer"]) == {"message"}
    assert set(csrc_rows["rcvbuf_applied_bytes"]) == {5374922}  # from the receiver's report
    assert set(df.loc[df["tool"] == "iperf3", "sndbuf_applied_bytes"]) == {16384}
    page = html.unescape((grown["site"] / "throughput.html").read_text())  # text as shown
    assert "receiver SO_RCVBUF applied" in page and "5,249 KiB" in page


def test_a_file_in_the_way_of_the_site_is_a_clear_error(made: Path, tmp_path: Path) -> None:
    from collector.errors import UsageError

    blocker = tmp_path / "site"
    blocker.write_text("not a site")
    with pytest.raises(UsageError, match="a file is in the way"):
        _build([made / "archives" / "c0"], blocker, tmp_path / "work")
    assert not (tmp_path / "work").exists()  # said before any work
    assert blocker.read_text() == "not a site"


def test_a_long_history_is_walked_in_workers_with_the_same_answer(tmp_path: Path) -> None:
    roots = [synthetic.generate(tmp_path, 12, seed=i + 1, name=f"w{i:02d}")
             for i in range(archive.WALK_IN_WORKERS_FROM)]
    (roots[0] / "lnk").symlink_to(tmp_path)  # a link out: never walked into
    together = [archive.load(r) for r in roots]
    archive.walk_all(together)
    assert all("regular_files" in c.__dict__ for c in together)
    alone = [archive.load(r) for r in roots]
    assert [c.regular_files for c in together] == [c.regular_files for c in alone]
    assert not any(name.startswith("lnk") for name in together[0].regular_files)
