"""`invoke collect` through the real path: real sshd, namespaces, qperf and iperf3 on the lab."""

import json
import os
import re
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from collector import plan
from collector.archive import SCHEMA_VERSION, Archive, pack, verify_sums
from collector.campaign import load
from collector.lab import LabSpec

from .collecting import (
    campaign_netns,
    collect_argv,
    collected_and_reported,
    host_state,
    only_archive,
    write_campaign,
)
from .helpers import invoke

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parent.parent


def test_the_whole_matrix_end_to_end(lab_spec: LabSpec, tmp_path: Path) -> None:
    before = host_state(lab_spec)
    campaign = write_campaign(tmp_path / "full.yaml", message_sizes=[1000, 20000],
                              mtus=[1500, 9000], repetitions=2, duration_s=1, warmup_s=1,
                              socket_buffer=["auto"], tools=["qperf", "iperf3"])
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign),
                                       "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    root = only_archive(tmp_path / "out")
    manifest = json.loads((root / "manifest.json").read_text())
    expected = {r.run_id for r in plan.runs(load(campaign, lab_spec.hosts_file))}
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["state"] == "complete"
    assert set(manifest["runs"]) == expected == set(manifest["plan"])
    bad = {k: r["reason"] for k, r in manifest["runs"].items() if r["status"] != "ok"}
    assert not bad
    seen = {(r["configuration"], r["direction"], r["tool"], r["test"], r["mtu"])
            for r in manifest["runs"].values()}
    assert ("container", "host-container", "iperf3", "stream", 9000) in seen
    assert ("overlay", "container-container", "qperf", "rr", 1500) in seen
    assert len({s[:2] for s in seen}) == 7  # every configuration and direction
    for record in manifest["runs"].values():
        for rel in record["files"].values():
            assert (root / rel).is_file(), rel
        assert record["path_mtus"]["lab-a:wire0"] == record["mtu"]
        if record["configuration"] == "overlay":
            assert record["path_mtus"]["lab-a:dpbxvx"] == record["mtu"] - 50
        if record["configuration"] == "overlay-ovs":
            assert record["topology"] == {"ovs_datapath": "netdev"}  # no openvswitch module
            inner = [v for k, v in record["path_mtus"].items()
                     if re.fullmatch(r"lab-b:dpb[0-9a-f]{4}1s:eth0", k)]
            assert inner == [record["mtu"] - 50]
        assert record["commands"]["client"].startswith("timeout ")
    sample = manifest["runs"][sorted(expected)[0]]
    assert "### dataplane-bench cpu snapshot" in (root / sample["files"]["cpu:lab-a"]).read_text()
    assert sorted(p.name for p in (root / "facts").iterdir()) == ["lab-a", "lab-b"]
    facts = next((root / "facts" / "lab-a").glob("start-*.txt")).read_text()
    assert "### boot_id" in facts and "### ethtool-offloads wire0" in facts
    assert verify_sums(root) == []
    assert host_state(lab_spec) == before
    assert campaign_netns(root) == []


