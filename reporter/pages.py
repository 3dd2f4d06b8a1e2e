"""One view model per page, built in Python: which slices, which charts, which sentences. The
templates in templates/ only lay them out; charts are specs here, drawn before rendering."""

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import agreement, charts, convergence, findings, numbers, tcphealth
from .campaigns import CampaignInfo, differences
from .compare import (
    BETTER,
    COMPARED,
    NOT_COMPARABLE,
    SAME,
    TOO_FEW,
    WITHIN,
    WORSE,
    Change,
    compare_pair,
)
from .escaping import Md
from .views import (
    CONFIG_ORDER,
    DIRECTION_ORDER,
    RR_TOOLS,
    STREAM_TOOLS,
    Lookup,
    Table,
    auto_buffers,
    compact,
    mtus,
    ordered_tools,
    path_order,
    path_rank,
    reference_size,
    where,
)


@dataclass
class Chart:
    spec: dict[str, Any]
    caption: str
    name: str = ""  # given by the site when it draws the SVG


@dataclass
class Section:
    """A heading with an anchor and its tabs (one per tool)."""

    heading: str
    anchor: str
    tabs: list["Tab"] = field(default_factory=list)


@dataclass
class Tab:
    title: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


STUDY_TESTS = ("stream", "rr")


@dataclass
class Site:
    """Everything the pages are made from."""

    infos: list[CampaignInfo]
    cells: dict[str, pd.DataFrame]
    changes: list[Change]
    baseline: str
    tolerance_pct: float
    # CPU time by class per stream cell and side (aggregate.cpu_classes), newest campaigns'
    classes: pd.DataFrame = field(default_factory=pd.DataFrame)
    buffers: pd.DataFrame = field(default_factory=pd.DataFrame)  # aggregate.applied_buffers
    qperf_cpu: pd.DataFrame = field(default_factory=pd.DataFrame)  # agreement.qperf_cpu
    tcp: pd.DataFrame = field(default_factory=pd.DataFrame)  # tcphealth.runs

    @property
    def several(self) -> bool:
        return len(self.infos) > 1

    def metric(self, name: str) -> pd.DataFrame:
        return self.cells.get(name, pd.DataFrame())

    def one_flow(self) -> "Site":
        """The study's pages: its tests (stream, rr) at one TCP flow; several flows, UDP and
        latency under load have pages of their own."""
        def single(frame: pd.DataFrame) -> pd.DataFrame:
            if "streams" in frame:
                frame = frame[frame["streams"] == 1]
            return frame[frame["test"].isin(STUDY_TESTS)] if "test" in frame else frame

        return Site(self.infos, {m: single(df) for m, df in self.cells.items()}, self.changes,
                    self.baseline, self.tolerance_pct, single(self.classes),
                    single(self.buffers), single(self.qperf_cpu), single(self.tcp))

    def newest(self, count: int) -> "Site":
        """The same site restricted to its newest ``count`` campaigns."""
        if len(self.infos) <= count:
            return self
        keep = self.infos[-count:]
        names = {i.name for i in keep}
        cells = {m: df[df["campaign"].isin(names)] if not df.empty else df
                 for m, df in self.cells.items()}
        classes, buffers, qperf_cpu, tcp = (
            frame[frame["campaign"].isin(names)] if not frame.empty else frame
            for frame in (self.classes, self.buffers, self.qperf_cpu, self.tcp))
        return Site(keep, cells, [c for c in self.changes if c.candidate in names],
                    self.baseline, self.tolerance_pct, classes, buffers, qperf_cpu, tcp)


def _no_vm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["configuration"] != "vm"] if not df.empty else df


def _only_vm(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["configuration"] == "vm"] if not df.empty else df


def _emulated(site: Site) -> bool:
    return any(i.emulated_vms for i in site.infos)


def _per_mtu_tool(df: pd.DataFrame, tools: list[str], build: Any) -> list[Section]:
    """A section per MTU, a tab per tool: ``build(slice, tool, mtu) -> Tab``."""
    sections = []
    for mtu in mtus(df):
        tabs = [build(where(df, mtu=mtu, tool=tool), tool, mtu)
                for tool in ordered_tools(where(df, mtu=mtu), tools)]
        sections.append(Section(f"MTU {mtu}", f"mtu-{mtu}", tabs=[t for t in tabs if t]))
    return sections


