"""Faults in the middle of a lab campaign: sshd killed on a host, the wire down, a tool that
hangs, the archive's filesystem full. Each is recorded with its reason, the campaign stops or
goes on as docs/reliability.md says, nothing is left on the hosts, and a resume finishes it."""

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector import lab
from collector.archive import verify_sums
from collector.exit import ExitStatus
from collector.lab import LabSpec
from collector.preparation import REMOTE_WORKDIR

from .collecting import (
    campaign_netns,
    collect_argv,
    finish,
    host_state,
    only_archive,
    orphaned_tools,
    records,
    running,
    wait_for,
    write_campaign,
)
from .helpers import invoke, make_spec

pytestmark = pytest.mark.lab


def resume_to_the_end(spec: LabSpec, root: Path) -> dict[str, Any]:
    proc = subprocess.run(collect_argv(spec, "--resume", str(root)), capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    manifest: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    assert manifest["state"] == "complete" and set(manifest["runs"]) == set(manifest["plan"])
    assert verify_sums(root) == []
    return manifest


def netns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                         check=True).stdout
    return [int(p) for p in out.split()]


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@pytest.fixture
def own_lab() -> Iterator[LabSpec]:
    """A lab of the test's own: the faults below break it on purpose, and a lab that was
    broken and repaired must not be the one later tests measure on."""
    spec = make_spec(wire_octet=8)
    try:
        lab.up(spec, say=lambda _: None)
        yield spec
    finally:
        lab.down(spec, purge=True)


def test_sshd_killed_on_a_host_stops_the_campaign_naming_it(own_lab: LabSpec,
                                                            tmp_path: Path) -> None:
    spec = own_lab
    before = host_state(spec)
    campaign = write_campaign(tmp_path / "s.yaml", configurations=["bare", "container"],
                              tools=["qperf"], order="sequential")
    out = tmp_path / "out"
    proc = running(collect_argv(spec, "--campaign", str(campaign), "--out", str(out)))
    wait_for("the first container run", lambda: any(
        k.startswith("container.") for k in records(out)), proc)
    # Every sshd of host B: the listener and the session carrying the collector's connection.
    for pid in netns_pids(spec.netns("b")):
        if comm(pid) == "sshd":
            os.kill(pid, signal.SIGKILL)
    code, _, err = finish(proc)
    assert code == ExitStatus.HOST_UNREACHABLE, err[-2000:]
    assert "lab-b" in err
    root = only_archive(out)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["state"] == "stopped" and "lab-b" in manifest["state_reason"]
    assert not any(r["status"] == "ok" and not r["files"] for r in manifest["runs"].values())
    # Host A, still reachable, was cleaned: no namespace of this campaign on it.
    assert not [n for n in campaign_netns(root) if n[-2] == "0"]
    invoke("lab.up", "--lab-id", spec.lab_id, "--state-root", spec.state_root)
    resume_to_the_end(spec, root)
    assert host_state(spec) == before
    assert campaign_netns(root) == []
    # The qperf server host B was running when its sshd died went with its namespace.
    assert orphaned_tools() == []


