"""Hosts files and lab specs: validation errors name the file, the key and what is allowed."""

from pathlib import Path

import pytest

from collector.errors import BenchError
from collector.hosts import Host, load_hosts, save_hosts
from collector.lab import LabSpec


def test_hosts_file_round_trips(tmp_path: Path) -> None:
    hosts = [Host(name="a", ssh_host="198.18.255.11", data_address="198.18.0.1", key="/k"),
             Host(name="b", ssh_host="b.example", data_address="198.18.0.2", sudo=True,
                  user="bench", port=2222)]
    path = tmp_path / "hosts.yaml"
    save_hosts(path, hosts)
    assert load_hosts(path) == hosts


@pytest.mark.parametrize(("body", "message"), [
    ("hosts: [{name: a, ssh_host: x}]", r"hosts\[0\]: missing key\(s\) data_address"),
    ("hosts: [{name: a, ssh_host: x, data_address: nope}]", r"data_address: 'nope' is not an IP"),
    ("hosts: [{name: a, ssh_host: x, data_address: 198.18.0.1, colour: red}]",
     r"unknown key\(s\) colour"),
    ("hosts: [{name: a, ssh_host: x, data_address: 198.18.0.1, port: 70000}]",
     r"port: 70000 is not a TCP port"),
    ("hosts: [1]", r"hosts\[0\]: expected a mapping"),
    ("nothing: here", r"expected a mapping with a `hosts` list"),
    ("hosts: [", r"not valid YAML"),
])
def test_bad_hosts_files_name_the_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(body)
    with pytest.raises(BenchError, match=message) as info:
        load_hosts(path)
    assert str(path) in str(info.value)


def test_missing_hosts_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"lab\.up"):
        load_hosts(tmp_path / "absent.yaml")


@pytest.mark.parametrize("subnet", ["10.0.0.0/24", "192.168.1.0/24", "198.20.0.0/24",
                                    "198.16.0.0/14", "198.18.0.0/30"])
def test_lab_refuses_addresses_outside_the_benchmarking_range(subnet: str) -> None:
    with pytest.raises(BenchError, match=r"198\.18\.0\.0/15"):
        LabSpec(mgmt_subnet=subnet)
    with pytest.raises(BenchError, match=r"198\.18\.0\.0/15"):
        LabSpec(wire_subnet=subnet)


@pytest.mark.parametrize("lab_id", ["", "toolong7", "a-b", "ümlau"])
def test_lab_id_must_fit_interface_names(lab_id: str) -> None:
    with pytest.raises(BenchError, match="lab id"):
        LabSpec(lab_id=lab_id)


def test_lab_names_and_addresses_derive_from_the_spec() -> None:
    spec = LabSpec(lab_id="x1", mgmt_subnet="198.19.7.0/24", wire_subnet="198.19.8.0/24")
    assert (spec.netns("a"), spec.netns("b"), spec.bridge) == ("x1-a", "x1-b", "x1-mgmt")
    assert max(len(n) for n in (spec.bridge, spec.mgmt_port("a"))) <= 15
    assert str(spec.mgmt_address("b")) == "198.19.7.12/24"
    assert str(spec.wire_address("a")) == "198.19.8.1/24"
    assert str(spec.mgmt_gateway) == "198.19.7.1/24"
    assert spec.peer("a") == "b"
