"""Altair charts, one function per figure. Each returns a Vega-Lite spec (a dict): the site
embeds it for the bundled Vega to draw, and renders it to SVG as a static copy."""

from typing import Any

import altair as alt
import pandas as pd

STUDY_LATENCY_US = {"bare metal": 20, "Calico containers": 25, "Calico OpenStack VMs": 70,
                    "OVS + VXLAN": 70}
Spec = dict[str, Any]


def _tooltip(*extra: str) -> list[alt.Tooltip]:
    base = [alt.Tooltip("path:N", title="configuration, direction"),
            alt.Tooltip("tool:N"), alt.Tooltip("message_size:Q", title="bytes per send")]
    return [*base, *(alt.Tooltip(e) for e in extra)]


def versus_size(cells: pd.DataFrame, title: str, y_title: str) -> Spec:
    """A line per configuration and direction across message sizes, with its 95 % CI band;
    one panel per tool."""
    data = cells[["path", "tool", "message_size", "mean", "ci_low", "ci_high", "n"]].copy()
    # Every figure here is non-negative: a band below zero (few runs, wide t) says nothing more.
    data["ci_low"] = data["ci_low"].fillna(data["mean"]).clip(lower=0)
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    base = alt.Chart(data).encode(
        x=alt.X("message_size:Q", scale=alt.Scale(type="log"), title="message size (bytes)"),
        color=alt.Color("path:N", title="configuration, direction"))
    band = base.mark_area(opacity=0.15).encode(y="ci_low:Q", y2="ci_high:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean:Q", title=y_title),
        tooltip=_tooltip("mean:Q", "ci_low:Q", "ci_high:Q", "n:Q"))
    panels = alt.layer(band, line).properties(width=240, height=240)
    chart = panels.facet(column=alt.Column("tool:N", title=None)).properties(title=title)
    return dict(chart.to_dict())


def latency_bars(cells: pd.DataFrame, title: str) -> Spec:
    """Mean one-way latency per configuration and direction, with the study's figures as rules."""
    data = cells[["path", "tool", "mean", "ci_low", "ci_high", "n"]].copy()
    data["ci_low"] = data["ci_low"].fillna(data["mean"]).clip(lower=0)
    data["ci_high"] = data["ci_high"].fillna(data["mean"])
    bars = alt.Chart(data).mark_bar().encode(
        y=alt.Y("path:N", title=None), x=alt.X("mean:Q", title="one-way latency (µs)"),
        color=alt.Color("tool:N"), yOffset="tool:N",
        tooltip=[alt.Tooltip("path:N"), alt.Tooltip("tool:N"), alt.Tooltip("mean:Q"),
                 alt.Tooltip("ci_low:Q"), alt.Tooltip("ci_high:Q"), alt.Tooltip("n:Q")])
    study = pd.DataFrame([{"study": k, "us": v} for k, v in STUDY_LATENCY_US.items()])
    rules = alt.Chart(study).mark_rule(strokeDash=[4, 3], color="gray").encode(
        x="us:Q", tooltip=[alt.Tooltip("study:N", title="the study (10 GbE, 2015)"),
                           alt.Tooltip("us:Q", title="µs")])
    return dict(alt.layer(bars, rules).properties(title=title, width=560).to_dict())