VERDICT_ORDER = [WORSE, BETTER, WITHIN, SAME, TOO_FEW, NOT_COMPARABLE]
COMPARE_SECTIONS = 3  # candidates with their own forest plots (the newest)


# --- Summary -------------------------------------------------------------------------------

def caveats(site: Site) -> list[str]:
    """What a reader must keep in mind, said once."""
    out = []
    frames = [df[["campaign", "n", "noisy"]] for df in site.cells.values() if not df.empty]
    any_cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for info in site.infos:
        prefix = f"{info.name}: " if site.several else ""
        duration, warmup = info.parameters.get("duration_s"), info.parameters.get("warmup_s")
        if not any_cells.empty:
            mine = any_cells[any_cells["campaign"] == info.name]
            if not mine.empty:
                lo, hi = int(mine["n"].min()), int(mine["n"].max())
                runs = f"{lo}" if lo == hi else f"{lo}–{hi}"
                out.append(f"{prefix}{runs} runs per cell, each {duration} s long after a "
                           f"{warmup} s warm-up" + (": intervals need 3 runs or more, so none "
                                                    "is drawn" if hi < 3 else "")
                           + (" — short runs: their figures scatter more than long ones would"
                              if isinstance(duration, int) and duration < 10 else "") + ".")
        for w in info.warnings:
            out.append(prefix + w)
        adaptive = convergence.judge(site.cells, info.name, info.parameters.get("repetitions"))
        if adaptive:
            said, judged = adaptive
            missed = not judged["reached"].all()
            out.append(prefix + said[0].upper() + said[1:]
                       + (" The Statistics page lists those that did not." if missed else ""))
        if info.existing:
            out.append(f"{prefix}existing measured endpoints as they were found, built and "
                       f"changed by nothing here: {info.existing_label}.")
        if "netdev" in info.ovs_datapaths:
            out.append(Md("{}overlay-ovs ran on Open vSwitch's userspace `netdev` datapath "
                          "(the hosts' kernels had no openvswitch module): it measures that "
                          "datapath, not the kernel one the study used.").format(prefix))
    if not any_cells.empty:
        noisy = int(any_cells["noisy"].sum())
        share = noisy / len(any_cells)
        if share > 0.5:
            out.append(f"{noisy} of {len(any_cells)} cells are noisy (CV or CI half-width over "
                       "5 % of the mean): compare large differences only, or run longer and "
                       "more often.")
    return out


def summary(site: Site, more: list[findings.KeyPoint] | None = None) -> dict[str, Any]:
    """The Summary of the newest campaign; ``more``: key points other pages add (each only
    when the campaign measured what it is about)."""
    latest = site.infos[-1]
    points = findings.key_points(latest, site.cells) + list(more or [])
    study = findings.study_rows(latest, site.cells)
    small: list[Chart] = []
    lat = where(site.metric("lat_mean_us"), campaign=latest.name)
    if not lat.empty:
        tool = ordered_tools(lat, RR_TOOLS)[0]
        at = where(lat, tool=tool, mtu=mtus(lat)[0])
        caption = "Our latency per path beside the study's published figures (grey)"
        if latest.emulated_vms and "vm" in set(at["configuration"]):
            at = _no_vm(at)
            caption += "; the emulated VMs are on the Latency page, on their own axis"
        small.append(Chart(charts.latency(at, f"One-way latency, {tool}, MTU {mtus(lat)[0]}",
                                          path_order(at["path"])), caption))
    gbps = auto_buffers(where(site.metric("gbps"), campaign=latest.name))
    if not gbps.empty:
        tool = ordered_tools(gbps, STREAM_TOOLS)[0]
        size = reference_size(gbps)
        at = where(gbps, tool=tool, mtu=mtus(gbps)[0], message_size=size)
        small.append(Chart(charts.path_bars(
            at, f"Throughput at {numbers.size(size)}, {tool}, MTU {mtus(gbps)[0]}", "Gb/s",
            order=path_order(at["path"])),
            "The study's headline: configurations side by side at the large message"))
    verdicts: dict[str, int] = {}
    for c in site.changes:
        verdicts[c.verdict] = verdicts.get(c.verdict, 0) + 1
    return {"latest": latest, "points": points, "study": study, "small_charts": small,
            "caveats": caveats(site), "verdicts": verdicts}


