"""Shared fixtures. Lab tests build real namespaces, veths and sshd, and remove them by name."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collector import lab
from collector.hosts import Host, load_hosts

from .helpers import invoke, make_spec, tree_digest

MEMORY = Path("/dev/shm")
MEMORY_FREE_BYTES = 8 * 1024**3


def _scratch_in_memory() -> None:
    """A session writes ~250,000 small files (synthetic archives, sites, their copies); on
    this machine's disk creating and then deleting them was a third of the fast tier's time.
    Scratch folders go to RAM (a tmpfs) when TMPDIR is not the user's choice and the tmpfs
    has room; subprocesses (reports, the collector) inherit TMPDIR."""
    if os.environ.get("TMPDIR") or not MEMORY.is_dir() or not os.access(MEMORY, os.W_OK):
        return
    if shutil.disk_usage(MEMORY).free < MEMORY_FREE_BYTES:
        return
    os.environ["TMPDIR"] = str(MEMORY)
    tempfile.tempdir = None  # computed again from TMPDIR, before pytest makes its folders


_scratch_in_memory()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the lab (its fixture, or a campaign collected on it) is a lab test,
    whatever its module: `pytest -m "not lab"` is the tier that runs without root."""
    for item in items:
        if "lab_spec" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session", autouse=True)
def report_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One parse and drawing cache for the session (reports started as subprocesses inherit
    it): every session starts cold, as CI does, and nothing is left in the user's cache."""
    root = tmp_path_factory.mktemp("report-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DPB_REPORT_CACHE", str(root))
        yield root


@pytest.fixture(scope="session")
def lab_spec() -> Iterator[lab.LabSpec]:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root")
    spec = make_spec(wire_octet=1)
    try:
        lab.up(spec, say=lambda _: None)
        yield spec
    finally:
        lab.down(spec, purge=True)


@pytest.fixture(scope="session")
def lab_hosts(lab_spec: lab.LabSpec) -> list[Host]:
    return load_hosts(lab_spec.hosts_file)


@pytest.fixture(scope="session")
def campaign(lab_spec: lab.LabSpec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real, small campaign on the lab: every tool, two configurations, two sizes."""
    work = tmp_path_factory.mktemp("report")
    body = {"name": "rep", "hosts": "lab", "configurations": ["bare", "container"],
            "directions": {"container": ["container-container"]},
            "tools": ["qperf", "iperf3", "csrc"], "message_sizes": [1000, 20000],
            "repetitions": 3, "duration_s": 1, "warmup_s": 1, "run_timeout_s": 20, "seed": 3}
    (work / "c.yaml").write_text(yaml.safe_dump(body))
    proc = invoke("collect", "--lab-id", lab_spec.lab_id, "--state-root", lab_spec.state_root,
                  "--campaign", str(work / "c.yaml"), "--out", str(work / "archive"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    yield next(p.parent for p in (work / "archive").glob("*/manifest.json"))


@pytest.fixture(scope="session")
def site(campaign: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    before = tree_digest(campaign)
    proc = invoke("report", "--archive", str(campaign), "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"your site is at {out.resolve()}/index.html" in proc.stdout.replace("\n", "")
    assert tree_digest(campaign) == before, "the report must never modify the archive"
    return out
