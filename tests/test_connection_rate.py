"""Connection rate (`tests: [crr]`), send calls and the busiest core, and pinned tools
(`cpu_affinity`): the campaign keys and their refusals, the command lines, the parser on the
real program's output, and a lab campaign through the real path."""

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd
import pytest

from collector import affinity, campaign, plan
from collector.connection import Connection
from collector.endpoint import Endpoint
from collector.errors import UsageError
from collector.exit import ExitStatus
from collector.lab import LabSpec
from collector.pinning import Cores, online_cpus, pin, recorded
from collector.remote import Remote
from collector.tools import TOOLS, ToolContext
from reporter.parsers import csrc

from .collecting import collect_argv, collected_and_reported, write_campaign

FIXTURES = Path(__file__).parent / "fixtures"
HOSTS = [{"name": n, "ssh_host": f"198.18.255.{i}", "data_address": f"198.18.0.{i}"}
         for i, n in ((1, "lab-a"), (2, "lab-b"))]


def parsed(**keys: Any) -> campaign.Campaign:
    return campaign.parse({"hosts": HOSTS, "seed": 1, **keys}, "c.yaml")


def test_crr_cells_carry_the_request_size_and_only_csrc_runs_them() -> None:
    c = parsed(configurations=["bare"], tests=["stream", "rr", "crr"], request_size=100)
    crr = [cell for cell in plan.cells(c) if cell.test == "crr"]
    assert [(cell.tool, cell.message_size) for cell in crr] == [("csrc", 100)]
    assert crr[0].cell_id == "bare.host-host.csrc.crr.100B.sb-auto.mtu1500"
    assert next(cell.message_size for cell in plan.cells(parsed(tests=["crr"]))
                if cell.test == "crr") == 1


