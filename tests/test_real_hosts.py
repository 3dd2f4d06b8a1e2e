"""What real hosts do that the lab hid (issue: foreign hosts): no default route on the data
network, end facts after the restore, nothing left behind by a refused or a stopped campaign."""

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.exit import ExitStatus
from collector.hosts import Host
from collector.lab import LabSpec
from collector.preparation import REMOTE_WORKDIR
from reporter import facts
from reporter.archive import load

from .collecting import (
    collect_argv,
    finish,
    host_state,
    only_archive,
    records,
    running,
    wait_for,
    write_campaign,
)

pytestmark = pytest.mark.lab


def _default_routes(spec: LabSpec) -> dict[str, list[dict[str, str]]]:
    return {ns: json.loads(subprocess.run(["ip", "-n", ns, "-j", "route", "show", "default"],
                                          capture_output=True, text=True, check=True).stdout)
            for ns in (spec.netns("a"), spec.netns("b"))}


@pytest.fixture
def no_default_route(lab_spec: LabSpec) -> Iterator[LabSpec]:
    """The lab's hosts without their default routes, as on a dedicated data network; put back
    afterwards, also when the test fails."""
    saved = _default_routes(lab_spec)
    assert all(saved.values()), "the lab hosts should have a default route to remove"
    for ns in saved:
        subprocess.run(["ip", "-n", ns, "route", "del", "default"], check=True)
    try:
        yield lab_spec
    finally:
        for ns, routes in saved.items():
            for r in routes:
                subprocess.run(["ip", "-n", ns, "route", "replace", "default", "via",
                                r["gateway"], "dev", r["dev"]], check=True)


def test_containers_need_no_default_route_on_the_hosts(no_default_route: LabSpec,
                                                        tmp_path: Path) -> None:
    spec = no_default_route
    before = host_state(spec)
    campaign = write_campaign(tmp_path / "c.yaml", configurations=["bare", "container"],
                              tools=["qperf"], tests=["rr"])
    proc = subprocess.run(collect_argv(spec, "--campaign", str(campaign), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    manifest = json.loads((only_archive(tmp_path / "out") / "manifest.json").read_text())
    container = [r for r in manifest["runs"].values() if r["configuration"] == "container"]
    assert len(container) == 3 and all(r["status"] == "ok" for r in container), container
    assert host_state(spec) == before
    assert _default_routes(spec) == {ns: [] for ns in (spec.netns("a"), spec.netns("b"))}


def test_end_facts_describe_the_restored_hosts(campaign: Path) -> None:
    """The session campaign changed ip_forward (container) and restored it: the end facts,
    taken after the restore, match the start, so no page warns of a change."""
    manifest = json.loads((campaign / "manifest.json").read_text())
    hosts = facts.by_host(load(campaign))
    assert len(hosts) == 2
    for host, phases in hosts.items():
        start = next(v for k, v in phases.items() if k.startswith("start-"))
        end = next(v for k, v in phases.items() if k.startswith("end-"))
        assert start["sysctl"] == end["sysctl"], host
        data_if = manifest["host_state"][host]["data_if"]
        assert start[f"mtu {data_if}"] == end[f"mtu {data_if}"], host
    site_warnings = facts.warnings(hosts)
    assert not [w for w in site_warnings if "changed during the campaign" in w], site_warnings


def test_a_refused_campaign_leaves_no_archive(lab_spec: LabSpec, lab_hosts: list[Host],
                                              tmp_path: Path) -> None:
    a, b = (dict(h.__dict__) for h in lab_hosts)
    gone = {**b, "ssh_host": str(lab_spec.mgmt_gateway.network.network_address + 99)}
    campaign = write_campaign(tmp_path / "u.yaml", hosts=[a, gone], configurations=["bare"])
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == ExitStatus.HOST_UNREACHABLE, proc.stderr
    assert "lab-b" in proc.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_stopped_campaign_leaves_no_work_dir_on_the_hosts(lab_spec: LabSpec,
                                                            tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path / "s.yaml", configurations=["bare"], tools=["qperf"],
                              repetitions=20, order="sequential")
    out = tmp_path / "out"
    proc = running(collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out)))
    wait_for("the first run", lambda: bool(records(out)), proc)
    proc.send_signal(signal.SIGINT)
    code, _, err = finish(proc)
    assert code == 130, err[-2000:]
    root = only_archive(out)
    for letter in ("a", "b"):
        listing = subprocess.run(["ip", "netns", "exec", lab_spec.netns(letter), "sh", "-c",
                                  f"ls {REMOTE_WORKDIR} 2>/dev/null; true"],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert root.name not in listing, listing
