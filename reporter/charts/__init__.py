"""Altair charts, one function per figure, each returning a Vega-Lite spec (a dict): the
study's figures (study.py) and those a campaign adds (campaign.py), on one palette and one
set of sizes (base.py)."""

from .base import Spec
from .campaign import (
    agreement,
    forest,
    history,
    idle_and_loaded,
    ratios_to_bare,
    ratios_to_untuned,
    streams_lines,
)
from .study import cpu_classes, latency, mtu_ratio, path_bars, sides

__all__ = ["Spec", "agreement", "cpu_classes", "forest", "history", "idle_and_loaded",
           "latency", "mtu_ratio", "path_bars", "ratios_to_bare", "ratios_to_untuned", "sides",
           "streams_lines"]
