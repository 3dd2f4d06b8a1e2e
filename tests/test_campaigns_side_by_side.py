"""Several campaigns in one report: never pooled, compared against a baseline, and the
regression gate (`invoke compare`). Synthetic archives made from the real tools' outputs
(reporter/synthetic.py), no root needed."""

import math
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from collector.exit import ExitStatus
from reporter import aggregate, archive, command, synthetic
from reporter.campaigns import info
from reporter.compare import WORSE, compare_pair
from reporter.tidy import table

from .helpers import invoke

ONE_MTU = (1500,)  # half the cells, for the tests that only need many of them
TWO_PATHS = (("bare", "host-host"), ("container", "container-container"))


def _campaign(tmp: Path, name: str, scale: float, seed: int, day: int,
              spread: float = 0.2, mtus: tuple[int, ...] = tuple(synthetic.MTUS),
              paths: tuple[tuple[str, str], ...] = tuple(synthetic.PATHS)) -> Path:
    return synthetic.generate(tmp, len(synthetic.cells(mtus, paths)) * 3, seed=seed,
                              scale=scale, name=name, spread=spread, mtus=mtus, paths=paths,
                              created_utc=f"2026-01-{day:02d}T00:00:00.000000Z")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two campaigns, read and never changed by the tests: "after" has half the throughput
    (bare metal and containers, three runs a cell)."""
    tmp = tmp_path_factory.mktemp("pair")
    return (_campaign(tmp, "before", 1.0, 1, 1, mtus=ONE_MTU, paths=TWO_PATHS),
            _campaign(tmp, "after", 0.5, 2, 2, mtus=ONE_MTU, paths=TWO_PATHS))


def test_two_campaigns_are_never_pooled(pair: tuple[Path, Path]) -> None:
    both = [archive.load(p) for p in pair]
    df = table(both)
    cells = aggregate.with_ratios(aggregate.cells(df, "gbps"))
    assert set(cells["campaign"]) == {"before", "after"}
    assert (cells["n"] == 3).all()  # one campaign's runs per cell, never six
    by_cell = df[df["status"] == "ok"].groupby(aggregate.KEY)["gbps"].agg(["mean", "count"])
    for _, row in cells.iterrows():
        runs = by_cell.loc[tuple(row[k] for k in aggregate.KEY)]
        assert row["mean"] == pytest.approx(runs["mean"]) and row["n"] == runs["count"] == 3
    key = ["configuration", "direction", "tool", "message_size", "mtu"]
    merged = cells[cells["campaign"] == "before"].merge(cells[cells["campaign"] == "after"],
                                                        on=key, suffixes=("_b", "_a"))
    assert len(merged) == len(cells) // 2
    assert (merged["mean_a"] / merged["mean_b"]).between(0.3, 0.8).all()  # ½ × (±20 %)
    # A ratio pairs a configuration with bare metal of its own campaign: both near 1.
    assert cells["ratio_to_bare"].between(0.6, 1.6).all()


def test_the_site_shows_both_campaigns_and_compares_them(pair: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    before, after = pair
    out = tmp_path / "site"
    proc = invoke("report", "--archive", str(after), "--archive", str(before), "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # The closing hint serves the folder just built, not ./site.
    assert f"invoke serve --out {out}" in proc.stdout.replace("\n", " ").replace("  ", " ")
    compare_page = (out / "compare.html").read_text()
    assert "before" in compare_page and "after against before" in compare_page
    assert "worse" in compare_page
    assert (out / "history.html").is_file()
    stats = pd.read_csv(out / "data" / "cells.csv")
    assert set(stats["campaign"]) == {"before", "after"}
    assert (stats["n"] <= 3).all()
    assert (stats["ci_low"].dropna() >= 0).all() and (stats["ratio_low"].dropna() > 0).all()


def test_baseline_must_name_a_campaign(pair: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(Exception, match="--baseline nope: no such campaign among before, after"):
        command.report([str(p) for p in pair], tmp_path / "s", tmp_path, baseline="nope")
    assert not (tmp_path / "s").exists()


def test_compare_gate_exits_nine_on_a_regression_and_writes_junit(pair: tuple[Path, Path],
                                                                  tmp_path: Path) -> None:
    base, cand = pair
    junit = tmp_path / "junit.xml"
    proc = invoke("compare", "--baseline", str(base), "--candidate", str(cand),
                  "--junit", str(junit))
    assert proc.returncode == ExitStatus.REGRESSION, proc.stdout[-2000:] + proc.stderr
    assert "worse" in proc.stdout and "regression" in proc.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures", "0")) == len(failures) > 0
    assert any("throughput" in (f.get("message") or "") for f in failures)
    # The other way round is an improvement: nothing got worse (the CLI exits 0 then).
    better = command.compare(str(cand), str(base), 5.0)
    assert not better.regressions and any(c.verdict == "better" for c in better.changes)


def test_a_small_significant_change_is_within_tolerance(tmp_path: Path) -> None:
    _campaign(tmp_path, "base", 1.0, 1, 1, spread=0.005, mtus=ONE_MTU, paths=TWO_PATHS)
    _campaign(tmp_path, "cand", 0.97, 2, 2, spread=0.005, mtus=ONE_MTU,  # 3 % slower, tight
              paths=TWO_PATHS)
    verdicts = command.compare(str(tmp_path / "base"), str(tmp_path / "cand"), 5.0)
    gbps = [c for c in verdicts.changes if c.metric == "gbps"]
    assert gbps and not verdicts.regressions
    assert sum(c.verdict == "within tolerance" for c in gbps) > len(gbps) / 2
    strict = command.compare(str(tmp_path / "base"), str(tmp_path / "cand"), 1.0)
    assert strict.regressions


def test_one_distribution_gives_few_false_alarms(tmp_path: Path) -> None:
    """Pairs of campaigns drawn from one distribution: about 5 % of cells have a raw p below
    0.05 (~5 of a pair's 105), and after Benjamini–Hochberg almost no pair flags anything
    (uncorrected, nearly every pair would)."""
    raw_hits = raw_total = flagged_pairs = 0
    pairs = 4
    rng = random.Random(11)
    for i in range(pairs):
        a = _campaign(tmp_path / f"p{i}", "a", 1.0, rng.randrange(10**6), 1, mtus=ONE_MTU)
        b = _campaign(tmp_path / f"p{i}", "b", 1.0, rng.randrange(10**6), 2, mtus=ONE_MTU)
        both = [archive.load(a), archive.load(b)]
        df = table(both)
        cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in ("gbps",)}
        changes = compare_pair(cells, info(both[0]), info(both[1]), 0.0)
        ps = [c.p for c in changes if not math.isnan(c.p)]
        raw_hits += sum(p < 0.05 for p in ps)
        raw_total += len(ps)
        flagged_pairs += any(c.verdict in (WORSE, "better") for c in changes)
    rate = raw_hits / raw_total
    assert raw_total >= pairs * 80
    assert 0.02 <= rate <= 0.09, rate
    assert flagged_pairs <= 1, flagged_pairs
