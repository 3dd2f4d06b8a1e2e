"""`invoke collect` interrupted at random points with SIGINT, SIGTERM and SIGKILL, resumed each
time: no run lost, none duplicated, no file corrupt, and the hosts cleaned.

The figures (kills, signals, runs, incomplete attempts kept) are printed for docs/reliability.md:
`.venv/bin/invoke test -k interruptions` with `-s` in PYTEST_ADDOPTS shows them.
"""

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from collector import plan
from collector.archive import verify_sums
from collector.campaign import load
from collector.lab import LabSpec

from .collecting import campaign_netns, collect_argv, host_state, only_archive, write_campaign
from .helpers import invoke

pytestmark = pytest.mark.lab
KILLS = 12
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
SEED = int(os.environ.get("DPB_KILL_SEED", "20261126"))


def manifest_of(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    return data


def check_archive(root: Path, earlier: dict[str, Any]) -> None:
    """After any stop: the manifest parses, every recorded run has all its files, and no record
    written before changed."""
    manifest = manifest_of(root)
    for run_id, record in manifest["runs"].items():
        for rel in record["files"].values():
            assert (root / rel).is_file(), (run_id, rel)
    for run_id, record in earlier.items():
        assert manifest["runs"][run_id] == record, run_id


def test_random_kills_then_resume_lose_nothing(lab_spec: LabSpec, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    before = host_state(lab_spec)
    campaign = write_campaign(tmp_path / "k.yaml", configurations=["bare", "container", "overlay"],
                              tools=["qperf", "iperf3"], repetitions=2)
    expected = {r.run_id for r in plan.runs(load(campaign, lab_spec.hosts_file))}
    out = tmp_path / "out"
    root: Path | None = None
    seen: dict[str, Any] = {}
    kills: list[tuple[str, float, int]] = []
    for k in range(KILLS):
        sig = SIGNALS[k % len(SIGNALS)]
        argv = (collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out))
                if root is None else collect_argv(lab_spec, "--resume", str(root)))
        log = tmp_path / f"stop-{k}.log"
        with open(log, "w") as stderr:
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr,
                                    start_new_session=True)
        at = rng.uniform(1.0, 7.0)
        try:
            time.sleep(at)
            if proc.poll() is None:
                os.killpg(proc.pid, sig)  # the whole group, as a terminal's Ctrl-C does
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if root is None and not list(out.glob("*/manifest.json")):
            kills.append((sig.name, round(at, 2), 0))  # stopped before its archive existed
            continue
        root = root or only_archive(out)
        check_archive(root, seen)
        seen = manifest_of(root)["runs"]
        kills.append((sig.name, round(at, 2), len(seen)))
        if sig != signal.SIGKILL:
            # A graceful stop tears down and restores before it exits.
            assert proc.returncode != 0 or len(seen) == len(expected)
            assert manifest_of(root)["state"] in ("stopped", "complete"), log.read_text()[-1500:]
            assert host_state(lab_spec) == before, (sig.name, at)
            assert campaign_netns(root) == []
    assert root is not None
    final = subprocess.run(collect_argv(lab_spec, "--resume", str(root)), capture_output=True,
                           text=True, timeout=900, check=False)
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
    check_archive(root, seen)
    manifest = manifest_of(root)
    assert manifest["state"] == "complete"
    assert set(manifest["runs"]) == expected                      # none lost
    assert sorted(p.name for p in (root / "runs").iterdir()) == sorted(expected)  # none twice
    assert all(r["status"] == "ok" for r in manifest["runs"].values())
    assert verify_sums(root) == []                                # none corrupt
    site = tmp_path / "site"
    report = invoke("report", "--archive", str(root), "--out", str(site))
    assert report.returncode == 0, report.stderr[-2000:]
    assert f"{len(expected)} ok, 0 listed under Problems" in report.stdout.replace("\n", " ")
    assert host_state(lab_spec) == before
    assert campaign_netns(root) == []
    incomplete = len(list((root / "incomplete").iterdir())) if (root / "incomplete").is_dir() else 0
    print(f"\ninterruptions (seed {SEED}): {len(kills)} stops "
          f"{', '.join(f'{s}@{t}s→{n} runs' for s, t, n in kills)}; "
          f"{len(expected)} runs, 0 lost, 0 duplicated, 0 corrupt, "
          f"{incomplete} interrupted attempts kept in incomplete/")
