"""Running campaigns on the lab from tests: the command line, a campaign file, the archive it
made, and what a campaign may leave behind in the lab hosts."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from collector.collect import campaign_tag
from collector.lab import LabSpec

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
