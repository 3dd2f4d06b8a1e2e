"""Shared fixtures. Lab tests build real namespaces, veths and sshd, and remove them by name."""

import os
from collections.abc import Iterator

import pytest

from collector import lab
from collector.hosts import Host, load_hosts

from .helpers import make_spec


@pytest.fixture(scope="session")
def lab_spec() -> Iterator[lab.LabSpec]:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root")
    spec = make_spec(wire_octet=1)
    try:
        lab.up(spec, say=lambda _: None)
        yield spec
    finally:
        lab.down(spec, purge=True)


@pytest.fixture(scope="session")
def lab_hosts(lab_spec: lab.LabSpec) -> list[Host]:
    return load_hosts(lab_spec.hosts_file)
