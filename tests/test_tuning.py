"""The tuning axis: profiles parsed and refused (unit), planned as a cell dimension in blocks,
`ethtool -k` read from the real tools' output; and on the namespace lab, real sysctls (one of
them global to the kernel the lab hosts share) and veth offloads set, read back, archived per
profile and given back — also after a kill -9 between set and restore, by `invoke restore`
and by `collect --resume` — and reported on the Tuning page."""

import html
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from collector import campaign, plan, tuning
from collector.errors import UsageError
from collector.host_tuning import changeable_features, is_set, parse_features
from collector.lab import LabSpec
from reporter.campaigns import CampaignInfo, _tuning, differences
from reporter.compare import compare_pair

from .collecting import collect_argv, only_archive, running, write_campaign
from .helpers import invoke

FIXTURES = Path(__file__).parent / "fixtures"
HOSTS = [{"name": n, "ssh_host": f"198.18.200.{i}", "data_address": f"198.18.201.{i}",
          "key": "/nonexistent/key", "known_hosts": "/nonexistent/known_hosts"}
         for i, n in ((1, "a"), (2, "b"))]
BUFFERS = {"net.core.rmem_max": 67108864, "net.core.wmem_max": 67108864,
           "net.ipv4.tcp_rmem": "4096 87380 67108864", "net.ipv4.tcp_wmem": "4096 65536 67108864"}
PROFILES = {"untuned": {}, "buffers": {"sysctls": BUFFERS},
            "no-tso": {"offloads": {"tso": False}}}


def parsed(**more: Any) -> campaign.Campaign:
    return campaign.parse({"hosts": HOSTS, "seed": 5, **more}, "t.yaml")


def ethtool_section(fixture: str, dev: str) -> str:
    text = (FIXTURES / fixture).read_text()
    return text.split(f"### ethtool-offloads {dev}\n", 1)[1].split("\n### ", 1)[0]


# --- the profile model ---------------------------------------------------------------------

def test_without_tuning_the_plan_and_manifest_are_todays() -> None:
    plain, explicit = parsed(), parsed(tuning={"untuned": {}})
    assert plain.tuning == explicit.tuning == tuning.DEFAULT
    assert "tuning" not in plain.to_input() and "tuning" not in explicit.to_input()
    assert [r.run_id for r in plan.runs(plain)] == [r.run_id for r in plan.runs(explicit)]
    assert not any("tuning" in r.run_id for r in plan.runs(plain))


def test_profiles_parse_and_go_back_into_the_manifest() -> None:
    c = parsed(tuning=PROFILES)
    assert [p.name for p in c.tuning] == ["untuned", "buffers", "no-tso"]
    buffers = c.tuning[1]
    assert buffers.sysctls["net.ipv4.tcp_rmem"] == "4096 87380 67108864"
    assert buffers.sysctls["net.core.rmem_max"] == "67108864"  # integers are text
    assert c.tuning[2].offloads == {"tso": False}
    assert campaign.parse(c.to_input(), "manifest").tuning == c.tuning
    assert c.to_input()["tuning"]["no-tso"] == {"offloads": {"tso": "off"}}


@pytest.mark.parametrize(("profiles", "said"), [
    ({"buffers": {"sysctls": BUFFERS}}, "no untuned profile"),
    ({"untuned": {"sysctls": BUFFERS}}, "takes no settings"),
    ({"untuned": {}, "Big": {"sysctls": BUFFERS}}, "profile name 'Big' is not allowed"),
    ({"untuned": {}, "b": {"sysctl": BUFFERS}}, "unknown key(s) sysctl"),
    ({"untuned": {}, "b": {}}, "sets nothing"),
    ({"untuned": {}, "b": {"sysctls": {"kernel.sched_latency_ns": 1}}}, "not a network sysctl"),
    ({"untuned": {}, "b": {"sysctls": {"net.ipv4.ip_forward": 1}}}, "set by the campaign"),
    ({"untuned": {}, "b": {"sysctls": {"net.ipv4.conf.all.rp_filter": 0}}},
     "set by the campaign"),
    ({"untuned": {}, "b": {"sysctls": {"net.core.rmem_max": "1\x1b2"}}}, "is not allowed"),
    ({"untuned": {}, "b": {"sysctls": {"net.core.rmem_max": True}}}, "is not allowed"),
    ({"untuned": {}, "b": {"offloads": {"gro": "maybe"}}}, "on or off"),
    ({"untuned": {}, "b": {"offloads": {"gro": False, "generic-receive-offload": True}}},
     "names a feature given already"),
    ({"untuned": {}, "b": {"offloads": {"gro;reboot": False}}}, "not a feature name"),
    ([1, 2], "a mapping of profile names"),
])
def test_bad_profiles_are_refused_naming_the_key(profiles: Any, said: str) -> None:
    with pytest.raises(UsageError) as caught:
        parsed(tuning=profiles)
    error = caught.value
    assert said in f"{error.message} {error.hint}" and "t.yaml: tuning" in error.message


