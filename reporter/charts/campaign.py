"""The figures beyond the study's: the comparison's forest plot, the tools against each
other, a campaign history, throughput by number of flows, latency idle and under load."""


import altair as alt
import pandas as pd

from .base import (
    CONFIG_COLORS,
    FONT,
    WIDTH,
    Spec,
    color,
    finish,
    header,
    layer_spec,
    natural,
    panels,
    prepared,
    tooltip,
    with_data,
)


def forest(changes: pd.DataFrame, title: str) -> Spec:
    """Δ % of the mean per cell with its 95 % CI, grouped by configuration; the tolerance band
    shaded; significant regressions drawn in the 'worse' colour."""
    data = changes.copy()
    data["whisker_low"] = data["low_pct"]
    data["whisker_high"] = data["high_pct"]
    y = alt.Y("label:N", title=None, sort=list(data["label"]),
              axis=alt.Axis(labelOverlap=False))
    verdict = alt.Color("verdict:N", title="verdict", scale=alt.Scale(
        domain=["better", "worse", "within tolerance", "no significant change",
                "too few runs", "not comparable"],
        range=["#009E73", "#D55E00", "#56B4E9", "#999999", "#BBBBBB", "#DDDDDD"]),
        legend=alt.Legend(orient="top", columns=2))
    tolerance = float(data["tolerance"].iloc[0])
    band = alt.Chart(pd.DataFrame([{"low": -tolerance, "high": tolerance}])).mark_rect(
        opacity=0.15, color="#56B4E9").encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"))
    zero = alt.Chart(pd.DataFrame([{"zero": 0.0}])).mark_rule(color="#666").encode(
        x=alt.X("zero:Q"))
    whiskers = alt.Chart(data).mark_rule().encode(
        y=y, x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"), color=verdict)
    dots = alt.Chart(data).mark_point(filled=True, size=60).encode(
        y=y, x=alt.X("delta_pct:Q", title="change of the mean (%)"), color=verdict,
        tooltip=[alt.Tooltip("label:N", title="cell"), alt.Tooltip("delta_pct:Q", format="+.1f"),
                 alt.Tooltip("ci_text:N", title="95 % CI"),
                 alt.Tooltip("p_adjusted:Q", format=".3g", title="p (BH-adjusted)"),
                 alt.Tooltip("verdict:N")])
    chart = alt.layer(band, zero, whiskers, dots).properties(
        width=WIDTH - 300, height=max(60, 16 * len(data)))
    return finish(chart, title, label_limit=320)


TOOL_COLORS = {"csrc": "#0072B2", "iperf3": "#E69F00", "qperf": "#009E73"}


def agreement(rows: pd.DataFrame, title: str, band: float) -> Spec:
    """Each tool's mean as a ratio to the median of the tools' means, per path and size, with
    its 95 % CI; the band is the agreement the page expects (±``band``)."""
    data = rows.copy()
    data["whisker_low"] = data["low"]
    data["whisker_high"] = data["high"]
    y = alt.Y("label:N", title=None, sort=list(dict.fromkeys(data["label"])),
              axis=alt.Axis(labelOverlap=False))
    color = alt.Color("tool:N", title="tool", scale=alt.Scale(
        domain=list(TOOL_COLORS), range=list(TOOL_COLORS.values())),
        legend=alt.Legend(orient="top"))
    shade = alt.Chart(pd.DataFrame([{"low": 1 - band, "high": 1 + band}])).mark_rect(
        opacity=0.15, color="#56B4E9").encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"))
    one = alt.Chart(pd.DataFrame([{"one": 1.0}])).mark_rule(color="#666").encode(x=alt.X("one:Q"))
    # The axis spans the means (and the band), not the widest interval: one 3-run CI reaching
    # 8× would flatten every point against 1. Longer whiskers stop at the edge.
    ratios = data["ratio"].astype(float)
    domain = [min(1 - 2 * band, float(ratios.min()) - 0.05),
              max(1 + 2 * band, float(ratios.max()) + 0.05)]
    x_scale = alt.Scale(domain=domain, clamp=True, zero=False)
    whiskers = alt.Chart(data).mark_rule(clip=True).encode(
        y=y, yOffset=alt.YOffset("tool:N"), x=alt.X("whisker_low:Q", scale=x_scale),
        x2=alt.X2("whisker_high:Q"), color=color)
    dots = alt.Chart(data).mark_point(filled=True, size=50).encode(
        y=y, yOffset=alt.YOffset("tool:N"),
        x=alt.X("ratio:Q", title="mean ÷ median of the tools' means", scale=x_scale),
        color=color,
        tooltip=[alt.Tooltip("label:N", title="cell"), alt.Tooltip("tool:N"),
                 alt.Tooltip("ratio:Q", format=".3f"), alt.Tooltip("mean:Q", format=".4g"),
                 alt.Tooltip("n:Q", title="runs")])
    chart = alt.layer(shade, one, whiskers, dots).properties(
        width=WIDTH - 300, height=max(60, 26 * data["label"].nunique()))
    return finish(chart, title, label_limit=320)


def history(points: pd.DataFrame, title: str, y_title: str) -> Spec:
    """A headline figure over the campaigns in time order, one line per path, CI whiskers;
    the last campaign's points larger."""
    data = prepared(points)
    x = alt.X("campaign:N", title=None, sort=list(dict.fromkeys(data["campaign"])),
              axis=alt.Axis(labelAngle=-30))
    line = alt.Chart().mark_line(point=False).encode(x=x, y=alt.Y("mean:Q", title=y_title),
                                                    color=color(legend=True),
                                                    detail=alt.Detail("path:N"))
    dots = alt.Chart().mark_point(filled=True).encode(
        x=x, y=alt.Y("mean:Q"), color=color(), detail=alt.Detail("path:N"),
        size=alt.condition(alt.datum.last, alt.value(120), alt.value(40)),
        tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"),
                 alt.Tooltip("mean:Q", format=",.3~r"), alt.Tooltip("n:Q", title="runs")])
    whiskers = alt.Chart().mark_rule().encode(
        x=x, y=alt.Y("whisker_low:Q"), y2=alt.Y2("whisker_high:Q"), color=color())
    chart = alt.layer(line, whiskers, dots, data=data).properties(width=WIDTH - 160, height=260)
    return finish(chart, title)