def test_kill_9_then_resume_completes_exactly_the_plan(lab_spec: LabSpec,
                                                       tmp_path: Path) -> None:
    """Killed while OVS holds the wire address: resume must give it back and finish the plan."""
    before = host_state(lab_spec)
    campaign = write_campaign(tmp_path / "k.yaml",
                              configurations=["bare", "container", "overlay-ovs"],
                              tools=["qperf"], repetitions=2)
    out = tmp_path / "out"
    proc = subprocess.Popen(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                         str(out)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        in_ovs = False
        while time.monotonic() < deadline and not in_ovs and proc.poll() is None:
            time.sleep(0.1)
            manifests = list(out.glob("*/manifest.json"))
            if manifests:
                try:
                    runs = json.loads(manifests[0].read_text())["runs"]
                except json.JSONDecodeError:
                    continue
                in_ovs = any(k.startswith("overlay-ovs.") for k in runs)
        assert in_ovs, "the campaign did not reach overlay-ovs"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    root = only_archive(out)
    killed = json.loads((root / "manifest.json").read_text())
    assert killed["state"] == "running"
    resumed = subprocess.run(collect_argv(lab_spec, "--resume", str(root)), capture_output=True,
                             text=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    manifest = json.loads((root / "manifest.json").read_text())
    expected = {r.run_id for r in plan.runs(load(campaign, lab_spec.hosts_file))}
    assert set(manifest["runs"]) == expected
    assert all(r["status"] == "ok" for r in manifest["runs"].values())
    for run_id, record in killed["runs"].items():  # nothing collected before the kill changed
        assert manifest["runs"][run_id] == record
    assert sorted(p.name for p in (root / "runs").iterdir()) == sorted(expected)
    assert verify_sums(root) == []
    assert host_state(lab_spec) == before
    assert campaign_netns(root) == []


def test_a_failing_tool_is_recorded_and_the_rest_completes(lab_spec: LabSpec,
                                                           tmp_path: Path) -> None:
    # iperf3 refuses writes larger than 1 MiB: a real failure of a real tool.
    campaign = write_campaign(tmp_path / "f.yaml", configurations=["bare"],
                              message_sizes=[1000, 2_000_000], tests=["stream"])
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "1 failed" in proc.stdout
    manifest = json.loads((only_archive(tmp_path / "out") / "manifest.json").read_text())
    runs = manifest["runs"]
    failed = runs["bare.host-host.iperf3.stream.2000000B.sb-auto.mtu1500.r01"]
    assert failed["status"] == "failed"
    assert "block size" in failed["reason"].lower()
    assert failed["exit_codes"]["client"] == 1
    assert sum(r["status"] == "ok" for r in runs.values()) == len(runs) - 1


def test_csrc_is_shipped_built_and_run_on_the_hosts(lab_spec: LabSpec, tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path / "c.yaml", configurations=["bare", "container"],
                              directions={"container": ["container-container"]},
                              tools=["csrc"], socket_buffer=["auto", "message"])
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    root = only_archive(tmp_path / "out")
    manifest = json.loads((root / "manifest.json").read_text())
    runs = manifest["runs"]
    assert len(runs) == 2 * 3 and all(r["status"] == "ok" for r in runs.values())
    logs = sorted(p.name.split("-20")[0] for p in (root / "build").iterdir())
    assert logs == ["lab-a", "lab-b"]
    stream = runs["container.container-container.csrc.stream.1000B.sb-message.mtu1500.r01"]
    receiver = json.loads((root / stream["files"]["server_stdout"]).read_text())
    assert receiver["role"] == "receiver" and receiver["goodput_bps"] > 0
    assert receiver["sockbuf_requested"] == 1000 and receiver["rcvbuf_applied"] > 0
    assert "--sockbuf 1000" in stream["commands"]["client"]
    rr = runs["bare.host-host.csrc.rr.1B.sb-auto.mtu1500.r01"]
    latency = json.loads((root / rr["files"]["client_stdout"]).read_text())
    assert latency["one_way_ns"]["p50"] > 0


def test_dry_run_prints_the_plan_and_touches_nothing(lab_spec: LabSpec, tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path / "d.yaml", repetitions=3)
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--dry-run",
                                       "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    n = len(plan.runs(load(campaign, lab_spec.hosts_file)))
    assert f"runs: {n}" in proc.stdout.replace("  ", " ")
    assert "estimated_s" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_pack_makes_a_safe_tarball(tmp_path: Path) -> None:
    archive = Archive.create(tmp_path, "p", {"name": "p"}, ["r1"], "name: p\n")
    archive.write("runs/r1/client.stdout", "hello\n")
    (archive.root / "runs" / "r1" / "link").symlink_to("/etc/passwd")
    archive.set_state("complete")
    with pytest.raises(Exception, match="outside the archive"):
        archive.write("../escape.txt", "no")
    target = pack(archive.root)
    assert "runs/r1/link" not in (archive.root / "SHA256SUMS").read_text()
    with tarfile.open(target) as tar:
        names = tar.getnames()
        assert all(n.startswith(archive.root.name) for n in names)
        assert not any(m.issym() or m.islnk() for m in tar.getmembers())
        assert f"{archive.root.name}/runs/r1/client.stdout" in names
        assert f"{archive.root.name}/SHA256SUMS" in names


def test_adaptive_repetitions_stop_where_the_interval_is_narrow(lab_spec: LabSpec,
                                                                tmp_path: Path) -> None:
    """Every cell makes min runs, then more until its CI reaches the target or max: never a run
    past the one that reached it. The report agrees on which cells did."""
    from reporter.archive import load as load_archive
    from reporter.convergence import METRIC
    from reporter.stopping import settled
    from reporter.tidy import table

    reps = {"min": 3, "max": 5, "target_ci_pct": 5}
    campaign = write_campaign(tmp_path / "a.yaml", configurations=["bare", "container"],
                              directions={"container": ["container-container"]},
                              tools=["csrc"], tests=["stream", "rr"], message_sizes=[20000],
                              repetitions=reps)
    out = tmp_path / "out"
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out)),
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    root = only_archive(out)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["state"] == "complete" and set(manifest["plan"]) == set(manifest["runs"])
    assert manifest["campaign"]["repetitions"] == {**reps, "target_ci_pct": 5.0}
    df = table([load_archive(root)], cache=False)
    assert (df["status"] == "ok").all()
    for cell_id, runs in df.assign(cell=df["run_id"].str.rpartition(".")[0]).groupby("cell"):
        values = [float(v) for v in runs.sort_values("repetition")[METRIC[runs["test"].iloc[0]]]]
        assert sorted(runs["repetition"]) == list(range(1, len(values) + 1)), cell_id
        assert reps["min"] <= len(values) <= reps["max"], cell_id
        earlier = [settled(5, values[:n]) for n in range(reps["min"], len(values))]
        assert not any(earlier), f"{cell_id}: went on after reaching the target"
        assert len(values) == reps["max"] or settled(5, values), cell_id
    site = tmp_path / "site"
    proc = invoke("report", "--archive", str(root), "--out", str(site))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    stats = (site / "statistics.html").read_text()
    assert "Adaptive repetitions" in stats and "cells reached ±5 %" in stats


