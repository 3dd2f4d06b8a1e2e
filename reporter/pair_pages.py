"""The pair picker: a campaign of several node pairs shows one pair on its figure pages (the
median pair, or `report --pair`'s); the same pages are made again for each other pair the
picker offers, as SLUG.pair-SENDER~RECEIVER.md beside them (flat, so every relative link and
chart path in them stays true), and every one of them lists the pairs, each a link to the same
page for that pair. Up to PICKER_LIMIT pairs are offered: every pair when there are no more,
else the shown pair and the pairs furthest from the median, worst first — the ones worth a
closer look; any pair is still one `report --pair` away."""

import hashlib
import re
from dataclasses import dataclass, replace

import pandas as pd

from . import node_pairs
from .pages.model import Site

PICKER_LIMIT = 16
# A pair's pages repeat the shown pair's headings: the site's search finds each heading once.
UNSEARCHED = "---\nsearch:\n  exclude: true\n---\n"
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True)
class Choice:
    pair: str
    label: str      # "sender → receiver"
    token: str      # its pages' suffix: SLUG.pair-TOKEN.md ("" for the pages as built)
    note: str       # "median pair", "asked for", "4th slowest", or ""


@dataclass(frozen=True)
class Picker:
    choices: list[Choice]
    left_out: int   # pairs measured but not offered (more than PICKER_LIMIT)

    def others(self) -> list[Choice]:
        return [c for c in self.choices if c.token]

    def links(self, slug: str, current: str) -> list[tuple[str, str, bool, str]]:
        """Per pair offered: its label, the same page for it, whether it is this page's pair,
        and its note."""
        return [(c.label, page_name(slug, c.token) + ".md", c.token == current, c.note)
                for c in self.choices]


NO_PICKER = Picker([], 0)


def page_name(slug: str, token: str) -> str:
    return f"{slug}.pair-{token}" if token else slug


def token(pair: str) -> str:
    """A pair's file-name part: "sender~receiver" when both names are plain (letters, digits,
    dots, dashes, underscores), else a hash of it: the names come from an archive."""
    sender, receiver = node_pairs.hosts_of(pair)
    if _HOST.fullmatch(sender) and _HOST.fullmatch(receiver):
        return f"{sender}{node_pairs.SEPARATOR}{receiver}"
    return "h" + hashlib.sha256(pair.encode(errors="replace")).hexdigest()[:12]


def picker(model: Site, measured: dict[str, set[str]], figured: list[str], asked: bool,
           refs: dict[str, tuple[str, pd.DataFrame]]) -> Picker:
    """The pairs the figure pages offer for the ``figured`` campaigns (NO_PICKER unless one
    measured several), ranked by ``refs`` (node_pairs.references)."""
    pairs = sorted({p for c, ps in measured.items() if c in figured for p in ps})
    if len(pairs) < 2 or not model.pair_choice:
        return NO_PICKER
    shown = {p for c, p in model.pair_choice.items() if c in figured}
    ranked = _slowest_first(refs, pairs)
    offered = [p for p in ranked if p in shown]
    offered += [p for p in ranked if p not in shown][:PICKER_LIMIT - len(offered)]
    order = {p: i for i, p in enumerate(ranked)}
    kept = pairs if len(pairs) <= PICKER_LIMIT else sorted(offered)
    choices = []
    for p in kept:
        note = ("asked for" if asked else "median pair") if p in shown else (
            _slowest(order[p] + 1) if len(pairs) > PICKER_LIMIT else "")
        choices.append(Choice(p, node_pairs.label(p), "" if p in shown else token(p), note))
    return Picker(choices, len(pairs) - len(kept))


def showing(model: Site, choice: Choice, measured: dict[str, set[str]]) -> Site:
    """The site as its pages for ``choice`` read it: each campaign that measured the pair by
    it, the others by their own pair."""
    chosen = {c: choice.pair if choice.pair in measured.get(c, set()) else p
              for c, p in model.pair_choice.items()}
    return replace(model, pair_choice=chosen)


def measured_pairs(runs: pd.DataFrame) -> dict[str, set[str]]:
    """Per campaign of several node pairs, the pairs its runs name."""
    found: dict[str, set[str]] = {}
    if runs.empty or "pair" not in runs:
        return found
    for campaign, pair in runs.loc[runs["pair"] != "", ["campaign", "pair"]].drop_duplicates(
            ).itertuples(index=False):
        found.setdefault(str(campaign), set()).add(str(pair))
    return found


def _slowest_first(refs: dict[str, tuple[str, pd.DataFrame]], pairs: list[str]) -> list[str]:
    """The pairs by the figure the shown pair is chosen by (node_pairs.references) against
    the median pair's, worst first; pairs without that figure last, by name."""
    goodness: dict[str, float] = {}
    for metric, rows in refs.values():
        scored = node_pairs.against_median(rows, metric)
        for pair, value in zip(scored["pair"], scored["goodness"], strict=True):
            goodness[str(pair)] = min(goodness.get(str(pair), float("inf")), float(value))
    return sorted(pairs, key=lambda p: (p not in goodness, goodness.get(p, 0.0), p))


def _slowest(n: int) -> str:
    if n == 1:
        return "slowest"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} slowest"