def test_profiles_are_a_cell_dimension_run_in_blocks_that_change_order() -> None:
    c = parsed(tuning=PROFILES, configurations=["bare"], tools=["csrc"], repetitions=6)
    ids = {cell.cell_id for cell in plan.cells(c)}
    assert "bare.host-host.csrc.stream.1000B.sb-auto.mtu1500.tuning-buffers" in ids
    assert "bare.host-host.csrc.stream.1000B.sb-auto.mtu1500" in ids  # untuned: today's id
    runs = plan.runs(c)
    assert len(runs) == len(plan.cells(c)) * 6
    firsts = []
    for rep in range(1, 7):
        order = [r.cell.tuning for r in runs if r.repetition == rep]
        blocks = [p for i, p in enumerate(order) if i == 0 or order[i - 1] != p]
        assert sorted(blocks) == sorted(p.name for p in c.tuning)  # one block each
        firsts.append(blocks[0])
    assert len(set(firsts)) > 1  # the blocks' order is drawn anew each repetition
    resumed = campaign.parse(c.to_input(), "manifest")
    assert [r.run_id for r in plan.runs(resumed)] == [r.run_id for r in runs]


# --- ethtool -k, as the real tool prints it ---------------------------------------------

def test_offload_listings_of_a_veth_and_virtio_are_read() -> None:
    veth = parse_features(ethtool_section("veth-facts.txt", "dpbfx0"))
    assert veth["large-receive-offload"].fixed
    assert not veth["tcp-segmentation-offload"].fixed  # a group: some of it can change
    assert "tx-tcp-segmentation" in veth["tcp-segmentation-offload"].children
    assert is_set(veth, "tso", True) and is_set(veth, "gso", True)
    changeable = changeable_features(veth)
    assert "tcp-segmentation-offload" not in changeable  # groups are set through their parts
    assert "tx-tcp-segmentation" in changeable and "rx-lro" not in changeable
    virtio = parse_features(ethtool_section("machine-lab-facts-lab-a.txt", "eth1"))
    assert virtio["rx-checksumming"].fixed and not virtio["generic-receive-offload"].fixed


# --- on the namespace lab ---------------------------------------------------------------

SNAPSHOT_SYSCTLS = "sysctl -a 2>/dev/null | grep '^net\\.' | grep -v nf_conntrack_count | sort"
KERNEL_WIDE = ["net.core.rmem_max", "net.core.wmem_max"]


def lab_snapshot(spec: LabSpec) -> dict[str, str]:
    """What tuning may touch: each lab host's net sysctls and its data NIC's offloads, and
    the kernel-wide keys as the machine itself sees them."""
    out = {"machine": subprocess.run(["sysctl", *KERNEL_WIDE], capture_output=True, text=True,
                                     check=True).stdout}
    for letter in ("a", "b"):
        ns = spec.netns(letter)
        out[f"{letter}-sysctl"] = subprocess.run(
            ["ip", "netns", "exec", ns, "sh", "-c", SNAPSHOT_SYSCTLS], capture_output=True,
            text=True, check=True).stdout
        out[f"{letter}-offloads"] = subprocess.run(
            ["ip", "netns", "exec", ns, "ethtool", "-k", data_nic(spec, letter)],
            capture_output=True, text=True, check=True).stdout
    return out


