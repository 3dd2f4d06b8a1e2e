"""A history's site is rebuilt campaign by campaign: an unchanged campaign's raw files and data
move over from the previous site (the same files, not rewritten), a changed archive or changed
reporter code writes its parts again, and what the previous site held besides (a .git) stays.
In a real Chromium, the Runs and Statistics pages load one campaign's data at a time, from
http:// and from file://."""

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from reporter import archive, parts, site, synthetic
from reporter.tidy import RUN_COLUMNS, table

from .test_site_browser import CHROMIUM

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


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DPB_REPORT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_one_more_campaign_writes_only_its_own_parts(tmp_path: Path, cache: Path) -> None:
    archives = _history(tmp_path / "archives", 3)
    out, work = tmp_path / "site", tmp_path / "work"
    (out / ".git").mkdir(parents=True)  # what the user keeps in the site's folder
    (out / ".git" / "HEAD").write_text("ref: refs/heads/pages\n")
    _build(archives[:2], out, work)
    before = {c: _inodes(out, c) for c in ("c0", "c1")}
    _build(archives, out, work)
    for c in ("c0", "c1"):
        assert _inodes(out, c) == before[c], c  # moved over, not written again
    assert all((out / p).exists() for p in parts.paths("c2"))
    for c, source in zip(("c0", "c2"), (archives[0], archives[2]), strict=True):
        assert len(list((out / "raw" / c).rglob("*.txt"))) == 8 * RUNS  # 4 outputs, 2 CPU, 2 TCP
        for stdout in sorted(source.glob("runs/*/client.stdout"))[:3]:
            shown = out / "raw" / c / (str(stdout.relative_to(source)) + ".txt")
            assert shown.read_bytes() == stdout.read_bytes()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/pages\n"
    assert not list(tmp_path.glob(".site.*"))  # no scratch folder left beside the site
    runs = pd.read_csv(out / "data" / "runs.csv")
    assert list(runs.columns) == RUN_COLUMNS
    assert runs["campaign"].value_counts().to_dict() == {"c0": RUNS, "c1": RUNS, "c2": RUNS}
    cells = pd.read_csv(out / "data" / "cells.csv")
    assert set(cells["campaign"]) == {"c0", "c1", "c2"}
    assert (out / "data" / "cells.csv").read_text().count("campaign,metric") == 1


def test_a_changed_archive_or_reporter_writes_its_parts_again(
        tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archives = _history(tmp_path / "archives", 2)
    out, work = tmp_path / "site", tmp_path / "work"
    _build(archives, out, work)
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
        tmp_path: Path, cache: Path) -> None:
    archives = _history(tmp_path / "archives", 2)
    out, work = tmp_path / "site", tmp_path / "work"
    _build(archives, out, work)
    outside = tmp_path / "outside.js"
    outside.write_text("alert('not from this archive')")
    part = out / "data" / "runs" / "c1.js"
    part.unlink()
    part.symlink_to(outside)
    (out / "data" / "cells" / "c0.csv").unlink()
    _build(archives, out, work)
    assert not part.is_symlink() and "DPB_PARTS" in part.read_text()
    assert (out / "data" / "cells" / "c0.csv").read_text().startswith("campaign,metric")
    assert outside.read_text() == "alert('not from this archive')"


def test_every_figure_the_parsers_make_has_a_runs_csv_column(tmp_path: Path) -> None:
    archives = _history(tmp_path / "archives", 1)
    df = table([archive.load(archives[0])], cache=False)
    assert set(df.columns) <= set(RUN_COLUMNS), set(df.columns) - set(RUN_COLUMNS)


def _note(errors: list[str], error: object) -> None:
    errors.append(str(error))


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("history")
    previous = os.environ.get("DPB_REPORT_CACHE")
    os.environ["DPB_REPORT_CACHE"] = str(root / "cache")
    try:
        _build(_history(root / "archives", 4), root / "site", root / "work")
    finally:
        if previous is None:
            del os.environ["DPB_REPORT_CACHE"]
        else:
            os.environ["DPB_REPORT_CACHE"] = previous
    yield root / "site"
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium missing")
def test_runs_and_statistics_load_one_campaign_at_a_time(history_site: Path) -> None:
    from playwright.sync_api import sync_playwright

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


def test_message_mode_shows_the_buffers_the_kernel_applied(tmp_path: Path, cache: Path) -> None:
    import json

    root = synthetic.generate(tmp_path / "archives", 2 * 210, seed=5, name="buffers")
    manifest = json.loads((root / "manifest.json").read_text())
    for rec in manifest["runs"].values():
        if rec["repetition"] == 2:
            rec["socket_buffer"] = "message"
    (root / "manifest.json").write_text(json.dumps(manifest))
    df = table([archive.load(root)], cache=False)
    csrc_rows = df[(df["tool"] == "csrc") & (df["test"] == "stream")]
    assert set(csrc_rows["rcvbuf_applied_bytes"]) == {5374922}  # from the receiver's report
    assert set(df.loc[df["tool"] == "iperf3", "sndbuf_applied_bytes"]) == {16384}
    _build([root], tmp_path / "site", tmp_path / "work")
    page = (tmp_path / "site" / "throughput.html").read_text()
    assert "receiver SO_RCVBUF applied" in page and "5,249 KiB" in page


def test_a_file_in_the_way_of_the_site_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    from collector.errors import UsageError

    archives = _history(tmp_path / "archives", 1)
    blocker = tmp_path / "site"
    blocker.write_text("not a site")
    with pytest.raises(UsageError, match="a file is in the way"):
        _build(archives, blocker, tmp_path / "work")
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
