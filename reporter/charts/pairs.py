"""The Node pairs page's figure: a sender × receiver matrix of one figure, each square coloured
by its pair's ratio to the median pair (worse is orange, better blue, whatever the figure's
direction), labelled with the figure itself."""

import altair as alt
import pandas as pd

from .base import FONT, Spec, finish

WORSE, SAME, BETTER = "#D55E00", "#F7F7F7", "#0072B2"  # Okabe–Ito ends, a neutral middle
SQUARE = 64  # px: room for "12,300" at 12 px


def pair_matrix(rows: pd.DataFrame, title: str, hosts: list[str], unit: str) -> Spec:
    """``rows``: sender, receiver, mean, ratio (÷ the median pair) and goodness (the ratio
    turned so that above 1 is better: ratio, or its inverse for lower-is-better figures)."""
    side = max(SQUARE * len(hosts), 160)
    x = alt.X("receiver:N", title="receiver", sort=hosts, axis=alt.Axis(orient="top",
                                                                          labelAngle=0))
    y = alt.Y("sender:N", title="sender", sort=hosts)
    squares = alt.Chart().mark_rect(stroke="white", strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("goodness:Q", title="÷ median pair (better →)",
                        scale=alt.Scale(domain=[0.5, 1, 1.5], range=[WORSE, SAME, BETTER],
                                        clamp=True),
                        legend=alt.Legend(orient="bottom", format=".2f")),
        tooltip=[alt.Tooltip("sender:N"), alt.Tooltip("receiver:N"),
                 alt.Tooltip("mean:Q", title=unit, format=",.3~r"),
                 alt.Tooltip("ratio:Q", title="÷ median pair", format=".2f"),
                 alt.Tooltip("n:Q", title="runs")])
    values = alt.Chart().mark_text(fontSize=FONT, baseline="bottom", dy=-1).encode(
        x=x, y=y, text=alt.Text("mean:Q", format=",.3~r"))
    ratios = alt.Chart().mark_text(fontSize=FONT - 1, baseline="top", dy=2,
                                   color="#333").encode(
        x=x, y=y, text=alt.Text("ratio_text:N"))
    data = rows.assign(ratio_text=[f"×{r:.2f}" for r in rows["ratio"]])
    chart = alt.layer(squares, values, ratios, data=data).properties(width=side, height=side)
    return finish(chart, title)
