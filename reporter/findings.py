"""The Summary's key points: one sentence per question of the study, synthesised from one
campaign's cells (not one per cell), each linking to the figure that shows it."""

import math
from dataclasses import dataclass

import pandas as pd

from . import numbers
from .campaigns import CampaignInfo
from .views import (
    CONFIG_ORDER,
    RR_TOOLS,
    STREAM_TOOLS,
    auto_buffers,
    mtus,
    ordered_tools,
    reference_size,
    small_size,
    where,
)

MAX_POINTS = 8
TOOLS_AGREE = 0.10  # tools whose ratios to bare metal differ by more than this disagree
CONFIG_NAMES = {"container": "containers", "veth-control": "the veth control", "vm": "VMs",
                "overlay": "the VXLAN overlay", "overlay-ovs": "OVS + VXLAN",
                "existing": "existing endpoints", "ipip": "IP-in-IP", "geneve": "Geneve",
                "wireguard": "WireGuard", "ipsec": "IPsec"}


@dataclass(frozen=True)
class KeyPoint:
    text: str
    link: str        # page.md#anchor
    link_text: str


Ratio = tuple[float, str, float]  # (ratio, path, the figure it is the ratio of)


def lowest_and_highest(ratios: list[Ratio]) -> tuple[Ratio, Ratio] | None:
    """The smallest and the largest ratio of a page's key point (ties broken by path)."""
    if not ratios:
        return None
    ordered = sorted(ratios)
    return ordered[0], ordered[-1]


def _span(values: list[float], fmt: str = "ratio") -> str:
    show = numbers.ratio if fmt == "ratio" else numbers.num
    lo, hi = min(values), max(values)
    return show(lo) if numbers.num(lo) == numbers.num(hi) else f"{show(lo)}–{show(hi)}"


def _ratios(df: pd.DataFrame, configuration: str) -> list[float]:
    rows = where(df, configuration=configuration)
    if rows.empty:
        return []
    return [float(r) for r in rows["ratio_to_bare"] if not math.isnan(r)]


def _directions(df: pd.DataFrame, configuration: str) -> str:
    """Which of a configuration's directions a span covers: "over their 3 directions", or the
    one measured."""
    dirs = list(where(df, configuration=configuration)["direction"])
    return f"over their {len(dirs)} directions" if len(dirs) > 1 else f"({dirs[0]})"


def _tools_note(gbps: pd.DataFrame, configuration: str, size: int, mtu: int) -> str:
    """Whether the stream tools agree on a configuration's ratio to bare metal."""
    per_tool = {}
    for tool in ordered_tools(gbps, STREAM_TOOLS):
        r = _ratios(where(gbps, tool=tool, message_size=size, mtu=mtu), configuration)
        if r:
            per_tool[tool] = sum(r) / len(r)
    if len(per_tool) < 2:
        return ""
    spread = max(per_tool.values()) / min(per_tool.values()) - 1
    if spread <= TOOLS_AGREE:
        within = "1" if spread < 0.01 else f"{spread * 100:.0f}"
        return f"; {', '.join(per_tool)} agree within {within} %"
    said = ", ".join(f"{t} {numbers.ratio(v)}" for t, v in per_tool.items())
    return f"; the tools disagree ({said})"


def key_points(info: CampaignInfo, cells: dict[str, pd.DataFrame]) -> list[KeyPoint]:
    gbps = auto_buffers(where(cells.get("gbps", pd.DataFrame()), campaign=info.name))
    lat = where(cells.get("lat_mean_us", pd.DataFrame()), campaign=info.name)
    cpg = auto_buffers(where(cells.get("cpu_per_gbps", pd.DataFrame()), campaign=info.name))
    points: list[KeyPoint] = []
    if not gbps.empty:
        points += _throughput_points(info, gbps, cpg, cells)
    if not lat.empty:
        points += _latency_points(info, lat)
    return points[:MAX_POINTS]