@pytest.mark.parametrize(("raw", "said"), [
    ({"request_size": 0}, "request_size: 0 is not allowed"),
    ({"request_size": 2 * 1024 * 1024}, "request_size"),
    ({"cpu_affinity": "fast"}, "cpu_affinity: 'fast' is not allowed"),
    ({"cpu_affinity": {"client": 1}}, "both client and server are needed"),
    ({"cpu_affinity": {"client": 1, "server": -1}}, "cpu_affinity.server: -1"),
    ({"cpu_affinity": {"client": True, "server": 1}}, "cpu_affinity.client: True"),
    ({"cpu_affinity": {"client": 1, "server": 2, "irq": 0}}, "nothing else"),
])
def test_bad_keys_are_refused_naming_them(raw: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as err:
        parsed(**raw)
    assert said in str(err.value) and err.value.message.startswith("c.yaml: ")


def test_defaults_leave_the_manifest_as_it_was_and_settings_go_round() -> None:
    plain = parsed().to_input()
    assert "cpu_affinity" not in plain and "request_size" not in plain
    for value in ("auto", {"client": 3, "server": 2}):
        c = parsed(cpu_affinity=value, request_size=64)
        again = campaign.parse(c.to_input(), "manifest")
        assert again.cpu_affinity == c.cpu_affinity and again.request_size == 64
        assert c.to_input()["cpu_affinity"] == value
    assert any("tools pinned with taskset: auto" in n
               for n in plan.notes(parsed(cpu_affinity="auto")))


def test_online_cpu_lists_as_the_kernel_writes_them() -> None:
    assert online_cpus("0-3,6\n") == [0, 1, 2, 3, 6]
    assert online_cpus("0") == [0]
    assert online_cpus(Path("/sys/devices/system/cpu/online").read_text())
    with pytest.raises(ValueError):
        online_cpus("0-x")


def test_pinning_wraps_each_side_and_leaves_vm_guests_alone() -> None:
    host = Connection(cast(Remote, SimpleNamespace(host=SimpleNamespace(name="lab-a"))),
                      "host", "/run/x")
    on_host, in_vm = Endpoint("host", host, "198.18.0.1"), Endpoint("vm", host, "198.19.0.1",
                                                                     guest=host)
    cores = Cores({"lab-a": 1}, {"lab-a": 0})
    assert recorded(cores, on_host, on_host) is not None
    assert recorded(None, on_host, on_host) is None
    vm_side = recorded(cores, in_vm, on_host)
    assert vm_side is not None and (vm_side.client, vm_side.server) == (None, 0)
    cell = next(c for c in plan.cells(parsed(configurations=["bare"], tests=["crr"])))
    inv = TOOLS["csrc"](cell, on_host, on_host, ToolContext(1, 1, 19300))
    pinned = pin(inv, 1, None)
    assert pinned.client[:3] == ["taskset", "-c", "1"] and pinned.client[3:] == inv.client
    assert pinned.server == inv.server and inv.server[0].endswith("/dpb-crr")
    assert affinity.parse({"client": 4, "server": 5}, "x") == affinity.Affinity(4, 5)


def test_the_crr_client_output_is_read_from_the_real_program() -> None:
    got = csrc.crr_client((FIXTURES / "csrc-crr-client.json").read_text())
    assert got["crr_cps"] > 0 and got["crr_failed"] == 0
    assert 0 < got["crr_connect_p50_us"] <= got["crr_p50_us"] <= got["crr_p99_us"]
    sender = csrc.stream_sender((FIXTURES / "csrc-stream-sender.json").read_text())
    assert sender["send_calls_per_s"] and sender["send_calls_per_s"] > 0


@pytest.mark.lab
def test_connection_rate_pinned_measured_and_shown(lab_spec: LabSpec, tmp_path: Path) -> None:
    """stream, rr and crr on bare, container and the overlay with `cpu_affinity: auto`: every
    run ok and pinned where auto says, the kernel's count of opens agrees with the program's,
    and the site has the Connection rate page, the CPU page's send calls and busiest cores,
    and where the tools ran."""
    cpus = online_cpus(Path("/sys/devices/system/cpu/online").read_text())
    client_cpu, server_cpu = cpus[-1], ([c for c in cpus if c < cpus[-1]] or cpus)[-1]
    path = write_campaign(tmp_path / "c.yaml", configurations=["bare", "container", "overlay"],
                          directions={"container": ["container-container"]}, tools=["csrc"],
                          tests=["stream", "rr", "crr"], message_sizes=[100, 20000],
                          cpu_affinity="auto")
    _, manifest, site = collected_and_reported(lab_spec, path, tmp_path)
    records = manifest["runs"].values()
    assert len(records) == 3 * 4
    assert {json.dumps(r["cpu_affinity"]) for r in records} == {
        json.dumps({"client": client_cpu, "server": server_cpu})}
    assert all(f"taskset -c {client_cpu} " in r["commands"]["client"] and
               f"taskset -c {server_cpu} " in r["commands"]["server"] for r in records)
    runs = pd.read_csv(site / "data" / "runs.csv")
    crr = runs[runs["test"] == "crr"]
    assert len(crr) == 3 and (crr["crr_failed"] == 0).all()
    # The kernel's count is over the samplers' window, started over SSH beside the client's:
    # on a 1 s window an offset of a tenth of a second shows; the median agrees closely.
    off = (crr["kernel_cps"] / crr["crr_cps"] - 1).abs()
    assert off.median() < 0.05 and (off < 0.3).all(), off.tolist()
    assert (crr["cpu_per_kcps"] > 0).all() and crr["gbps"].isna().all()
    stream = runs[runs["test"] == "stream"]
    small, large = (stream[stream["message_size"] == s]["send_calls_per_s"].mean()
                    for s in (100, 20000))
    assert small > 2 * large > 0
    page = (site / "connections.html").read_text()
    assert "Connections completed per second, one at a time" in page
    assert "kernel opens/s" in page
    assert "Connection rate (csrc, MTU 1500): bare metal completed" in (
        site / "index.html").read_text()
    cpu_page = (site / "cpu.html").read_text()
    assert "Send calls and the bottleneck core" in cpu_page and "■" in cpu_page
    assert (f"client on CPU {client_cpu}, server on CPU {server_cpu}"
            in (site / "environment.html").read_text())


@pytest.mark.lab
def test_a_cpu_the_host_lacks_is_refused_before_anything(lab_spec: LabSpec,
                                                          tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml", configurations=["bare"], tools=["csrc"],
                          tests=["crr"], cpu_affinity={"client": 4000, "server": 0})
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(path), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode not in (ExitStatus.OK, ExitStatus.USAGE), proc.stderr[-2000:]
    said = " ".join(proc.stderr.split())
    assert "cpu_affinity.client: CPU 4000 is not online there" in said and "lab-a" in said
    assert not list((tmp_path / "out").glob("*/manifest.json"))
