"""The machine lab through the real path: `lab.up --machines` boots two qemu guests (TCG), each
with its own Debian kernel, real OpenSSH and Open vSwitch; the collector measures the study's
configurations on them with nothing special-cased; the report shows two kernels and the OVS
kernel datapath; every guest is left as it was; `lab.down` leaves no qemu, tap or bridge."""

import difflib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collector.exit import ExitStatus
from collector.hosts import load_hosts
from collector.lab import LabSpec
from collector.lab.machine import boot_record_path
from collector.remote import Remote

from .collecting import only_archive
from .helpers import invoke, lab_down_purged, make_spec, qemu_pids, tree_digest

pytestmark = pytest.mark.lab

# What a campaign may change on a host and must give back: links, addresses, routes, rules,
# namespaces, net sysctls (less the conntrack table's fill), kernel modules, the host's own OVS
# database, and no folder of ours left behind.
SNAPSHOT = (
    "ip -o link show; ip -o addr show; ip route show table all; ip -6 route show table all; "
    "ip rule; ip netns list; "
    "sysctl -a 2>/dev/null | grep '^net\\.' | grep -v '^net.netfilter.nf_conntrack_count' | "
    "sort; cut -d' ' -f1 /proc/modules | sort; "
    "ls /etc/openvswitch /var/lib/openvswitch; "
    "ls -d /run/dataplane-bench /var/lib/dataplane-bench 2>/dev/null; true")
CAMPAIGN = {"name": "machines", "hosts": "lab",
            "configurations": ["bare", "container", "veth-control", "overlay", "overlay-ovs"],
            "tools": ["csrc"], "message_sizes": [20000], "mtus": [1500, 9000],
            "repetitions": 2, "duration_s": 1, "warmup_s": 1, "run_timeout_s": 60, "seed": 11}


def taps_and_bridges(spec: LabSpec) -> list[str]:
    out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True,
                         check=True).stdout
    return [link["ifname"] for link in json.loads(out)
            if link["ifname"].startswith(f"{spec.lab_id}-")]


def snapshots(spec: LabSpec) -> dict[str, str]:
    out = {}
    for host in load_hosts(spec.hosts_file):
        with Remote(host) as remote:
            out[host.name] = remote.check(["sh", "-c", SNAPSHOT], timeout=60)
    return out


@pytest.fixture(scope="module")
def machine_lab() -> Iterator[LabSpec]:
    spec = make_spec(wire_octet=9, machines=True)
    try:
        proc = invoke("lab.up", "--lab-id", spec.lab_id, "--mgmt-subnet", spec.mgmt_subnet,
                      "--wire-subnet", spec.wire_subnet, "--state-root", spec.state_root,
                      "--machines")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        for letter in ("a", "b"):
            assert f"lab-{letter}: SSH ready" in proc.stdout
        yield spec
    finally:
        lab_down_purged(spec)


def _collect(spec: LabSpec, campaign: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return invoke("collect", "--lab-id", spec.lab_id, "--state-root", spec.state_root,
                  "--campaign", str(campaign), "--out", str(out))


def test_up_again_changes_nothing_and_status_names_each_kernel(machine_lab: LabSpec) -> None:
    proc = invoke("lab.up", "--lab-id", machine_lab.lab_id, "--state-root",
                  machine_lab.state_root)
    assert proc.returncode == 0 and "nothing changed" in proc.stdout, proc.stdout[-2000:]
    status = invoke("lab.status", "--lab-id", machine_lab.lab_id, "--state-root",
                    machine_lab.state_root)
    assert status.returncode == 0, status.stdout[-2000:]
    boot = json.loads(boot_record_path(machine_lab, "a").read_text())
    assert boot["accel"] == "tcg" and boot["kernel"].endswith("-cloud-amd64")
    text = " ".join(status.stdout.split())  # a table: long cells wrap
    assert "machine lab-b" in text and text.count("booted to SSH in") == 2


def test_vm_is_refused_before_anything_starts(machine_lab: LabSpec, tmp_path: Path) -> None:
    (tmp_path / "vm.yaml").write_text(yaml.safe_dump({**CAMPAIGN, "configurations": ["vm"]}))
    proc = _collect(machine_lab, tmp_path / "vm.yaml", tmp_path / "out")
    assert proc.returncode == ExitStatus.USAGE, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "vm is not offered on the machine lab" in " ".join(proc.stderr.split())
    assert not (tmp_path / "out").exists()


def test_the_study_on_two_kernels(machine_lab: LabSpec, tmp_path: Path) -> None:
    before = snapshots(machine_lab)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CAMPAIGN))
    proc = _collect(machine_lab, tmp_path / "c.yaml", tmp_path / "out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    root = only_archive(tmp_path / "out")
    manifest = json.loads((root / "manifest.json").read_text())
    runs = manifest["runs"]
    assert len(runs) == len(manifest["plan"]) == 56
    assert {r["status"] for r in runs.values()} == {"ok"}, [
        (k, r.get("reason")) for k, r in runs.items() if r["status"] != "ok"]
    ovs = [r for k, r in runs.items() if k.startswith("overlay-ovs.")]
    assert ovs and {r["topology"]["ovs_datapath"] for r in ovs} == {"system"}
    boot_ids = set()
    for host in ("lab-a", "lab-b"):
        facts = sorted((root / "facts" / host).glob("start-*.txt"))[0].read_text()
        boot_ids.add(facts.split("boot_id", 1)[1].split()[0])
        assert "virtio_net" in facts
    assert len(boot_ids) == 2, boot_ids
    after = snapshots(machine_lab)
    for host, text in before.items():
        assert after[host] == text, host + ": " + "\n".join(difflib.unified_diff(
            text.splitlines(), after[host].splitlines(), "before", "after", lineterm=""))

    site = tmp_path / "site"
    digest = tree_digest(root)
    report = invoke("report", "--archive", str(root), "--out", str(site))
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    assert tree_digest(root) == digest
    pages = {p.name: p.read_text() for p in site.glob("*.html")}
    assert not any("share one kernel" in text for name, text in pages.items()
                   if name != "methodology.html")
    assert not any("userspace <code>netdev</code>" in text for text in pages.values())
    assert "overlay-ovs ran on Open vSwitch's <code>system</code> datapath" in pages[
        "environment.html"]
    assert "Emulated hosts" in pages["throughput.html"]
    assert "are emulated by QEMU TCG (the machine lab" in pages["index.html"]


def test_down_leaves_no_qemu_tap_or_bridge(machine_lab: LabSpec) -> None:
    assert qemu_pids(machine_lab) and taps_and_bridges(machine_lab)
    proc = invoke("lab.down", "--lab-id", machine_lab.lab_id, "--state-root",
                  machine_lab.state_root)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert qemu_pids(machine_lab) == []
    assert taps_and_bridges(machine_lab) == []