def statistics(site: Site) -> dict[str, Any]:
    """Per campaign with adaptive repetitions: how many cells reached the target, and which
    did not."""
    adaptive = []
    for info in reversed(site.infos):
        judged = convergence.judge(site.cells, info.name, info.parameters.get("repetitions"))
        if judged:
            adaptive.append({"name": info.name, "summary": judged[0],
                             "table": convergence.table(judged[1])})
    return {"adaptive": adaptive}


# --- Figure pages ---------------------------------------------------------------------------

def throughput(site: Site) -> dict[str, Any]:
    df = site.metric("gbps")

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        main = auto_buffers(at)
        t = Tab(tool, charts=[Chart(
            charts.path_bars(main, f"Throughput, {tool}, MTU {mtu}", "Gb/s", column="size_label",
                             order=path_order(main["path"])),
            f"Goodput per path at each message size ({tool}, MTU {mtu}); whiskers: 95 % CI")],
            tables=[compact(at, "Gb/s")])
        if set(at["socket_buffer"]) - {"auto"}:
            t.notes.append("The chart shows autotuned buffers; the table has both modes.")
            applied = where(site.buffers, tool=tool, mtu=mtu)
            if not applied.empty:
                t.tables.append(_buffers_table(applied))
        health = where(tcp_cells, tool=tool, mtu=mtu)
        if not health.empty:
            t.tables.append(tcphealth.table(health))
            flagged = tcphealth.flagged_table(where(site.tcp, tool=tool, mtu=mtu))
            if flagged.rows:
                t.tables.append(flagged)
        return t
    tcp_cells = tcphealth.cells(site.tcp)
    return {"sections": _per_mtu_tool(df, STREAM_TOOLS, tab), "emulated": _emulated(site)}


def _buffers_table(applied: pd.DataFrame) -> Table:
    def kib(value: Any) -> str:
        return "–" if pd.isna(value) else f"{float(value) / 1024:,.0f} KiB"

    several = applied["campaign"].nunique() > 1
    ranked = applied.assign(rank=path_rank(applied["path"])).sort_values(
        ["socket_buffer", "campaign", "message_size", "rank"])
    rows = [[*([str(r["campaign"])] if several else []), str(r["path"]),
             numbers.size(int(r["message_size"])), str(r["socket_buffer"]),
             kib(r.get("sndbuf_applied_bytes")), kib(r.get("rcvbuf_applied_bytes"))]
            for _, r in ranked.iterrows()]
    return Table([*(["campaign"] if several else []), "path", "message", "buffers",
                  "sender SO_SNDBUF applied", "receiver SO_RCVBUF applied"], rows,
                 title="Socket buffers applied",
                 note="What the kernel applied (getsockopt after setsockopt), median over the "
                      "runs: it doubles a request and clamps it to net.core.wmem_max / "
                      "rmem_max; with autotuning, the size the socket started with.")