def test_parallel_streams_are_measured_and_shown(lab_spec: LabSpec, tmp_path: Path) -> None:
    """`streams: [1, 4]`: csrc and iperf3 run 4 flows too (qperf one, and the plan says so);
    every run ok, runs.csv has the flows' figures, the study's pages keep one flow and the
    Parallel streams page shows the rest."""
    import pandas as pd

    campaign = write_campaign(tmp_path / "s.yaml", configurations=["bare", "container",
                                                                    "overlay"],
                              directions={"container": ["container-container"]},
                              tests=["stream"], message_sizes=[20000], streams=[1, 4],
                              repetitions=2)
    dry = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--dry-run"),
                         capture_output=True, text=True, timeout=120, check=False)
    assert "qperf has no parallel streams" in dry.stdout, dry.stdout + dry.stderr
    _, manifest, site = collected_and_reported(lab_spec, campaign, tmp_path)
    assert len(manifest["runs"]) == 3 * 5 * 2  # paths × (qperf 1, iperf3 1+4, csrc 1+4) × 2
    four = [r for r in manifest["runs"].values() if r["streams"] == 4]
    assert {r["tool"] for r in four} == {"csrc", "iperf3"}
    assert all(("-P 4" in r["commands"]["client"]) == (r["tool"] == "iperf3") for r in four)
    runs = pd.read_csv(site / "data" / "runs.csv")
    many = runs[runs["streams"] == 4]
    assert len(many) == 3 * 2 * 2 and many["fairness"].between(0.25, 1.0).all()
    assert (many["flow_gbps_min"] <= many["gbps"] / 4 + 1e-9).all()
    assert runs.loc[runs["streams"] == 1, "fairness"].isna().all()
    page = (site / "streams.html").read_text()
    assert "summed goodput at 1 to N flows" in page and "fairness (Jain)" in page
    assert "single-flow throughput" in (site / "index.html").read_text()


def test_udp_packet_rate_is_measured_and_shown(lab_spec: LabSpec, tmp_path: Path) -> None:
    """`tests: [udp]` on bare, container and the overlay: csrc and iperf3 send datagrams of
    the campaign's sizes (clamped to the overlay's path MTU); every run ok, runs.csv has the
    rate, the loss and the CPU per Mpps, and the site a UDP page and a Summary point."""
    import pandas as pd

    campaign = write_campaign(tmp_path / "u.yaml", configurations=["bare", "container",
                                                                    "overlay"],
                              directions={"container": ["container-container"]},
                              tools=["csrc", "iperf3"], tests=["udp"],
                              message_sizes=[64, 20000], repetitions=2)
    _, manifest, site = collected_and_reported(lab_spec, campaign, tmp_path)
    assert {r["message_size"] for r in manifest["runs"].values()} == {64, 1422}
    runs = pd.read_csv(site / "data" / "runs.csv")
    assert len(runs) == 3 * 2 * 2 * 2 and (runs["status"] == "ok").all()
    assert (runs["udp_mpps"] > 0).all() and runs["udp_loss_pct"].between(0, 100).all()
    assert (runs["cpu_per_mpps"] > 0).all() and runs["gbps"].isna().all()
    page = (site / "udp.html").read_text()
    assert "Datagrams per second the receiver counted" in page and "CPU per Mpps" in page
    cells = pd.read_csv(site / "data" / "cells.csv")
    assert {"udp_mpps", "udp_loss_pct", "udp_gbps", "cpu_per_mpps"} <= set(cells["metric"])
    assert "million datagrams/s" in (site / "index.html").read_text()


def test_latency_under_load_is_measured_beside_the_idle_latency(lab_spec: LabSpec,
                                                                 tmp_path: Path) -> None:
    """`tests: [rr, rr-load]`, `streams: [1, 4]`: the ping-pong runs idle and under 1 and 4
    bulk flows on the same path; every run ok, the loaded runs carry the bulk's throughput,
    no program of theirs is left running, and the site shows idle against loaded."""
    import pandas as pd

    campaign = write_campaign(tmp_path / "l.yaml", configurations=["bare", "container"],
                              directions={"container": ["container-container"]},
                              tools=["csrc"], tests=["rr", "rr-load"], streams=[1, 4],
                              repetitions=2)
    root, _, site = collected_and_reported(lab_spec, campaign, tmp_path)
    leftovers = subprocess.run(["pgrep", "-f", f"{root.name}/.*dpb-(stream|pingpong)"],
                               capture_output=True, text=True, check=False).stdout
    assert not leftovers.strip()
    runs = pd.read_csv(site / "data" / "runs.csv")
    assert len(runs) == 2 * 2 + 2 * 2 * 2 and (runs["status"] == "ok").all()
    busy = runs[runs["test"] == "rr-load"]
    assert (busy["load_gbps"] > 0).all() and (busy["lat_p99_us"] > 0).all()
    assert runs.loc[runs["test"] == "rr", "load_gbps"].isna().all()
    page = (site / "loaded.html").read_text()
    assert "p99 idle → loaded (µs)" in page and "bulk Gb/s" in page
    assert "over idle" in (site / "index.html").read_text()
