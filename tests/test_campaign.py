"""Campaign validation and the plan: errors name the key; plans are deterministic."""

from pathlib import Path
from typing import Any

import pytest

from collector import campaign, plan
from collector.errors import BenchError
from collector.existing import NamedEndpoint
from collector.hosts import host_from_mapping, save_hosts, vm_from_mapping

HOSTS = [{"name": "a", "ssh_host": "198.18.255.11", "data_address": "198.18.0.1"},
         {"name": "b", "ssh_host": "198.18.255.12", "data_address": "198.18.0.2"}]
VM_A = {"name": "vm-a", "host": "a", "ssh_host": "198.19.6.2", "data_address": "198.19.6.2",
        "jump": True, "routed": True, "host_interface": "tap0"}
VM_B = {"name": "vm-b", "host": "b", "ssh_host": "198.19.7.2", "data_address": "198.19.7.2"}
EP_A = {"host": "a", "netns": "cni-5f2c", "address": "198.19.20.2"}
EP_B = {"host": "b", "pid": 4242, "address": "198.19.21.2"}


def parse(**raw: Any) -> campaign.Campaign:
    return campaign.parse({"hosts": HOSTS, **raw}, "c.yaml")


@pytest.mark.parametrize(("raw", "message"), [
    ({"mtus": [1500, 12000]}, r"c\.yaml: mtus\[1\]: 12000 is not allowed"),
    ({"configurations": ["bare", "vms"]}, r"configurations\[1\]: 'vms' is not allowed"),
    ({"configurations": ["bare", "vm"]}, r"configurations: vm needs a VM on each host, and a "
                                         r"has none"),
    ({"vms": [{**VM_A, "host": "c"}]}, r"vms: vm-a runs on 'c', which is not one of the "
                                       r"campaign's hosts \(a, b\)"),
    ({"vms": [VM_A, {**VM_B, "host": "a"}]}, r"vms: a has 2 VMs"),
    ({"vms": [{**VM_A, "jump": "yes"}]}, r"vms\[0\]\.jump: 'yes' is not true or false"),
    ({"vms": [{k: v for k, v in VM_A.items() if k != "host"}]}, r"vms\[0\]: missing key host"),
    ({"vms": [VM_A], "configurations": ["vm"]}, r"vm needs a VM on each host, and b has none"),
    ({"tools": []}, r"tools: \[\] is not allowed"),
    ({"repetitions": 0}, r"repetitions: 0 is not allowed"),
    ({"repetitions": True}, r"repetitions: True is not allowed"),
    ({"order": "random"}, r"order: 'random' is not allowed"),
    ({"streams": [1, 65]}, r"streams\[1\]: 65 is not allowed"),
    ({"streams": 4}, r"streams: 4 is not allowed"),
    ({"colour": "red"}, r"unknown key\(s\) colour"),
    ({"directions": {"container": ["host-host"]}}, r"directions\.container"),
    ({"directions": {"overlay": ["container-container"]}, "configurations": ["bare"]},
     r"directions\.overlay"),
    ({"name": "a b"}, r"name: 'a b' is not allowed"),
    ({"hosts": HOSTS[:1]}, r"hosts: 2 to 64 hosts are needed, got 1"),
    ({"hosts": [HOSTS[0], HOSTS[0]]}, r"hosts: 2 hosts are named .a."),
    ({"message_sizes": ["20k"]}, r"message_sizes\[0\]: '20k' is not allowed"),
    ({"configurations": ["bare", "existing"]}, r"configurations: existing needs endpoints"),
    ({"endpoints": [EP_A, EP_B], "configurations": ["bare"]},
     r"endpoints: given, but configurations does not list existing"),
    ({"endpoints": [EP_A]}, r"endpoints: expected a list of two mappings, one per host \(a, b\)"),
    ({"endpoints": [EP_A, {**EP_B, "host": "a"}]}, r"endpoints: both name host 'a'"),
    ({"endpoints": [EP_A, {**EP_B, "host": "c"}]}, r"endpoints\[1\]\.host: 'c' is not one of"),
    ({"endpoints": [{**EP_A, "pid": 7}, EP_B]}, r"endpoints\[0\]: give exactly one of netns and"),
    ({"endpoints": [{"host": "a", "address": "198.19.20.2"}, EP_B]},
     r"endpoints\[0\]: give exactly one of netns and pid"),
    ({"endpoints": [{**EP_A, "netns": "../../etc"}, EP_B]},
     r"endpoints\[0\]\.netns: '\.\./\.\./etc' is not a namespace name"),
    ({"endpoints": [EP_A, {**EP_B, "pid": 1}]}, r"endpoints\[1\]\.pid: 1 is not a process ID"),
    ({"endpoints": [EP_A, {**EP_B, "pid": "4242; reboot"}]}, r"endpoints\[1\]\.pid: "),
    ({"endpoints": [{**EP_A, "address": "10.0.0.300"}, EP_B]},
     r"endpoints\[0\]\.address: '10\.0\.0\.300' is not an IP address"),
    ({"endpoints": [{k: v for k, v in EP_A.items() if k != "address"}, EP_B]},
     r"endpoints\[0\]: missing key address"),
    ({"endpoints": [EP_A, {**EP_B, "colour": "red"}]}, r"endpoints\[1\]: unknown key\(s\) colour"),
    ({"endpoints": [EP_A, {**EP_B, "address": "2001:db8::7"}]},
     r"directions\.existing: existing-existing would go from 198\.19\.20\.2 "
     r"\(endpoints\[0\]\.address\) to 2001:db8::7 \(endpoints\[1\]\.address\): not one IP"),
    ({"endpoints": [EP_A, {**EP_B, "address": "2001:db8::7"}],
      "directions": {"existing": ["existing-host"]}, "configurations": ["bare", "existing"],
      "hosts": [HOSTS[0], {**HOSTS[1], "data_address": "2001:db8::2"}]},
     r"existing-host would go from 198\.19\.20\.2 \(endpoints\[0\]\.address\) to "
     r"2001:db8::2 \(b's data_address\)"),
    ({"endpoints": [EP_A, {"host": "b", "container": "web-b", "runtime": "docker",
                           "address": "198.19.21.2"}]},
     r"endpoints\[1\]: container: naming a container is not supported; give the PID"),
])
def test_bad_values_name_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(BenchError, match=message):
        parse(**raw)


