"""Archives someone sent: every place an archive's text reaches a page holds a payload (HTML,
Markdown links and images, attribute lists, table and heading syntax, control characters),
and raw files malformed every way a parser can meet (nesting, huge integers, infinities,
oversized error texts). The site is built by the real pipeline (mkdocs, the Vega drawing),
scanned for live content and loaded in Chromium; `invoke compare` and its JUnit are checked on
the same archives. Each case is a run under Problems or a clear refusal; nothing tracebacks.

The base archive is a synthetic one (raw files from the real tools' fixtures) with facts this
machine's real tools print (collector/facts.py's script, run here)."""

import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from collector import facts as host_facts
from collector.archive import Archive
from collector.console import printable
from collector.errors import BenchError, UsageError
from collector.exit import ExitStatus
from reporter import archive as reader
from reporter import command, gate, outdir, synthetic, tidycache
from reporter.junit import write as write_junit
from reporter.parsers import MAX_SAID_CHARS

from .helpers import CHROMIUM, invoke
from .hostile import in_chromium, live, shown, site_pages, visible

PATHS = (("bare", "host-host"),)
RUNS = 51  # 17 cells × 3: every cell gets an interval, so the gate judges
NAME = '"><img src=x onerror=alert(1)><!--'
PAYLOADS = {
    "reason": "![x](data:x){: onerror=alert(2)} [y](javascript:alert(3)) <b>b</b>\n| a | b |"
              " \ud800",  # a lone surrogate: JSON allows it, UTF-8 cannot hold it
    "iperf3 error": "[e](javascript:alert(4)) <svg onload=alert(5)> \udfff",
    "run id": "x`y\n| spoof | row |<b onmouseover=alert(6)>",
    "host": "<h onclick=alert(7)>",
    "section": "{: onclick=alert(8) }",
    "uname": "[u](javascript:alert(9)) *bold* _x_ {: #u onfocus=alert(10) autofocus }",
    "seed": "{: #x onfocus=alert(11) autofocus }",
    "commit": "\x1b[31m\x01[c](javascript:alert(12))",
    "raw name": "runs/odd/a#b?c%d e.txt",
}
MALFORMED = {  # a raw client output → what the run's problem says
    "deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "int400": ('{"end": {"sum_received": {"bits_per_second": 1' + "0" * 400 + '}}}',
               "an integer of 401 digits"),
    "int5000": ('{"x": ' + "9" * 5000 + "}", "an integer of 5,000 digits"),
    "nan": ('{"end": NaN}', "NaN is not a JSON number"),
    "inf": ('{"end": {"x": 1e400}}', "out of range"),
    "error10mb": (json.dumps({"error": "E" * 10_000_000}), "iperf3:"),
}


def _machine_facts() -> str:
    """This machine's facts as the collector records a host's (its own script, run here)."""
    return subprocess.run(["sh", "-c", host_facts.script(["lo"])], capture_output=True,
                          text=True, timeout=60, check=False).stdout


