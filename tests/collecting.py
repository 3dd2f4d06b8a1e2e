"""Running campaigns on the lab from tests: the command line, a campaign file, the archive it
made, and what a campaign may leave behind in the lab hosts."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from collector.lab import LabSpec
from collector.preparation import campaign_tag

from .helpers import invoke

REPO = Path(__file__).resolve().parent.parent


def campaign_netns(root: Path) -> list[str]:
    """Namespaces this campaign built that still exist: dpb<its tag><host><kind>."""
    tag = campaign_tag(root.name)
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                           check=True).stdout.split()
    return [n for n in names if re.fullmatch(rf"dpb{tag}[01][cvos]", n)]


def collect_argv(spec: LabSpec, *args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "--search-root", str(REPO), "collect",
            "--lab-id", spec.lab_id, "--state-root", spec.state_root, *args]


def write_campaign(path: Path, **overrides: Any) -> Path:
    body = {"name": "t", "hosts": "lab", "message_sizes": [1000], "mtus": [1500],
            "repetitions": 1, "duration_s": 1, "warmup_s": 1, "run_timeout_s": 20,
            "seed": 7, **overrides}
    path.write_text(yaml.safe_dump(body))
    return path


def only_archive(out: Path) -> Path:
    found = [p.parent for p in out.glob("*/manifest.json")]
    assert len(found) == 1, found
    return found[0]


def host_state(spec: LabSpec) -> dict[str, Any]:
    """What a campaign may leave behind inside the lab hosts: links, addresses, routes, tool
    servers, MTUs, forwarding (its own namespaces: campaign_netns)."""
    state: dict[str, Any] = {}
    for letter in ("a", "b"):
        ns = spec.netns(letter)
        links = json.loads(subprocess.run(["ip", "-n", ns, "-j", "link", "show"],
                                          capture_output=True, text=True, check=True).stdout)
        state[f"{letter}-links"] = sorted((link["ifname"], link["mtu"], *sorted(link["flags"]))
                                          for link in links)
        state[f"{letter}-addrs"] = subprocess.run(["ip", "-n", ns, "-br", "addr"],
                                                  capture_output=True, text=True,
                                                  check=True).stdout
        state[f"{letter}-routes"] = subprocess.run(["ip", "-n", ns, "route"],
                                                   capture_output=True, text=True,
                                                   check=True).stdout
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                              check=True).stdout.split()
        state[f"{letter}-tools"] = sorted(
            Path(f"/proc/{p}/comm").read_text().strip() for p in pids
            if Path(f"/proc/{p}/comm").exists()
            and Path(f"/proc/{p}/comm").read_text().strip() in ("qperf", "iperf3",
                                                                 "ovs-vswitchd", "ovsdb-server"))
        state[f"{letter}-forward"] = subprocess.run(
            ["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"],
            capture_output=True, text=True, check=True).stdout.strip()
    return state


TOOL_NAMES = ("qperf", "iperf3", "dpb-stream", "dpb-pingpong", "dpb-udp")


def orphaned_tools() -> list[str]:
    """Tool processes in a network namespace nobody can name any more (not the machine's, not
    one under /run/netns): what a teardown that deleted a namespace left running inside it."""
    def ns(path: Path) -> str:
        try:
            return os.readlink(path)
        except OSError:
            return ""
    named = {ns(Path("/proc/1/ns/net"))}
    named |= {f"net:[{p.stat().st_ino}]" for p in Path("/run/netns").glob("*")} \
        if Path("/run/netns").is_dir() else set()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if comm in TOOL_NAMES and ns(proc / "ns" / "net") not in named:
            found.append(f"{proc.name} {comm}")
    return found


# Campaigns as processes (the fault and interruption tests stop them).

def running(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[str],
             limit_s: float = 180) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and proc.poll() is None:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never saw: {what}")


def records(out: Path) -> dict[str, Any]:
    for path in out.glob("*/manifest.json"):
        try:
            runs: dict[str, Any] = json.loads(path.read_text())["runs"]
            return runs
        except (json.JSONDecodeError, OSError):
            return {}
    return {}


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err


def collected_and_reported(lab_spec: LabSpec, campaign: Path,
                            tmp_path: Path) -> tuple[Path, dict[str, Any], Path]:
    """The campaign collected on the lab, every run ok, and reported: (archive, its manifest,
    the site)."""
    out, site = tmp_path / "out", tmp_path / "site"
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out", str(out)),
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    root = only_archive(out)
    manifest: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    assert {r["status"] for r in manifest["runs"].values()} == {"ok"}, {
        k: r["reason"] for k, r in manifest["runs"].items() if r["status"] != "ok"}
    proc = invoke("report", "--archive", str(root), "--out", str(site))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root, manifest, site