def test_lab_hosts_need_a_lab() -> None:
    with pytest.raises(BenchError, match=r"lab\.up"):
        campaign.parse({"hosts": "lab"}, "c.yaml", None)


def test_the_plan_covers_the_matrix_and_is_reproducible() -> None:
    c = parse(configurations=["bare", "container"], message_sizes=[100, 20000],
              socket_buffer=["auto", "message"], mtus=[1500, 9000], repetitions=3, seed=42)
    cells = plan.cells(c)
    # per MTU: 4 directions x (qperf and csrc: 2 sizes x 2 modes + rr; iperf3: 2 sizes x 2 modes)
    assert len(cells) == 2 * 4 * ((4 + 1) * 2 + 4)
    runs = plan.runs(c)
    assert len(runs) == 3 * len(cells)
    assert len({r.run_id for r in runs}) == len(runs)
    assert [r.run_id for r in runs] == [r.run_id for r in plan.runs(c)]
    builds = [(r.cell.mtu, r.cell.configuration) for r in runs]
    assert builds == sorted(builds, key=lambda b: ([1500, 9000].index(b[0]),
                                                   ["bare", "container"].index(b[1])))
    assert [r.run_id for r in runs] != [r.run_id for r in plan.runs(
        parse(**{**c.to_input(), "seed": 43}))]


def test_campaign_round_trips_through_the_manifest_form(tmp_path: Path) -> None:
    c = parse(configurations=["container"], directions={"container": ["host-container"]},
              seed=5)
    again = campaign.parse(c.to_input(), "manifest.json")
    assert again == c
    assert plan.runs(again) == plan.runs(c)


def test_rr_cells_use_one_byte_and_autotuned_buffers() -> None:
    c = parse(configurations=["bare"], tools=["qperf"], socket_buffer=["message"])
    rr = [cell for cell in plan.cells(c) if cell.test == "rr"]
    assert [(cell.message_size, cell.socket_buffer) for cell in rr] == [(1, "auto")]


def test_vm_is_measured_by_default_only_when_there_are_vms() -> None:
    assert "vm" not in parse().configurations
    with_vms = parse(vms=[VM_B, VM_A])
    assert with_vms.configurations == ("bare", "container", "vm", "veth-control", "overlay",
                                       "overlay-ovs")
    assert with_vms.directions["vm"] == ("vm-vm", "vm-host", "host-vm")
    assert with_vms.vm_on(0).name == "vm-a" and with_vms.vm_on(1).name == "vm-b"
    assert with_vms.vm_on(0).jump and not with_vms.vm_on(1).routed


