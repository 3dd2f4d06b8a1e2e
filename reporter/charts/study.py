"""The study's figures: bars per path and message size, each side's CPU and where it goes,
latency beside the study's published figures, the MTU ratio. Each returns a Vega-Lite spec: the
site embeds it for the bundled Vega to draw and renders it to SVG as a static copy; a 95 % CI
whisker is drawn only where the cell has enough runs for one."""


import altair as alt
import pandas as pd

from ..aggregate import BUSIEST
from .base import (
    CONFIG_COLORS,
    FONT,
    SIDE_COLORS,
    STUDY_LATENCY_US,
    WIDTH,
    Spec,
    color,
    finish,
    panels,
    prepared,
    tooltip,
)


def path_bars(cells: pd.DataFrame, title: str, x_title: str, column: str | None = None,
              order: list[str] | None = None) -> Spec:
    """Mean per path as horizontal bars with CI whiskers, one colour per configuration;
    panels side by side by ``column`` (e.g. message size) and one row per campaign when there
    are several."""
    data = prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    x = alt.X("mean:Q", title=x_title, scale=alt.Scale(zero=True))
    bars = alt.Chart().mark_bar().encode(y=y, x=x, color=color(), tooltip=tooltip(x_title))
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("mean:Q"), text=alt.Text("mean:Q", format=",.3~r"))
    return finish(panels([bars, whiskers, labels], data, column, 22, independent_x=True),
                   title)


def sides(cells: pd.DataFrame, title: str, order: list[str] | None = None) -> Spec:
    """Sender and receiver CPU side by side per path (one bar each), per message size."""
    data = prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=alt.YOffset("side:N", sort=["sender", "receiver"]),
        x=alt.X("mean:Q", title="% of one CPU"),
        color=alt.Color("side:N", title="side", sort=["sender", "receiver"],
                        scale=alt.Scale(domain=list(SIDE_COLORS),
                                        range=list(SIDE_COLORS.values())),
                        legend=alt.Legend(orient="top")),
        tooltip=[*tooltip("% of one CPU"), alt.Tooltip("side:N")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, yOffset=alt.YOffset("side:N", sort=["sender", "receiver"]),
        x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    return finish(panels([bars, whiskers], data, "size_label", 30), title)


CLASS_COLORS = {"user": "#0072B2", "system": "#E69F00", "softirq": "#D55E00",
                 "irq": "#CC79A7", "steal": "#999999"}


def cpu_classes(classes: pd.DataFrame, title: str, order: list[str] | None = None) -> Spec:
    """Each side's CPU per path stacked by class, with the busiest single core as a black
    tick: a stack short of 100 % beside a tick at 100 % is one core saturated."""
    data = classes.copy()
    data["size_label"] = [f"{int(s):,} B" for s in data["message_size"]]
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    offset = alt.YOffset("side:N", sort=["sender", "receiver"])
    classes_only = alt.datum["class"] != BUSIEST
    bars = alt.Chart().transform_filter(classes_only).mark_bar().encode(
        y=y, yOffset=offset, x=alt.X("mean:Q", title="% of one CPU", stack="zero"),
        color=alt.Color("class:N", title="CPU time", sort=list(CLASS_COLORS),
                        scale=alt.Scale(domain=list(CLASS_COLORS),
                                        range=list(CLASS_COLORS.values())),
                        legend=alt.Legend(orient="top")),
        order=alt.Order("class_order:Q"),
        tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"), alt.Tooltip("side:N"),
                 alt.Tooltip("class:N"), alt.Tooltip("mean:Q", title="% of one CPU",
                                                     format=",.3~r")])
    ticks = alt.Chart().transform_filter(~classes_only).mark_tick(
        color="black", thickness=2).encode(
        y=y, yOffset=offset, x=alt.X("mean:Q"),
        tooltip=[alt.Tooltip("path:N"), alt.Tooltip("side:N"),
                 alt.Tooltip("mean:Q", title="busiest core, % of that CPU", format=",.3~r")])
    labels = alt.Chart().transform_filter(~classes_only).mark_text(
        align="left", dx=5, fontSize=FONT - 1).encode(
        y=y, yOffset=offset, x=alt.X("mean:Q"), text=alt.Text("side:N"))
    data["class_order"] = [list(CLASS_COLORS).index(c) if c in CLASS_COLORS else 99
                           for c in data["class"]]
    return finish(panels([bars, ticks, labels], data, "size_label", 34), title)


def latency(cells: pd.DataFrame, title: str, order: list[str] | None = None,
            study: bool = True) -> Spec:
    """Mean one-way latency per path with CI whiskers; below them, in grey and labelled, the
    study's published figures (10 GbE, 2015)."""
    data = prepared(cells)
    order = list(order or sorted(data["path"].unique()))
    if study:
        rows = [{"path": f"study: {k}", "configuration": "study", "mean": float(v),
                 "campaign": c, "tool": "the study (2015)", "n": 0,
                 "ci_text": "published figure"}
                for c in data["campaign"].unique() for k, v in STUDY_LATENCY_US.items()]
        data = pd.concat([data, pd.DataFrame(rows)], ignore_index=True)
        order += [f"study: {k}" for k in STUDY_LATENCY_US]
    y = alt.Y("path:N", title=None, sort=order)
    color = alt.Color("configuration:N", legend=None, scale=alt.Scale(
        domain=[*CONFIG_COLORS, "study"], range=[*CONFIG_COLORS.values(), "#BDBDBD"]))
    bars = alt.Chart().mark_bar().encode(y=y, x=alt.X("mean:Q", title="one-way latency (µs)"),
                                         color=color, tooltip=tooltip("one-way latency (µs)"))
    whiskers = alt.Chart().mark_rule(color="black").encode(y=y, x=alt.X("whisker_low:Q"),
                                                           x2=alt.X2("whisker_high:Q"))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("mean:Q"), text=alt.Text("mean:Q", format=",.3~r"))
    campaigns = list(dict.fromkeys(data["campaign"]))
    layered = alt.layer(bars, whiskers, labels, data=data).properties(
        width=WIDTH - 240, height=22 * len(order))
    chart = (layered.facet(row=alt.Row("campaign:N", title=None, sort=campaigns))
             if len(campaigns) > 1 else layered)
    return finish(chart, title)


def mtu_ratio(table: pd.DataFrame, title: str, order: list[str] | None = None) -> Spec:
    """Throughput at the larger MTU ÷ the smaller, per path and message size (1 = no gain)."""
    data = table.copy()
    data["size_label"] = [f"{int(s):,} B" for s in data["message_size"]]
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("ratio:Q", title="throughput ratio, larger MTU ÷ smaller"),
        color=color(), tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"),
                                 alt.Tooltip("ratio:Q", format=".3f"),
                                 alt.Tooltip("low_gbps:Q", format=".3g", title="Gb/s, small MTU"),
                                 alt.Tooltip("high_gbps:Q", format=".3g",
                                             title="Gb/s, large MTU")])
    one = alt.Chart().mark_rule(color="#666", strokeDash=[4, 3]).encode(x=alt.datum(1))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("ratio:Q"), text=alt.Text("ratio:Q", format=".2f"))
    return finish(panels([bars, one, labels], data, "size_label", 22), title)
