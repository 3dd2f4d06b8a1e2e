"""Benchmarks of the harness itself; results go to docs/benchmarks.md with the command that
reproduces them. Each benchmark owns one marked section of that file."""

import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from . import campaign as campaign_mod
from . import lab, plan
from .archive import Archive, utc_now
from .benchdoc import machine
from .collect import NewArchive, Progress, run_campaign
from .lab.guest import MEMORY_MB, Guest, boot_record_path
from .lab.spec import HOST_LETTERS


def collect_overhead(spec: lab.LabSpec) -> dict[str, float]:
    """The default lab campaign: wall time ÷ time the tools measure (durations + warm-ups)."""
    lab.up(spec, say=lambda _: None)
    c = campaign_mod.lab_default(spec.hosts_file)
    runs = plan.runs(c)
    measuring = sum(plan.measuring_seconds(c, r) for r in runs)
    with tempfile.TemporaryDirectory(prefix="dpb-bench-") as out:
        start = time.monotonic()
        into = NewArchive(Path(out), Archive.new_name(c.name))
        _, counts = run_campaign(c, runs, into, Progress())
        wall = time.monotonic() - start
    return {"runs": len(runs), "ok": counts.get("ok", 0), "measuring_s": measuring,
            "wall_s": wall, "ratio": wall / measuring,
            "overhead_per_run_s": (wall - measuring) / len(runs)}


def collect_said(result: dict[str, float]) -> list[str]:
    return [f"wall {result['wall_s']:.1f} s ÷ measuring {result['measuring_s']:.1f} s = "
            f"{result['ratio']:.3f} (target ≤ 1.10)"]


def collect_section(result: dict[str, float]) -> str:
    return f"""## bench.collect — campaign overhead

Reproduce: `.venv/bin/invoke bench.collect` (as root; brings the lab up).

The default lab campaign (`invoke collect` with no file: every configuration,
{", ".join(campaign_mod.LAB_DEFAULT["tools"])}, message sizes
{", ".join(f"{s:,}" for s in campaign_mod.LAB_DEFAULT["message_sizes"])} B, MTU
{" and ".join(str(m) for m in campaign_mod.LAB_DEFAULT["mtus"])},
{campaign_mod.LAB_DEFAULT["repetitions"]} repetitions, {campaign_mod.LAB_DEFAULT["duration_s"]} s
runs, {campaign_mod.LAB_DEFAULT["warmup_s"]} s warm-up for iperf3 and csrc), from archive
creation to the last teardown, csrc build, facts and MTU restore included.

| measured {utc_now()[:16]}Z on {machine()} | value |
| --- | --- |
| runs (ok) | {result['runs']:.0f} ({result['ok']:.0f}) |
| time the tools measure (durations + warm-ups) | {result['measuring_s']:.1f} s |
| campaign wall time | {result['wall_s']:.1f} s |
| **wall ÷ measuring** (target ≤ 1.10) | **{result['ratio']:.3f}** |
| overhead per run | {result['overhead_per_run_s'] * 1000:.0f} ms |

What keeps it low: one SSH connection per host for the whole campaign, commands in persistent
remote shells (about 1.5 ms a command instead of a new SSH session's 100+ ms), readiness checks
by polling the listening socket instead of sleeps, and one build of each topology per MTU.
"""


def vm_boot(spec: lab.LabSpec, times: int) -> dict[str, list[float]]:
    """Boot each lab guest ``times`` times: seconds from starting qemu to SSH's greeting, and
    the guest kernel's uptime when its network was up (from its console)."""
    lab.up(spec, say=lambda _: None)
    boots: list[float] = []
    kernel: list[float] = []
    for _ in range(times):
        for letter in HOST_LETTERS:
            guest = Guest(spec, letter, say=lambda _: None)
            guest.remove()
            guest.build()
            boots.append(json.loads(boot_record_path(spec, letter).read_text())["boot_to_ssh_s"])
            found = re.search(r"([0-9.]+) s after boot", guest.console.read_text(errors="replace"))
            if found:
                kernel.append(float(found.group(1)))
    return {"boot_to_ssh_s": boots, "kernel_uptime_at_network_s": kernel}


def vm_boot_said(result: dict[str, list[float]]) -> list[str]:
    boots = sorted(result["boot_to_ssh_s"])
    return [f"lab VM boot to SSH: median {boots[len(boots) // 2]:.2f} s over {len(boots)} "
            "boots"]


def vm_boot_section(result: dict[str, list[float]], times: int) -> str:
    def row(name: str, values: list[float]) -> str:
        if not values:
            return f"| {name} | – | – | – |"
        return (f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f} s | "
                f"{max(values):.2f} s |")

    n = len(result["boot_to_ssh_s"])
    return f"""## bench.vm-boot — lab VM boot to SSH

Reproduce: `.venv/bin/invoke bench.vm-boot` (as root; brings the lab up with VMs and reboots its
guests {times} times each).

A lab guest (qemu `-accel tcg -cpu max -smp 1 -m {MEMORY_MB}`, the Debian cloud kernel, the
busybox initramfs) from starting qemu until dropbear greets on port 22 from the host's namespace;
and the guest kernel's own uptime when its boot script had the network up (the rest is qemu's
start, the firmware, dropbear's start and the probe's 50 ms polling).

| measured {utc_now()[:16]}Z on {machine()}, n = {n} | median | min | max |
| --- | ---: | ---: | ---: |
{row("qemu start → SSH greets", result["boot_to_ssh_s"])}
{row("guest kernel uptime at network up", result["kernel_uptime_at_network_s"])}

Under TCG every guest instruction is translated, so the kernel's own start-up dominates; the
other guest (idle, but emulated) and the host's processes share the same 2 cores.
"""
