"""The machine lab's pieces that need no root: its spec, its components, each guest's seed
(network files), the image's cache key and apt sources, and the refusal of `vm` on it. The
whole lab, booted, is tests/test_machine_lab.py."""

from pathlib import Path

import pytest

from collector import command
from collector.errors import BenchError, UsageError
from collector.lab import LabSpec, machine_image
from collector.lab.lab import components
from collector.lab.machine import Machine, mac, network_files
from collector.lab.network import Bridge, WireBridge
from reporter import facts

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_lab_is_machines_or_has_vms_not_both() -> None:
    with pytest.raises(BenchError, match="a machine lab has no VMs"):
        LabSpec(machines=True, vms=True)


def test_machine_lab_is_a_bridge_a_wire_bridge_and_two_guests() -> None:
    spec = LabSpec(lab_id="m1", machines=True)
    parts = components(spec, say=lambda _: None)
    kinds = [type(p).__name__ for p in parts]
    assert kinds == ["Credentials", "Bridge", "WireBridge", "Machine", "Machine"]
    assert isinstance(parts[1], Bridge) and isinstance(parts[2], WireBridge)
    guest = parts[3]
    assert isinstance(guest, Machine)
    assert guest.taps == {"mgmt": ("m1-mta", "m1-mgmt"), "wire": ("m1-wta", "m1-wire")}
    # lab.down removes the pieces of either kind, whichever is there
    removing = {type(p).__name__ for p in components(LabSpec(lab_id="m1"), removing=True)}
    assert {"Namespace", "Sshd", "Guest", "WireBridge", "Machine"} <= removing


def test_seed_network_files_mirror_the_namespace_lab() -> None:
    spec = LabSpec(lab_id="m1", machines=True, mtu=9000)
    files = network_files(spec, "b")
    assert files["10-mgmt.network"].splitlines()[:4] == [
        "[Match]", f"MACAddress={mac('mgmt', 'b')}", "[Network]", "Address=198.18.255.12/24"]
    wire = files["20-wire.network"]
    assert f"MACAddress={mac('wire', 'b')}" in wire and "MTUBytes=9000" in wire
    assert "Address=198.18.0.2/24" in wire and "Gateway=198.18.0.1" in wire
    assert "Gateway" not in files["10-mgmt.network"]  # SSH's network routes nowhere else
    assert len({mac(k, x) for k in ("mgmt", "wire") for x in ("a", "b")}) == 4


def test_the_image_key_follows_versions_recipe_and_sources(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text("Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n")
    key = machine_image._key({"qperf": "0.4.11-3"}, "bookworm", [sources])
    assert key == machine_image._key({"qperf": "0.4.11-3"}, "bookworm", [sources])
    assert key != machine_image._key({"qperf": "0.4.11-4"}, "bookworm", [sources])
    assert key != machine_image._key({"qperf": "0.4.11-3"}, "trixie", [sources])
    sources.write_text("Types: deb\nURIs: http://other.invalid/debian\nSuites: bookworm\n")
    assert key != machine_image._key({"qperf": "0.4.11-3"}, "bookworm", [sources])


def test_apt_sources_skip_empty_and_commented_files(tmp_path: Path) -> None:
    (tmp_path / "only-comments.list").write_text("# deb http://mirror.invalid/debian x main\n")
    assert not machine_image._has_entries(tmp_path / "only-comments.list")
    (tmp_path / "real.list").write_text("deb http://mirror.invalid/debian bookworm main\n")
    assert machine_image._has_entries(tmp_path / "real.list")


def test_vm_on_the_machine_lab_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("hosts: lab\nconfigurations: [bare, vm]\n")
    with pytest.raises(UsageError, match="vm is not offered on the machine lab") as err:
        command.load_campaign(str(path), LabSpec(lab_id="m1", machines=True,
                                                 state_root=str(tmp_path)))
    assert "TCG guest" in err.value.message and "lab.up --vms" in str(err.value.hint)
    path.write_text("hosts: lab\nconfigurations: [bare]\n")  # not refused for that reason
    with pytest.raises(BenchError) as other:
        command.load_campaign(str(path), LabSpec(lab_id="m1", machines=True,
                                                 state_root=str(tmp_path)))
    assert "machine lab" not in other.value.message


def test_two_machine_lab_hosts_read_as_two_kernels_and_emulated() -> None:
    """The collector's facts of the two guests (tests/fixtures/capture.sh machines)."""
    hosts = {h: {"start-1": facts.parse((FIXTURES / f"machine-lab-facts-{h}.txt").read_text())}
             for h in ("lab-a", "lab-b")}
    assert hosts["lab-a"]["start-1"]["boot_id"] != hosts["lab-b"]["start-1"]["boot_id"]
    said = facts.warnings(hosts)
    assert facts.emulated_hosts(hosts) == ["lab-a", "lab-b"]
    assert any("are emulated by QEMU TCG (the machine lab" in w for w in said)
    assert not any("share one kernel" in w for w in said)
    # Same image, so the same kernel and tools: only the node names differ, and say nothing.
    assert not any("differs between" in w for w in said), said
    other = {**hosts["lab-b"]["start-1"],
             "uname": hosts["lab-b"]["start-1"]["uname"].replace("6.1.0-57", "6.1.0-58")}
    assert any("`uname` differs" in w for w in facts.warnings({**hosts, "lab-b": {"s": other}}))