def _throughput_points(info: CampaignInfo, gbps: pd.DataFrame, cpg: pd.DataFrame,
                       cells: dict[str, pd.DataFrame]) -> list[KeyPoint]:
    out: list[KeyPoint] = []
    size, small = reference_size(gbps), small_size(gbps)
    all_mtus = mtus(gbps)
    mtu = all_mtus[0]
    tool = ordered_tools(gbps, STREAM_TOOLS)[0]
    at = where(gbps, tool=tool, message_size=size, mtu=mtu)
    bare = where(at, configuration="bare")
    if bare.empty or size is None:
        return out
    bare_gbps = float(bare["mean"].iloc[0])
    where_ = f"at {numbers.size(size)}, MTU {mtu}"
    link = f"throughput.md#mtu-{mtu}"
    configs = set(at["configuration"])
    if "container" in configs:
        r = _ratios(at, "container")
        over = _directions(at, "container")
        out.append(KeyPoint(
            f"Containers reach {_span(r)} bare-metal throughput {where_} {over} "
            f"(bare metal {numbers.num(bare_gbps)} Gb/s "
            f"with {tool}){_tools_note(gbps, 'container', size, mtu)}. The study saw "
            "containers saturate 10 GbE like bare metal (1.0×).", link, "throughput"))
    if "existing" in configs:
        r = _ratios(at, "existing")
        over = _directions(at, "existing")
        found = f" ({info.existing_label})" if info.existing else ""
        out.append(KeyPoint(
            f"Your existing endpoints{found} reach {_span(r)} bare-metal throughput {where_} "
            f"{over}{_tools_note(gbps, 'existing', size, mtu)}.", link, "throughput"))
    if "veth-control" in configs:
        r = _ratios(at, "veth-control")
        c = _ratios(where(cpg, tool=tool, message_size=size, mtu=mtu), "veth-control")
        cost = f", at {_span(c)} bare metal's CPU per Gb/s" if c else ""
        out.append(KeyPoint(
            f"One extra veth and namespace alone (the veth control) gives {_span(r)} "
            f"bare-metal throughput {where_}{cost}: the price of the crossing that "
            "containers pay too.", "veth-control.md#veth-control", "veth control"))
    overlays = [c for c in ("overlay", "overlay-ovs") if c in configs]
    if overlays:
        parts = []
        for cfg in overlays:
            name = "the Linux VXLAN overlay" if cfg == "overlay" else "OVS + VXLAN"
            per_mtu = []
            for m in all_mtus:
                r = _ratios(where(gbps, tool=tool, message_size=size, mtu=m), cfg)
                if r:
                    per_mtu.append(f"{_span(r)} at MTU {m}")
            if per_mtu:
                parts.append(f"{name} {' and '.join(per_mtu)}")
        datapath = (" (OVS on its userspace datapath)" if "netdev" in info.ovs_datapaths
                    and "overlay-ovs" in overlays else "")
        out.append(KeyPoint(
            f"Overlays at {numbers.size(size)} ({tool}), as a share of bare metal: "
            f"{'; '.join(parts)}{datapath}. The study found OVS + VXLAN substantially lower "
            "at MTU 1500, over 8 Gb/s of 10 at 9000.", "mtu.md#mtu", "MTU 1500 vs 9000"))
    if "vm" in configs:
        r = _ratios(at, "vm")
        emulated = (" — emulated by QEMU TCG here, so this measures emulation, not a "
                    "hypervisor" if info.emulated_vms else "")
        out.append(KeyPoint(f"VMs reach {_span(r)} bare-metal throughput {where_}{emulated}; "
                            "the study's Calico VMs saturated 10 GbE.", link, "throughput"))
    if small is not None:
        out += _small_message_point(info, cells, tool, small, size, mtu)
    c = _ratios(where(cpg, tool=tool, message_size=size, mtu=mtu), "container")
    if c:
        names = {"existing": "existing endpoints", "overlay": "the overlay",
                 "overlay-ovs": "OVS + VXLAN"}
        others = [f"{names[cfg]} "
                  f"{_span(_ratios(where(cpg, tool=tool, message_size=size, mtu=mtu), cfg))}"
                  for cfg in ("existing", *overlays)
                  if _ratios(where(cpg, tool=tool, message_size=size, mtu=mtu), cfg)]
        out.append(KeyPoint(
            f"Per Gb/s, containers spend {_span(c)} bare metal's CPU {where_}"
            + (f"; {', '.join(others)}" if others else "") + ".",
            f"cpu-per-gbps.md#mtu-{mtu}", "CPU per Gb/s"))
    return out


def _mean(cells: dict[str, pd.DataFrame], metric: str, **equal: object) -> float | None:
    rows = auto_buffers(where(cells.get(metric, pd.DataFrame()), **equal))
    return float(rows["mean"].iloc[0]) if not rows.empty else None


