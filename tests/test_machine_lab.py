"""The machine lab through the real path: `lab.up --machines` boots two qemu guests (TCG), each
with its own Debian kernel, real OpenSSH and Open vSwitch; the collector measures the study's
configurations on them with nothing special-cased; the report shows two kernels and the OVS
kernel datapath; every guest is left as it was; `lab.down` leaves no qemu, tap or bridge."""

import contextlib
import difflib
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collector import host_tuning, tuning
from collector.exit import ExitStatus
from collector.hosts import load_hosts
from collector.lab import LabSpec
from collector.lab.machine import boot_record_path
from collector.preparation import data_interface
from collector.remote import Remote

from .collecting import collect_argv, only_archive
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
            "repetitions": 1, "duration_s": 1, "warmup_s": 1, "run_timeout_s": 60, "seed": 11}


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
    assert len(runs) == len(manifest["plan"]) == 28
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


TUNNELS = ["ipip", "geneve", "wireguard", "ipsec"]
# While a campaign runs, what the hosts' kernels hold as secrets: WireGuard's private keys and
# the ESP states' keys. Asked only once the campaign loaded the module (asking would load it).
SECRETS = ("[ -d /sys/module/wireguard ] && wg show all private-key; "
           "[ -d /sys/module/xfrm_user ] && ip xfrm state; true")
KEY = re.compile(r"[A-Za-z0-9+/]{43}=|0x[0-9a-f]{40}")
KEPT_BY_KERNEL = ("drbg", "jitterentropy_rng", "sha3_generic")
POLLS = 600  # a poll a second at most, and never past the campaign


def _secrets_while(spec: LabSpec, proc: subprocess.Popen[str]) -> set[str]:
    seen: set[str] = set()
    with contextlib.ExitStack() as stack:
        remotes = [stack.enter_context(Remote(h)) for h in load_hosts(spec.hosts_file)]
        for _ in range(POLLS):
            if proc.poll() is not None:
                break
            for remote in remotes:
                seen.update(KEY.findall(remote.run(["sh", "-c", SECRETS], timeout=30).stdout))
            time.sleep(1)
    return seen


def test_todays_dataplanes_on_two_kernels(machine_lab: LabSpec, tmp_path: Path) -> None:
    before = snapshots(machine_lab)
    campaign = {**CAMPAIGN, "name": "tunnels", "configurations": ["bare", *TUNNELS],
                "tests": ["stream"]}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(campaign))
    proc = subprocess.Popen(collect_argv(machine_lab, "--campaign", str(tmp_path / "t.yaml"),
                                         "--out", str(tmp_path / "out")),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        secrets = _secrets_while(machine_lab, proc)
        out, err = proc.communicate(timeout=1200)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    root = only_archive(tmp_path / "out")
    runs = json.loads((root / "manifest.json").read_text())["runs"]
    assert len(runs) == 2 * (1 + 4 * 2)  # MTUs × (bare + tunnels × directions)
    assert {r["status"] for r in runs.values()} == {"ok"}, [
        (k, r.get("reason")) for k, r in runs.items() if r["status"] != "ok"]
    inner = {(r["configuration"], r["mtu"]): r["topology"]["inner_mtu"]
             for r in runs.values() if r["configuration"] != "bare"}
    assert inner == {("ipip", 1500): "1480", ("ipip", 9000): "8980",
                     ("geneve", 1500): "1450", ("geneve", 9000): "8950",
                     ("wireguard", 1500): "1440", ("wireguard", 9000): "8940",
                     ("ipsec", 1500): "1446", ("ipsec", 9000): "8946"}
    for r in runs.values():
        if r["configuration"] != "bare":
            tunnel = {"ipip": "dpbtip", "geneve": "dpbtgn", "wireguard": "dpbtwg",
                      "ipsec": "dpbtxf"}[r["configuration"]]
            assert r["path_mtus"][f"lab-a:{tunnel}"] == int(r["topology"]["inner_mtu"])
    # Secrets seen on the hosts while it ran are in no file of the archive; public keys are.
    assert any(k.endswith("=") for k in secrets) and any(k.startswith("0x") for k in secrets)
    archived = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    assert [k for k in secrets if k.encode() in archived or k[2:].encode() in archived] == []
    public = next(r["topology"]["wireguard"] for r in runs.values()
                  if r["configuration"] == "wireguard")
    assert "lab-a public key" in public and public.split()[-1].encode() in archived
    after = snapshots(machine_lab)
    for host, text in before.items():
        # ESP's IVs make the kernel keep a default RNG, which holds these: not unloadable
        kept = [line for line in after[host].splitlines()
                if line in KEPT_BY_KERNEL and line not in text.splitlines()]
        left = [line for line in after[host].splitlines() if line not in kept]
        assert left == text.splitlines(), host + ": " + "\n".join(difflib.unified_diff(
            text.splitlines(), left, "before", "after", lineterm=""))
    for target in load_hosts(machine_lab.hosts_file):
        with Remote(target) as remote:
            assert remote.check(["sh", "-c", "ip xfrm state; ip xfrm policy"]).strip() == ""
            remote.run(["rmmod", "xfrm_user", "xfrm_algo"])  # that look loaded them

    site = tmp_path / "site"
    report = invoke("report", "--archive", str(root), "--out", str(site))
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    page = (site / "encapsulation.html").read_text()
    for tunnel in TUNNELS:
        assert f"{tunnel} container-container" in page and f"<td>{tunnel}</td>" in page
    assert "ranked by goodput against bare metal" in (site / "index.html").read_text()


TUNED = tuning.parse({"untuned": {}, "buffers": {"sysctls": {
    "net.core.rmem_max": 67108864, "net.ipv4.tcp_rmem": "4096 87380 67108864"}},
    "no-gro": {"offloads": {"gro": False}}}, "test")
TUNABLES = ("sysctl -a 2>/dev/null | grep '^net\\.' | grep -v nf_conntrack_count | sort; "
            "ethtool -k \"$1\"")


def test_tuning_on_virtio_is_set_read_back_and_given_back(machine_lab: LabSpec) -> None:
    _, buffers, no_gro = TUNED
    for host in load_hosts(machine_lab.hosts_file):
        with Remote(host) as remote:
            nic = data_interface(remote)
            before = remote.check(["sh", "-c", TUNABLES, "sh", nic], timeout=60)
            state = host_tuning.probe(remote, nic, TUNED)
            try:
                assert state.kernel_wide == []  # its own kernel: every key is its own
                assert "generic-receive-offload: on" in before
                assert host_tuning.apply(remote, state, no_gro)  # an offload changed
                assert "generic-receive-offload: off" in remote.check(["ethtool", "-k", nic])
                assert host_tuning.apply(remote, state, buffers)  # gro given back
                assert "generic-receive-offload: on" in remote.check(["ethtool", "-k", nic])
                assert remote.check(["sysctl", "-n", "net.core.rmem_max"]).strip() == "67108864"
            finally:
                host_tuning.restore(remote, state)
            after = remote.check(["sh", "-c", TUNABLES, "sh", nic], timeout=60)
            assert after == before, host.name + ": " + "\n".join(difflib.unified_diff(
                before.splitlines(), after.splitlines(), "before", "after", lineterm=""))


def test_down_leaves_no_qemu_tap_or_bridge(machine_lab: LabSpec) -> None:
    assert qemu_pids(machine_lab) and taps_and_bridges(machine_lab)
    proc = invoke("lab.down", "--lab-id", machine_lab.lab_id, "--state-root",
                  machine_lab.state_root)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert qemu_pids(machine_lab) == []
    assert taps_and_bridges(machine_lab) == []
