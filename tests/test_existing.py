"""The existing configuration on the lab: endpoints made the way runtimes make them, measured
through `netns:` on one host and `pid:` on the other, and left exactly as they were."""

import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from collector.lab import LabSpec

from .collecting import collect_argv, collected_and_reported, host_state, write_campaign
from .runtime_like import BRIDGE, RuntimeLike, runtime_like_endpoints

pytestmark = pytest.mark.lab


def _endpoints(eps: RuntimeLike, **change_b: Any) -> list[dict[str, Any]]:
    return [{"host": "lab-a", "netns": eps.netns_a, "address": eps.address_a},
            {"host": "lab-b", "pid": eps.pid_b, "address": eps.address_b, **change_b}]


def test_existing_endpoints_are_measured_where_they_are(lab_spec: LabSpec,
                                                       tmp_path: Path) -> None:
    with runtime_like_endpoints(lab_spec) as eps:
        before = (host_state(lab_spec), eps.snapshot())
        campaign = write_campaign(tmp_path / "e.yaml", configurations=["bare", "existing"],
                                  tools=["csrc", "iperf3"], tests=["stream", "rr"],
                                  message_sizes=[20000], repetitions=2,
                                  endpoints=_endpoints(eps))
        dry = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--dry-run"),
                             capture_output=True, text=True, timeout=120, check=False)
        assert "endpoints' own interfaces keep their MTUs" in dry.stdout, dry.stdout + dry.stderr
        root, manifest, site = collected_and_reported(lab_spec, campaign, tmp_path)
        after = (host_state(lab_spec), eps.snapshot())
        changed = {k: (before[i][k], after[i][k]) for i in (0, 1) for k in before[i]
                   if before[i][k] != after[i][k]}
        assert not changed  # nothing of theirs changed
        assert eps.snapshot()["b-alive"] == "sleep"

    runs = [r for r in manifest["runs"].values() if r["configuration"] == "existing"]
    # 3 directions × (csrc stream + rr, iperf3 stream) × 2 repetitions
    assert len(runs) == 3 * 3 * 2
    assert {r["direction"] for r in runs} == {"existing-existing", "existing-host",
                                              "host-existing"}
    for r in runs:
        assert {k: v for k, v in r["topology"].items() if k.startswith("endpoint:")} == {
            "endpoint:lab-a": "veth, routed, MTU 1500",
            "endpoint:lab-b": f"veth → {BRIDGE} bridge, MTU 1500"}
        assert r["topology"]["netns-id:lab-b"].startswith("net:[")
        assert r["path_mtus"]["lab-a:wire0"] == 1500
        if r["direction"] != "host-existing":
            assert r["client"]["netns"] == eps.netns_a
            assert r["commands"]["client"].startswith(
                f"timeout -k 2 20 ip netns exec {eps.netns_a} ")
        if r["direction"] != "existing-host":
            assert r["server"]["pid"] == eps.pid_b
            assert r["commands"]["server"].startswith(
                f"nsenter --net=/proc/{eps.pid_b}/ns/net -- ")
        assert r["path_mtus"][f"lab-b:pid{eps.pid_b}:eth0"] == 1500
        assert r["path_mtus"]["lab-a:web0h"] == 1500
    found = sorted((root / "facts" / "lab-b").glob("existing-endpoint-*.txt"))
    assert len(found) == 1 and f"{BRIDGE}" in found[0].read_text()
    assert "ip route show" in found[0].read_text()

    cells = pd.read_csv(site / "data" / "cells.csv")
    mine = cells[(cells["configuration"] == "existing") & (cells["metric"] == "gbps")]
    assert len(mine) == 3 * 2 and mine["ratio_to_bare"].notna().all()
    index = (site / "index.html").read_text()
    assert ("Your existing endpoints (lab-a: veth, routed, MTU 1500; lab-b: veth → br-web "
            "bridge, MTU 1500) reach") in index
    assert "existing measured endpoints as they were found" in index
    assert "existing" in (site / "throughput.html").read_text()


def _refused(lab_spec: LabSpec, tmp_path: Path, endpoints: list[dict[str, Any]]) -> str:
    campaign = write_campaign(tmp_path / "bad.yaml", configurations=["bare", "existing"],
                              tools=["iperf3"], tests=["stream"], endpoints=endpoints)
    out = tmp_path / "out"
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out)),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert not out.exists() or not any(out.iterdir())  # stopped before any archive
    return proc.stdout + proc.stderr


def test_missing_endpoints_stop_the_campaign_before_it_measures(lab_spec: LabSpec,
                                                                tmp_path: Path) -> None:
    with runtime_like_endpoints(lab_spec) as eps:
        dead = subprocess.Popen(["true"])
        dead.wait()
        said = _refused(lab_spec, tmp_path, [
            {"host": "lab-a", "netns": "no-such-ns", "address": eps.address_a},
            _endpoints(eps)[1]])
        assert "lab-a" in said and "endpoints[0].netns: no network namespace 'no-such-ns'" \
            in said, said
        said = _refused(lab_spec, tmp_path, _endpoints(eps, pid=dead.pid))
        assert "lab-b" in said and f"endpoints[1].pid: no process {dead.pid}" in said, said
        said = _refused(lab_spec, tmp_path, _endpoints(eps, address="198.19.21.99"))
        assert "lab-b" in said and "endpoints[1].address: 198.19.21.99 is not an address in " \
            f"the namespace of PID {eps.pid_b} (it has: " in said, said
        # a process in host B's own namespace (its sshd): that path is bare, not an endpoint
        host_pid = int(subprocess.run(["ip", "netns", "pids", lab_spec.netns("b")],
                                      capture_output=True, text=True,
                                      check=True).stdout.split()[0])
        said = _refused(lab_spec, tmp_path, _endpoints(eps, pid=host_pid))
        assert f"endpoints[1].pid: the namespace of PID {host_pid} is the host's own" in said
