"""Altair charts, one function per figure. Each returns a Vega-Lite spec (a dict): the site
embeds it for the bundled Vega to draw, and renders it to SVG as a static copy.

Every figure uses one colour per configuration (the Okabe–Ito palette, which survives colour
blindness), draws a 95 % CI whisker only where the cell has enough runs for one, and is sized
for the site's content column with text of at least 12 px."""

import hashlib
import json
from typing import Any

import altair as alt
import pandas as pd

from .aggregate import BUSIEST

Spec = dict[str, Any]
STUDY_LATENCY_US = {"bare metal": 20, "Calico containers": 25, "Calico OpenStack VMs": 70,
                    "OVS + VXLAN": 70}
CONFIG_COLORS = {"bare": "#4D4D4D", "container": "#0072B2", "vm": "#CC79A7",
                 "veth-control": "#56B4E9", "overlay": "#E69F00", "overlay-ovs": "#D55E00",
                 "existing": "#009E73"}
SIDE_COLORS = {"sender": "#0072B2", "receiver": "#E69F00"}
WIDTH = 620      # the content column at 1440 px, less the axis labels' share
FONT = 12


def _color(field: str = "configuration", title: str = "configuration",
           legend: bool = False) -> alt.Color:
    return alt.Color(f"{field}:N", title=title,
                     scale=alt.Scale(domain=list(CONFIG_COLORS),
                                     range=list(CONFIG_COLORS.values())),
                     legend=alt.Legend(orient="bottom", columns=4) if legend else None)


CONFIG: Spec = {"view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": "#ccc"},
                "axis": {"labelFontSize": FONT, "titleFontSize": FONT},
                "header": {"labelFontSize": FONT, "titleFontSize": FONT},
                "legend": {"labelFontSize": FONT, "titleFontSize": FONT}}


def _values(data: Any) -> Any:
    """A chart's rows through pandas' JSON writer (NaN → null), a third faster than Altair's
    own conversion, which builds a frame per column."""
    if isinstance(data, pd.DataFrame):
        return {"values": json.loads(data.to_json(orient="records", double_precision=15))}
    return alt.to_values(data)


alt.data_transformers.register("dpb-json", _values)


def _finish(chart: Any, title: str, label_limit: int = 260) -> Spec:
    # Title and configuration go into the dict: each Altair call on a chart copies all of it
    # (~0.05 s a chart). Validation against the Vega-Lite schema costs ~0.1 s a chart; the
    # tests validate them.
    if isinstance(chart, dict):
        spec = chart
    else:
        with alt.data_transformers.enable("dpb-json"):
            spec = dict(chart.to_dict(validate=False))
    spec["title"] = {"text": title, "fontSize": FONT + 2, "anchor": "start"}
    spec["config"] = {**CONFIG, "axis": {**CONFIG["axis"], "labelLimit": label_limit}}
    return _only_used_columns(spec)