def cpu(site: Site) -> dict[str, Any]:
    sender, receiver = site.metric("cpu_sender_pct"), site.metric("cpu_receiver_pct")
    higher = site.metric("cpu_max_pct")
    stream = where(sender, test="stream")
    both = pd.concat([where(sender, test="stream").assign(side="sender"),
                      where(receiver, test="stream").assign(side="receiver")],
                     ignore_index=True) if not stream.empty else stream

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        at = auto_buffers(at)
        order = path_order(at["path"])
        high = auto_buffers(where(higher, tool=tool, mtu=mtu, test="stream"))
        split = auto_buffers(where(site.classes, tool=tool, mtu=mtu))
        return Tab(tool, charts=[
            Chart(charts.sides(at, f"Sender and receiver CPU, {tool}, MTU {mtu}", order),
                  "Busy time over the window on each side's kernel, % of one CPU"),
            Chart(charts.path_bars(high, f"The study's CPU figure: the higher side, {tool}, "
                                   f"MTU {mtu}", "% of one CPU", column="size_label",
                                   order=order),
                  "The higher of sender and receiver per path"),
            *([Chart(charts.cpu_classes(split, f"Where the CPU time goes, {tool}, MTU {mtu}",
                                        order),
                     "Each side's CPU by class, stacked (user, system, softirq, irq, steal); "
                     "the black tick is its busiest single core, % of that CPU: a tick at "
                     "100 % is one core saturated, whatever the total")]
              if not split.empty else [])],
            tables=[compact(high, "%", with_ratio=False)])
    cpus = sorted({c for i in site.infos for c in i.host_fact("cpu-count") if c})
    return {"sections": _per_mtu_tool(both, STREAM_TOOLS, tab), "cpus": cpus,
            "shared": any("share one kernel" in w for i in site.infos for w in i.warnings),
            "guest": [Table(["path", "campaign", "side", "mean % of one guest CPU", "runs"],
                            [[r["path"], r["campaign"], side, numbers.num(r["mean"]),
                              str(r["n"])] for side, m in (("sender", "cpu_sender_guest_pct"),
                                                           ("receiver", "cpu_receiver_guest_pct"))
                             for _, r in site.metric(m).iterrows()])]
            if not (site.metric("cpu_sender_guest_pct").empty
                    and site.metric("cpu_receiver_guest_pct").empty) else [],
            "emulated": _emulated(site)}


def cpu_per_gbps(site: Site) -> dict[str, Any]:
    df = site.metric("cpu_per_gbps")

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        main = auto_buffers(at)
        t = Tab(tool)
        rest, vms = _no_vm(main), _only_vm(main)
        if not rest.empty:
            t.charts.append(Chart(charts.path_bars(
                rest, f"CPU per Gb/s, {tool}, MTU {mtu}", "% of one CPU per Gb/s",
                column="size_label", order=path_order(rest["path"])),
                "What a gigabit per second costs on the busier side; lower is better"))
        if not vms.empty:
            t.charts.append(Chart(charts.path_bars(
                vms, f"CPU per Gb/s, VMs, {tool}, MTU {mtu}", "% of one CPU per Gb/s",
                column="size_label", order=path_order(vms["path"])),
                "VMs on their own scale, so they do not flatten the rest"))
        t.tables.append(compact(at, "%/Gb/s"))
        return t
    return {"sections": _per_mtu_tool(df, STREAM_TOOLS, tab), "emulated": _emulated(site)}


def latency(site: Site) -> dict[str, Any]:
    df = site.metric("lat_mean_us")

    def tab(at: pd.DataFrame, tool: str, mtu: int) -> Tab:
        t = Tab(tool)
        rest, vms = _no_vm(at), _only_vm(at)
        if not rest.empty:
            t.charts.append(Chart(charts.latency(rest, f"One-way latency, {tool}, MTU {mtu}",
                                                 path_order(rest["path"])),
                                  "Mean one-way latency (RTT ÷ 2) per path with its 95 % CI; "
                                  "grey: the study's figures on 10 GbE"))
        if not vms.empty:
            t.charts.append(Chart(charts.latency(vms, f"One-way latency, VMs, {tool}, MTU {mtu}",
                                                 path_order(vms["path"])),
                                  "VMs on their own axis; grey: the study's figures"))
        t.tables.append(_percentiles(site, tool, mtu))
        return t
    return {"sections": _per_mtu_tool(df, RR_TOOLS, tab), "emulated": _emulated(site)}


def _percentiles(site: Site, tool: str, mtu: int) -> Table:
    columns = [("lat_mean_us", "mean"), ("lat_p50_us", "p50"), ("lat_p90_us", "p90"),
               ("lat_p99_us", "p99"), ("lat_p99_9_us", "p99.9"), ("rtt_mean_us", "RTT mean")]
    found = {m: where(site.metric(m), tool=tool, mtu=mtu) for m, _ in columns}
    base = found["lat_mean_us"]
    header = ["path", *(["campaign"] if site.several else []),
              *(f"{label} (µs)" for m, label in columns if not found[m].empty), "runs"]
    keys = ("path", "campaign")
    means = {m: Lookup(found[m], keys) for m, _ in columns if not found[m].empty}
    runs = Lookup(base, keys, "n")
    rows = []
    for path in path_order(base["path"]):
        for campaign in dict.fromkeys(base["campaign"]):
            row = [path, *([campaign] if site.several else [])]
            n = runs.at(path=path, campaign=campaign)
            if n is None:
                continue
            for lookup in means.values():
                value = lookup.mean_at(path=path, campaign=campaign)
                row.append(numbers.num(value) if value is not None else "–")
            row.append(str(int(n)))
            rows.append(row)
    note = ("One-way = RTT ÷ 2. qperf prints the mean only; dpb-pingpong records every round "
            "trip, hence the percentiles.")
    return Table(header, rows, note)


