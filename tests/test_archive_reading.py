"""An archive folder or .tar.gz is untrusted: the reporter never follows a link out of it, never
reads a special file, bounds what it reads, and names the archive in every refusal.

No root needed: the archives are synthetic (reporter/synthetic.py, raw files from the real
tools' outputs), the sites real mkdocs builds."""

import io
import json
import os
import secrets
import tarfile
import time
import tracemalloc
from pathlib import Path

import pytest

from collector.errors import BenchError
from reporter import archive as reader
from reporter import command, synthetic

from .helpers import invoke


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, bytes]:
    """A secret file outside every archive: no byte of it may reach a site."""
    token = secrets.token_hex(24).encode()
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + token + b"\n")
    return secret, token


def _archive(tmp_path: Path, runs: int = 140) -> tuple[Path, dict[str, object]]:
    root = synthetic.generate(tmp_path / "archives", runs)
    return root, json.loads((root / "manifest.json").read_text())


def _save(root: Path, manifest: dict[str, object]) -> None:
    (root / "manifest.json").write_text(json.dumps(manifest))


def _site_bytes(site: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in site.rglob("*") if p.is_file()]


def _report(archive: Path, site: Path) -> None:
    """`invoke report`'s build, in this process (the CLI's own tests start it as a user does)."""
    command.report([str(archive)], site, archive.parent)


def test_links_and_special_files_in_a_folder_are_refused(tmp_path: Path,
                                                         outside: tuple[Path, bytes]) -> None:
    secret, token = outside
    root, manifest = _archive(tmp_path, runs=40)
    runs: dict[str, dict[str, object]] = manifest["runs"]  # type: ignore[assignment]
    ids = sorted(runs)
    victims = ids[:4]

    def files(i: int) -> dict[str, str]:
        return runs[victims[i]]["files"]  # type: ignore[return-value]

    # 1. a raw file the parser reads is a link to a file outside
    target = root / files(0)["client_stdout"]
    target.unlink()
    target.symlink_to(secret)
    # 2. a raw file nothing parses (stderr) is a link outside: still refused, not copied
    target = root / files(1)["client_stderr"]
    target.unlink()
    target.symlink_to(secret)
    # 3. a link to a folder outside, and a record naming a file through it
    (root / "lnk").symlink_to(secret.parent)
    files(2)["client_stderr"] = "lnk/secret.txt"
    # 4. a FIFO where a raw file should be (reading it would block forever)
    target = root / files(3)["server_stderr"]
    target.unlink()
    os.mkfifo(target)
    # 5. the facts: a phase file that links outside, and a host folder that is a link
    (root / "facts" / "lab-a").mkdir(parents=True)
    (root / "facts" / "lab-a" / "start-x.txt").symlink_to(secret)
    (root / "facts" / "lab-b").symlink_to(secret.parent)
    _save(root, manifest)
    if Path("/etc/shadow").is_file():
        (root / files(1)["server_stderr"]).unlink()
        (root / files(1)["server_stderr"]).symlink_to("/etc/shadow")

    site = tmp_path / "site"
    _report(root, site)
    problems = (site / "problems.html").read_text()
    for run_id in victims:
        assert run_id in problems, run_id
    assert "leaves the archive" in problems and "not a regular file" in problems
    shadow = Path("/etc/shadow").read_bytes() if os.access("/etc/shadow", os.R_OK) else b""
    for path, data in _site_bytes(site):
        assert token not in data, path
        assert not (len(shadow) > 40 and shadow in data), path
    assert not list(site.rglob("secret.txt*"))


def test_a_linked_parent_folder_is_refused(tmp_path: Path,
                                           outside: tuple[Path, bytes]) -> None:
    """`runs -> elsewhere`: every raw file resolves outside the archive, so none is read."""
    secret, token = outside
    root, _ = _archive(tmp_path)
    elsewhere = secret.parent / "runs"
    (root / "runs").rename(elsewhere)
    for path in elsewhere.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes() + b"\n" + token)
    (root / "runs").symlink_to(elsewhere)
    site = tmp_path / "site"
    _report(root, site)
    problems = (site / "problems.html").read_text()
    assert problems.count("leaves the archive") >= 100
    for path, data in _site_bytes(site):
        assert token not in data, path