def _hostile(root: Path) -> Path:
    """A synthetic campaign with every payload in place."""
    base = synthetic.generate(root, RUNS, name="base", paths=PATHS, mtus=(1500,))
    manifest: dict[str, Any] = json.loads((base / "manifest.json").read_text())
    runs = manifest["runs"]
    ids = sorted(runs)
    iperf3 = [r for r in ids if runs[r]["tool"] == "iperf3"]
    runs[ids[0]].update(status="failed", reason=PAYLOADS["reason"])
    (base / runs[iperf3[0]]["files"]["client_stdout"]).write_text(
        json.dumps({"error": PAYLOADS["iperf3 error"]}))
    for (text, _), run_id in zip(MALFORMED.values(), iperf3[1:], strict=False):
        (base / runs[run_id]["files"]["client_stdout"]).write_text(text)
    odd = dict(runs[ids[1]], run_id=PAYLOADS["run id"], status="failed", reason="odd")
    runs[PAYLOADS["run id"]] = odd
    odd_raw = base / PAYLOADS["raw name"]
    odd_raw.parent.mkdir(parents=True)
    odd_raw.write_text("raw text")
    runs[ids[2]]["files"]["client_stderr"] = PAYLOADS["raw name"]
    manifest["plan"].append(PAYLOADS["run id"])
    manifest["campaign"]["seed"] = PAYLOADS["seed"]
    manifest["harness"]["commit"] = PAYLOADS["commit"]
    (base / "manifest.json").write_text(json.dumps(manifest))
    real = _machine_facts()
    for host in ("lab-a", PAYLOADS["host"]):
        folder = base / "facts" / host
        folder.mkdir(parents=True)
        hostile = real.replace("### uname\n", f"### uname\n{PAYLOADS['uname']}\n", 1) + \
            f"### {PAYLOADS['section']}\n{PAYLOADS['reason']}\n\x1b[2J\x00\n"
        for name in ("start-20260101T000000Z.txt", "end-20260101T000100Z.txt"):
            (folder / name).write_bytes(hostile.encode(errors="surrogatepass"))  # not UTF-8
    Archive(base, manifest).write_sums()
    return base.rename(root / NAME)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    archive = _hostile(root / "archives")
    other = synthetic.generate(root / "archives", RUNS, name="other", paths=PATHS, mtus=(1500,),
                               seed=2, created_utc="2026-02-01T00:00:00.000000Z")
    site = root / "site"
    command.report([str(archive), str(other)], site, root)
    return {"archive": archive, "other": other, "site": site, "root": root}


def test_no_page_holds_live_content(hostile: dict[str, Path]) -> None:
    pages = site_pages(hostile["site"])
    assert len(pages) >= 14
    for page in pages:
        text = page.read_text()
        assert live(page) == [], page.name
        assert NAME not in text and PAYLOADS["iperf3 error"] not in text, page.name
        assert "\x1b" not in text and "\x01" not in text, page.name


def test_every_payload_reads_as_the_text_it_is(hostile: dict[str, Path]) -> None:
    site = hostile["site"]
    problems, environment = visible(site / "problems.html"), visible(site / "environment.html")
    assert shown(PAYLOADS["reason"]) in problems
    assert shown(PAYLOADS["iperf3 error"]) in problems
    assert shown(PAYLOADS["run id"]) in problems
    for key in ("host", "uname", "section", "seed"):
        assert shown(PAYLOADS[key]) in environment, key
    assert shown(PAYLOADS["commit"][:12]) in environment  # a commit shows 12 characters
    assert shown(NAME) in visible(site / "index.html")
    title = (site / "index.html").read_text().split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "\ufffd" in title  # the theme prints it raw: kept plain


def test_a_run_id_cannot_add_rows_to_problems(hostile: dict[str, Path]) -> None:
    page = (hostile["site"] / "problems.html").read_text()
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")
    manifest = json.loads((hostile["archive"] / "manifest.json").read_text())
    expected = 3 + len(MALFORMED)  # the failed runs, the iperf3 error, each malformed file
    assert PAYLOADS["run id"] in manifest["runs"]
    assert rows == expected
    assert "| spoof | row |" not in visible(hostile["site"] / "problems.html").replace(
        shown(PAYLOADS["run id"]), "")


def test_each_malformed_raw_file_is_a_problem_of_its_run(hostile: dict[str, Path]) -> None:
    problems = visible(hostile["site"] / "problems.html")
    for label, (_, said) in MALFORMED.items():
        assert said in problems, label
    longest = max(len(cell) for cell in problems.split("failed:"))
    assert "E" * (MAX_SAID_CHARS + 1) not in problems and longest < 20_000


