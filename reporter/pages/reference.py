"""The reference pages: Environment (each host's facts), Methodology, Runs (every run, a
table the browser filters) and Problems (the runs the report is made without)."""

from dataclasses import dataclass

from .. import facts
from ..escaping import code, shorten
from ..views import Table
from .page import Context, Page, View, no_view

FACT_CHARS, RUN_ID_CHARS, REASON_CHARS = 160, 200, 300


@dataclass
class EnvironmentView(View):
    facts: dict[str, Table]  # per campaign: a row per key fact, a column per host


@dataclass
class ProblemsView(View):
    unusable: Table  # a row per run the report is made without


def environment(ctx: Context) -> EnvironmentView:
    tables = {}
    for i in ctx.site.infos:
        rows = [[key, *(shorten(i.first_facts(host).get(key, "–"), FACT_CHARS)
                        for host in i.hosts)] for key in facts.KEY_FACTS]
        qdiscs = [facts.data_fact(i.first_facts(host), "qdisc ") for host in i.hosts]
        if any(qdiscs):  # archives before the fact have none
            rows.append(["qdisc (data NIC)", *(shorten(q or "–", FACT_CHARS) for q in qdiscs)])
        tables[i.name] = Table(["fact", *i.hosts], rows, text=True)
    return EnvironmentView(tables)


def problems(ctx: Context) -> ProblemsView:
    several = ctx.site.several
    return ProblemsView(Table(
        [*(["campaign"] if several else []), "run", "what happened"],
        [[*([p["campaign"]] if several else []), code(shorten(p["run_id"], RUN_ID_CHARS)),
          shorten(p["reason"], REASON_CHARS)] for p in ctx.problems], text=True))


ENVIRONMENT = Page("environment", "Environment", environment)
METHODOLOGY = Page("methodology", "Methodology", no_view)
RUNS = Page("runs", "Runs", no_view)
PROBLEMS = Page("problems", "Problems", problems)