def test_a_linked_manifest_is_refused(tmp_path: Path, outside: tuple[Path, bytes]) -> None:
    secret, _ = outside
    root, manifest = _archive(tmp_path, runs=10)
    (secret.parent / "m.json").write_text(json.dumps(manifest))
    (root / "manifest.json").unlink()
    (root / "manifest.json").symlink_to(secret.parent / "m.json")
    proc = invoke("report", "--archive", str(root), "--out", str(tmp_path / "site"))
    assert proc.returncode == 1
    assert f"{root}: manifest.json is a link out of the archive" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_deeply_nested_manifest_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    (root / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(BenchError) as caught:  # the CLI prints a BenchError, exit 1
        command.report([str(root)], tmp_path / "site", tmp_path)
    assert str(caught.value).startswith(f"{root}: manifest.json is not a manifest: nested too "
                                        "deeply")
    assert "not made by dataplane-bench" in caught.value.hint


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_huge_manifest_in_a_small_tarball_is_refused_fast(tmp_path: Path) -> None:
    """50 MB of JSON packs into ~150 KB: refused from the tar header, before extraction."""
    body = b'{"schema_version": 1, "runs": {}, "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    tarball = _tarball(tmp_path / "huge.tar.gz", {"c/manifest.json": body})
    assert tarball.stat().st_size < 1024 * 1024
    tracemalloc.start()
    start = time.monotonic()
    with pytest.raises(BenchError) as caught:
        command.report([str(tarball)], tmp_path / "site", tmp_path)
    elapsed = time.monotonic() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = str(caught.value)
    assert str(tarball) in message and "manifest.json" in message, message
    assert "dpb-report-" not in message  # never a scratch path the user did not name
    assert elapsed < 10 and peak < 64 * 1024 * 1024, (elapsed, peak)


def test_an_extracted_manifest_error_names_the_tarball(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "bad.tar.gz", {"c/manifest.json": b"{not json"})
    with pytest.raises(BenchError, match=rf"^{tmp_path}/bad\.tar\.gz \(c/\): manifest\.json is "
                                         r"not a manifest: not JSON"):
        command.report([str(tarball)], tmp_path / "site", tmp_path)


def test_an_oversized_raw_file_is_a_problem_not_a_read(tmp_path: Path) -> None:
    root, manifest = _archive(tmp_path, runs=10)
    runs: dict[str, dict[str, dict[str, str]]] = manifest["runs"]  # type: ignore[assignment]
    victim = sorted(runs)[0]
    path = root / runs[victim]["files"]["client_stdout"]
    with open(path, "wb") as f:
        f.truncate(reader.MAX_RAW_BYTES + 1)  # sparse: costs no disk
    campaign = reader.load(root)
    with pytest.raises(BenchError, match="larger than"):
        campaign.read(runs[victim]["files"]["client_stdout"])


def test_a_raw_file_is_read_whole_up_to_its_bound_and_no_further(tmp_path: Path) -> None:
    """Read by its size first: a file of exactly the bound reads whole, one byte more is
    refused, and one that grows after it was measured is read on to the bound."""
    root, manifest = _archive(tmp_path, runs=10)
    runs: dict[str, dict[str, dict[str, str]]] = manifest["runs"]  # type: ignore[assignment]
    rel = runs[sorted(runs)[0]]["files"]["client_stdout"]
    campaign = reader.load(root)
    (root / rel).write_bytes(b"x" * 100_000)
    assert campaign.read_bytes(rel, limit=100_000) == b"x" * 100_000
    with pytest.raises(BenchError, match="larger than 99,999 bytes"):
        campaign.read_bytes(rel, limit=99_999)
    grown = os.stat
    with pytest.MonkeyPatch.context() as patch:  # measured at 10 bytes, 100,000 there
        patch.setattr(os, "fstat", lambda fd: os.stat_result((*grown(fd)[:6], 10,
                                                              *grown(fd)[7:])))
        assert campaign.read_bytes(rel, limit=200_000) == b"x" * 100_000
        with pytest.raises(BenchError, match="larger than"):
            campaign.read_bytes(rel, limit=50_000)


def test_the_parse_in_workers_gives_the_rows_of_the_parse_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_FROM runs the raw files are parsed in worker processes, which get the
    records as the manifest holds them: the same rows, problems included, as one process."""
    from reporter import tidy

    root, manifest = _archive(tmp_path, runs=120)
    runs: dict[str, dict[str, dict[str, str]]] = manifest["runs"]  # type: ignore[assignment]
    broken = next(r for r in sorted(runs) if ".iperf3." in r)
    (root / runs[broken]["files"]["client_stdout"]).write_text("{not json")
    campaign = reader.load(root)
    monkeypatch.setattr(tidy, "PARALLEL_FROM", 50)
    parallel = tidy.campaign_rows(campaign)
    serial = tidy.campaign_rows(campaign, parallel=False)
    assert parallel == serial and len(serial) == 120
    assert [r["run_id"] for r in serial if r["status"] == "unparseable"] == [broken]
