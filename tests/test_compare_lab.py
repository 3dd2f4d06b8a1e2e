"""The regression gate on the real lab: a rate-limited wire (tc tbf on host A's side) is found
as a throughput regression with the right sign (exit 9); a repeat on the unchanged lab is not.
The three campaigns also make a real multi-campaign site (Compare and History pages)."""

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from collector.exit import ExitStatus
from collector.lab import LabSpec

from .collecting import collect_argv, only_archive, write_campaign
from .helpers import invoke

pytestmark = pytest.mark.lab
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _collect(spec: LabSpec, tmp: Path, name: str) -> Path:
    campaign = write_campaign(tmp / f"{name}.yaml", name=name, configurations=["bare"],
                              tools=["csrc", "iperf3"], tests=["stream"],
                              message_sizes=[20000], repetitions=3)
    proc = subprocess.run(collect_argv(spec, "--campaign", str(campaign), "--out",
                                       str(tmp / name)),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return only_archive(tmp / name)


def test_a_rate_limited_wire_fails_the_gate(lab_spec: LabSpec, tmp_path: Path) -> None:
    base = _collect(lab_spec, tmp_path, "base")
    tc = ["ip", "netns", "exec", lab_spec.netns("a"), "tc", "qdisc"]
    subprocess.run([*tc, "add", "dev", "wire0", "root", "tbf", "rate", "1gbit", "burst",
                    "256kb", "latency", "50ms"], check=True)
    try:
        limited = _collect(lab_spec, tmp_path, "tbf")
    finally:
        subprocess.run([*tc, "del", "dev", "wire0", "root"], check=True)
    again = _collect(lab_spec, tmp_path, "again")

    junit = tmp_path / "junit.xml"
    proc = invoke("compare", "--baseline", str(base), "--candidate", str(limited),
                  "--junit", str(junit))
    print(proc.stdout)
    assert proc.returncode == ExitStatus.REGRESSION, proc.stdout[-3000:] + proc.stderr
    gbps = [line for line in proc.stdout.splitlines()
            if line.startswith("bare.host-host") and line.split()[1] == "gbps"]
    assert gbps and all("worse" in line and "-" in line for line in gbps), gbps
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) >= 1
    failed = [case.get("classname", "") for case in suite.findall("testcase")
              if case.find("failure") is not None]
    assert any(name.startswith("throughput.bare") for name in failed), failed

    # The unchanged lab again: no regression (a lab this noisy may move a few %: tolerance 25).
    same = invoke("compare", "--baseline", str(base), "--candidate", str(again),
                  "--tolerance", "25")
    print(same.stdout)
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr

    site = ARTIFACTS / "compare-site"
    proc = invoke("report", "--archive", str(base), "--archive", str(limited), "--archive",
                  str(again), "--out", str(site))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    page = (site / "compare.html").read_text()
    assert "What changed" in page and "worse" in page
    assert (site / "history.html").is_file()