def test_the_wire_going_down_fails_runs_with_reasons_then_stops(own_lab: LabSpec,
                                                               tmp_path: Path) -> None:
    spec = own_lab
    before = host_state(spec)
    campaign = write_campaign(tmp_path / "w.yaml", configurations=["bare", "container"],
                              tools=["qperf"], repetitions=2, order="sequential",
                              run_timeout_s=5)
    out = tmp_path / "out"
    proc = running(collect_argv(spec, "--campaign", str(campaign), "--out", str(out)))
    wait_for("the first run", lambda: bool(records(out)), proc)
    subprocess.run(["ip", "-n", spec.netns("a"), "link", "set", "wire0", "down"], check=True)
    code, _, err = finish(proc)
    root = only_archive(out)
    manifest = json.loads((root / "manifest.json").read_text())
    lost = [r for r in manifest["runs"].values() if r["status"] != "ok"]
    assert lost, "runs during the outage must be recorded as failed or timed out"
    assert all(r["reason"] for r in lost)
    # The next configuration cannot be built (a route over a down link) or verified: the
    # campaign stops, saying which configuration and host.
    assert code == ExitStatus.ERROR, err[-2000:]
    assert "container" in err and ("cannot reach" in err or "lab-a" in err), err
    assert manifest["state"] == "stopped" and "container" in manifest["state_reason"]
    assert campaign_netns(root) == []
    # The link comes back without the routes the kernel dropped with it (the lab's default
    # route over the wire): the lab notices and repairs, as an operator would.
    subprocess.run(["ip", "-n", spec.netns("a"), "link", "set", "wire0", "up"], check=True)
    status = invoke("lab.status", "--lab-id", spec.lab_id, "--state-root", spec.state_root)
    assert status.returncode == ExitStatus.LAB_BROKEN, status.stdout
    repair = invoke("lab.up", "--lab-id", spec.lab_id, "--state-root", spec.state_root)
    assert repair.returncode == 0 and "building wire" in repair.stdout, repair.stdout
    before = host_state(spec)  # a new wire: new interface indexes
    final = resume_to_the_end(spec, root)
    assert [k for k, r in final["runs"].items() if r["status"] != "ok"] == [
        k for k, r in manifest["runs"].items() if r["status"] != "ok"]  # kept as recorded
    assert host_state(spec) == before


def test_a_hung_tool_times_out_and_the_rest_completes(lab_spec: LabSpec, tmp_path: Path) -> None:
    before = host_state(lab_spec)
    campaign = write_campaign(tmp_path / "h.yaml", configurations=["bare"], tools=["qperf"],
                              tests=["rr"], repetitions=3, order="sequential", run_timeout_s=5)
    out = tmp_path / "out"
    proc = running(collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out)))
    stopped: list[int] = []

    def stop_a_server() -> bool:
        archives = list(out.glob("*/manifest.json"))
        if not archives:
            return False
        pidfile = Path(REMOTE_WORKDIR) / archives[0].parent.name / "lab-b" / "server.pid"
        try:
            pid = int(pidfile.read_text())
        except (OSError, ValueError):
            return False
        if comm(pid) != "qperf":
            return False
        os.kill(pid, signal.SIGSTOP)  # alive, listening, never answering: a hung tool
        stopped.append(pid)
        return True

    wait_for("a qperf server", stop_a_server, proc)
    code, _, err = finish(proc)
    assert code == 0, err[-2000:]
    runs = json.loads((only_archive(out) / "manifest.json").read_text())["runs"]
    timed_out = [r for r in runs.values() if r["status"] == "timeout"]
    assert len(timed_out) == 1 and "run timeout" in timed_out[0]["reason"]
    assert sum(r["status"] == "ok" for r in runs.values()) == 2
    assert stopped and host_state(lab_spec) == before  # the stopped server was killed too


def test_a_full_archive_disk_stops_cleanly_and_resumes(lab_spec: LabSpec, tmp_path: Path) -> None:
    before = host_state(lab_spec)
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k,mode=0700", "tmpfs", str(small)],
                   check=True)
    try:
        campaign = write_campaign(tmp_path / "d.yaml", configurations=["bare", "container"],
                                  tools=["qperf", "iperf3"], repetitions=2)
        proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                           str(small)),
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == ExitStatus.ERROR, proc.stdout[-1500:] + proc.stderr[-1500:]
        assert "No space left on device" in proc.stderr and "--resume" in proc.stderr
        root = only_archive(small)
        manifest = json.loads((root / "manifest.json").read_text())  # still whole JSON
        kept = manifest["runs"]
        assert 0 < len(kept) < len(manifest["plan"])
        for record in kept.values():
            for rel in record["files"].values():
                assert (root / rel).is_file()
        assert not list(root.rglob(".*.tmp-*")), "no partial temporary files left"
        assert campaign_netns(root) == []
        assert host_state(lab_spec) == before  # servers stopped, MTUs and forwarding restored
        subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
        final = resume_to_the_end(lab_spec, root)
        for run_id, record in kept.items():
            assert final["runs"][run_id] == record
        assert all(r["status"] == "ok" for r in final["runs"].values())
    finally:
        subprocess.run(["umount", str(small)], check=False)