def _only_used_columns(spec: Spec) -> Spec:
    """Rows keep the columns the chart names (as a field, in a tooltip or an expression): a
    cell's row has ~30 columns and a chart uses ~10, so pages, their search index and the SVG
    drawing carry a third of the data."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    rest = json.dumps({k: v for k, v in spec.items() if k != "datasets"})
    for name, rows in datasets.items():
        columns = {c for row in rows[:1] for c in row}
        kept = {c for c in columns if f'"{c}' in rest or f".{c}" in rest}
        if kept != columns:
            datasets[name] = [{c: v for c, v in row.items() if c in kept} for row in rows]
    return spec


def _tooltip(value_title: str) -> list[alt.Tooltip]:
    return [alt.Tooltip("campaign:N"), alt.Tooltip("path:N", title="path"),
            alt.Tooltip("tool:N"), alt.Tooltip("mean:Q", title=value_title, format=".3~g"),
            alt.Tooltip("ci_text:N", title="95 % CI"), alt.Tooltip("n:Q", title="runs")]


def _prepared(cells: pd.DataFrame) -> pd.DataFrame:
    data = cells.drop(columns=[c for c in ("outlier_runs",) if c in cells]).copy()
    has_ci = data["ci_low"].notna() & (data["n"] >= 3)
    data["ci_text"] = [f"{lo:.3g} – {hi:.3g}" if ok else "too few runs for an interval"
                       for lo, hi, ok in zip(data["ci_low"], data["ci_high"], has_ci,
                                             strict=True)]
    data["whisker_low"] = data["ci_low"].where(has_ci).clip(lower=0)
    data["whisker_high"] = data["ci_high"].where(has_ci)
    data["size_label"] = [f"{int(s):,} B" for s in data["message_size"]]
    return data


def path_bars(cells: pd.DataFrame, title: str, x_title: str, column: str | None = None,
              order: list[str] | None = None) -> Spec:
    """Mean per path as horizontal bars with CI whiskers, one colour per configuration;
    panels side by side by ``column`` (e.g. message size) and one row per campaign when there
    are several."""
    data = _prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    x = alt.X("mean:Q", title=x_title, scale=alt.Scale(zero=True))
    bars = alt.Chart().mark_bar().encode(y=y, x=x, color=_color(), tooltip=_tooltip(x_title))
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("mean:Q"), text=alt.Text("mean:Q", format=".3~g"))
    return _finish(_panels([bars, whiskers, labels], data, column, 22, independent_x=True),
                   title)


def _panels(layers: list[Any], data: pd.DataFrame, column: str | None, row_height: int,
            independent_x: bool = False) -> Spec:
    """Layers over ``data`` as panels: one per value of ``column`` (the message sizes) side by
    side — two a row when one campaign has more than two — and a row of them per campaign.

    Composed as Vega-Lite by hand from each layer's own spec: Altair's layer() and facet()
    deep-copy and re-validate every layer, which was most of a site build's time."""
    columns = sorted(map(str, data[column].unique()), key=_natural) if column else []
    campaigns = list(dict.fromkeys(data["campaign"]))
    width = max(160, (WIDTH - 200) // max(1, len(columns)))
    wrap = bool(column) and len(campaigns) == 1 and len(columns) > 2
    inner: Spec = {"layer": [_layer_spec(layer) for layer in layers],
                   "width": (WIDTH - 200) // 2 if wrap else width,
                   "height": row_height * max(1, data["path"].nunique())}
    facet: Spec = {}
    if wrap:
        facet["facet"] = _header(str(column), columns)
    else:
        if column:
            facet["column"] = _header(column, columns)
        if len(campaigns) > 1:
            facet["row"] = _header("campaign", campaigns)
        if facet:
            facet = {"facet": facet}
    spec: Spec = _with_data({**facet, "spec": inner} if facet else inner, data)
    if wrap:
        spec["columns"] = 2
    if independent_x and column:
        spec["resolve"] = {"scale": {"x": "independent"}}
    return spec


def _header(field: str, order: list[str]) -> Spec:
    return {"field": field, "type": "nominal", "title": None, "sort": order}


def _layer_spec(layer: Any) -> Spec:
    spec = dict(layer.to_dict(validate=False))
    for key in ("$schema", "config", "data", "datasets"):
        spec.pop(key, None)
    return spec


def _with_data(spec: Spec, data: pd.DataFrame) -> Spec:
    """A top-level spec over ``data``, named by its content as Altair names its datasets."""
    rows = _values(data)["values"]
    name = "data-" + hashlib.md5(json.dumps(rows, sort_keys=True).encode(),
                                 usedforsecurity=False).hexdigest()
    return {"$schema": alt.SCHEMA_URL, "data": {"name": name}, **spec,
            "datasets": {name: rows}}


def _natural(label: Any) -> Any:
    text = str(label).replace(",", "").split(" ")[0]
    return (0, float(text)) if text.replace(".", "").isdigit() else (1, str(label))


def sides(cells: pd.DataFrame, title: str, order: list[str] | None = None) -> Spec:
    """Sender and receiver CPU side by side per path (one bar each), per message size."""
    data = _prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=alt.YOffset("side:N", sort=["sender", "receiver"]),
        x=alt.X("mean:Q", title="% of one CPU"),
        color=alt.Color("side:N", title="side", sort=["sender", "receiver"],
                        scale=alt.Scale(domain=list(SIDE_COLORS),
                                        range=list(SIDE_COLORS.values())),
                        legend=alt.Legend(orient="top")),
        tooltip=[*_tooltip("% of one CPU"), alt.Tooltip("side:N")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, yOffset=alt.YOffset("side:N", sort=["sender", "receiver"]),
        x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    return _finish(_panels([bars, whiskers], data, "size_label", 30), title)


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
                                                     format=".3~g")])
    ticks = alt.Chart().transform_filter(~classes_only).mark_tick(
        color="black", thickness=2).encode(
        y=y, yOffset=offset, x=alt.X("mean:Q"),
        tooltip=[alt.Tooltip("path:N"), alt.Tooltip("side:N"),
                 alt.Tooltip("mean:Q", title="busiest core, % of that CPU", format=".3~g")])
    labels = alt.Chart().transform_filter(~classes_only).mark_text(
        align="left", dx=5, fontSize=FONT - 1).encode(
        y=y, yOffset=offset, x=alt.X("mean:Q"), text=alt.Text("side:N"))
    data["class_order"] = [list(CLASS_COLORS).index(c) if c in CLASS_COLORS else 99
                           for c in data["class"]]
    return _finish(_panels([bars, ticks, labels], data, "size_label", 34), title)


