"""Helpers shared by the tests."""

import functools
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from altair.vegalite.v6.schema import load_schema

from collector import lab
from reporter.pages.model import Chart

TEST_STATE_ROOT = "/var/lib/dataplane-bench-test"


def needs_root() -> pytest.MarkDecorator:
    return pytest.mark.skipif(os.geteuid() != 0, reason="lab tests need root")


def make_spec(wire_octet: int, mtu: int = 1500, vms: bool = False,
              machines: bool = False) -> lab.LabSpec:
    """A lab of its own for one test: a random id, and a management subnet no route uses yet."""
    for _ in range(50):
        mgmt = f"198.19.{secrets.choice(range(128, 255))}.0/24"
        if not subprocess.run(["ip", "route", "show", mgmt], capture_output=True, text=True,
                              check=True).stdout.strip():
            break
    return lab.LabSpec(lab_id="t" + secrets.token_hex(2), mgmt_subnet=mgmt,
                       wire_subnet=f"198.18.{wire_octet}.0/24", mtu=mtu,
                       state_root=TEST_STATE_ROOT, vms=vms, machines=machines)


REPO = Path(__file__).resolve().parent.parent


def invoke(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """The project's CLI as a user runs it."""
    return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
                          capture_output=True, text=True, timeout=900, check=False, cwd=cwd)


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's, never a downloaded one


def study_pages() -> list[str]:
    """The pages a one-campaign lab report has: the study's questions, no page that only an
    added test (streams, UDP, under load) or a second campaign makes."""
    from reporter.pages import NAV
    from reporter.pages.page import always

    return [page.slug for page in NAV if page.shown is always]


def added_pages() -> list[str]:
    """The pages a campaign adds when it measured what they are about."""
    from reporter.pages import NAV
    from reporter.pages.page import always, several_campaigns

    return [page.slug for page in NAV if page.shown not in (always, several_campaigns)]


def qemu_pids(spec: lab.LabSpec) -> list[int]:
    """This lab's qemu processes, found by the guest name each was started with."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.startswith(f"guest=dataplane-bench-{spec.lab_id}-".encode()) for a in argv):
                found.append(int(proc.name))
    return found


def lab_down_purged(spec: lab.LabSpec) -> subprocess.CompletedProcess[str]:
    """`lab.down --purge`, then any qemu of this lab it left killed by PID (never by name)."""
    down = invoke("lab.down", "--lab-id", spec.lab_id, "--state-root", spec.state_root, "--purge")
    for pid in qemu_pids(spec):
        subprocess.run(["kill", "-9", str(pid)], check=False)
    return down


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_schema())  # its resolved references kept


def assert_valid_vega_lite(charts: list[Chart]) -> None:
    """Each spec against Vega-Lite's schema; its inline datasets (arrays of row objects,
    which the schema takes whatever they hold) checked here, so the schema walks each row's
    values only once per chart, not per row."""
    validator = _validator()
    for chart in charts:
        spec = json.loads(json.dumps(chart.spec))
        datasets = spec.get("datasets", {})
        assert all(isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
                   for rows in datasets.values()), chart.caption
        spec["datasets"] = {name: rows[:1] for name, rows in datasets.items()}
        errors = list(validator.iter_errors(spec))
        assert errors == [], (chart.caption, errors[0].message[:300])