def mtu(site: Site) -> dict[str, Any]:
    df = auto_buffers(site.metric("gbps"))
    found = mtus(df)
    tabs: list[Tab] = []
    drops: list[str] = []
    if len(found) > 1:
        low, high = found[0], found[-1]
        for tool in ordered_tools(df, STREAM_TOOLS):
            at = where(df, tool=tool)
            rows: list[dict[str, Any]] = []
            for (campaign, path, size), group in at.groupby(["campaign", "path",
                                                             "message_size"]):
                a, b = where(group, mtu=low), where(group, mtu=high)
                if a.empty or b.empty:
                    continue
                ga, gb = float(a["mean"].iloc[0]), float(b["mean"].iloc[0])
                rows.append({"campaign": campaign, "path": path, "message_size": size,
                             "configuration": a["configuration"].iloc[0], "low_gbps": ga,
                             "high_gbps": gb, "ratio": gb / ga if ga else math.nan})
            table = pd.DataFrame(rows)
            if table.empty:
                continue
            order = path_order(table["path"])
            t = Tab(tool, charts=[Chart(charts.mtu_ratio(
                table, f"MTU {high} ÷ MTU {low}, {tool}", order),
                f"Throughput at MTU {high} over MTU {low}: above 1, the larger frames help")])
            rows.sort(key=lambda r: (order.index(r["path"]), r["message_size"]))
            t.tables.append(Table(
                ["path", *(["campaign"] if site.several else []), "size", f"MTU {low} (Gb/s)",
                 f"MTU {high} (Gb/s)", f"{high} ÷ {low}"],
                [[r["path"], *([r["campaign"]] if site.several else []),
                  numbers.size(r["message_size"]), numbers.num(r["low_gbps"]),
                  numbers.num(r["high_gbps"]), numbers.ratio(r["ratio"])] for r in rows]))
            lost = [r for r in rows if r["ratio"] < 0.9]
            for size in sorted({r["message_size"] for r in lost}):
                at_size = [r for r in rows if r["message_size"] == size]
                worst = min((r for r in lost if r["message_size"] == size),
                            key=lambda r: r["ratio"])
                drops.append(
                    f"{tool} at {numbers.size(size)}: {sum(r in lost for r in at_size)} of "
                    f"{len(at_size)} paths, down to {numbers.ratio(worst['ratio'])} for "
                    f"{worst['path']} ({numbers.num(worst['low_gbps'])} → "
                    f"{numbers.num(worst['high_gbps'])} Gb/s)")
            tabs.append(t)
    shared = any("share one kernel" in w for i in site.infos for w in i.warnings)
    return {"tabs": tabs, "mtus": found, "drops": drops, "emulated": _emulated(site),
            "shared": shared}


def veth_control(site: Site) -> dict[str, Any]:
    keep = ["bare", "veth-control", "container"]
    tabs = []
    for metric, label, unit in (("gbps", "Throughput", "Gb/s"),
                                ("cpu_per_gbps", "CPU per Gb/s", "% of one CPU per Gb/s")):
        df = auto_buffers(site.metric(metric))
        df = df[df["configuration"].isin(keep)] if not df.empty else df
        if df.empty or "veth-control" not in set(df["configuration"]):
            continue
        for tool in ordered_tools(df, STREAM_TOOLS)[:1]:
            for m in mtus(df):
                at = where(df, tool=tool, mtu=m)
                tabs.append(Tab(f"{label}, MTU {m}", charts=[Chart(charts.path_bars(
                    at, f"{label}: bare metal, one veth, containers ({tool}, MTU {m})", unit,
                    column="size_label", order=path_order(at["path"])),
                    "The veth control sits between bare metal and containers: how much of the "
                    "containers' cost is the veth crossing itself")],
                    tables=[compact(at, unit.split(" ")[0] if metric == "gbps" else "%/Gb/s")]))
    return {"tabs": tabs}


