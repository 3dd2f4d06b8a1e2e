"""A page's registration: its slug and title, which campaigns it reads, when it is shown, the
key point it adds to the Summary, and the function that makes its view (a dataclass the
template of the same slug lays out)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from ..findings import KeyPoint
from .model import Site

Problem = dict[str, str]  # campaign, run_id, reason: a run the report is made without


class Reads(Enum):
    """Which campaigns a page is made from."""

    FIGURES = "the newest campaigns, one TCP flow of the study's tests, untuned"
    FIGURES_EVERY_TEST = "the newest campaigns, every test and number of flows, untuned"
    NEWEST = "the newest campaign, one TCP flow of the study's tests, untuned"
    TUNING = "the newest campaigns, one TCP flow of the study's tests, every tuning profile"
    PAIRS = "the newest campaigns, one TCP flow of the study's tests, untuned, every node pair"
    EVERY = "every campaign"


@dataclass
class View:
    """A page's view: the fields its template reads (subclasses are dataclasses)."""


@dataclass(frozen=True)
class Context:
    site: Site  # the campaigns the page reads
    problems: list[Problem] = field(default_factory=list)
    points: list[KeyPoint] = field(default_factory=list)  # what the shown pages add to Summary


def always(_: Site) -> bool:
    return True


def several_campaigns(site: Site) -> bool:
    return site.several


V = TypeVar("V", bound=View)


def from_site(build: Callable[[Site], V]) -> Callable[[Context], V]:
    """The maker of a page whose view needs nothing but its campaigns."""
    def make(ctx: Context) -> V:
        return build(ctx.site)
    return make


@dataclass(frozen=True)
class Page:
    slug: str  # the template templates/SLUG.md.j2 and the page SLUG.html
    title: str
    make: Callable[[Context], View]
    reads: Reads = Reads.EVERY
    shown: Callable[[Site], bool] = always  # asked of every campaign
    key_point: Callable[[Site, str], KeyPoint | None] | None = None  # (its campaigns, newest)


@dataclass
class NoView(View):
    """A page whose template needs nothing beyond what every page gets."""


def no_view(_: Context) -> View:
    return NoView()
