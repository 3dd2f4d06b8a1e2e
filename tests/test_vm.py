"""The vm configuration through the real path: qemu guests (TCG) booted by `lab.up --vms`,
reached over SSH through their hosts, measured VM→VM, VM→host and host→VM by the collector,
reported as emulated; `lab.down` leaves no qemu, tap or namespace."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from collector.exit import ExitStatus
from collector.hosts import load_vms
from collector.lab import LabSpec
from collector.lab.guest import boot_record_path

from .collecting import host_state, only_archive, write_campaign
from .helpers import invoke, lab_down_purged, make_spec, qemu_pids, tree_digest

pytestmark = pytest.mark.lab


def links(spec: LabSpec, letter: str) -> list[str]:
    out = subprocess.run(["ip", "-n", spec.netns(letter), "-j", "link", "show"],
                         capture_output=True, text=True, check=False).stdout
    return [link["ifname"] for link in json.loads(out or "[]")]


@pytest.fixture(scope="module")
def vm_lab() -> Iterator[LabSpec]:
    spec = make_spec(wire_octet=6, vms=True)
    try:
        proc = invoke("lab.up", "--lab-id", spec.lab_id, "--mgmt-subnet", spec.mgmt_subnet,
                      "--wire-subnet", spec.wire_subnet, "--state-root", spec.state_root,
                      "--vms")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "lab-a-vm: SSH ready" in proc.stdout
        yield spec
    finally:
        lab_down_purged(spec)


def test_lab_up_boots_a_guest_per_host_reachable_through_its_host(vm_lab: LabSpec) -> None:
    assert len(qemu_pids(vm_lab)) == 2
    for letter in ("a", "b"):
        assert vm_lab.tap(letter) in links(vm_lab, letter)
        boot = json.loads(boot_record_path(vm_lab, letter).read_text())
        assert boot["accel"] == "tcg" and 0 < boot["boot_to_ssh_s"] < 60
    vms = load_vms(vm_lab.hosts_file)
    assert [(v.name, v.host, v.jump, v.routed) for v in vms] == [
        ("lab-a-vm", "lab-a", True, True), ("lab-b-vm", "lab-b", True, True)]
    # The path a user takes: OpenSSH with the lab's config, ProxyJump through the host.
    ssh = subprocess.run(["ssh", "-F", str(vm_lab.state_dir / "ssh_config"), "lab-b-vm",
                          "grep -m1 'model name' /proc/cpuinfo; ip -j addr show"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert ssh.returncode == 0, ssh.stderr
    assert "TCG" in ssh.stdout and vm_lab.vm_address("b") in ssh.stdout
    status = invoke("lab.status", "--lab-id", vm_lab.lab_id, "--state-root", vm_lab.state_root)
    assert status.returncode == 0, status.stdout
    assert "booted to SSH in" in status.stdout
    again = invoke("lab.up", "--lab-id", vm_lab.lab_id, "--state-root", vm_lab.state_root)
    assert "nothing changed" in again.stdout, again.stdout


def test_a_guest_with_another_key_is_refused(vm_lab: LabSpec, tmp_path: Path) -> None:
    """The guest's key is pinned: a known_hosts with someone else's key refuses it (exit 7)."""
    other = tmp_path / "known_hosts"
    lab_host_key = (vm_lab.state_dir / "known_hosts").read_text().split()[1:3]
    other.write_text(f"{vm_lab.vm_address('a')} {' '.join(lab_host_key)}\n")
    document = yaml.safe_load(vm_lab.hosts_file.read_text())
    document["vms"][0]["known_hosts"] = str(other)
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(yaml.safe_dump(document))
    campaign = write_campaign(tmp_path / "c.yaml", hosts=str(hosts), configurations=["vm"],
                              tools=["qperf"], tests=["rr"])
    proc = invoke("collect", "--campaign", str(campaign), "--out", str(tmp_path / "out"))
    assert proc.returncode == ExitStatus.HOST_KEY_REJECTED, proc.stdout + proc.stderr
    assert "lab-a-vm" in proc.stderr and "does not match" in proc.stderr


def test_the_three_vm_directions_measured_and_reported(vm_lab: LabSpec, tmp_path: Path) -> None:
    before = host_state(vm_lab)
    campaign = write_campaign(tmp_path / "vm.yaml", configurations=["bare", "vm"],
                              tools=["qperf", "iperf3", "csrc"], message_sizes=[20000],
                              mtus=[1500, 9000], duration_s=1, warmup_s=1)
    proc = invoke("collect", "--lab-id", vm_lab.lab_id, "--state-root", vm_lab.state_root,
                  "--campaign", str(campaign), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    root = only_archive(tmp_path / "out")
    manifest = json.loads((root / "manifest.json").read_text())
    runs = manifest["runs"]
    bad = {k: r["reason"] for k, r in runs.items() if r["status"] != "ok"}
    assert not bad
    vm_runs = [r for r in runs.values() if r["configuration"] == "vm"]
    assert {r["direction"] for r in vm_runs} == {"vm-vm", "vm-host", "host-vm"}
    assert len(vm_runs) == 3 * 5 * 2  # directions × tool tests × MTUs
    for r in vm_runs:
        guests = [e["vm"] for e in (r["client"], r["server"]) if e["role"] == "vm"]
        # CPU inside each guest and on every host involved
        assert sorted(r["cpu_hosts"]) == sorted({"lab-a", "lab-b", *guests})
        for name in r["cpu_hosts"]:
            assert (root / r["files"][f"cpu:{name}"]).is_file()
        assert r["path_mtus"]["lab-a-vm:eth0"] == r["mtu"]
        assert r["path_mtus"][f"lab-b:{vm_lab.tap('b')}"] == r["mtu"]
    assert sorted(p.name for p in (root / "facts").iterdir()) == [
        "lab-a", "lab-a-vm", "lab-b", "lab-b-vm"]
    assert "QEMU TCG" in next((root / "facts" / "lab-a-vm").glob("start-*.txt")).read_text()
    assert "copied in" in next((root / "build").glob("lab-b-vm-*.log")).read_text()
    # Hosts and guests as they were: MTUs, routes, forwarding; no tool left running.
    assert host_state(vm_lab) == before
    for letter in ("a", "b"):
        out = subprocess.run(["ssh", "-F", str(vm_lab.state_dir / "ssh_config"),
                              f"lab-{letter}-vm", "cat /sys/class/net/eth0/mtu; pidof qperf "
                              "iperf3 dpb-stream dpb-pingpong; true"],
                             capture_output=True, text=True, timeout=60, check=False).stdout
        assert out.split() == ["1500"]

    site = tmp_path / "site"
    before_archive = tree_digest(root)
    report = invoke("report", "--archive", str(root), "--out", str(site))
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    assert tree_digest(root) == before_archive
    for page in ("throughput", "latency", "cpu", "cpu-per-gbps"):
        assert "Emulated VMs" in (site / f"{page}.html").read_text(), page
    summary = (site / "index.html").read_text()
    # Said once, in the caveats, naming the guests; and in the VMs' key point.
    assert summary.count("emulated by QEMU TCG") == 2 and "lab-a-vm and lab-b-vm" in summary
    assert "share one kernel" in summary  # the hosts still do; the guests have their own
    assert "Inside the VMs" in (site / "cpu.html").read_text()
    df = pd.read_csv(site / "data" / "runs.csv")
    vm_vm = df[(df["configuration"] == "vm") & (df["direction"] == "vm-vm")]
    assert vm_vm["cpu_sender_guest_pct"].notna().all()
    assert vm_vm["cpu_receiver_guest_pct"].notna().all()
    assert df[df["configuration"] == "bare"]["cpu_sender_guest_pct"].isna().all()
    assert (df[df["configuration"] == "vm"]["gbps"].dropna() > 0).all()


def test_lab_down_leaves_no_qemu_tap_or_namespace(tmp_path: Path) -> None:
    spec = make_spec(wire_octet=7, vms=True)
    try:
        up = invoke("lab.up", "--lab-id", spec.lab_id, "--mgmt-subnet", spec.mgmt_subnet,
                    "--wire-subnet", spec.wire_subnet, "--state-root", spec.state_root, "--vms")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        assert len(qemu_pids(spec)) == 2
        # One guest dies under the lab: status says broken, up repairs only that guest.
        subprocess.run(["kill", "-9", str(qemu_pids(spec)[0])], check=True)
        status = invoke("lab.status", "--lab-id", spec.lab_id, "--state-root", spec.state_root)
        assert status.returncode == ExitStatus.LAB_BROKEN, status.stdout
        repair = invoke("lab.up", "--lab-id", spec.lab_id, "--state-root", spec.state_root)
        assert repair.returncode == 0 and repair.stdout.count("SSH ready") == 1, repair.stdout
        assert len(qemu_pids(spec)) == 2
    finally:
        down = lab_down_purged(spec)
    assert down.returncode == 0, down.stderr
    assert qemu_pids(spec) == []
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                           check=True).stdout
    assert spec.netns("a") not in names and spec.netns("b") not in names
    assert not Path(spec.state_dir).exists()