def tools(site: Site) -> dict[str, Any]:
    """Where tools measured the same path and size: how far each is from the others."""
    sections = []
    flagged = []
    for metric, test, label, unit in (("gbps", "stream", "Throughput", "Gb/s"),
                                      ("lat_mean_us", "rr", "Latency", "µs")):
        shared = agreement.ratios(where(site.metric(metric), test=test))
        if shared.empty:
            continue
        shared["label"] = [f"{p} · {numbers.size(int(s))}" + (f" · {b}" if b != "auto" else "")
                           + (f" · {c}" if site.several else "") for p, s, b, c in zip(
            shared["path"], shared["message_size"], shared["socket_buffer"],
            shared["campaign"], strict=True)]
        shared = shared.assign(rank=path_rank(shared["path"])).sort_values(
            ["mtu", "rank", "message_size", "socket_buffer", "campaign"])
        tabs = [Tab(f"MTU {m}", charts=[Chart(
            charts.agreement(where(shared, mtu=m), f"{label}: the tools against each other, "
                             f"MTU {m}", agreement.DISAGREEMENT),
            f"Each tool's mean {unit} ÷ the median of the tools' means for the same path and "
            f"size; whiskers: the tool's own 95 % CI (cut at the chart's edge); shaded: "
            f"within {agreement.DISAGREEMENT:.0%}")]) for m in mtus(shared)]
        sections.append(Section(label, metric.replace("_", "-"), tabs))
        for _, r in shared[shared["off"]].iterrows():
            flagged.append([label, r["label"], f"MTU {int(r['mtu'])}", str(r["tool"]),
                            f"{numbers.num(r['mean'])} {unit}", f"{r['ratio']:.2f}"])
    cpu = agreement.qperf_cpu_table(site)
    return {"sections": sections, "how": agreement.HOW,
            "flagged": Table(["metric", "cell", "MTU", "tool", "mean", "÷ median"], flagged),
            "band": f"{agreement.DISAGREEMENT:.0%}", "qperf_cpu": cpu}


# --- Statistics, comparison, history ---------------------------------------------------------

STAT_COLUMNS = ["campaign", "metric", "configuration", "direction", "tool", "test",
                "message_size", "socket_buffer", "mtu", "n", "mean", "ci_low", "ci_high",
                "ratio_to_bare", "ratio_low", "ratio_high", "noisy", "median", "sd", "cv", "min",
                "max", "outliers"]


def statistics_table(site: Site, campaigns: set[str] | None = None) -> pd.DataFrame:
    """Every cell's statistics, one row per metric (``campaigns``: only theirs)."""
    frames = []
    for df in site.cells.values():
        if campaigns is not None and not df.empty:
            df = df[df["campaign"].isin(campaigns)]
        if df.empty:
            continue
        out = df.copy()
        out["outliers"] = [len(x) for x in out["outlier_runs"]]
        frames.append(out.reindex(columns=STAT_COLUMNS))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=STAT_COLUMNS)


def _cell_order(c: Change) -> tuple[int, int, str, int, int, str]:
    cfg, direction, tool, _, size, buffers, mtu = c.cell
    return (CONFIG_ORDER.index(cfg) if cfg in CONFIG_ORDER else 99,
            DIRECTION_ORDER.index(direction) if direction in DIRECTION_ORDER else 99, tool,
            size, mtu, buffers)