def latency(cells: pd.DataFrame, title: str, order: list[str] | None = None,
            study: bool = True) -> Spec:
    """Mean one-way latency per path with CI whiskers; below them, in grey and labelled, the
    study's published figures (10 GbE, 2015)."""
    data = _prepared(cells)
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
                                         color=color, tooltip=_tooltip("one-way latency (µs)"))
    whiskers = alt.Chart().mark_rule(color="black").encode(y=y, x=alt.X("whisker_low:Q"),
                                                           x2=alt.X2("whisker_high:Q"))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("mean:Q"), text=alt.Text("mean:Q", format=".3~g"))
    campaigns = list(dict.fromkeys(data["campaign"]))
    layered = alt.layer(bars, whiskers, labels, data=data).properties(
        width=WIDTH - 240, height=22 * len(order))
    chart = (layered.facet(row=alt.Row("campaign:N", title=None, sort=campaigns))
             if len(campaigns) > 1 else layered)
    return _finish(chart, title)


def mtu_ratio(table: pd.DataFrame, title: str, order: list[str] | None = None) -> Spec:
    """Throughput at the larger MTU ÷ the smaller, per path and message size (1 = no gain)."""
    data = table.copy()
    data["size_label"] = [f"{int(s):,} B" for s in data["message_size"]]
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    bars = alt.Chart().mark_bar().encode(
        y=y, x=alt.X("ratio:Q", title="throughput ratio, larger MTU ÷ smaller"),
        color=_color(), tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"),
                                 alt.Tooltip("ratio:Q", format=".3f"),
                                 alt.Tooltip("low_gbps:Q", format=".3g", title="Gb/s, small MTU"),
                                 alt.Tooltip("high_gbps:Q", format=".3g",
                                             title="Gb/s, large MTU")])
    one = alt.Chart().mark_rule(color="#666", strokeDash=[4, 3]).encode(x=alt.datum(1))
    labels = alt.Chart().mark_text(align="left", dx=4, fontSize=FONT - 1).encode(
        y=y, x=alt.X("ratio:Q"), text=alt.Text("ratio:Q", format=".2f"))
    return _finish(_panels([bars, one, labels], data, "size_label", 22), title)


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
    return _finish(chart, title, label_limit=320)


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
    return _finish(chart, title, label_limit=320)


