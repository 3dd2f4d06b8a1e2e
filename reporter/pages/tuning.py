"""The Tuning page: each tuning profile's goodput, CPU per Gb/s and 1-byte latency as a ratio
to the same cell untuned, for every configuration and MTU, with CIs — and the Summary's key
point on the study's claim that OVS + VXLAN needs tuned TCP buffers and an MTU of 9000 where
routed containers need neither. Shown when a campaign measured more than one profile."""

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import charts, numbers
from ..aggregate import BASELINE, KEY, RATIO_MATCH
from ..findings import CONFIG_NAMES, KeyPoint
from ..stats import ratio_arrays
from ..views import (
    RR_TOOLS,
    STREAM_TOOLS,
    Table,
    auto_buffers,
    mtus,
    ordered_tools,
    path_order,
    reference_size,
    where,
)
from .layout import sections_per_mtu
from .model import UNTUNED, Chart, Section, Site, Tab
from .page import Page, Reads, View, from_site

FIGURES = ["goodput", "CPU per Gb/s", "latency"]
# The study's claim is about these, in this order of preference (the first measured speaks).
CLAIMED = ("overlay-ovs", "overlay")
ROUTED = "container"
CLAIM_DIRECTION = "container-container"


@dataclass
class TuningView(View):
    profiles: Table
    kernel_wide: list[str]
    sections: list[Section]
    points: list[KeyPoint]
    emulated: str


def measured(site: Site) -> bool:
    return site.tuned()


def against(cells: pd.DataFrame, base: pd.DataFrame, match: list[str],
            prefix: str) -> pd.DataFrame:
    """``cells`` with ``prefix`` (the ratio), ``prefix``_low and _high: each cell's mean ÷ the
    mean of the ``base`` cell that agrees on ``match``, with its 95 % CI."""
    if cells.empty:
        return cells
    b = base[[*match, "n", "mean", "sd"]].rename(
        columns={"n": "b_n", "mean": "b_mean", "sd": "b_sd"})
    out = cells.merge(b, on=match, how="left")
    r, low, high = ratio_arrays(*(out[c].to_numpy(dtype=float) for c in (
        "n", "mean", "sd", "b_n", "b_mean", "b_sd")))
    out[prefix], out[f"{prefix}_low"], out[f"{prefix}_high"] = r, low, high
    return out.drop(columns=["b_n", "b_mean", "b_sd"])


def to_untuned(cells: pd.DataFrame) -> pd.DataFrame:
    """Each cell against the same cell with the hosts untuned (`vs_untuned`)."""
    if cells.empty:
        return cells
    return against(cells, cells[cells["tuning"] == UNTUNED],
                   [k for k in KEY if k != "tuning"], "vs_untuned")


def to_bare_untuned(cells: pd.DataFrame) -> pd.DataFrame:
    """Each cell against bare metal untuned at the same tool, size and MTU (`vs_bare`): the
    study's yardstick, whatever the profile."""
    if cells.empty:
        return cells
    bare = cells[(cells["configuration"] == BASELINE[0]) & (cells["direction"] == BASELINE[1])
                 & (cells["tuning"] == UNTUNED)]
    return against(cells, bare, [k for k in RATIO_MATCH if k != "tuning"], "vs_bare")


def _profiles(site: Site) -> list[str]:
    names = [name for i in site.infos for name, _ in i.tuning]
    return list(dict.fromkeys([UNTUNED, *names]))


def _keyed(df: pd.DataFrame) -> dict[tuple[str, str, str], dict[Any, Any]]:
    return {(str(r["campaign"]), str(r["path"]), str(r["tuning"])): r
            for r in df.to_dict("records")} if not df.empty else {}