def test_raw_file_links_survive_odd_names(hostile: dict[str, Path]) -> None:
    site = hostile["site"]
    name = hostile["archive"].name
    script = next((site / "data" / "runs").glob("*.js"), None)
    assert script is not None
    texts = "".join(p.read_text() for p in (site / "data" / "runs").glob("*.js"))
    assert "a%23b%3Fc%25d%20e.txt" in texts  # percent-encoded in the link
    assert (site / "raw" / name / "runs" / "odd" / "a#b?c%d e.txt").is_file()


def test_no_local_path_reaches_the_site(hostile: dict[str, Path]) -> None:
    root = str(hostile["root"])
    for path in hostile["site"].rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".csv", ".xml", ".json", ".svg"):
            text = path.read_text(errors="replace")
            assert root not in text, path
            assert "dpb-report-" not in text, path


def test_the_site_runs_nothing_in_chromium(hostile: dict[str, Path]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium missing")
    found, dialogs = in_chromium(hostile["site"])
    assert {page: attrs for page, attrs in found.items() if attrs} == {}
    assert len(found) >= 14 and dialogs == []


def test_compare_on_hostile_archives_writes_valid_junit(hostile: dict[str, Path],
                                                        tmp_path: Path) -> None:
    verdicts = command.compare(str(hostile["other"]), str(hostile["archive"]), 5.0)
    assert gate.outcome(verdicts.changes, 5.0).status in (ExitStatus.OK, ExitStatus.REGRESSION)
    junit = tmp_path / "gate.xml"
    odd = [replace(ch, cell=("bare\x01\x1b[31m", *ch.cell[1:])) for ch in verdicts.changes]
    write_junit(odd, "base\x01", NAME, junit)
    suite = ET.parse(junit).getroot().find("testsuite")  # valid XML, \x01 and all
    assert suite is not None and int(suite.get("tests", "0")) == len(odd) > 0
    assert "\x01" not in junit.read_text() and "\x1b" not in junit.read_text()
    # tasks.compare prints the table through printable()
    assert "\x1b" not in printable("\n".join(gate.table(odd)))


def test_a_gate_that_compared_nothing_fails(hostile: dict[str, Path], tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    shutil.copytree(hostile["other"], failed)
    manifest = json.loads((failed / "manifest.json").read_text())
    for rec in manifest["runs"].values():
        rec.update(status="failed", reason="client exited 1")
    manifest["created_utc"] = "2026-03-01T00:00:00.000000Z"
    (failed / "manifest.json").write_text(json.dumps(manifest))
    junit = tmp_path / "gate.xml"
    proc = invoke("compare", "--baseline", str(hostile["other"]), "--candidate", str(failed),
                  "--junit", str(junit))
    assert proc.returncode == ExitStatus.NOTHING_COMPARED, proc.stdout + proc.stderr
    assert "nothing was compared" in proc.stderr and "Traceback" not in proc.stderr
    assert junit.is_file()
    assert "\x1b" not in proc.stdout + proc.stderr


# --- --out -----------------------------------------------------------------------------------

def test_out_refuses_a_folder_that_is_not_a_site(hostile: dict[str, Path],
                                                 tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "important.txt").write_text("keep me")
    for out in (precious, hostile["archive"], hostile["archive"].parent,
                hostile["archive"] / "sub"):
        with pytest.raises(UsageError, match="nothing was written"):
            command.report([str(hostile["other"]), str(hostile["archive"])], out, tmp_path)
    assert (precious / "important.txt").read_text() == "keep me"
    assert not (hostile["archive"] / "sub").exists()
    link = tmp_path / "link"
    link.symlink_to(precious)
    with pytest.raises(UsageError, match="symbolic link"):
        command.report([str(hostile["other"])], link, tmp_path)
    assert sorted(p.name for p in precious.iterdir()) == ["important.txt"]


def test_a_rebuilt_site_keeps_what_the_tool_did_not_write(hostile: dict[str, Path],
                                                          tmp_path: Path) -> None:
    site = tmp_path / "site"
    command.report([str(hostile["other"])], site, tmp_path)
    assert (site / outdir.MARKER).is_file()
    (site / "NOTES.md").write_text("mine")
    (site / "CNAME").write_text("bench.example")
    stale = tmp_path / f".{site.name}.next-left"  # what an interrupted build leaves
    stale.mkdir()
    (stale / outdir.SCRATCH_MARK).touch()
    theirs = tmp_path / f".{site.name}.next-theirs"  # looks alike, not ours: kept
    theirs.mkdir()
    command.report([str(hostile["other"]), str(hostile["archive"])], site, tmp_path)
    assert (site / "NOTES.md").read_text() == "mine"
    assert (site / "CNAME").read_text() == "bench.example"
    assert (site / "compare.html").is_file()
    assert not stale.exists() and theirs.is_dir()
    command.report([str(hostile["other"])], site, tmp_path)  # compare.html is the tool's
    assert not (site / "compare.html").exists() and (site / "NOTES.md").is_file()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{site.name}.")]
    assert leftovers == [theirs.name]


def test_an_unwritable_out_is_a_clear_error(hostile: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write there"):
        command.report([str(hostile["other"])], Path("/proc/dpb-site"), tmp_path)


# --- tarballs ---------------------------------------------------------------------------------

def test_problems_of_a_tarball_name_the_tarball(hostile: dict[str, Path], tmp_path: Path) -> None:
    tarball = tmp_path / "sent.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(hostile["archive"], arcname="sent")
    site = tmp_path / "site"
    result = command.report([str(tarball)], site, tmp_path)
    assert result["problems"] >= len(MALFORMED)
    assert "dpb-report-" not in (site / "problems.html").read_text()


# --- the rest ------------------------------------------------------------------------------

def test_the_parse_cache_key_covers_a_file_made_unreadable(hostile: dict[str, Path],
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "c"
    shutil.copytree(hostile["other"], copy)
    before = tidycache.key(reader.load(copy))
    victim = next((copy / "runs").rglob("client.stdout"))
    os.chmod(victim, 0)
    assert tidycache.key(reader.load(copy)) != before


def test_a_folder_of_archives_reads_every_campaign_in_it(hostile: dict[str, Path],
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    shutil.copytree(hostile["other"], folder / "other")
    with tarfile.open(folder / "other.tar.gz", "w:gz") as tar:  # its packed copy: once
        tar.add(folder / "other", arcname="other")
    assert command.expand(folder) == [folder / "other"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no campaign archive in it"):
        command.expand(empty)


@pytest.mark.parametrize("name", [b"c" * 255, b"camp-\xff\xfe"])
def test_a_campaign_folder_name_a_site_cannot_hold_is_refused(hostile: dict[str, Path],
                                                              tmp_path: Path,
                                                              name: bytes) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/" + name))
    shutil.copytree(hostile["other"], folder)
    with pytest.raises(BenchError, match="folder name is"):
        command.report([str(folder)], tmp_path / "site", tmp_path)
    assert not (tmp_path / "site").exists()


def test_a_user_file_named_like_a_new_page_stops_the_swap_and_is_kept(
        hostile: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    command.report([str(hostile["other"])], site, tmp_path)
    # Notes made before and after the clashing file: a folder lists its entries in creation
    # order or in its reverse (tmpfs), so some come before it either way.
    notes = [f"note-{i:02d}.md" for i in range(20)]
    for name in notes[:10]:
        (site / name).write_text(name)
    (site / "compare.html").write_text("mine too")  # the next build makes a compare.html
    for name in notes[10:]:
        (site / name).write_text(name)
    with pytest.raises(UsageError, match=r"'compare\.html' was not written by dataplane-bench"):
        command.report([str(hostile["other"]), str(hostile["archive"])], site, tmp_path)
    assert [(site / n).read_text() for n in notes] == notes
    assert (site / "compare.html").read_text() == "mine too"