def history(points: pd.DataFrame, title: str, y_title: str) -> Spec:
    """A headline figure over the campaigns in time order, one line per path, CI whiskers;
    the last campaign's points larger."""
    data = _prepared(points)
    x = alt.X("campaign:N", title=None, sort=list(dict.fromkeys(data["campaign"])),
              axis=alt.Axis(labelAngle=-30))
    line = alt.Chart().mark_line(point=False).encode(x=x, y=alt.Y("mean:Q", title=y_title),
                                                    color=_color(legend=True),
                                                    detail=alt.Detail("path:N"))
    dots = alt.Chart().mark_point(filled=True).encode(
        x=x, y=alt.Y("mean:Q"), color=_color(), detail=alt.Detail("path:N"),
        size=alt.condition(alt.datum.last, alt.value(120), alt.value(40)),
        tooltip=[alt.Tooltip("campaign:N"), alt.Tooltip("path:N"),
                 alt.Tooltip("mean:Q", format=".3~g"), alt.Tooltip("n:Q", title="runs")])
    whiskers = alt.Chart().mark_rule().encode(
        x=x, y=alt.Y("whisker_low:Q"), y2=alt.Y2("whisker_high:Q"), color=_color())
    chart = alt.layer(line, whiskers, dots, data=data).properties(width=WIDTH - 160, height=260)
    return _finish(chart, title)


def streams_lines(cells: pd.DataFrame, title: str) -> Spec:
    """Aggregate throughput against the number of flows, one line per path with CI whiskers;
    a panel per message size (and a row per campaign when there are several)."""
    data = _prepared(cells)
    x = alt.X("streams:O", title="concurrent TCP flows", axis=alt.Axis(labelAngle=0))
    present = [c for c in CONFIG_COLORS if c in set(data["configuration"])]
    color = alt.Color("configuration:N", title="configuration",
                      scale=alt.Scale(domain=present, range=[CONFIG_COLORS[c] for c in present]),
                      legend=alt.Legend(orient="bottom", columns=4))
    line = alt.Chart().mark_line(point=True).encode(
        x=x, y=alt.Y("mean:Q", title="aggregate Gb/s", scale=alt.Scale(zero=True)),
        color=color, detail=alt.Detail("path:N"),
        tooltip=[*_tooltip("aggregate Gb/s"), alt.Tooltip("streams:O", title="flows")])
    whiskers = alt.Chart().mark_rule().encode(
        x=x, y=alt.Y("whisker_low:Q"), y2=alt.Y2("whisker_high:Q"), color=color,
        detail=alt.Detail("path:N"))
    columns = sorted(map(str, data["size_label"].unique()), key=_natural)
    campaigns = list(dict.fromkeys(data["campaign"]))
    inner: Spec = {"layer": [_layer_spec(line), _layer_spec(whiskers)],
                   "width": max(180, (WIDTH - 160) // max(1, min(2, len(columns)))),
                   "height": 220}
    facet: Spec = {"column": _header("size_label", columns)}
    if len(campaigns) > 1:
        facet["row"] = _header("campaign", campaigns)
    return _finish(_with_data({"facet": facet, "spec": inner,
                               "resolve": {"scale": {"y": "independent"}}}, data), title)


STATE_COLORS = {"idle": "#999999", "under load": "#D55E00"}


def idle_and_loaded(cells: pd.DataFrame, title: str, x_title: str,
                    order: list[str] | None = None) -> Spec:
    """Per path, the latency idle and under load as a pair of bars (CI whiskers); a panel per
    number of bulk flows (``flows_label``)."""
    data = _prepared(cells)
    y = alt.Y("path:N", title=None, sort=order or "ascending")
    offset = alt.YOffset("state:N", sort=list(STATE_COLORS))
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=offset, x=alt.X("mean:Q", title=x_title),
        color=alt.Color("state:N", title=None, sort=list(STATE_COLORS),
                        scale=alt.Scale(domain=list(STATE_COLORS),
                                        range=list(STATE_COLORS.values())),
                        legend=alt.Legend(orient="top")),
        tooltip=[*_tooltip(x_title), alt.Tooltip("state:N")])
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, yOffset=offset, x=alt.X("whisker_low:Q"), x2=alt.X2("whisker_high:Q"))
    return _finish(_panels([bars, whiskers], data, "flows_label", 30), title)
