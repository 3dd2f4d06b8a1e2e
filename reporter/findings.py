"""The summary's key findings, as sentences generated from the data."""

import math

import pandas as pd

REFERENCE_SIZE = 20000  # the study's headline message size


def _ci(r: float, half: float) -> str:
    return "" if math.isnan(half) else f" (95 % CI {r - half:.2f}–{r + half:.2f})"


EMULATED_NOTE = " VM figures here are emulated (QEMU TCG), not a hypervisor's."


def sentences(cells: dict[str, pd.DataFrame], emulated: bool = False) -> list[str]:
    """Findings in words; with ``emulated``, each VM sentence says its VMs were emulated."""
    out = _sentences(cells)
    if emulated:
        out = [s + EMULATED_NOTE if s.startswith("vm ") else s for s in out]
    return out


def _sentences(cells: dict[str, pd.DataFrame]) -> list[str]:
    out: list[str] = []
    gbps = cells.get("gbps", pd.DataFrame())
    if not gbps.empty:
        for (tool, mtu), group in gbps.groupby(["tool", "mtu"]):
            sizes = sorted(group["message_size"].unique())
            size = REFERENCE_SIZE if REFERENCE_SIZE in sizes else sizes[-1]
            at = group[(group["message_size"] == size) & group["ratio_to_bare"].notna()]
            for _, row in at.iterrows():
                if row["configuration"] == "bare":
                    continue
                out.append(f"{row['path']} reaches {row['ratio_to_bare']:.2f}× bare-metal "
                           f"throughput at {size:,} B, MTU {mtu}, {tool} "
                           f"({row['mean']:.2f} Gb/s)"
                           f"{_ci(row['ratio_to_bare'], row['ratio_half'])}.")
    lat = cells.get("lat_mean_us", pd.DataFrame())
    if not lat.empty:
        for (tool, mtu), group in lat.groupby(["tool", "mtu"]):
            for _, row in group.iterrows():
                if row["configuration"] == "bare" or math.isnan(row["ratio_to_bare"]):
                    continue
                out.append(f"{row['path']}: one-way latency {row['mean']:.1f} µs, "
                           f"{row['ratio_to_bare']:.2f}× bare metal (MTU {mtu}, {tool})"
                           f"{_ci(row['ratio_to_bare'], row['ratio_half'])}.")
    cpg = cells.get("cpu_per_gbps", pd.DataFrame())
    if not cpg.empty:
        at = cpg[(cpg["message_size"] == REFERENCE_SIZE) & cpg["ratio_to_bare"].notna()
                 & (cpg["configuration"] != "bare")]
        for _, row in at.iterrows():
            out.append(f"{row['path']} spends {row['ratio_to_bare']:.2f}× bare metal's CPU per "
                       f"Gb/s at {REFERENCE_SIZE:,} B (MTU {row['mtu']}, {row['tool']}).")
    return out
