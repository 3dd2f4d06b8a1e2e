"""`invoke lab.up / lab.down / lab.status` as a user runs them, against real namespaces and sshd."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import lab
from collector.exit import ExitStatus
from collector.lab.network import Bridge, Namespace
from collector.lab.sshd import Sshd

from .helpers import make_spec, needs_root

pytestmark = [pytest.mark.lab, needs_root()]
REPO = Path(__file__).resolve().parent.parent
INVOKE = [sys.executable, "-m", "invoke", "--search-root", str(REPO)]


def invoke(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = _as_user(user) if user else []
    return subprocess.run([*prefix, *INVOKE, *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=REPO)


def _as_user(user: str) -> list[str]:
    """Run as ``user``; where that user cannot reach this Python or the clone (a clone in a
    mode-0700 folder, as under /root), in a user namespace of its own instead: the program
    sees an unprivileged uid (65534) and has no capability outside it, while files stay
    readable as their owner's."""
    setpriv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--reset-env"]
    reach = subprocess.run([*setpriv, sys.executable, "-c", f"import os; os.stat({str(REPO)!r})"],
                           capture_output=True, check=False, cwd="/")
    return setpriv if reach.returncode == 0 else ["unshare", "--user"]


def lab_args(spec: lab.LabSpec) -> list[str]:
    return ["--lab-id", spec.lab_id, "--state-root", spec.state_root]


def footprint(spec: lab.LabSpec) -> dict[str, list[object]]:
    """Everything of this lab the kernel can show: namespaces, links, processes."""
    namespaces = sorted(n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                  text=True, check=True).stdout.split()
                        if n.startswith(f"{spec.lab_id}-"))
    links = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    ours = sorted((link["ifname"], link["ifindex"]) for link in links
                  if link["ifname"].startswith(f"{spec.lab_id}-"))
    pids: list[int] = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(spec.state_dir).encode() in (
                    proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return {"namespaces": list(namespaces), "links": list(ours), "pids": list(sorted(pids))}


@pytest.fixture
def spec() -> Iterator[lab.LabSpec]:
    spec = make_spec(wire_octet=2)
    try:
        yield spec
    finally:
        lab.down(spec, purge=True)


def test_up_twice_is_idempotent_and_down_leaves_nothing(spec: lab.LabSpec) -> None:
    first = invoke("lab.up", *lab_args(spec), "--mgmt-subnet", spec.mgmt_subnet,
                   "--wire-subnet", spec.wire_subnet)
    assert first.returncode == 0, first.stderr
    assert "is up" in first.stdout
    before = footprint(spec)
    assert before["namespaces"] == [f"{spec.lab_id}-a", f"{spec.lab_id}-b"]
    assert len(before["pids"]) == 2  # one sshd per host

    second = invoke("lab.up", *lab_args(spec))
    assert second.returncode == 0, second.stderr
    assert "already up; nothing changed" in second.stdout
    assert "building" not in second.stdout
    assert footprint(spec) == before

    status = invoke("lab.status", *lab_args(spec))
    assert status.returncode == ExitStatus.OK, status.stdout + status.stderr
    assert status.stdout.count("ok") >= 11

    down = invoke("lab.down", *lab_args(spec))
    assert down.returncode == 0, down.stderr
    assert footprint(spec) == {"namespaces": [], "links": [], "pids": []}
    status = invoke("lab.status", *lab_args(spec))
    assert status.returncode == ExitStatus.LAB_DOWN


def test_status_reports_a_dead_sshd_and_up_repairs_it(spec: lab.LabSpec) -> None:
    lab.up(spec, say=lambda _: None)
    sshd_b = Sshd(spec, "b")
    sshd_b.remove()
    status = invoke("lab.status", *lab_args(spec))
    assert status.returncode == ExitStatus.LAB_BROKEN
    assert "not running" in status.stdout
    repair = invoke("lab.up", *lab_args(spec))
    assert repair.returncode == 0, repair.stderr
    assert "building sshd in" in repair.stdout
    assert invoke("lab.status", *lab_args(spec)).returncode == ExitStatus.OK


def test_down_cleans_up_after_a_half_failed_up(spec: lab.LabSpec) -> None:
    # What a lab.up interrupted after the namespaces and the bridge would leave behind.
    spec.state_dir.mkdir(parents=True, exist_ok=True)
    spec.save()
    for part in (Namespace(spec, "a"), Namespace(spec, "b"), Bridge(spec)):
        part.build()
    stray = subprocess.Popen(["ip", "netns", "exec", spec.netns("a"), "sleep", "60"])
    try:
        assert invoke("lab.status", *lab_args(spec)).returncode == ExitStatus.LAB_BROKEN
        down = invoke("lab.down", *lab_args(spec))
        assert down.returncode == 0, down.stderr
        assert stray.wait(timeout=10) != 0  # a process left inside the namespace is stopped
        assert footprint(spec) == {"namespaces": [], "links": [], "pids": []}
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()


def test_mtu_option_sets_the_wire(spec: lab.LabSpec) -> None:
    result = invoke("lab.up", *lab_args(spec), "--mgmt-subnet", spec.mgmt_subnet,
                    "--wire-subnet", spec.wire_subnet, "--mtu", "9000")
    assert result.returncode == 0, result.stderr
    for letter in ("a", "b"):
        out = subprocess.run(["ip", "-n", spec.netns(letter), "-j", "link", "show", "wire0"],
                             capture_output=True, text=True, check=True).stdout
        assert json.loads(out)[0]["mtu"] == 9000


def test_addresses_outside_the_benchmarking_range_are_refused(spec: lab.LabSpec) -> None:
    result = invoke("lab.up", *lab_args(spec), "--mgmt-subnet", "10.0.0.0/24")
    assert result.returncode == ExitStatus.ERROR
    assert "198.18.0.0/15" in result.stderr
    assert footprint(spec)["namespaces"] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_not_root_gets_a_clear_error(spec: lab.LabSpec) -> None:
    result = invoke("lab.up", *lab_args(spec), user="65534")
    assert result.returncode == ExitStatus.NOT_ROOT, result.stderr
    assert "needs root" in result.stderr
