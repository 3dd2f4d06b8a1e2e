"""bench.machine-lab: what the machine lab costs — its image (cold and warm), a boot to SSH, and a
campaign's wall time against the time its tools measure."""

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from . import campaign as campaign_mod
from . import lab, plan
from .archive import Archive, utc_now
from .benchdoc import machine
from .collect import NewArchive, Progress, run_campaign
from .lab import machine_image
from .lab.machine import MEMORY_MB, Machine
from .lab.spec import HOST_LETTERS

# The study's configurations on two kernels, small enough to run in minutes under TCG.
MATRIX: dict[str, Any] = {
    "name": "machine-lab-bench", "hosts": "lab",
    "configurations": ["bare", "container", "veth-control", "overlay", "overlay-ovs"],
    "tools": ["csrc", "iperf3"], "message_sizes": [20000], "mtus": [1500, 9000],
    "repetitions": 2, "duration_s": 1, "warmup_s": 1, "run_timeout_s": 60}


def _image_seconds() -> tuple[float, float]:
    """A cold build in a cache of its own (the user's cache is left alone), then a warm one."""
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory(prefix="dpb-bench-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            start = time.monotonic()
            machine_image.build(say=lambda _: None)
            cold = time.monotonic() - start
            start = time.monotonic()
            machine_image.build(say=lambda _: None)
            warm = time.monotonic() - start
        finally:
            if saved is None:
                os.environ.pop("XDG_CACHE_HOME", None)
            else:
                os.environ["XDG_CACHE_HOME"] = saved
    return cold, warm


def _boots(spec: lab.LabSpec, times: int) -> list[float]:
    """Both guests rebooted together ``times`` times: qemu start → SSH greets, each."""
    seconds: list[float] = []
    for _ in range(times):
        guests = [Machine(spec, letter, say=lambda _: None) for letter in HOST_LETTERS]
        for guest in guests:
            guest.remove()
            guest.build()
        seconds += [guest.wait() for guest in guests]
    return seconds


def run(spec: lab.LabSpec, boots: int) -> dict[str, Any]:
    cold, warm = _image_seconds()
    lab.up(spec, say=lambda _: None)
    boot_s = _boots(spec, boots)
    c = campaign_mod.parse(MATRIX, "bench.machine-lab", spec.hosts_file)
    runs = plan.runs(c)
    measuring = sum(plan.measuring_seconds(c, r) for r in runs)
    with tempfile.TemporaryDirectory(prefix="dpb-bench-") as out:
        start = time.monotonic()
        _, counts = run_campaign(c, runs, NewArchive(Path(out), Archive.new_name(c.name)),
                                 Progress())
        wall = time.monotonic() - start
    return {"image_cold_s": cold, "image_warm_s": warm, "boot_to_ssh_s": boot_s,
            "runs": len(runs), "ok": counts.get("ok", 0), "measuring_s": measuring,
            "wall_s": wall}


def said(result: dict[str, Any]) -> list[str]:
    return [f"image cold {result['image_cold_s']:.1f} s, warm {result['image_warm_s']:.2f} s; "
            f"boot to SSH median {statistics.median(result['boot_to_ssh_s']):.1f} s; campaign "
            f"wall ÷ measuring {result['wall_s'] / result['measuring_s']:.2f}"]


def section(result: dict[str, Any], boots: int) -> str:
    b = result["boot_to_ssh_s"]
    boot = f"{statistics.median(b):.1f} s ({min(b):.1f}–{max(b):.1f})"
    m = MATRIX
    campaign = (f"{', '.join(m['configurations'])}; {' and '.join(m['tools'])}; one message "
                f"size, MTU 1500 and 9000, {m['repetitions']} repetitions of {m['duration_s']} s "
                f"runs after {m['warmup_s']} s warm-ups")
    return f"""## bench.machine-lab — the machine lab's image, boot and campaign

Reproduce: `.venv/bin/invoke bench.machine-lab` (as root; brings the lab up with `--machines`
when it is down, builds the image once more in a cache of its own, and reboots the guests
{boots} times).

- The image: `mmdebstrap` from this machine's apt sources to an ext4 image (cold: an empty
  cache; warm: the same call again, which only looks up the package versions).
- Boot: both guests (qemu `-accel tcg -cpu max -smp 1 -m {MEMORY_MB}`) started together, from
  qemu's start until OpenSSH greets on the management address.
- The campaign, from archive creation to the last teardown (csrc built on each guest, facts,
  restore): {campaign}.

| measured {utc_now()[:16]}Z on {machine()} | value |
| --- | --- |
| image, cold build | {result['image_cold_s']:.1f} s |
| image, warm (cached) | {result['image_warm_s']:.2f} s |
| boot to SSH, median of {len(b)} (min–max) | {boot} |
| campaign runs (ok) | {result['runs']} ({result['ok']}) |
| time the tools measure | {result['measuring_s']:.0f} s |
| campaign wall time | {result['wall_s']:.0f} s |
| **wall ÷ measuring** | **{result['wall_s'] / result['measuring_s']:.2f}** |
| overhead per run | {(result['wall_s'] - result['measuring_s']) / result['runs']:.1f} s |

Against the namespace lab's bench.collect ratio, the difference is emulation: every command the
collector sends (a build, a namespace, a readiness poll) runs in a TCG guest on one emulated
core, so the per-run overhead is seconds, not milliseconds.
"""