def data_nic(spec: LabSpec, letter: str) -> str:
    found = subprocess.run(["ip", "-n", spec.netns(letter), "-o", "addr", "show", "to",
                            str(spec.wire_address(letter).ip)], capture_output=True, text=True,
                           check=True).stdout.split()
    return found[1].split("@")[0]


def kernel_value(key: str) -> str:
    return subprocess.run(["sysctl", "-n", key], capture_output=True, text=True,
                          check=True).stdout.strip()


def tuned_campaign(path: Path, **more: Any) -> Path:
    return write_campaign(path, configurations=["bare", "overlay"], tools=["csrc"],
                          tests=["stream", "rr"], message_sizes=[20000], tuning=PROFILES,
                          **more)


def test_profiles_are_set_read_back_archived_reported_and_given_back(
        lab_spec: LabSpec, tmp_path: Path) -> None:
    before = lab_snapshot(lab_spec)
    assert kernel_value("net.core.rmem_max") != "67108864"  # else nothing would show here
    out = tmp_path / "out"
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(tuned_campaign(
        tmp_path / "t.yaml")), "--out", str(out)), capture_output=True, text=True,
        timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    root = only_archive(out)
    manifest = json.loads((root / "manifest.json").read_text())
    runs = manifest["runs"]
    assert {r["status"] for r in runs.values()} == {"ok"}
    assert {r.get("tuning", "untuned") for r in runs.values()} == set(PROFILES)
    for host in ("lab-a", "lab-b"):
        state = manifest["host_state"][host]["tuning"]
        assert sorted(state["kernel_wide"]) == KERNEL_WIDE  # read-only in the lab's netns
        assert state["sysctls"]["net.core.rmem_max"] == before["machine"].split()[2]
        assert state["offloads"] and all(state["offloads"].values())
        facts = {p.name.split("-2")[0]: p.read_text()
                 for p in (root / "facts" / host).glob("tuning-*.txt")}
        assert "net.core.rmem_max = 67108864 (kernel-wide)" in facts["tuning-buffers"]
        assert "net.ipv4.tcp_rmem = 4096 87380 67108864" in facts["tuning-buffers"]
        assert "tcp-segmentation-offload: off" in facts["tuning-no-tso"]
        assert "tcp-segmentation-offload: on" in facts["tuning-untuned"]
    assert lab_snapshot(lab_spec) == before

    site = tmp_path / "site"
    report = invoke("report", "--archive", str(root), "--out", str(site))
    assert report.returncode == 0, report.stdout[-2000:] + report.stderr[-2000:]
    page = html.unescape((site / "tuning.html").read_text())
    assert ">buffers</td>" in page and ">no-tso</td>" in page
    assert "ratios to the same path untuned" in page  # the chart's caption
    assert "the VXLAN overlay at MTU 1500: untuned" in (site / "index.html").read_text()
    assert "net.core.rmem_max" in page and "Global to the kernel" in page
    throughput = (site / "throughput.html").read_text()
    assert "no-tso" not in throughput and "buffers" not in throughput  # the hosts untuned
    header = (site / "data" / "runs.csv").read_text().splitlines()[0]
    assert "tuning" in header.split(",")