def streams_lines(cells: pd.DataFrame, title: str) -> Spec:
    """Aggregate throughput against the number of flows, one line per path with CI whiskers;
    a panel per message size (and a row per campaign when there are several)."""
    data = prepared(cells)
    x = alt.X("streams:O", title="concurrent TCP flows", axis=alt.Axis(labelAngle=0))
    present = [c for c in CONFIG_COLORS if c in set(data["configuration"])]
    color = alt.Color("configuration:N", title="configuration",
                      scale=alt.Scale(domain=present, range=[CONFIG_COLORS[c] for c in present]),
                      legend=alt.Legend(orient="bottom", columns=4))
    line = alt.Chart().mark_line(point=True).encode(
        x=x, y=alt.Y("mean:Q", title="aggregate Gb/s", scale=alt.Scale(zero=True)),
        color=color, detail=alt.Detail("path:N"),
        tooltip=[*tooltip("aggregate Gb/s"), alt.Tooltip("streams:O", title="flows")])
    whiskers = alt.Chart().mark_rule().encode(
        x=x, y=alt.Y("whisker_low:Q"), y2=alt.Y2("whisker_high:Q"), color=color,
        detail=alt.Detail("path:N"))
    columns = sorted(map(str, data["size_label"].unique()), key=natural)
    campaigns = list(dict.fromkeys(data["campaign"]))
    inner: Spec = {"layer": [layer_spec(line), layer_spec(whiskers)],
                   "width": max(180, (WIDTH - 160) // max(1, min(2, len(columns)))),
                   "height": 220}
    facet: Spec = {"column": header("size_label", columns)}
    if len(campaigns) > 1:
        facet["row"] = header("campaign", campaigns)
    return finish(with_data({"facet": facet, "spec": inner,
                               "resolve": {"scale": {"y": "independent"}}}, data), title)


STATE_COLORS = {"idle": "#999999", "under load": "#D55E00"}


def idle_and_loaded(cells: pd.DataFrame, title: str, x_title: str,
                    order: list[str] | None = None) -> Spec:
    """Per path, the latency idle and under load as a pair of bars (CI whiskers); a panel per
    number of bulk flows (``flows_label``)."""
    data = prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    offset = alt.YOffset("state:N", sort=list(STATE_COLORS))
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=offset, x=alt.X("mean:Q", title=x_title),
        color=alt.Color("state:N", title=None, sort=list(STATE_COLORS),
                        scale=alt.Scale(domain=list(STATE_COLORS),
                                        range=list(STATE_COLORS.values())),
                        legend=alt.Legend(orient="top")),
        tooltip=[*tooltip(x_title), alt.Tooltip("state:N")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, yOffset=offset, x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    return finish(panels([bars, whiskers], data, "flows_label", 30), title)


def ratios_to_bare(rows: pd.DataFrame, title: str, order: list[str],
                   figures: list[str]) -> Spec:
    """Each path's ratio to bare metal, a panel per figure (in ``figures``' order), with its
    95 % CI whisker; a black tick at ``ceiling`` where a row has one (what its encapsulation's
    headers alone leave of bare metal's goodput), and a dashed rule at 1, bare metal."""
    y = alt.Y("path:N", title=None, sort=order)
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("ratio:Q", title="÷ bare metal", scale=alt.Scale(zero=True)),
        color=color(), tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"),
                                alt.Tooltip("figure:N"),
                                alt.Tooltip("ratio:Q", format=".3f", title="÷ bare metal"),
                                alt.Tooltip("ci_text:N", title="95 % CI"),
                                alt.Tooltip("ceiling:Q", format=".3f",
                                            title="headers' ceiling ÷ bare")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, x=alt.X("low:Q"), x2=alt.X2("high:Q"))
    ceiling = alt.Chart().transform_filter("isValid(datum.ceiling)").mark_tick(
        color="black", thickness=3, size=18).encode(y=y, x=alt.X("ceiling:Q"))
    one = alt.Chart().mark_rule(color="#666", strokeDash=[4, 3]).encode(x=alt.datum(1))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("ratio:Q"), text=alt.Text("ratio:Q", format=".2f"))
    return finish(panels([bars, whiskers, ceiling, one, labels], rows, "figure", 22,
                         independent_x=True, column_order=figures), title)


