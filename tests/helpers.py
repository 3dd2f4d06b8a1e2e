"""Helpers shared by the tests."""

import os
import secrets

import pytest

from collector import lab

TEST_STATE_ROOT = "/var/lib/dataplane-bench-test"


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="lab tests need root")


def make_spec(mgmt_octet: int, wire_octet: int, mtu: int = 1500) -> lab.LabSpec:
    """A lab of its own for one test: a random id and subnets apart from the user's lab."""
    return lab.LabSpec(lab_id="t" + secrets.token_hex(2), mgmt_subnet=f"198.18.{mgmt_octet}.0/24",
                       wire_subnet=f"198.18.{wire_octet}.0/24", mtu=mtu,
                       state_root=TEST_STATE_ROOT)