def _kill_while_tuned(argv: list[str], out: Path, spec: LabSpec) -> Path:
    """A campaign killed with -9 once a profile other than untuned is in force on the hosts."""
    proc = running(argv)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if kernel_value("net.core.rmem_max") == "67108864" or subprocess.run(
                    ["ip", "netns", "exec", spec.netns("a"), "sh", "-c",
                     f"ethtool -k {data_nic(spec, 'a')} | grep '^tcp-segmentation'"],
                    capture_output=True, text=True, check=False).stdout.strip().endswith("off"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the campaign ended before a tuned profile was in force")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return only_archive(out)


def test_a_kill_between_set_and_restore_is_given_back_by_restore_and_by_resume(
        lab_spec: LabSpec, tmp_path: Path) -> None:
    before = lab_snapshot(lab_spec)
    out = tmp_path / "out"
    campaign_file = tuned_campaign(tmp_path / "k.yaml", repetitions=2)
    root = _kill_while_tuned(collect_argv(lab_spec, "--campaign", str(campaign_file), "--out",
                                          str(out)), out, lab_spec)
    assert lab_snapshot(lab_spec) != before  # killed with a profile in force
    restored = invoke("restore", "--archive", str(root), "--lab-id", lab_spec.lab_id,
                      "--state-root", lab_spec.state_root)
    assert restored.returncode == 0, restored.stdout[-2000:] + restored.stderr[-2000:]
    assert "restored: lab-a, lab-b" in restored.stdout
    assert lab_snapshot(lab_spec) == before

    _kill_while_tuned(collect_argv(lab_spec, "--resume", str(root)), out, lab_spec)
    resumed = subprocess.run(collect_argv(lab_spec, "--resume", str(root)), capture_output=True,
                             text=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    manifest = json.loads((root / "manifest.json").read_text())
    assert sorted(manifest["runs"]) == sorted(manifest["plan"])
    assert {r["status"] for r in manifest["runs"].values()} == {"ok"}
    assert lab_snapshot(lab_spec) == before


@pytest.mark.parametrize(("profile", "said"), [
    ({"sysctls": {"net.core.netdev_max_backlog": 5000}},
     "net.core.netdev_max_backlog does not exist"),
    ({"offloads": {"lro": True}}, "driver cannot change lro (it is off [fixed])"),
])
def test_what_a_lab_host_cannot_take_is_refused_before_the_archive(
        lab_spec: LabSpec, tmp_path: Path, profile: dict[str, Any], said: str) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(write_campaign(
        tmp_path / "r.yaml", configurations=["bare"], tools=["csrc"],
        tuning={"untuned": {}, "x": profile})), "--out", str(out)), capture_output=True,
        text=True, timeout=300, check=False)
    assert proc.returncode != 0
    text = " ".join((proc.stdout + proc.stderr).split())
    assert "lab-a" in text and said in text, text[-2000:]
    assert not out.exists() or not list(out.iterdir())


def test_compare_lists_differing_profiles_under_what_changed() -> None:
    def info(name: str, profiles: Any) -> CampaignInfo:
        return CampaignInfo(name, name, "2026-12-04T00:00:00Z", "complete", 1, 1, 1, "c", {},
                            {}, frozenset(), frozenset(), tuning=_tuning(profiles))

    rows = differences([info("a", None), info("b", PROFILES)])
    assert [r["what"] for r in rows] == ["tuning"]
    assert rows[0]["values"][0] == "untuned: the hosts as they are"
    assert "buffers: net.core.rmem_max=67108864" in rows[0]["values"][1]
    assert "no-tso: tso off" in rows[0]["values"][1]
    assert differences([info("a", PROFILES), info("b", PROFILES)]) == []
    # A manifest that says its profiles badly is read as untuned, not a crash.
    assert _tuning({"untuned": {}, "x": {"sysctls": {"rm -rf": 1}}}) == _tuning(None)


def test_the_gate_compares_each_profile_and_flow_count_with_its_own() -> None:
    def info(name: str) -> CampaignInfo:
        return CampaignInfo(name, name, "2026-12-04T00:00:00Z", "complete", 1, 1, 1, "c",
                            {"duration_s": 2, "warmup_s": 1}, {}, frozenset(), frozenset())

    key = {"configuration": "bare", "direction": "host-host", "tool": "csrc", "test": "stream",
           "message_size": 20000, "socket_buffer": "auto", "mtu": 1500}
    rows = [{**key, "campaign": c, "tuning": t, "streams": f, "n": 5, "sd": 0.1,
             "mean": {"untuned": 4.0, "buffers": 8.0}[t] * f}
            for c in ("a", "b") for t in ("untuned", "buffers") for f in (1, 4)]
    changes = compare_pair({"gbps": pd.DataFrame(rows)}, info("a"), info("b"), 5.0)
    assert len(changes) == 4 and all(abs(ch.delta_pct) < 1e-9 for ch in changes)
    assert {ch.cell_id for ch in changes} == {
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500",
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.4flows",
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.tuning-buffers",
        "bare.host-host.csrc.stream.20000B.sb-auto.mtu1500.4flows.tuning-buffers"}