def _figures(site: Site, tool: str, mtu: int, size: int) -> dict[str, pd.DataFrame]:
    """Goodput and CPU per Gb/s at the size, and the 1-byte latency, each with its ratios."""
    stream = {"goodput": "gbps", "CPU per Gb/s": "cpu_per_gbps"}
    out = {figure: to_bare_untuned(to_untuned(where(auto_buffers(site.metric(metric)),
                                                    tool=tool, mtu=mtu, message_size=size)))
           for figure, metric in stream.items()}
    lat = site.metric("lat_mean_us")
    present = ordered_tools(lat, RR_TOOLS)
    rr = tool if tool in present else (present[0] if present else None)
    out["latency"] = (to_bare_untuned(to_untuned(where(lat, tool=rr, mtu=mtu)))
                      if rr else pd.DataFrame())
    return out


def _label(path: str, profile: str) -> str:
    return f"{path} · {profile}"


def _chart_rows(figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for figure in FIGURES:
        df = figures[figure]
        for r in df.to_dict("records") if not df.empty else []:
            if r["tuning"] == UNTUNED or math.isnan(float(r["vs_untuned"])):
                continue
            rows.append({"campaign": r["campaign"], "path": _label(r["path"], r["tuning"]),
                         "profile": r["tuning"], "figure": figure,
                         "ratio": float(r["vs_untuned"]), "low": r["vs_untuned_low"],
                         "high": r["vs_untuned_high"],
                         "ci_text": numbers.interval(r["vs_untuned_low"],
                                                     r["vs_untuned_high"]),
                         "room": 1.2 * max(float(r["vs_untuned"]), 1.0,
                                           *([] if pd.isna(r["vs_untuned_high"]) else
                                             [float(r["vs_untuned_high"])]))})
    return pd.DataFrame(rows)


def _with_ci(mean: Any, low: Any, high: Any) -> str:
    return numbers.num(mean) + ("" if pd.isna(low) else f" ({numbers.interval(low, high)})")


def _ratio_ci(r: dict[Any, Any] | None, prefix: str) -> str:
    if r is None or pd.isna(r[prefix]):
        return "–"
    low, high = r[f"{prefix}_low"], r[f"{prefix}_high"]
    return numbers.ratio(r[prefix]) + ("" if pd.isna(low) else
                                       f" ({numbers.interval(low, high)})")


def _table(site: Site, figures: dict[str, pd.DataFrame], profiles: list[str]) -> Table:
    gbps = figures["goodput"]
    cpg, lat = _keyed(figures["CPU per Gb/s"]), _keyed(figures["latency"])
    header = [*(["campaign"] if site.several else []), "path", "profile", "goodput (Gb/s)",
              "÷ untuned", "÷ bare untuned", "CPU per Gb/s (÷ untuned)",
              "latency µs (÷ untuned)"]
    order = path_order(gbps["path"])
    rows = []
    for r in sorted(gbps.to_dict("records"), key=lambda r: (
            order.index(r["path"]), str(r["campaign"]),
            profiles.index(r["tuning"]) if r["tuning"] in profiles else 99)):
        key = (str(r["campaign"]), str(r["path"]), str(r["tuning"]))
        c, ll = cpg.get(key), lat.get(key)
        rows.append([*([key[0]] if site.several else []), key[1], key[2],
                     _with_ci(r["mean"], r["ci_low"], r["ci_high"]),
                     _ratio_ci(r, "vs_untuned") if r["tuning"] != UNTUNED else "reference",
                     _ratio_ci(r, "vs_bare"),
                     f"{numbers.num(c['mean'])} ({numbers.ratio(c['vs_untuned'])})" if c
                     else "–",
                     f"{numbers.num(ll['mean'])} ({numbers.ratio(ll['vs_untuned'])})" if ll
                     else "–"])
    return Table(header, rows, note=(
        "÷ untuned: against the same path, tool, size and MTU with the hosts as they were, "
        "with its 95 % CI; ÷ bare untuned: against bare metal with the hosts as they were — "
        "the study's yardstick (tuning lifts bare metal too); CPU per Gb/s on the busier side; "
        "latency: the 1-byte ping-pong's one-way mean."))


def _tab(site: Site, at: pd.DataFrame, tool: str, mtu: int, profiles: list[str]) -> Tab:
    size = reference_size(at)
    if size is None:
        return Tab(tool)
    figures = _figures(site, tool, mtu, size)
    if figures["goodput"].empty:
        return Tab(tool)
    rows = _chart_rows(figures)
    tab = Tab(tool)
    if not rows.empty:
        order = [_label(p, t) for p in path_order(figures["goodput"]["path"])
                 for t in profiles if t != UNTUNED]
        tab.charts.append(Chart(charts.ratios_to_untuned(
            rows, f"Against the hosts untuned, {tool}, {numbers.size(size)}, MTU {mtu}", order,
            FIGURES), "Each profile's goodput, CPU per Gb/s and 1-byte latency as ratios to "
            "the same path untuned, with 95 % CIs; the dashed rule is untuned"))
    tab.tables.append(_table(site, figures, profiles))
    return tab


def page(site: Site) -> TuningView:
    profiles = _profiles(site)
    described = {name: what for i in site.infos for name, what in i.tuning}
    table = Table(["profile", "sets"], [[name, described.get(name, "?")] for name in profiles],
                  text=True)
    at = site.metric("gbps")
    point = key_point(site, site.latest)
    kernel_wide = sorted({k for i in site.infos for k in i.kernel_wide})
    return TuningView(table, kernel_wide, sections_per_mtu(at, STREAM_TOOLS, lambda d, t, m: _tab(
        site, d, t, m, profiles)), [point] if point else [], site.emulated())


def _said(cells: pd.DataFrame, cfg: str, mtu: int, profiles: list[str]) -> str:
    """"untuned 0.14×, buffers 0.31×" for one configuration at one MTU (÷ bare untuned)."""
    at = where(cells, configuration=cfg, mtu=mtu, direction=CLAIM_DIRECTION)
    found = {str(r["tuning"]): float(r["vs_bare"]) for r in at.to_dict("records")
             if not pd.isna(r["vs_bare"])}
    return ", ".join(f"{p} {numbers.ratio(found[p])}" for p in profiles if p in found)


def key_point(site: Site, campaign: str) -> KeyPoint | None:
    """The study's claim and what the campaign found: the overlay's goodput per profile at each
    MTU, and the routed containers', against bare metal untuned."""
    gbps = auto_buffers(where(site.metric("gbps"), campaign=campaign))
    if gbps.empty or not bool((gbps["tuning"] != UNTUNED).any()):
        return None
    tool, size = ordered_tools(gbps, STREAM_TOOLS)[0], reference_size(gbps)
    cells = to_bare_untuned(to_untuned(where(gbps, tool=tool, message_size=size)))
    profiles = [p for p in _profiles(site) if p in set(cells["tuning"])]
    measured_cfgs = set(cells["configuration"])
    parts = []
    for cfg in [next((c for c in CLAIMED if c in measured_cfgs), None),
                ROUTED if ROUTED in measured_cfgs else None]:
        if cfg is None:
            continue
        at_mtus = [f"at MTU {m}: {said}" for m in mtus(where(cells, configuration=cfg))
                   if (said := _said(cells, cfg, m, profiles))]
        if at_mtus:
            parts.append(f"{CONFIG_NAMES.get(cfg, cfg)} {'; '.join(at_mtus)}")
    if not parts:
        return None
    best = cells[cells["tuning"] != UNTUNED].dropna(subset=["vs_untuned"])
    lifted = ""
    if not best.empty:
        top = best.sort_values("vs_untuned").iloc[-1]
        lifted = (f" The largest change from tuning: {top['tuning']} on {top['path']} at MTU "
                  f"{int(top['mtu'])}, {numbers.ratio(top['vs_untuned'])} its untuned goodput.")
    return KeyPoint(
        "Tuning — the study found routed containers at line rate with no kernel tuning, "
        "\"in marked contrast to Open vSwitch and VXLAN, which to achieve similar bandwidth "
        "requires tuned TCP buffers and an MTU of 9000\". Here, goodput against bare metal "
        f"untuned ({tool}, {numbers.size(size)}, container to container): "
        + ". ".join(parts) + "." + lifted, "tuning.md#tuning", "Tuning")


PAGE = Page("tuning", "Tuning", from_site(page), Reads.TUNING, measured, key_point)
