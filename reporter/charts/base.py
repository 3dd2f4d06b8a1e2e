"""What every figure shares: the palette (Okabe–Ito, which survives colour blindness), the
sizes (the site's content column, text of at least 12 px), the panels per message size, and
the spec's finish (only the columns it names, a stable hash)."""

import hashlib
import json
from typing import Any

import altair as alt
import pandas as pd

Spec = dict[str, Any]
STUDY_LATENCY_US = {"bare metal": 20, "Calico containers": 25, "Calico OpenStack VMs": 70,
                    "OVS + VXLAN": 70}
CONFIG_COLORS = {"bare": "#4D4D4D", "container": "#0072B2", "vm": "#CC79A7",
                 "veth-control": "#56B4E9", "overlay": "#E69F00", "overlay-ovs": "#D55E00",
                 "existing": "#009E73", "ipip": "#DDCC77", "geneve": "#999933",
                 "wireguard": "#882255", "ipsec": "#332288"}
SIDE_COLORS = {"sender": "#0072B2", "receiver": "#E69F00"}
WIDTH = 620      # the content column at 1440 px, less the axis labels' share
FONT = 12


def color(field: str = "configuration", title: str = "configuration",
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


def finish(chart: Any, title: str, label_limit: int = 260) -> Spec:
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


def tooltip(value_title: str) -> list[alt.Tooltip]:
    return [alt.Tooltip("campaign:N"), alt.Tooltip("path:N", title="path"),
            alt.Tooltip("tool:N"), alt.Tooltip("mean:Q", title=value_title, format=",.3~r"),
            alt.Tooltip("ci_text:N", title="95 % CI"), alt.Tooltip("n:Q", title="runs")]


def prepared(cells: pd.DataFrame) -> pd.DataFrame:
    data = cells.drop(columns=[c for c in ("outlier_runs",) if c in cells]).copy()
    has_ci = data["ci_low"].notna() & (data["n"] >= 3)
    data["ci_text"] = [f"{lo:.3g} – {hi:.3g}" if ok else "too few runs for an interval"
                       for lo, hi, ok in zip(data["ci_low"], data["ci_high"], has_ci,
                                             strict=True)]
    data["whisker_low"] = data["ci_low"].where(has_ci).clip(lower=0)
    data["whisker_high"] = data["ci_high"].where(has_ci)
    data["size_label"] = [f"{int(s):,} B" for s in data["message_size"]]
    return data


def panels(layers: list[Any], data: pd.DataFrame, column: str | None, row_height: int,
            independent_x: bool = False, column_order: list[str] | None = None) -> Spec:
    """Layers over ``data`` as panels: one per value of ``column`` (the message sizes) side by
    side — two a row when one campaign has more than two — and a row of them per campaign.

    Composed as Vega-Lite by hand from each layer's own spec: Altair's layer() and facet()
    deep-copy and re-validate every layer, which was most of a site build's time."""
    columns = (column_order or sorted(map(str, data[column].unique()), key=natural)
               if column else [])
    campaigns = list(dict.fromkeys(data["campaign"]))
    width = max(160, (WIDTH - 200) // max(1, len(columns)))
    wrap = bool(column) and len(campaigns) == 1 and len(columns) > 2
    inner: Spec = {"layer": [layer_spec(layer) for layer in layers],
                   "width": (WIDTH - 200) // 2 if wrap else width,
                   "height": row_height * max(1, data["path"].nunique())}
    facet: Spec = {}
    if wrap:
        facet["facet"] = header(str(column), columns)
    else:
        if column:
            facet["column"] = header(column, columns)
        if len(campaigns) > 1:
            facet["row"] = header("campaign", campaigns)
        if facet:
            facet = {"facet": facet}
    spec: Spec = with_data({**facet, "spec": inner} if facet else inner, data)
    if wrap:
        spec["columns"] = 2
    if independent_x and column:
        spec["resolve"] = {"scale": {"x": "independent"}}
    return spec


def header(field: str, order: list[str]) -> Spec:
    return {"field": field, "type": "nominal", "title": None, "sort": order}


def layer_spec(layer: Any) -> Spec:
    spec = dict(layer.to_dict(validate=False))
    for key in ("$schema", "config", "data", "datasets"):
        spec.pop(key, None)
    return spec


def with_data(spec: Spec, data: pd.DataFrame) -> Spec:
    """A top-level spec over ``data``, named by its content as Altair names its datasets."""
    rows = _values(data)["values"]
    name = "data-" + hashlib.md5(json.dumps(rows, sort_keys=True).encode(),
                                 usedforsecurity=False).hexdigest()
    return {"$schema": alt.SCHEMA_URL, "data": {"name": name}, **spec,
            "datasets": {name: rows}}


def natural(label: Any) -> Any:
    text = str(label).replace(",", "").split(" ")[0]
    return (0, float(text)) if text.replace(".", "").isdigit() else (1, str(label))
