"""Helpers shared by the tests."""

import os
import secrets
import subprocess

import pytest

from collector import lab

TEST_STATE_ROOT = "/var/lib/dataplane-bench-test"


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="lab tests need root")


def make_spec(wire_octet: int, mtu: int = 1500) -> lab.LabSpec:
    """A lab of its own for one test: a random id, and a management subnet no route uses yet."""
    for _ in range(50):
        mgmt = f"198.19.{secrets.choice(range(128, 255))}.0/24"
        if not subprocess.run(["ip", "route", "show", mgmt], capture_output=True, text=True,
                              check=True).stdout.strip():
            break
    return lab.LabSpec(lab_id="t" + secrets.token_hex(2), mgmt_subnet=mgmt,
                       wire_subnet=f"198.18.{wire_octet}.0/24", mtu=mtu,
                       state_root=TEST_STATE_ROOT)