PROFILE_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]


def ratios_to_untuned(rows: pd.DataFrame, title: str, order: list[str],
                      figures: list[str]) -> Spec:
    """Each tuned cell's ratio to the same cell untuned (a row per path and profile), a panel
    per figure, with its 95 % CI whisker and a dashed rule at 1, the hosts as they were."""
    y = alt.Y("path:N", title=None, sort=order)
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("ratio:Q", title="÷ untuned", scale=alt.Scale(zero=True)),
        color=alt.Color("profile:N", title="profile", scale=alt.Scale(range=PROFILE_COLORS),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"), alt.Tooltip("figure:N"),
                 alt.Tooltip("ratio:Q", format=".3f", title="÷ untuned"),
                 alt.Tooltip("ci_text:N", title="95 % CI")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, x=alt.X("low:Q"), x2=alt.X2("high:Q"))
    one = alt.Chart().mark_rule(color="#666", strokeDash=[4, 3]).encode(x=alt.datum(1))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("ratio:Q"), text=alt.Text("ratio:Q", format=".2f"))
    # Invisible, past the longest bar or whisker: room in each panel for the labels.
    room = alt.Chart().mark_point(opacity=0).encode(y=y, x=alt.X("room:Q"))
    return finish(panels([bars, whiskers, one, labels, room], rows, "figure", 22,
                         independent_x=True, column_order=figures), title)