def compare(site: Site) -> dict[str, Any]:
    candidates = [i for i in site.infos if i.name != site.baseline]
    detailed = {i.name for i in candidates[-COMPARE_SECTIONS:]}
    counts = Counter((c.candidate, c.verdict) for c in site.changes)
    overview = Table(["campaign", *VERDICT_ORDER], [
        [i.name, *(str(counts[(i.name, v)]) for v in VERDICT_ORDER)] for i in candidates])
    frame = pd.DataFrame([{
        "candidate": c.candidate, "metric": c.metric, "label": f"{c.path} · {c.cell[2]} · "
        f"{numbers.size(c.cell[4])} · MTU {c.cell[6]}" + (f" · {c.cell[5]}" if c.cell[5] !=
                                                          "auto" else ""),
        "delta_pct": c.delta_pct, "low_pct": c.low_pct, "high_pct": c.high_pct,
        "p_adjusted": c.p_adjusted, "verdict": c.verdict, "tolerance": site.tolerance_pct,
        "ci_text": numbers.interval(c.low_pct, c.high_pct),
        "configuration": c.cell[0], "order": _cell_order(c)} for c in site.changes
        if c.candidate in detailed])
    sections = []
    for info in candidates[-COMPARE_SECTIONS:]:
        if frame.empty:
            continue
        mine = frame[frame["candidate"] == info.name]
        mine_changes = [c for c in site.changes if c.candidate == info.name]
        tabs = []
        for metric, (label, unit, better) in COMPARED.items():
            at = mine[mine["metric"] == metric]
            if at.empty:
                continue
            ordered = at.sort_values("order").drop(columns=["order"])
            direction = "more is better" if better > 0 else "less is better"
            tabs.append(Tab(label, charts=[Chart(charts.forest(
                ordered, f"{label}: {info.name} against {site.baseline}"),
                f"Change of the mean per cell, % ({direction}); whiskers: 95 % CI; band: "
                f"the ±{site.tolerance_pct:g} % tolerance")],
                tables=[Table(["cell", f"{site.baseline} ({unit})", f"{info.name} ({unit})",
                               "Δ %", "95 % CI", "p (BH)", "verdict"],
                              [[c.cell_id, numbers.num(c.baseline_mean),
                                numbers.num(c.candidate_mean), numbers.pct(c.delta_pct, True),
                                numbers.interval(c.low_pct, c.high_pct),
                                numbers.num(c.p_adjusted, 2), c.verdict + (f": {c.why}"
                                                                          if c.why else "")]
                               for c in mine_changes if c.metric == metric])]))
        sections.append(Section(f"{info.name} against {site.baseline}",
                                f"vs-{info.name}".lower(), tabs=tabs))
    base = [i for i in site.infos if i.name == site.baseline]
    compared = base + candidates[-COMPARE_SECTIONS:]
    return {"sections": sections, "differences": differences(compared), "compared": compared,
            "overview": overview, "baseline": site.baseline, "tolerance": site.tolerance_pct}


def history(site: Site) -> dict[str, Any]:
    order = [i.name for i in site.infos]
    figures = []
    for metric, label, unit, pick in (
            ("gbps", "Throughput", "Gb/s", STREAM_TOOLS),
            ("lat_mean_us", "Latency", "µs", RR_TOOLS),
            ("cpu_per_gbps", "CPU per Gb/s", "% of one CPU per Gb/s", STREAM_TOOLS)):
        df = auto_buffers(site.metric(metric))
        if df.empty:
            continue
        tool = ordered_tools(df, pick)[0]
        size = reference_size(df) if metric != "lat_mean_us" else None
        at = where(df, tool=tool, mtu=mtus(df)[0])
        if size is not None:
            at = where(at, message_size=size)
        at = at.assign(last=at["campaign"] == order[-1],
                       rank=at["campaign"].map(order.index)).sort_values("rank")
        where_ = f"{tool}, MTU {mtus(df)[0]}" + (f", {numbers.size(size)}" if size else "")
        figures.append(Chart(charts.history(at, f"{label} over the campaigns ({where_})", unit),
                             f"{label} per path, oldest campaign first; the last one larger"))
    last: list[Change] = []
    if len(site.infos) > 1:
        last = compare_pair(site.cells, site.infos[-2], site.infos[-1], site.tolerance_pct)
    worse = sorted((c for c in last if c.verdict == WORSE), key=lambda c: -abs(c.delta_pct))
    better = sorted((c for c in last if c.verdict == BETTER), key=lambda c: -abs(c.delta_pct))
    return {"figures": figures, "last": order[-1],
            "previous": order[-2] if len(order) > 1 else "",
            "worse": worse[:HISTORY_LISTED], "better": better[:HISTORY_LISTED],
            "counts": {WORSE: len(worse), BETTER: len(better)}}


HISTORY_LISTED = 8  # the largest changes of the newest campaign, each way