def _small_message_point(info: CampaignInfo, cells: dict[str, pd.DataFrame], tool: str,
                         small: int, size: int, mtu: int) -> list[KeyPoint]:
    at = {"campaign": info.name, "tool": tool, "mtu": mtu, "configuration": "bare",
          "direction": "host-host"}
    g_small = _mean(cells, "gbps", message_size=small, **at)
    g_large = _mean(cells, "gbps", message_size=size, **at)
    sender = _mean(cells, "cpu_sender_pct", message_size=small, **at)
    receiver = _mean(cells, "cpu_receiver_pct", message_size=small, **at)
    if None in (g_small, g_large, sender, receiver) or not g_large:
        return []
    assert g_small is not None and g_large is not None  # for mypy: checked just above
    side, cpu = ("sender", sender) if (sender or 0) >= (receiver or 0) else ("receiver", receiver)
    core = _mean(cells, f"cpu_{side}_busiest_core_pct", message_size=small, **at)
    limit = ("one core of it is saturated: CPU per message, not the wire, is the limit"
             if core is not None and core >= 90 else "no single core is saturated")
    return [KeyPoint(
        f"At {numbers.size(small)} bare metal moves {numbers.num(g_small)} Gb/s "
        f"({numbers.ratio(g_small / g_large)} its {numbers.size(size)} figure); the {side} is "
        f"the busier side at {numbers.num(cpu)} % of one CPU (busiest core "
        f"{numbers.num(core)} %): {limit}. The study found the small message CPU-bound at one "
        "core.", f"cpu.md#mtu-{mtu}", "CPU")]


def _latency_points(info: CampaignInfo, lat: pd.DataFrame) -> list[KeyPoint]:
    mtu = mtus(lat)[0]
    tool = ordered_tools(lat, RR_TOOLS)[0]
    at = where(lat, tool=tool, mtu=mtu)
    bare = where(at, configuration="bare")
    if bare.empty:
        return []
    parts = [f"bare metal {numbers.num(float(bare['mean'].iloc[0]))} µs"]
    for cfg in CONFIG_ORDER[1:]:
        rows = where(at, configuration=cfg)
        if rows.empty:
            continue
        means = [float(m) for m in rows["mean"]]
        ratios = [float(r) for r in rows["ratio_to_bare"] if not math.isnan(r)]
        parts.append(f"{CONFIG_NAMES.get(cfg, cfg)} {_span(means, 'num')} µs"
                     + (f" ({_span(ratios)})" if ratios else ""))
    emulated = " (VMs emulated)" if info.emulated_vms and "vm" in set(at["configuration"]) \
        else ""
    return [KeyPoint(
        f"One-way latency of a 1-byte ping-pong ({tool}, MTU {mtu}): {'; '.join(parts)}"
        f"{emulated}. The study measured 20 µs bare metal, 25 µs containers (1.25×), 70 µs "
        "VMs and OVS + VXLAN (3.5×).", f"latency.md#mtu-{mtu}", "latency")]


def study_rows(info: CampaignInfo, cells: dict[str, pd.DataFrame]) -> list[list[str]]:
    """Ours beside the study's, as ratios to bare metal (hardware differs; shapes compare)."""
    lat = where(cells.get("lat_mean_us", pd.DataFrame()), campaign=info.name)
    gbps = auto_buffers(where(cells.get("gbps", pd.DataFrame()), campaign=info.name))
    rows: list[list[str]] = []
    if lat.empty and gbps.empty:
        return rows
    study = {"bare": ("1 (20 µs)", "1 (saturates 10 GbE)"),
             "container": ("1.25 (25 µs)", "≈ 1 (saturates)"),
             "vm": ("3.5 (70 µs)", "≈ 1 (saturates)"),
             "overlay-ovs": ("3.5 (70 µs)", "substantially lower at 1500; > 0.8 at 9000")}
    lat_at = where(lat, tool=ordered_tools(lat, RR_TOOLS)[0], mtu=mtus(lat)[0]) \
        if not lat.empty else lat
    size = reference_size(gbps)
    gbps_at = where(gbps, tool=ordered_tools(gbps, STREAM_TOOLS)[0], mtu=mtus(gbps)[0],
                    message_size=size) if not gbps.empty else gbps
    for cfg, (lat_study, gbps_study) in study.items():
        lat_ours = _ratios(lat_at, cfg) if cfg != "bare" else [1.0]
        gbps_ours = _ratios(gbps_at, cfg) if cfg != "bare" else [1.0]
        if cfg != "bare" and not lat_ours and not gbps_ours:
            continue
        rows.append([cfg, _span(lat_ours) if lat_ours else "–", lat_study,
                     _span(gbps_ours) if gbps_ours else "–", gbps_study])
    return rows
