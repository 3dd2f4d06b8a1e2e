"""`invoke report` on a real lab campaign: the site builds, stays offline, survives bad input."""

import io
import json
import re
import shutil
import tarfile
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from collector.errors import BenchError
from reporter import archive as reader
from reporter import publish

from .helpers import added_pages, invoke, study_pages

REPO = Path(__file__).resolve().parent.parent


# The lab campaign measures the study's questions: no page that only an added test makes.
PAGES = study_pages()
ADDED = added_pages()


def test_every_page_is_built_with_charts_and_data(site: Path) -> None:
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page
    assert not (site / "compare.html").exists()  # one campaign: nothing to compare
    assert not [p for p in ADDED if (site / f"{p}.html").exists()]  # not measured: no page
    svgs = list((site / "charts").glob("*.svg"))
    assert len(svgs) >= 8
    for svg in svgs:
        assert "<svg" in svg.read_text()[:500]
    csv = (site / "data" / "runs.csv").read_text().splitlines()
    assert csv[0].startswith("campaign,run_id") and "gbps" in csv[0] and "cpu_per_gbps" in csv[0]
    assert len(csv) == 1 + 2 * 3 * (2 + 1 + 2 + 2 + 1)  # runs: 2 paths x 3 reps x cells
    index = unescape((site / "index.html").read_text())
    assert "Containers reach" in index and "bare-metal throughput" in index
    assert "share one kernel" in index and "same boot_id" in index  # what was observed,
    assert "embedded lab" not in index  # not where it was assumed to run
    assert index.count("3 runs per cell") == 1  # the caveats, said once at the top
    stats = (site / "data" / "cells.csv").read_text()
    assert stats.startswith("campaign,metric,configuration")
    for column in ("cpu_sender_softirq_pct", "cpu_receiver_system_pct",
                   "cpu_sender_busiest_core_pct"):
        assert column in csv[0], column
    cpu = unescape((site / "cpu.html").read_text())
    assert "its busiest single core" in cpu  # the class chart's caption; its spec beside:
    specs = [(site / "charts" / f"{name}.js").read_text()
             for name in re.findall(r'data-spec="(\w+)"', cpu)]
    split = [s for s in specs if "Where the CPU time goes" in s]
    assert split and all('"softirq"' in s and "busiest core" in s for s in split)
    # three tools measured the same stream cells
    tools = unescape((site / "tools.html").read_text())
    assert "the tools against each other" in "".join(
        (site / "charts" / f"{name}.js").read_text()
        for name in re.findall(r'data-spec="(\w+)"', tools))
    assert "qperf&#39;s CPU against ours" in tools or "qperf's CPU against ours" in tools
    assert "qperf_sender_cpu_pct" in csv[0] and "iperf3_retransmits" in csv[0]
    # TCP counters from both endpoints' namespaces, every stream run; on the Throughput page.
    runs = pd.read_csv(site / "data" / "runs.csv")
    stream = runs[runs["test"] == "stream"]
    assert stream["tcp_retrans_per_gb"].notna().all() and (stream["tcp_retrans_segs"] >= 0).all()
    assert "TCP health" in unescape((site / "throughput.html").read_text())


def test_nothing_leaves_the_origin(site: Path) -> None:
    for page in site.rglob("*.html"):
        html = page.read_text()
        # What a browser would load by itself: scripts, styles, images, frames, fonts.
        loads = re.findall(r'<(?:script|img|link|iframe|source|audio|video)\b[^>]*?'
                           r'(?:src|href)=["\']((?:https?:)?//[^"\']+)', html)
        assert loads == [], f"{page.name} loads from off the origin: {loads}"
        assert "fonts.googleapis" not in html
    assert (site / "assets" / "vega-bundle.js").stat().st_size > 100_000


def test_runs_page_links_raw_files(site: Path, campaign: Path) -> None:
    runs = (site / "data" / "runs" / f"{campaign.name}.js").read_text()
    manifest = json.loads((campaign / "manifest.json").read_text())
    some = next(iter(manifest["runs"].values()))
    for rel in some["files"].values():
        shown = rel if rel.endswith(".txt") else rel + ".txt"  # never *.txt.txt
        assert f"raw/{campaign.name}/{shown}" in runs
        assert (site / "raw" / campaign.name / shown).read_bytes() == (
            campaign / rel).read_bytes()
    assert ".txt.txt" not in runs


def test_bad_raw_files_are_listed_and_the_rest_builds(campaign: Path, tmp_path: Path) -> None:
    broken = tmp_path / campaign.name
    shutil.copytree(campaign, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    victims = sorted(manifest["runs"])[:2]
    (broken / manifest["runs"][victims[0]]["files"]["client_stdout"]).write_text("{trunc")
    (broken / manifest["runs"][victims[1]]["files"]["cpu:lab-a"]).write_text("<script>x")
    out = tmp_path / "site"
    proc = invoke("report", "--archive", str(broken), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = (out / "problems.html").read_text()
    for run_id in victims:
        assert run_id in problems
    assert "<script>x" not in problems


def test_unknown_schema_version_is_a_clear_error(campaign: Path, tmp_path: Path) -> None:
    copy = tmp_path / campaign.name
    shutil.copytree(campaign, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(manifest))
    proc = invoke("report", "--archive", str(copy), "--out", str(tmp_path / "s"))
    assert proc.returncode == 1
    assert "schema_version 99 is unknown" in proc.stderr


def test_packed_archive_reports_the_same(campaign: Path, tmp_path: Path) -> None:
    proc = invoke("archive.pack", "--path", str(campaign), "--out", str(tmp_path / "a.tar.gz"))
    assert proc.returncode == 0, proc.stderr
    loaded = reader.load(tmp_path / "a.tar.gz", tmp_path / "x")
    assert loaded.manifest == json.loads((campaign / "manifest.json").read_text())


@pytest.mark.parametrize("member", ["../evil.txt", "/abs/evil.txt", "link"])
def test_hostile_tarballs_are_refused(tmp_path: Path, member: str) -> None:
    tarball = tmp_path / "hostile.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
        else:
            data = b"x"
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BenchError, match=r"outside the extraction folder|link or a device"):
        reader.load(tarball, tmp_path / "x")
    assert not (tmp_path / "evil.txt").exists()


def test_an_external_asset_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text('# x\n\n<script src="https://cdn.example.invalid/x.js">'
                                   "</script>\n")
    config = publish.mkdocs_yml(tmp_path, docs, "t", [{"x": "index.md"}])
    with pytest.raises(BenchError, match=r"External file: https://cdn\.example\.invalid/x\.js"):
        publish.mkdocs_build(config, tmp_path / "out")
