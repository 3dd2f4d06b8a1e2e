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

RUNS = len(synthetic.cells()) * 3  # every synthetic cell three times


def _campaign(tmp: Path, name: str, scale: float, seed: int, day: int,
              spread: float = 0.2) -> Path:
    return synthetic.generate(tmp, RUNS, seed=seed, scale=scale, name=name, spread=spread,
                              created_utc=f"2026-01-{day:02d}T00:00:00.000000Z")


def test_two_campaigns_are_never_pooled(tmp_path: Path) -> None:
    slow = _campaign(tmp_path, "slow", 1.0, 1, 1)
    fast = _campaign(tmp_path, "fast", 2.0, 2, 2)
    both = [archive.load(slow), archive.load(fast)]
    df = table(both)
    cells = aggregate.with_ratios(aggregate.cells(df, "gbps"))
    assert set(cells["campaign"]) == {"slow", "fast"}
    assert (cells["n"] == 3).all()  # one campaign's runs per cell, never six
    by_cell = df[df["status"] == "ok"].groupby(aggregate.KEY)["gbps"].agg(["mean", "count"])
    for _, row in cells.iterrows():
        runs = by_cell.loc[tuple(row[k] for k in aggregate.KEY)]
        assert row["mean"] == pytest.approx(runs["mean"]) and row["n"] == runs["count"] == 3
    key = ["configuration", "direction", "tool", "message_size", "mtu"]
    merged = cells[cells["campaign"] == "slow"].merge(cells[cells["campaign"] == "fast"],
                                                      on=key, suffixes=("_s", "_f"))
    assert (merged["mean_f"] / merged["mean_s"]).between(1.3, 3.0).all()  # 2 × (±20 %)
    # A ratio pairs a configuration with bare metal of its own campaign: both near 1.
    assert cells["ratio_to_bare"].between(0.6, 1.6).all()


def test_the_site_shows_both_campaigns_and_compares_them(tmp_path: Path) -> None:
    _campaign(tmp_path, "before", 1.0, 1, 1)
    _campaign(tmp_path, "after", 0.5, 2, 2)
    out = tmp_path / "site"
    proc = invoke("report", "--archive", str(tmp_path / "after"), "--archive",
                  str(tmp_path / "before"), "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    compare_page = (out / "compare.html").read_text()
    assert "before" in compare_page and "after against before" in compare_page
    assert "worse" in compare_page
    assert (out / "history.html").is_file()
    stats = pd.read_csv(out / "data" / "cells.csv")
    assert set(stats["campaign"]) == {"before", "after"}
    assert (stats["n"] <= 3).all()
    assert (stats["ci_low"].dropna() >= 0).all() and (stats["ratio_low"].dropna() > 0).all()


def test_baseline_must_name_a_campaign(tmp_path: Path) -> None:
    _campaign(tmp_path, "a", 1.0, 1, 1)
    _campaign(tmp_path, "b", 1.0, 2, 2)
    with pytest.raises(Exception, match="--baseline nope: no such campaign among a, b"):
        command.report([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "s", tmp_path,
                       baseline="nope")


def test_compare_gate_exits_nine_on_a_regression_and_writes_junit(tmp_path: Path) -> None:
    _campaign(tmp_path, "base", 1.0, 1, 1, spread=0.05)
    _campaign(tmp_path, "cand", 0.7, 2, 2, spread=0.05)
    junit = tmp_path / "junit.xml"
    proc = invoke("compare", "--baseline", str(tmp_path / "base"), "--candidate",
                  str(tmp_path / "cand"), "--junit", str(junit))
    assert proc.returncode == ExitStatus.REGRESSION, proc.stdout[-2000:] + proc.stderr
    assert "worse" in proc.stdout and "regression" in proc.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures", "0")) == len(failures) > 0
    assert any("throughput" in (f.get("message") or "") for f in failures)
    # The other way round is an improvement: nothing got worse, exit 0.
    better = invoke("compare", "--baseline", str(tmp_path / "cand"), "--candidate",
                    str(tmp_path / "base"))
    assert better.returncode == 0, better.stdout[-2000:]
    assert "better" in better.stdout


def test_a_small_significant_change_is_within_tolerance(tmp_path: Path) -> None:
    _campaign(tmp_path, "base", 1.0, 1, 1, spread=0.005)
    _campaign(tmp_path, "cand", 0.97, 2, 2, spread=0.005)  # 3 % slower, very tight runs
    verdicts = command.compare(str(tmp_path / "base"), str(tmp_path / "cand"), 5.0)
    gbps = [c for c in verdicts.changes if c.metric == "gbps"]
    assert gbps and not verdicts.regressions
    assert sum(c.verdict == "within tolerance" for c in gbps) > len(gbps) / 2
    strict = command.compare(str(tmp_path / "base"), str(tmp_path / "cand"), 1.0)
    assert strict.regressions


def test_one_distribution_gives_few_false_alarms(tmp_path: Path) -> None:
    """Pairs of campaigns drawn from one distribution: about 5 % of cells have a raw p below
    0.05 (~9 of a pair's 210), and after Benjamini–Hochberg almost no pair flags anything
    (uncorrected, nearly every pair would)."""
    raw_hits = raw_total = flagged_pairs = 0
    pairs = 4
    rng = random.Random(11)
    for i in range(pairs):
        a = _campaign(tmp_path / f"p{i}", "a", 1.0, rng.randrange(10**6), 1)
        b = _campaign(tmp_path / f"p{i}", "b", 1.0, rng.randrange(10**6), 2)
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