def test_existing_endpoints_are_measured_by_default_when_named_and_round_trip() -> None:
    """Named endpoints add the existing configuration (before overlay-ovs, which moves the data
    address) with its three directions; the campaign survives the manifest form; the plan says
    the MTU axis leaves the endpoints' interfaces alone."""
    c = parse(endpoints=[EP_B, EP_A], seed=3)
    assert "existing" in c.configurations
    assert c.configurations.index("existing") < c.configurations.index("overlay-ovs")
    assert c.directions["existing"] == ("existing-existing", "existing-host", "host-existing")
    assert c.endpoint_on(0) == (1, NamedEndpoint("a", "198.19.20.2", netns="cni-5f2c"))
    assert c.endpoint_on(1)[1].pid == 4242
    assert campaign.parse(c.to_input(), "manifest.json") == c
    assert c.to_input()["endpoints"][0] == EP_B
    said = plan.figures(c, plan.runs(c))["notes"]
    assert "existing: the MTU axis sets the hosts' data NICs only" in said
    assert "existing" not in parse(seed=3).configurations


def test_vms_round_trip_through_the_manifest_form() -> None:
    c = parse(vms=[VM_A, VM_B], configurations=["vm"], seed=9)
    again = campaign.parse(c.to_input(), "manifest.json")
    assert again == c
    assert plan.runs(again) == plan.runs(c)


def test_vms_come_from_the_hosts_file_the_hosts_come_from(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    save_hosts(path, [host_from_mapping(h, "h") for h in HOSTS],
               [vm_from_mapping(v, "v") for v in (VM_A, VM_B)])
    c = campaign.parse({"hosts": str(path)}, "c.yaml")
    assert [vm.name for vm in c.vms] == ["vm-a", "vm-b"]
    assert "vm" in c.configurations
    lab = campaign.parse({"hosts": "lab"}, "c.yaml", path)
    assert lab.vms == c.vms
    assert campaign.parse({"hosts": "lab", "vms": []}, "c.yaml", path).vms == ()


def test_streams_axis_runs_every_count_but_qperf_and_latency_at_one_flow() -> None:
    assert parse().streams == (1,)  # the study's single flow, and its run ids unchanged
    assert all(not c.cell_id.endswith("flows") for c in plan.cells(parse()))
    c = parse(configurations=["bare"], streams=[1, 4], message_sizes=[1000])
    cells = plan.cells(c)
    by = {(x.tool, x.test): sorted(y.streams for y in cells if (y.tool, y.test) == (x.tool, x.test))
          for x in cells}
    assert by == {("qperf", "stream"): [1], ("qperf", "rr"): [1], ("iperf3", "stream"): [1, 4],
                  ("csrc", "stream"): [1, 4], ("csrc", "rr"): [1]}
    assert "bare.host-host.csrc.stream.1000B.sb-auto.mtu1500.4flows" in {x.cell_id for x in cells}
    assert "qperf has no parallel streams" in plan.figures(c, plan.runs(c))["notes"]
    assert "notes" not in plan.figures(parse(), plan.runs(parse()))



def test_udp_datagrams_fit_every_path_and_the_plan_says_when_they_were_clamped() -> None:
    c = parse(configurations=["bare", "overlay"], tests=["udp"], tools=["csrc", "iperf3"],
              message_sizes=[4, 64, 1400, 20000], mtus=[1500])
    sizes = sorted({x.message_size for x in plan.cells(c)})
    assert sizes == [8, 64, 1400, 1422]  # 1500 - VXLAN 50 - IP/UDP 28; 8 B holds the sequence
    assert {(x.tool, x.test) for x in plan.cells(c)} == {("csrc", "udp"), ("iperf3", "udp")}
    said = plan.figures(c, plan.runs(c))["notes"]
    assert "udp datagrams at MTU 1500: 4 → 8 B, 20,000 → 1,422 B" in said
    bare_only = parse(configurations=["bare"], tests=["udp"], message_sizes=[20000])
    assert {x.message_size for x in plan.cells(bare_only)} == {1472}
    with pytest.raises(BenchError, match=r"tests\[0\]: 'tcp' is not allowed"):
        parse(tests=["tcp"])


def test_latency_under_load_runs_under_each_count_of_bulk_flows() -> None:
    c = parse(configurations=["bare"], tests=["rr", "rr-load"], streams=[1, 4])
    cells = {(x.tool, x.test, x.message_size, x.streams) for x in plan.cells(c)}
    assert cells == {("qperf", "rr", 1, 1), ("csrc", "rr", 1, 1), ("csrc", "rr-load", 1, 1),
                     ("csrc", "rr-load", 1, 4)}
