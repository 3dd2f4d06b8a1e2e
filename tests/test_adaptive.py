"""Adaptive repetitions without hosts: the campaign form, the rounds a plan grows by, and the
collector's verdict per cell against the report's — on synthetic archives made of the captured
fixtures, read back through the real parsers."""

import json
from pathlib import Path
from typing import Any

import pytest

from collector import campaign, plan
from collector.adaptive import Rounds
from collector.archive import Archive
from collector.errors import BenchError
from reporter import aggregate, convergence, synthetic
from reporter.archive import load
from reporter.stats import summarise
from reporter.stopping import rule as report_rule
from reporter.stopping import settled
from reporter.tidy import table

HOSTS = [{"name": "a", "ssh_host": "198.18.255.11", "data_address": "198.18.0.1"},
         {"name": "b", "ssh_host": "198.18.255.12", "data_address": "198.18.0.2"}]
ADAPTIVE = {"min": 3, "max": 10, "target_ci_pct": 5}


def parse(**raw: Any) -> campaign.Campaign:
    return campaign.parse({"hosts": HOSTS, "seed": 9, **raw}, "c.yaml")


@pytest.mark.parametrize(("value", "message"), [
    ({"min": 2, "max": 5, "target_ci_pct": 3}, r"repetitions\.min: 2 is not allowed"),
    ({"min": 5, "max": 4, "target_ci_pct": 3},
     r"repetitions\.max: 4 is not allowed(.|\n)*from min"),
    ({"min": 3, "max": 5, "target_ci_pct": 0}, r"repetitions\.target_ci_pct: 0 is not allowed"),
    ({"min": 3, "max": 5, "target_ci_pct": "3%"}, r"target_ci_pct: '3%' is not allowed"),
    ({"min": 3, "max": 5}, r"repetitions: missing target_ci_pct"),
    ({"min": 3, "max": 5, "target_ci_pct": 3, "until": 9}, r"unknown key\(s\) until"),
    ("3", r"repetitions: '3' is not allowed"),
])
def test_bad_adaptive_repetitions_name_the_key(value: object, message: str) -> None:
    with pytest.raises(BenchError, match=message):
        parse(repetitions=value)


def test_an_integer_keeps_its_meaning_and_the_mapping_round_trips() -> None:
    fixed = parse(repetitions=4)
    assert not fixed.repetitions.adaptive and fixed.to_input()["repetitions"] == 4
    assert len(plan.runs(fixed)) == 4 * len(plan.cells(fixed)) == plan.max_runs(fixed)
    assert "runs_max" not in plan.figures(fixed, plan.runs(fixed))
    c = parse(repetitions=ADAPTIVE)
    assert c.to_input()["repetitions"] == {**ADAPTIVE, "target_ci_pct": 5.0}
    assert campaign.parse(c.to_input(), "manifest.json") == c


def test_the_plan_starts_at_min_and_grows_one_run_per_unsettled_cell() -> None:
    c = parse(repetitions=ADAPTIVE, configurations=["bare"], tools=["iperf3", "csrc"])
    cells = plan.cells(c)
    first = plan.runs(c)
    assert len(first) == 3 * len(cells)
    figures = plan.figures(c, plan.runs(c))
    assert figures["runs"] == len(first) and figures["runs_max"] == 10 * len(cells)
    assert figures["estimated_max_s"] == pytest.approx(figures["estimated_s"] * 10 / 3)
    [(_, group)] = plan.groups(c)
    made = {cell.cell_id: 3 for cell in group}
    made[group[1].cell_id] = 10  # at the maximum
    more = plan.next_round(c, group, made, {group[0].cell_id})
    assert {r.cell.cell_id for r in more} == {cell.cell_id for cell in group[2:]}
    assert all(r.repetition == 4 for r in more)
    assert more == plan.next_round(c, group, made, {group[0].cell_id})  # a resume: same order
    assert plan.next_round(c, group, dict.fromkeys(made, 10), set()) == []


def test_settled_is_the_reports_interval() -> None:
    tight, loose = [10.0, 10.1, 9.9], [10.0, 12.0, 8.0]
    assert settled(5, tight) and not settled(5, loose)
    assert not settled(50, [10.0, 10.0])  # two runs give no interval
    half = summarise(loose).ci95_half / 10.0 * 100
    assert settled(half + 0.01, loose) and not settled(half - 0.01, loose)


def _as_collector_archive(root: Path) -> Archive:
    return Archive(root, json.loads((root / "manifest.json").read_text()))


def test_collector_and_report_agree_on_every_cell(tmp_path: Path) -> None:
    """Runs of a tight and of a scattered synthetic campaign: the cells the collector calls
    settled are those the report says reached the target."""
    for spread in (0.01, 0.3):
        root = synthetic.generate(tmp_path, len(synthetic.cells((1500,))) * 4, spread=spread,
                                  name=f"s{int(spread * 100)}", mtus=(1500,))
        manifest = json.loads((root / "manifest.json").read_text())
        manifest["campaign"].update(hosts=HOSTS, repetitions=ADAPTIVE, seed=1)
        c = campaign.parse({k: v for k, v in manifest["campaign"].items()
                            if k in campaign.KEYS}, "manifest.json")
        rounds = Rounds(c, _as_collector_archive(root), report_rule)
        ids = sorted({r.rpartition(".")[0] for r in manifest["runs"]})
        group = [cell for _, g in plan.groups(c) for cell in g if cell.cell_id in ids]
        made, done = rounds.state(group)
        assert set(made.values()) == {4}
        # Without the report's rule no cell is settled: every cell runs to its max.
        assert Rounds(c, _as_collector_archive(root)).state(group) == (made, set())
        df = table([load(root)], cache=False)
        cells = {m: aggregate.cells(df, m) for m in aggregate.METRICS}
        judged = convergence.cells(cells, root.name, 5.0)
        report_says = {f"{r.configuration}.{r.direction}.{r.tool}.{r.test}.{r.message_size}B."
                       f"sb-{r.socket_buffer}.mtu{r.mtu}" for r in judged.itertuples()
                       if r.reached}
        assert done == report_says & set(made)
        assert (len(done) > len(group) / 2) if spread < 0.1 else (len(done) < len(group) / 2)
